//! Text from the tree (paths, YAML values, file lines) made safe to print. A name cannot start a
//! new line, move the cursor, reorder the text (bidi controls) or be read as a GitHub Actions
//! workflow command, which the runner finds at the start of a line (`::`, after leading
//! blanks) and, in its legacy form, anywhere in a line (`##[`).
//!
//! Raw content that must stay byte-exact (a diff on stdout) is instead wrapped in
//! `::stop-commands::` under GitHub Actions ([`raw_block`]).
//!
//! Writing never panics: machine output goes through [`stdout`], which returns the error (a full
//! disk: exit 2), and human text through [`stderr`] (the `say!`/`sayln!` macros), which
//! remembers a failure so that `main` exits 2 ([`stderr_failed`]) instead of std's `print!`
//! panic (exit 101).

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` on one line: control and bidi characters as escapes (`\n`, `\t`, `\u{1b}`), a leading
/// `::` as `\u{3a}:`, and every `##[` as `##\u{5b}`. Text that needs none of this is borrowed.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_but(text, false)
}

/// [`escape`], but tabs are kept (for source lines under a caret).
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape_but(text, true)
}

/// A path for messages: [`escape`] of its lossy UTF-8 text.
pub fn path(path: &std::path::Path) -> String {
    escape(&path.to_string_lossy()).into_owned()
}

/// Every line of a multi-line message through [`escape`] (the line breaks themselves kept).
pub fn escape_lines(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

fn unsafe_char(c: char, keep_tabs: bool) -> bool {
    (c.is_control() && !(keep_tabs && c == '\t')) || is_bidi(c)
}

/// The bidi controls that reorder displayed text (U+202A..U+202E, U+2066..U+2069), and the
/// marks U+200E, U+200F and U+061C.
pub fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

fn escape_but(text: &str, keep_tabs: bool) -> Cow<'_, str> {
    let leading_command = text.trim_start().starts_with("::");
    if !leading_command && !text.contains("##[") && !text.chars().any(|c| unsafe_char(c, keep_tabs))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut command_start = leading_command;
    for (i, c) in text.char_indices() {
        match c {
            ':' if command_start => {
                out.push_str("\\u{3a}");
                command_start = false;
                continue;
            }
            '[' if text[..i].ends_with("##") => out.push_str("\\u{5b}"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if !keep_tabs => out.push_str("\\t"),
            c if unsafe_char(c, keep_tabs) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with every control character but tab, line feed and a carriage return before a line
/// feed (and every bidi control) as `\u{1b}`: what a diff or a workflow command may carry
/// without a terminal or a log acting on it (ESC sequences, OSC 52 clipboard writes, BEL,
/// reordered text). Line structure is kept.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let unsafe_at = |i: usize, c: char| match c {
        '\t' | '\n' => false,
        '\r' => !text[i + 1..].starts_with('\n') && i + 1 != text.len(),
        c => unsafe_char(c, true),
    };
    if !text.char_indices().any(|(i, c)| unsafe_at(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        if unsafe_at(i, c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path for a diff header, as git writes it: `a/PATH` as it is, or, when it holds a control
/// or bidi character, a backslash, a double quote or bytes that are not UTF-8, in double quotes
/// with C escapes (`\\`, `\"`, `\n`, `\t`) and every other such byte in octal (`\033`). So
/// is a path holding `##[`, whose `[` is written `\133`.
pub fn diff_path(prefix: &str, path: &std::path::Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let text = std::str::from_utf8(bytes).ok();
    let plain = text.is_some_and(|t| {
        !t.chars()
            .any(|c| unsafe_char(c, false) || c == '\\' || c == '"')
    });
    // `##[` would be read by GitHub Actions as a workflow command: its `[` goes in octal.
    if plain && !bytes.windows(3).any(|w| w == b"##[") {
        return format!("{prefix}{}", text.unwrap_or_default());
    }
    let mut out = format!("\"{prefix}");
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'[' if bytes[..i].ends_with(b"##") => out.push_str("\\133"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b if !(0x20..0x7f).contains(&b) => {
                let _ = write!(out, "\\{b:03o}");
            }
            b => out.push(b as char),
        }
    }
    out.push('"');
    out
}

/// Serialized JSON for a log: `##[` can only occur inside its strings, where `##\u005b` means
/// the same to every JSON reader and nothing to GitHub Actions.
pub fn json_for_log(json: String) -> String {
    if json.contains("##[") {
        json.replace("##[", "##\\u005b")
    } else {
        json
    }
}

/// `text` (raw lines, printed as they are) wrapped so that GitHub Actions runs none of its
/// lines as a workflow command: under `GITHUB_ACTIONS=true`, between `::stop-commands::TOKEN`
/// and `::TOKEN::`, with a token the text cannot guess. Elsewhere, `text` unchanged.
pub fn raw_block(text: &str) -> Cow<'_, str> {
    stop_commands(
        text,
        std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
    )
}

fn stop_commands(text: &str, under_actions: bool) -> Cow<'_, str> {
    if text.is_empty() || !under_actions {
        return Cow::Borrowed(text);
    }
    let token = loop {
        let token = random_token();
        if !text.contains(&token) {
            break token;
        }
    };
    let end = if text.ends_with('\n') { "" } else { "\n" };
    Cow::Owned(format!(
        "::stop-commands::{token}\n{text}{end}::{token}::\n"
    ))
}

/// 32 hex digits from the standard library's per-process random hash keys.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut token = String::new();
    for n in 0..2u8 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(n);
        let _ = write!(token, "{:016x}", h.finish());
    }
    token
}

/// Whether a write to stderr failed during this run.
static STDERR_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes machine output to stdout and flushes it; a failed write (a full disk) is an error
/// naming stdout, never a panic. A closed pipe ends the process quietly (SIGPIPE, see
/// `signals`).
pub fn stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::anyhow!("cannot write to stdout: {e}"))
}

/// Writes human text to stderr; a failure is remembered ([`stderr_failed`]), never a panic.
pub fn stderr(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    if err.write_all(text.as_bytes()).is_err() {
        STDERR_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether a write to stderr failed: the run then ends with exit 2 (its messages were lost).
pub fn stderr_failed() -> bool {
    STDERR_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

/// `eprint!` through [`stderr`]: never panics.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::output::stderr(&format!($($arg)*)) };
}

/// `eprintln!` through [`stderr`]: never panics.
#[macro_export]
macro_rules! sayln {
    ($($arg:tt)*) => { $crate::output::stderr(&(format!($($arg)*) + "\n")) };
}

// The macros live at the crate root (`#[macro_export]`); callers name them `output::sayln!`.
pub use super::{say, sayln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_start_a_line_or_a_workflow_command() {
        assert!(matches!(escape("k8s-apps/base"), Cow::Borrowed(_)));
        assert_eq!(
            escape("x\n::error::pwned"),
            "x\\n::error::pwned",
            "the command is no longer at a line start"
        );
        assert_eq!(escape("::error::pwned"), "\\u{3a}:error::pwned");
        assert_eq!(escape("  ::warning::x"), "  \\u{3a}:warning::x");
        assert_eq!(escape("a ##[error]b ##[x"), "a ##\\u{5b}error]b ##\\u{5b}x");
        assert_eq!(escape("a\r\x1b[31m\tb"), "a\\r\\u{1b}[31m\\tb");
        assert_eq!(escape("evil\u{202e}gpj.yaml"), "evil\\u{202e}gpj.yaml");
        assert_eq!(escape_line("\tkey: ##[x"), "\tkey: ##\\u{5b}x");
        assert_eq!(
            escape_lines("error: a\n::error::b\nc"),
            "error: a\n\\u{3a}:error::b\nc"
        );
        assert_eq!(path(std::path::Path::new("a\nb")), "a\\nb");
        let json = serde_json::to_string(&["##[error]x"]).unwrap();
        let safe = json_for_log(json);
        assert_eq!(safe, r###"["##\u005berror]x"]"###);
        assert_eq!(
            serde_json::from_str::<Vec<String>>(&safe).unwrap(),
            ["##[error]x"]
        );
    }

    #[test]
    fn diffs_keep_lines_tabs_and_crlf_but_escape_controls_and_quote_odd_paths() {
        let diff = "-a\tb\r\n+c \u{1b}]52;c;eA==\u{7} \u{202e}x\r\n lone\rcr";
        assert_eq!(
            escape_controls(diff),
            "-a\tb\r\n+c \\u{1b}]52;c;eA==\\u{7} \\u{202e}x\r\n lone\\u{d}cr"
        );
        assert!(matches!(escape_controls("a\tb\r\n"), Cow::Borrowed(_)));
        let p = |s: &str| diff_path("a/", std::path::Path::new(s));
        assert_eq!(
            p("k8s-apps/x/kustomization.yaml"),
            "a/k8s-apps/x/kustomization.yaml"
        );
        assert_eq!(p("k\\x/k.yaml"), "\"a/k\\\\x/k.yaml\"");
        assert_eq!(p("k\"x\n\u{1b}/k"), "\"a/k\\\"x\\n\\033/k\"");
        assert_eq!(p("e\u{202e}v"), "\"a/e\\342\\200\\256v\"");
        assert_eq!(p("##[error]x"), "\"a/##\\133error]x\"");
        use std::os::unix::ffi::OsStrExt;
        let raw = std::path::Path::new(std::ffi::OsStr::from_bytes(b"r\xff/k"));
        assert_eq!(diff_path("b/", raw), "\"b/r\\377/k\"");
    }

    #[test]
    fn raw_blocks_stop_commands_only_under_github_actions() {
        let diff = "--- a/k\n+++ b/k\n ::error::pwned\n-x\n+y";
        assert_eq!(stop_commands(diff, false), diff);
        let wrapped = stop_commands(diff, true);
        let lines: Vec<&str> = wrapped.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(lines[1..6].join("\n"), diff);
        assert_eq!(lines[6], format!("::{token}::"));
        assert_ne!(token, random_token());
    }
}
