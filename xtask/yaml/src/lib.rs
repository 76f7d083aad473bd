//! YAML that keeps positions: every node carries its byte span, 1-based line and 1-based column.
//!
//! Built on `saphyr-parser` events. Two traps of that parser are handled here:
//! its markers count characters, not bytes, so offsets are mapped to bytes; and a quoted scalar's
//! span can run on past its closing quote, so [`scalar_range`] finds the quote itself.
//! Aliases are kept as references, never expanded, so an alias bomb cannot blow up a load;
//! nesting deeper than [`MAX_DEPTH`] is refused.

mod facts;

pub use facts::{Anchors, duplicate_keys, first_duplicate_key};
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

/// The exact byte range of a scalar in `src`, quotes included for quoted scalars, and its
/// properties (`!tag`, `&anchor`), which the parser's span includes, left out.
pub fn scalar_range(src: &str, node: &Node) -> Range<usize> {
    let mut start = node.start.offset;
    while matches!(src.as_bytes().get(start), Some(b'!' | b'&')) && start < node.end.offset {
        let rest = &src[start..];
        let token = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let blank = rest[token..].len() - rest[token..].trim_start().len();
        start += token + blank;
    }
    // An empty scalar after its properties (`&a `) ends where they do.
    let start = start.min(node.end.offset.max(node.start.offset));
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

/// A byte-exact edit: replace `range` of the source with `text` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub range: Range<usize>,
    pub text: String,
}

impl Splice {
    pub fn new(range: Range<usize>, text: impl Into<String>) -> Splice {
        Splice {
            range,
            text: text.into(),
        }
    }
}

/// Applies `splices` to `src`. They are applied in order of position; two that overlap are a bug
/// of the caller and are refused (an insertion may touch a neighbouring range).
pub fn apply(src: &str, splices: &[Splice]) -> Result<String, String> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out = String::with_capacity(src.len() + 64);
    let mut at = 0;
    for s in sorted {
        if s.range.start < at || s.range.end > src.len() || s.range.start > s.range.end {
            return Err(format!(
                "overlapping or out-of-range edit at byte {}",
                s.range.start
            ));
        }
        out.push_str(&src[at..s.range.start]);
        out.push_str(&s.text);
        at = s.range.end;
    }
    out.push_str(&src[at..]);
    Ok(out)
}

/// The source's line ending: `\r\n` when its first line ends so, else `\n`.
pub fn line_ending(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The line that holds byte `offset`: from its first byte to its end, without the terminator.
pub fn line_at(src: &str, offset: usize) -> Range<usize> {
    let start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut end = src[offset..].find('\n').map_or(src.len(), |i| offset + i);
    if end > start && src.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    start..end
}

/// The end of the line that holds `offset`, terminator included (or the end of the source).
pub fn line_end_with_terminator(src: &str, offset: usize) -> usize {
    src[offset..]
        .find('\n')
        .map_or(src.len(), |i| offset + i + 1)
}

/// Would `value`, written as a plain scalar, read back as this same string? False for values
/// that resolve to null, booleans or numbers (YAML 1.1 or 1.2), or that hold indicators.
pub fn plain_safe(value: &str) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    let lower = value.to_ascii_lowercase();
    let reserved = [
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf",
        ".nan",
    ];
    if reserved.contains(&lower.as_str()) || looks_numeric(value) {
        return false;
    }
    let second = value[first.len_utf8()..].chars().next();
    let indicator = match first {
        // `-x`, `?x`, `:x` are plain; `- x`, `? x`, `: x` and a lone `-` are not.
        '-' | '?' | ':' => second.is_none_or(|c| c == ' '),
        _ => "[]{},#&*!|>'\"%@`".contains(first),
    };
    if indicator {
        return false;
    }
    !(value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
        || value.starts_with(' ')
        || value.ends_with(' ')
        || value
            .chars()
            .any(|c| c.is_control() || matches!(c, ',' | '[' | ']' | '{' | '}')))
}

/// Integers (with `_`, `0x`, `0o`, `0b`, signs), floats and exponents, and 1.1 sexagesimals.
fn looks_numeric(value: &str) -> bool {
    let v = value.strip_prefix(['+', '-']).unwrap_or(value);
    if v.is_empty() {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    for prefix in ["0x", "0o", "0b"] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'_');
        }
    }
    let mut digits = 0;
    for (i, b) in lower.bytes().enumerate() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'_' | b'.' | b':' => {}
            b'e' if digits > 0 => {
                let exp = lower[i + 1..]
                    .strip_prefix(['+', '-'])
                    .unwrap_or(&lower[i + 1..]);
                return !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit());
            }
            _ => return false,
        }
    }
    digits > 0
}

/// The style [`render_scalar`] writes `value` in, when asked for `style`.
pub fn rendered_style(value: &str, style: Style) -> Style {
    match style {
        Style::Plain if plain_safe(value) => Style::Plain,
        Style::SingleQuoted if !value.chars().any(char::is_control) => Style::SingleQuoted,
        _ => Style::DoubleQuoted,
    }
}

/// A copy of `node` with every position zeroed, to compare content regardless of layout.
pub fn without_positions(node: &Node) -> Node {
    let value = match &node.value {
        Value::Seq(items) => Value::Seq(items.iter().map(without_positions).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: without_positions(&e.key),
                    value: without_positions(&e.value),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value,
        start: Pos::default(),
        end: Pos::default(),
        anchor: node.anchor,
        tag: node.tag.clone(),
    }
}

/// True when `a` and `b` hold the same content (values, styles, anchors, tags), whatever their
/// positions: `a == b` after [`without_positions`] on both, without the copies.
pub fn same_content(a: &Node, b: &Node) -> bool {
    if a.anchor != b.anchor || a.tag != b.tag {
        return false;
    }
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_content(x, y))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(x, y)| same_content(&x.key, &y.key) && same_content(&x.value, &y.value))
        }
        (x, y) => x == y,
    }
}

/// A plain-style scalar node without position, e.g. for an expected document.
pub fn scalar(text: &str, style: Style) -> Node {
    Node {
        value: Value::Scalar {
            text: text.to_string(),
            style,
        },
        start: Pos::default(),
        end: Pos::default(),
        anchor: None,
        tag: None,
    }
}

/// `value` written in `style`: plain when it stays a string that way (else double-quoted),
/// single- or double-quoted with their escapes. Block styles are written double-quoted.
pub fn render_scalar(value: &str, style: Style) -> String {
    match style {
        Style::Plain if plain_safe(value) => value.to_string(),
        Style::SingleQuoted if !value.chars().any(char::is_control) => {
            format!("'{}'", value.replace('\'', "''"))
        }
        _ => {
            let mut out = String::from("\"");
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
    }
}

/// The edit that sets the scalar `node` to `value`, keeping its quoting style and every byte
/// around it (a comment on the same line included). An empty plain value (`key:`) gets the new
/// value after the key's colon. Block scalars (`|`, `>`) are refused.
pub fn set_scalar(src: &str, key: &Node, node: &Node, value: &str) -> Result<Splice, String> {
    let style = match node.style() {
        Some(Style::Literal | Style::Folded) => {
            return Err(format!(
                "{}:{}: `{}` is a block scalar (| or >), which cannot be edited; write it on one line",
                key.start.line,
                key.start.column,
                key.as_str().unwrap_or_default()
            ));
        }
        Some(style) => style,
        None => {
            return Err(format!(
                "{}:{}: expected a scalar value",
                node.start.line, node.start.column
            ));
        }
    };
    let range = scalar_range(src, node);
    let is_empty = node.as_str() == Some("") && range.is_empty();
    if is_empty && style == Style::Plain {
        let key_end = scalar_range(src, key).end;
        let colon = src[key_end..]
            .find(':')
            .map(|i| key_end + i + 1)
            .ok_or_else(|| {
                format!(
                    "{}:{}: no colon after the key",
                    key.start.line, key.start.column
                )
            })?;
        return Ok(Splice::new(
            colon..colon,
            format!(" {}", render_scalar(value, style)),
        ));
    }
    Ok(Splice::new(range, render_scalar(value, style)))
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
    fn scalar_range_leaves_out_tags_and_anchors() {
        let src = "a: !!str 1.0 # c\nb: &x 'q'\nc: !!str &y\n  \"z\"\n";
        let root = one(src);
        let range = |k: &str| &src[scalar_range(src, root.get(k).unwrap())];
        assert_eq!(
            (range("a"), range("b"), range("c")),
            ("1.0", "'q'", "\"z\"")
        );
    }

    #[test]
    fn edits_are_spliced_and_scalars_rendered_in_their_style() {
        let src = "k: v # c\r\n";
        let root = one(src);
        let v = root.entry("k").unwrap();
        let edit = set_scalar(src, &v.key, &v.value, "w x").unwrap();
        assert_eq!(apply(src, &[edit]).unwrap(), "k: w x # c\r\n");
        assert_eq!(line_ending(src), "\r\n");
        assert_eq!(line_at(src, 3), 0..8);
        assert!(apply(src, &[Splice::new(0..3, ""), Splice::new(2..4, "")]).is_err());
        for value in [
            "1.10", "10", "0x1F", "1e3", "+.5", "true", "No", "~", "null", "", "- a", "#x", "a: b",
            "{x}", "12:30",
        ] {
            assert!(!plain_safe(value), "{value}");
            assert!(
                render_scalar(value, Style::Plain).starts_with('"'),
                "{value}"
            );
        }
        for value in [
            "sha-abc1234",
            "v1.10",
            "3.11-slim",
            "-x",
            "sha256:abc",
            "1.0.0-rc1",
        ] {
            assert!(plain_safe(value), "{value}");
            assert_eq!(render_scalar(value, Style::Plain), value);
        }
        assert_eq!(render_scalar("it's", Style::SingleQuoted), "'it''s'");
        assert_eq!(render_scalar("a\"b\\", Style::DoubleQuoted), r#""a\"b\\""#);
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
    fn same_content_ignores_positions_only() {
        let a = one("images:\n  - name: x\n    newTag: 'v1'\n");
        let b = one("images: [{name: x,   newTag: 'v1'}]\n");
        assert!(same_content(&a, &b));
        assert_eq!(without_positions(&a), without_positions(&b));
        for other in [
            "images: [{name: x, newTag: \"v1\"}]\n",
            "images: [{name: x, newTag: v2}]\n",
            "images: [{name: x}]\n",
            "images: [{newTag: 'v1', name: x}]\n",
            "images: [{name: !!str x, newTag: 'v1'}]\n",
            "images: [&a {name: x, newTag: 'v1'}]\n",
        ] {
            let c = one(other);
            assert!(!same_content(&a, &c), "{other}");
            assert_ne!(without_positions(&a), without_positions(&c), "{other}");
        }
    }

    #[test]
    fn empty_input_has_no_documents() {
        assert!(load("").unwrap().is_empty());
        assert!(load("# only a comment\n").unwrap().is_empty());
    }
}
