//! A value as block YAML with sorted keys (serde_json's maps are sorted), two-space indents,
//! sequences at their key's indent (as kustomize prints them), and multi-line strings as literal
//! blocks so that a script's change shows line by line.

use crate::yaml::{Style, render_scalar};
use serde_json::Value;

/// `value` as YAML, each line ending in `\n`.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn write_map(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        push_indent(indent, out);
        out.push_str(&render_scalar(key, Style::Plain));
        out.push(':');
        write_after_key(value, indent, out);
    }
}

/// What follows `key:` (or `- `): a nested block on the next lines, or ` scalar`.
fn write_after_key(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(items, indent, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn write_seq(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        push_indent(indent, out);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key on the dash's line, the others under it.
                let mut first = String::new();
                write_map(map, indent + 2, &mut first);
                out.push(' ');
                out.push_str(&first[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(inner, indent + 2, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn push_indent(indent: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A scalar (or an empty collection) as it follows `key: `; a multi-line string becomes a
/// literal block whose lines sit at `indent`.
fn scalar_text(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if literal_ok(s) => {
            let body = s.strip_suffix('\n').unwrap_or(s);
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            let pad = " ".repeat(indent);
            let mut text = format!("|{chomp}");
            for line in body.split('\n') {
                text.push('\n');
                if !line.is_empty() {
                    text.push_str(&pad);
                    text.push_str(line);
                }
            }
            text
        }
        Value::String(s) => render_scalar(s, Style::Plain),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Can `s` be written as a literal block and read back the same? Needs a line break, no other
/// control character, no trailing spaces on a line, no leading space on the first line, and at
/// most one final newline.
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.ends_with("\n\n")
        && !s.starts_with([' ', '\n'])
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
        && s.split('\n').all(|l| !l.ends_with([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_sequences_sit_at_their_keys_indent() {
        let v = json!({"spec": {"b": [1, {"z": "x", "a": true}], "a": null}, "kind": "K", "e": {}, "f": []});
        assert_eq!(
            to_yaml(&v),
            "e: {}\nf: []\nkind: K\nspec:\n  a: null\n  b:\n  - 1\n  - a: true\n    z: x\n"
        );
    }

    #[test]
    fn strings_that_would_change_type_are_quoted() {
        let v = json!({"a": "1", "b": "true", "c": "x: y", "d": "", "e": "plain"});
        assert_eq!(
            to_yaml(&v),
            "a: \"1\"\nb: \"true\"\nc: \"x: y\"\nd: \"\"\ne: plain\n"
        );
    }

    #[test]
    fn scripts_are_literal_blocks_that_read_back_the_same() {
        let v = json!({"data": {"run.py": "import os\n\nprint(1)\n", "x": "a\nb"}});
        let text = to_yaml(&v);
        assert_eq!(
            text,
            "data:\n  run.py: |\n    import os\n\n    print(1)\n  x: |-\n    a\n    b\n"
        );
        let back = crate::diff::objects::to_value(&crate::yaml::load(&text).unwrap()[0].root);
        assert_eq!(back, v);
    }

    #[test]
    fn awkward_multi_line_strings_are_quoted() {
        let v = json!({"a": "x \ny", "b": " x\ny", "c": "x\n\n"});
        assert_eq!(
            to_yaml(&v),
            "a: \"x \\ny\"\nb: \" x\\ny\"\nc: \"x\\n\\n\"\n"
        );
    }
}
