//! The Dockerfile parser behind the DF rules: parser directives, continuations (skipping
//! comment and empty lines inside them), heredoc bodies, words with their positions, shell
//! commands, exec-form arrays, and ARG/ENV substitution.

use std::collections::HashMap;

/// A character of a logical line with its physical position (1-based).
#[derive(Debug, Clone, Copy)]
pub(super) struct Ch {
    pub(super) c: char,
    pub(super) line: usize,
    pub(super) col: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// Unquoted text.
    pub(super) text: String,
    pub(super) line: usize,
    pub(super) col: usize,
}

#[derive(Debug)]
pub(super) struct Heredoc {
    /// The body, lines joined with `\n`.
    pub(super) body: Vec<Ch>,
}

#[derive(Debug)]
pub(super) struct Instr {
    /// Upper-case.
    pub(super) keyword: String,
    pub(super) line: usize,
    pub(super) col: usize,
    /// Everything after the keyword, continuations removed.
    pub(super) args: Vec<Ch>,
    pub(super) heredocs: Vec<Heredoc>,
}

/// A parser directive BuildKit refuses (it fails the build): given twice, or a bad escape.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct DirectiveError {
    pub(super) line: usize,
    pub(super) message: String,
}

/// The instructions, and the errors of the parser directives.
pub(super) fn parse_with_directives(src: &str) -> (Vec<Instr>, Vec<DirectiveError>) {
    // BuildKit strips a UTF-8 byte-order mark from the first line.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let lines: Vec<&str> = src.lines().collect();
    let mut escape = '\\';
    let mut i = 0;
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    // Parser directives, as BuildKit's DirectiveParser reads them: at the top, each a comment
    // `# key=value` of a known key; any other line, or an unknown key, ends them.
    while let Some(l) = lines.get(i) {
        let Some((k, v)) = directive(l) else { break };
        let k = k.to_ascii_lowercase();
        if !matches!(k.as_str(), "syntax" | "escape" | "check") {
            break;
        }
        if seen.contains(&k) {
            errors.push(DirectiveError {
                line: i + 1,
                message: format!("only one `{k}` parser directive can be used"),
            });
        } else if k == "escape" {
            if v == "`" || v == "\\" {
                escape = v.chars().next().unwrap_or('\\');
            } else {
                errors.push(DirectiveError {
                    line: i + 1,
                    message: format!("invalid escape token `{v}`: use ` or \\"),
                });
            }
        }
        seen.push(k);
        i += 1;
        // BuildKit stops at its first directive error.
        if !errors.is_empty() {
            break;
        }
    }
    let mut out = Vec::new();
    while i < lines.len() {
        let line = lines[i].trim_end_matches('\r');
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let mut chars: Vec<Ch> = Vec::new();
        let mut n = i;
        loop {
            let l = lines[n].trim_end_matches('\r');
            let body = l.trim_end();
            let cont = body.ends_with(escape);
            let take = if cont {
                &body[..body.len() - escape.len_utf8()]
            } else {
                l
            };
            chars.extend(take.chars().enumerate().map(|(k, c)| Ch {
                c,
                line: n + 1,
                col: k + 1,
            }));
            n += 1;
            if !cont {
                break;
            }
            // Comment lines and empty lines inside a continuation are skipped.
            while n < lines.len() {
                let t = lines[n].trim();
                if t.is_empty() || t.starts_with('#') {
                    n += 1;
                } else {
                    break;
                }
            }
            if n >= lines.len() {
                break;
            }
        }
        // A lone escape character before the end of the file continues into nothing.
        let Some(start) = chars.iter().position(|c| !c.c.is_whitespace()) else {
            i = n;
            continue;
        };
        let kw_end = chars[start..]
            .iter()
            .position(|c| c.c.is_whitespace())
            .map_or(chars.len(), |p| start + p);
        let keyword: String = chars[start..kw_end].iter().map(|c| c.c).collect::<String>();
        let mut ins = Instr {
            keyword: keyword.to_ascii_uppercase(),
            line: chars[start].line,
            col: chars[start].col,
            args: chars[kw_end..].to_vec(),
            heredocs: Vec::new(),
        };
        if matches!(ins.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for w in words(&ins.args) {
                let Some(marker) = heredoc_marker(&w.text) else {
                    continue;
                };
                let strip_tabs = w.text.starts_with("<<-");
                let mut body = Vec::new();
                while n < lines.len() {
                    let l = lines[n].trim_end_matches('\r');
                    n += 1;
                    let cmp = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if cmp == marker {
                        break;
                    }
                    body.extend(l.chars().enumerate().map(|(k, c)| Ch {
                        c,
                        line: n,
                        col: k + 1,
                    }));
                    body.push(Ch {
                        c: '\n',
                        line: n,
                        col: l.chars().count() + 1,
                    });
                }
                ins.heredocs.push(Heredoc { body });
            }
        }
        out.push(ins);
        i = n;
    }
    (out, errors)
}

/// `# key=value`: BuildKit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` after the `#`.
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let (k, v) = rest.split_once('=')?;
    let k = k.trim_end();
    let v = v.trim();
    let key_ok = k.starts_with(|c: char| c.is_ascii_alphabetic())
        && k.chars().all(|c| c.is_ascii_alphanumeric());
    (key_ok && !v.is_empty()).then_some((k, v))
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` → `EOF`.
fn heredoc_marker(word: &str) -> Option<&str> {
    let m = word.strip_prefix("<<")?;
    let m = m.strip_prefix('-').unwrap_or(m);
    let m = m.trim_matches(|c| c == '"' || c == '\'');
    (!m.is_empty() && m.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(m)
}

/// Whitespace-separated words, quotes removed (`"a b"` is one word).
pub(super) fn words(chars: &[Ch]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cur: Option<Word> = None;
    let mut quote: Option<char> = None;
    for ch in chars {
        match (quote, ch.c) {
            (None, c) if c.is_whitespace() => out.extend(cur.take()),
            (None, '"' | '\'') => {
                quote = Some(ch.c);
                cur.get_or_insert_with(|| word_at(ch));
            }
            (Some(q), c) if c == q => quote = None,
            (_, c) => cur.get_or_insert_with(|| word_at(ch)).text.push(c),
        }
    }
    out.extend(cur);
    out
}

fn word_at(ch: &Ch) -> Word {
    Word {
        text: String::new(),
        line: ch.line,
        col: ch.col,
    }
}

/// Shell text split into simple commands at `;`, `&`, `|`, `(`, `)` and newlines.
pub(super) fn shell_commands(chars: &[Ch]) -> Vec<Vec<Word>> {
    let mut cmds = Vec::new();
    let mut cmd: Vec<Word> = Vec::new();
    let mut cur: Option<Word> = None;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut in_comment = false;
    for ch in chars {
        if in_comment {
            if ch.c != '\n' {
                continue;
            }
            in_comment = false;
        }
        if escaped {
            escaped = false;
            cur.get_or_insert_with(|| word_at(ch)).text.push(ch.c);
            continue;
        }
        match (quote, ch.c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('"') | None, '\\') => escaped = true,
            (Some(_), c) => cur.get_or_insert_with(|| word_at(ch)).text.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch.c);
                cur.get_or_insert_with(|| word_at(ch));
            }
            // A `#` that starts a word starts a comment, up to the end of the line.
            (None, '#') if cur.is_none() => in_comment = true,
            (None, ';' | '&' | '|' | '(' | ')' | '\n') => {
                cmd.extend(cur.take());
                if !cmd.is_empty() {
                    cmds.push(std::mem::take(&mut cmd));
                }
            }
            (None, c) if c.is_whitespace() => cmd.extend(cur.take()),
            (None, c) => cur.get_or_insert_with(|| word_at(ch)).text.push(c),
        }
    }
    cmd.extend(cur);
    if !cmd.is_empty() {
        cmds.push(cmd);
    }
    cmds
}

/// The JSON array of an exec-form instruction, with each string's position.
pub(super) fn exec_form(args: &[Ch]) -> Option<Vec<Word>> {
    let text: String = args.iter().map(|c| c.c).collect();
    let t = text.trim();
    if !t.starts_with('[') {
        return None;
    }
    let items: Vec<String> = serde_json::from_str(t).ok()?;
    // Each string's position: the character after its opening quote.
    let mut starts = Vec::new();
    let mut in_str = false;
    let mut esc = false;
    for (k, ch) in args.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if ch.c == '\\' {
                esc = true;
            } else if ch.c == '"' {
                in_str = false;
            }
        } else if ch.c == '"' {
            in_str = true;
            starts.push(args.get(k + 1).copied().unwrap_or(*ch));
        }
    }
    Some(
        items
            .into_iter()
            .zip(starts)
            .map(|(text, at)| Word {
                text,
                line: at.line,
                col: at.col,
            })
            .collect(),
    )
}

/// `COPY --chown=a ["src", "dest"]`: the flags, then the exec-form array.
pub(super) fn exec_form_after_flags(args: &[Ch]) -> Option<(Vec<Word>, Vec<Word>)> {
    let open = args.iter().position(|c| c.c == '[')?;
    let flags = words(&args[..open]);
    if !flags.iter().all(|w| w.text.starts_with("--")) {
        return None;
    }
    Some((flags, exec_form(&args[open..])?))
}

/// `ARG A=1 B` → declares each, substituting earlier values into defaults.
pub(super) fn declare(vars: &mut HashMap<String, Option<String>>, ws: &[Word]) {
    for w in ws {
        let (name, default) = split_decl(&w.text);
        let value = default.map(|d| substitute(d, vars).unwrap_or_default());
        vars.insert(name.to_string(), value);
    }
}

pub(super) fn split_decl(s: &str) -> (&str, Option<&str>) {
    match s.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (s, None),
    }
}

/// `ENV A=1 B="x y"` or the legacy `ENV A some value`.
pub(super) fn env_pairs(args: &[Ch]) -> Vec<(String, String)> {
    let ws = words(args);
    match ws.first() {
        Some(w) if !w.text.contains('=') => {
            let value: Vec<&str> = ws[1..].iter().map(|w| w.text.as_str()).collect();
            vec![(w.text.clone(), value.join(" "))]
        }
        _ => ws
            .iter()
            .filter_map(|w| w.text.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Expands `$X`, `${X}`, `${X:-d}` and `${X:+v}`; `None` if a variable has no known value.
pub(super) fn substitute(s: &str, vars: &HashMap<String, Option<String>>) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let (name, modifier) = if it.peek() == Some(&'{') {
            it.next();
            let inner: String = it.by_ref().take_while(|&c| c != '}').collect();
            match inner.find(':') {
                Some(p) => (inner[..p].to_string(), Some(inner[p + 1..].to_string())),
                None => (inner, None),
            }
        } else {
            let mut name = String::new();
            while let Some(&c) = it.peek() {
                if c.is_alphanumeric() || c == '_' {
                    name.push(c);
                    it.next();
                } else {
                    break;
                }
            }
            if name.is_empty() {
                out.push('$');
                continue;
            }
            (name, None)
        };
        let value = vars.get(&name).cloned().flatten();
        match (modifier.as_deref(), value) {
            (Some(m), v) if m.starts_with('-') => match v.filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&substitute(&m[1..], vars)?),
            },
            (Some(m), v) if m.starts_with('+') => {
                if v.is_some_and(|v| !v.is_empty()) {
                    out.push_str(&m[1..]);
                }
            }
            (_, Some(v)) => out.push_str(&v),
            (_, None) => return None,
        }
    }
    Some(out)
}
