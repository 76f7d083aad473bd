//! The modules a Python script imports, read by a small line-based parser (pure): `import a.b
//! as c, d`, `from x import y`, parenthesised `from x import (a,\n b)`, backslash
//! continuations, `;`-separated statements, comments, and strings (a `#` or an `import` inside
//! a string or a docstring is not code). Relative imports (`from . import x`) name the
//! script's own package and are left out, as is every import under `if TYPE_CHECKING:` (it
//! never runs). [`third_party`] then drops the standard library and the scripts' own modules.
//!
//! A module is checked under the name the script imports, which is not always its package's
//! name: `import dateutil` comes from python-dateutil, and `dateutil` is what the smoke test
//! imports.

use super::stdlib::is_stdlib;
use std::collections::BTreeSet;

/// One imported module: its dotted name as written (`a.b` of `import a.b as c`, `x` of
/// `from x import y`), and the 1-based line of its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    pub line: usize,
}

impl Import {
    /// The top-level package: `a` of `a.b`.
    pub fn top(&self) -> &str {
        self.module.split('.').next().unwrap_or_default()
    }
}

/// The absolute imports of `source`, in order, outside `if TYPE_CHECKING:` blocks.
pub fn imports(source: &str) -> Vec<Import> {
    let mut found = Vec::new();
    // The indent of the `if TYPE_CHECKING:` whose block we are in.
    let mut type_checking: Option<usize> = None;
    for stmt in logical_lines(source) {
        let indent = stmt.indent;
        let code = stmt.code.trim();
        if code.is_empty() {
            continue;
        }
        if let Some(block) = type_checking {
            if indent > block {
                continue;
            }
            type_checking = None;
        }
        for part in code.split(';').map(str::trim) {
            if is_type_checking_if(part) {
                type_checking = Some(indent);
                break;
            }
            parse_statement(part, stmt.line, &mut found);
        }
    }
    found
}

/// The modules to import in the smoke test: every import of `scripts` that is neither the
/// standard library nor one of `local` (the scripts' own module names, delivered beside them:
/// `influx_v1` for `common/influx_v1.py`). Sorted and without duplicates.
pub fn third_party<'a>(
    scripts: impl IntoIterator<Item = &'a str>,
    local: &BTreeSet<String>,
) -> BTreeSet<String> {
    scripts
        .into_iter()
        .flat_map(imports)
        .filter(|i| !is_stdlib(i.top()) && !local.contains(i.top()))
        .map(|i| i.module)
        .collect()
}

fn is_type_checking_if(code: &str) -> bool {
    let Some(rest) = code.strip_prefix("if ") else {
        return false;
    };
    let cond = rest.trim_end().trim_end_matches(':').trim();
    matches!(
        cond,
        "TYPE_CHECKING" | "typing.TYPE_CHECKING" | "t.TYPE_CHECKING"
    )
}

fn parse_statement(code: &str, line: usize, found: &mut Vec<Import>) {
    let mut push = |module: &str| {
        if is_dotted_name(module) {
            found.push(Import {
                module: module.to_string(),
                line,
            });
        }
    };
    if let Some(rest) = code.strip_prefix("import ") {
        for item in rest.split(',') {
            let item = item.trim().trim_matches(|c| c == '(' || c == ')');
            push(item.split_whitespace().next().unwrap_or_default());
        }
    } else if let Some(rest) = code.strip_prefix("from ") {
        let module = rest.split_whitespace().next().unwrap_or_default();
        let follows = rest[module.len()..].trim_start();
        if !module.starts_with('.') && follows.starts_with("import") {
            push(module);
        }
    }
}

fn is_dotted_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// One logical line: the code of one or more physical lines (joined at open brackets and
/// backslashes), with comments and string contents removed.
struct Logical {
    line: usize,
    indent: usize,
    code: String,
}

/// Splits `source` into logical lines. String literals are replaced by `""`, so their
/// content never reads as code; a triple-quoted string may span lines.
fn logical_lines(source: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut current: Option<Logical> = None;
    let mut depth = 0usize;
    // The quote that closes the string we are in (`"""`, `'''`, `"` or `'`).
    let mut in_string: Option<&'static str> = None;
    for (n, raw) in source.lines().enumerate() {
        let logical = current.get_or_insert_with(|| Logical {
            line: n + 1,
            indent: raw.len() - raw.trim_start().len(),
            code: String::new(),
        });
        let mut rest = raw;
        let mut continued = false;
        while !rest.is_empty() {
            if let Some(quote) = in_string {
                match find_close(rest, quote) {
                    Some(end) => {
                        rest = &rest[end + quote.len()..];
                        in_string = None;
                        logical.code.push_str("\"\"");
                    }
                    None => {
                        rest = "";
                    }
                }
                continue;
            }
            let c = rest.chars().next().expect("not empty");
            match c {
                '#' => break,
                '"' | '\'' => {
                    let quote = match (rest.starts_with("\"\"\""), rest.starts_with("'''")) {
                        (true, _) => "\"\"\"",
                        (_, true) => "'''",
                        _ if c == '"' => "\"",
                        _ => "'",
                    };
                    rest = &rest[quote.len()..];
                    in_string = Some(quote);
                    continue;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                '\\' if rest.len() == 1 => {
                    continued = true;
                    break;
                }
                _ => {}
            }
            logical.code.push(c);
            rest = &rest[c.len_utf8()..];
        }
        // A one-quote string does not span lines (unless continued); a triple one does.
        if matches!(in_string, Some("\"") | Some("'")) && !continued {
            in_string = None;
        }
        if depth > 0 || continued || in_string.is_some() {
            logical.code.push(' ');
            continue;
        }
        out.extend(current.take());
    }
    out.extend(current);
    out
}

/// Where `quote` closes in `text`, skipping backslash escapes.
fn find_close(text: &str, quote: &str) -> Option<usize> {
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if text[i..].starts_with(quote) {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(source: &str) -> Vec<(String, usize)> {
        imports(source)
            .into_iter()
            .map(|i| (i.module, i.line))
            .collect()
    }

    fn names(source: &str) -> Vec<String> {
        imports(source).into_iter().map(|i| i.module).collect()
    }

    #[test]
    fn import_as_and_lists() {
        assert_eq!(
            modules("import os\nimport a.b as c\nimport x, y.z as w,  v\n"),
            [
                ("os".into(), 1),
                ("a.b".into(), 2),
                ("x".into(), 3),
                ("y.z".into(), 3),
                ("v".into(), 3)
            ]
        );
        assert_eq!(imports("import a.b as c")[0].top(), "a");
    }

    #[test]
    fn from_imports_name_the_module_not_the_names() {
        assert_eq!(
            modules(
                "from x import y\nfrom p.q import (r,\n    s,  # a comment\n    t)\nimport after\n"
            ),
            [("x".into(), 1), ("p.q".into(), 2), ("after".into(), 5)]
        );
        assert_eq!(names("from a import b as c, d\n"), ["a"]);
        assert_eq!(names("from a \\\n    import b\n"), ["a"]);
    }

    #[test]
    fn relative_imports_are_left_out() {
        assert_eq!(
            names("from . import sibling\nfrom .pkg import x\nfrom ..up import y\nimport real\n"),
            ["real"]
        );
    }

    #[test]
    fn type_checking_blocks_are_left_out() {
        let src = "\
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import pandas
    from numpy import ndarray

    import mypy_extensions
else:
    import runtime_only
if typing.TYPE_CHECKING:
    import also_not
def f():
    if TYPE_CHECKING:
        import nested_not
    import nested_yes
import requests
";
        assert_eq!(
            names(src),
            ["typing", "runtime_only", "nested_yes", "requests"]
        );
    }

    #[test]
    fn comments_and_strings_are_not_code() {
        let src = "\
\"\"\"Docstring.

import fake_in_docstring
from fake import x
\"\"\"
# import commented_out
x = 'import not_this'; import yes_this
s = \"\"\"one line\"\"\"; import also_yes
y = (\"a (paren in a string\"
     )
import after_paren  # import trailing
";
        assert_eq!(
            modules(src),
            [
                ("yes_this".into(), 7),
                ("also_yes".into(), 8),
                ("after_paren".into(), 11)
            ]
        );
        // An f-string or escape in a string does not end the string early.
        assert_eq!(names("z = 'it\\'s'\nimport ok\n"), ["ok"]);
        // Not imports: names that merely start with the keywords, and invalid names.
        assert_eq!(
            names("important = 1\nfromage = 2\nimport 3d\nimport_x()\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn third_party_leaves_out_the_standard_library_and_the_scripts_own_modules() {
        let forecast = "import math\nimport os.path\nimport influx_v1\nfrom zoneinfo import ZoneInfo\n\
                        import requests\nfrom dateutil import parser\nimport dateutil.tz as tz\n";
        let sunrise = "import influx_v1\nimport requests\nimport xml.etree.ElementTree as ET\n";
        let local = BTreeSet::from(["influx_v1".to_string()]);
        let found = third_party([forecast, sunrise], &local);
        // python-dateutil is imported, and checked, as `dateutil`.
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["dateutil", "dateutil.tz", "requests"]
        );
        assert!(is_stdlib("zoneinfo") && is_stdlib("__future__") && is_stdlib("xml"));
        assert!(!is_stdlib("dateutil") && !is_stdlib("requests") && !is_stdlib("tzdata"));
    }
}
