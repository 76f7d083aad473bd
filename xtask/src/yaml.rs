//! YAML that keeps positions: every node carries its byte span, 1-based line and 1-based column.
//!
//! Built on `saphyr-parser` events. Two traps of that parser are handled here:
//! its markers count characters, not bytes, so offsets are mapped to bytes; and a quoted scalar's
//! span can run on past its closing quote, so [`scalar_range`] finds the quote itself.
//! Aliases are kept as references, never expanded, so an alias bomb cannot blow up a load;
//! nesting deeper than [`MAX_DEPTH`] is refused.

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};
use std::ops::Range;

/// Deepest nesting accepted; deeper input is reported, not recursed into.
pub const MAX_DEPTH: usize = 200;

/// A position in the source: byte offset, 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar {
        text: String,
        style: Style,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
    /// A reference to the anchor with this id (see [`Node::anchor`]).
    Alias(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub start: Pos,
    /// End of the node as the parser reports it (exclusive). For quoted scalars use [`scalar_range`].
    pub end: Pos,
    /// Anchor id, when the node carries `&name`.
    pub anchor: Option<usize>,
    /// A tag such as `!!str`, as `handle` + `suffix`.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
    /// The document began with an explicit `---`.
    pub explicit_start: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub pos: Pos,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.column, self.message)
    }
}

impl std::error::Error for ParseError {}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The entry whose key is the scalar `key` (the first one, if keys repeat).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key.as_str() == Some(key))
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follows `keys` through nested mappings.
    pub fn get_path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// True for `{...}` and `[...]` collections, judged from the source at the node's start.
    pub fn is_flow(&self, src: &str) -> bool {
        matches!(src.as_bytes().get(self.start.offset), Some(b'{' | b'['))
    }

    pub fn style(&self) -> Option<Style> {
        match &self.value {
            Value::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }
}

/// The exact byte range of a scalar in `src`, quotes included for quoted scalars.
pub fn scalar_range(src: &str, node: &Node) -> Range<usize> {
    let start = node.start.offset;
    let end = match node.style() {
        Some(Style::SingleQuoted) => closing_quote(src, start, b'\'').unwrap_or(node.end.offset),
        Some(Style::DoubleQuoted) => closing_quote(src, start, b'"').unwrap_or(node.end.offset),
        Some(Style::Plain) => {
            // Plain scalars never end in whitespace.
            start + src[start..node.end.offset].trim_end().len()
        }
        _ => node.end.offset,
    };
    start..end
}

/// Offset just past the quote that closes the scalar opened at `open`.
fn closing_quote(src: &str, open: usize, quote: u8) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Maps the parser's character indices to byte offsets.
struct Offsets {
    /// Byte offset of every character, plus one past the end; empty when the source is ASCII.
    table: Vec<usize>,
    len: usize,
}

impl Offsets {
    fn new(src: &str) -> Self {
        let table = if src.is_ascii() {
            Vec::new()
        } else {
            src.char_indices()
                .map(|(i, _)| i)
                .chain([src.len()])
                .collect()
        };
        Offsets {
            table,
            len: src.len(),
        }
    }

    fn pos(&self, m: &Marker) -> Pos {
        let offset = if self.table.is_empty() {
            m.index().min(self.len)
        } else {
            self.table.get(m.index()).copied().unwrap_or(self.len)
        };
        Pos {
            offset,
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// A collection under construction; its finished children wait in the loader's shared `items`
/// stack from index `first` on, so that each collection is allocated once, at its exact size.
struct Open {
    node: Node,
    first: usize,
}

/// Loads every document of `src`, with positions.
pub fn load(src: &str) -> Result<Vec<Document>, ParseError> {
    let offsets = Offsets::new(src);
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut items: Vec<Node> = Vec::new();
    let mut explicit_start = false;
    let mut root: Option<Node> = None;

    for item in Parser::new_from_str(src) {
        let (event, span) = item.map_err(|e| ParseError {
            message: e.info().to_string(),
            pos: offsets.pos(e.marker()),
        })?;
        let start = offsets.pos(&span.start);
        let end = offsets.pos(&span.end);
        let leaf = |value, anchor, tag: Option<String>| Node {
            value,
            start,
            end,
            anchor,
            tag,
        };
        let is_map = matches!(event, Event::MappingStart(..));
        let finished = match event {
            Event::DocumentStart(explicit) => {
                explicit_start = explicit;
                None
            }
            Event::DocumentEnd => {
                if let Some(root) = root.take() {
                    docs.push(Document {
                        root,
                        explicit_start,
                    });
                }
                None
            }
            Event::Scalar(text, style, anchor, tag) => Some(leaf(
                Value::Scalar {
                    text: text.into_owned(),
                    style: style_of(style),
                },
                anchor_of(anchor),
                tag.map(|t| format!("{}{}", t.handle, t.suffix)),
            )),
            Event::Alias(id) => Some(leaf(Value::Alias(id), None, None)),
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError {
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                        pos: start,
                    });
                }
                let value = if is_map {
                    Value::Map(Vec::new())
                } else {
                    Value::Seq(Vec::new())
                };
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                stack.push(Open {
                    node: leaf(value, anchor_of(anchor), tag),
                    first: items.len(),
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let mut open = stack.pop().expect("parser balances collections");
                open.node.end = end;
                let children = items.drain(open.first..);
                match &mut open.node.value {
                    Value::Seq(seq) => *seq = children.collect(),
                    Value::Map(map) => {
                        let mut entries = Vec::with_capacity(children.len() / 2);
                        let mut children = children;
                        while let (Some(key), Some(value)) = (children.next(), children.next()) {
                            entries.push(Entry { key, value });
                        }
                        *map = entries;
                    }
                    _ => unreachable!("only collections are open"),
                }
                Some(open.node)
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
        };
        if let Some(node) = finished {
            if stack.is_empty() {
                root = Some(node);
            } else {
                items.push(node);
            }
        }
    }
    Ok(docs)
}

fn anchor_of(id: usize) -> Option<usize> {
    (id != 0).then_some(id)
}

fn style_of(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Node {
        let mut docs = load(src).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0).root
    }

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let src = "a: 1\nimages:\n  - name: x\n    newTag: \"sha-abc\" # c\n";
        let root = one(src);
        let tag = root.get("images").unwrap().as_seq().unwrap()[0]
            .get("newTag")
            .unwrap();
        assert_eq!(tag.as_str(), Some("sha-abc"));
        assert_eq!((tag.start.line, tag.start.column), (4, 13));
        assert_eq!(&src[scalar_range(src, tag)], "\"sha-abc\"");
    }

    #[test]
    fn offsets_are_bytes_after_non_ascii_comments() {
        let src = "# héllo wörld ✓\nnewTag: 'it''s' # ünïcode\nx: plain  \n";
        let root = one(src);
        let tag = root.get("newTag").unwrap();
        assert_eq!(&src[scalar_range(src, tag)], "'it''s'");
        assert_eq!(tag.as_str(), Some("it's"));
        let x = root.get("x").unwrap();
        assert_eq!(&src[scalar_range(src, x)], "plain");
        assert_eq!((x.start.line, x.start.column), (3, 4));
    }

    #[test]
    fn double_quoted_escapes_do_not_end_the_scalar() {
        let src = r#"k: "a\"b" # "quoted comment""#;
        let k = one(src).get("k").cloned().unwrap();
        assert_eq!(&src[scalar_range(src, &k)], r#""a\"b""#);
    }

    #[test]
    fn multiple_documents_and_flow_collections() {
        let src = "---\na: {name: x, newTag: y}\n---\n- [1, 2]\n";
        let docs = load(src).unwrap();
        assert_eq!(docs.len(), 2);
        assert!(docs[0].explicit_start);
        let flow = docs[0].root.get("a").unwrap();
        assert!(flow.is_flow(src));
        assert_eq!(flow.get("newTag").unwrap().as_str(), Some("y"));
        assert_eq!(docs[1].root.as_seq().unwrap()[0].as_seq().unwrap().len(), 2);
    }

    #[test]
    fn syntax_error_has_its_position() {
        let err = load("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(err.pos.line >= 2, "{err:?}");
        let err = load("a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2, "{err:?}");
    }

    #[test]
    fn aliases_stay_references_and_depth_is_bounded() {
        let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n";
        let root = one(bomb);
        assert!(matches!(
            root.get("c").unwrap().as_seq().unwrap()[0].value,
            Value::Alias(_)
        ));
        let deep = "[".repeat(10_000);
        let err = load(&deep).unwrap_err();
        // The scanner's own limit (flow levels) or ours (block nesting) stops it early.
        assert!(
            err.message.contains("recursion limit") && err.pos.offset < 300,
            "{err:?}"
        );
        let block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let err = load(&block).unwrap_err();
        assert!(err.message.contains("nesting deeper than 200"), "{err:?}");
    }

    #[test]
    fn empty_input_has_no_documents() {
        assert!(load("").unwrap().is_empty());
        assert!(load("# only a comment\n").unwrap().is_empty());
    }
}
