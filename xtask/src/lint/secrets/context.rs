//! Where a secret-looking word stands: the key it is under inside a config blob (for the
//! identifier exemption), and its line and column in the YAML source (for block scalars).

use crate::yaml::Pos;
use std::ops::Range;

/// The key that the word at byte `at` of `value` stands under: the key on its own line
/// (`trash_id: <word>`, `"id": "<word>"`, `ID=<word>`), or for a list item (`- <word>`) the key
/// of the nearest line above it with no more indentation (`trash_ids:`).
pub fn line_key(value: &str, at: usize) -> Option<&str> {
    let line_start = value[..at].rfind('\n').map_or(0, |n| n + 1);
    let before = &value[line_start..at];
    if let Some(key) = key_in(before) {
        return Some(key);
    }
    let item = before.trim_start();
    if !item.bytes().all(|c| c == b'-' || c == b' ' || c == b'\t') {
        return None;
    }
    let indent = before.len() - item.len();
    let mut end = line_start;
    // The list's key is near: a bounded look upwards keeps a long list linear enough.
    for _ in 0..200 {
        if end == 0 {
            return None;
        }
        let start = value[..end - 1].rfind('\n').map_or(0, |n| n + 1);
        let line = &value[start..end - 1];
        end = start;
        let text = line.trim_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let ind = line.len() - text.len();
        let head = text.trim_end();
        if ind > indent || (ind == indent && head.starts_with('-') && !head.ends_with(':')) {
            continue; // something deeper, or a sibling item
        }
        // The first line above with no more indentation: the list's key, or no key at all.
        let key = head.trim_start_matches(['-', ' ']).strip_suffix(':')?;
        return last_word(key);
    }
    None
}

/// The key at the end of `before` (`  trash_id: `, `"id": "`, `export ID=`), if any.
fn key_in(before: &str) -> Option<&str> {
    let t = before.trim_end_matches([' ', '\t', '"', '\'']);
    last_word(t.strip_suffix(':').or_else(|| t.strip_suffix('='))?)
}

/// The key-like word at the end of `t`, quotes and spaces after it dropped.
fn last_word(t: &str) -> Option<&str> {
    let t = t.trim_end_matches([' ', '\t', '"', '\'']);
    let len = t
        .bytes()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
        .count();
    (len > 0).then(|| &t[t.len() - len..])
}

/// The position in `src` of the bytes `range` of `value`, the text of the scalar that spans
/// `start..end` of `src`: its own line and column inside a block (or multi-line) scalar. The same
/// occurrence of the evidence's first line is looked up in the source; on the scalar's first
/// line, or where escapes make it differ, the answer is the scalar's start (so that the report
/// masks the whole value).
pub fn locate(src: &str, start: Pos, end: Pos, value: &str, range: Range<usize>) -> Pos {
    let Some(evidence) = value.get(range.clone()) else {
        return start;
    };
    let needle = evidence.lines().next().unwrap_or(evidence);
    if needle.is_empty() {
        return start;
    }
    let nth = value[..range.start].matches(needle).count();
    let end = end.offset.max(start.offset).min(src.len());
    let Some(text) = src.get(start.offset..end) else {
        return start;
    };
    let Some((at, _)) = text.match_indices(needle).nth(nth) else {
        return start;
    };
    let before = &text[..at];
    let newlines = before.matches('\n').count();
    let Some(n) = before.rfind('\n') else {
        return start;
    };
    let column = before[n + 1..].chars().count() + 1;
    Pos {
        offset: start.offset + at,
        line: start.line + newlines,
        column,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_on_the_line_or_above_a_list_item() {
        let v = "custom_formats:\n  - trash_ids:\n      # a comment\n      - 72dae194fc92bf828f32cde7744e51a1\n      - 0f12c086e289cf966fa5948eac571f44\n    assign_scores_to:\n      - name: HD\n";
        let at = v.find("0f12").unwrap();
        assert_eq!(line_key(v, at), Some("trash_ids"));
        let v = "trash_ids:\n- 72dae194fc92bf828f32cde7744e51a1\n";
        assert_eq!(line_key(v, v.find("72da").unwrap()), Some("trash_ids"));
        let v = "{\"trash_id\": \"72dae194\"}";
        assert_eq!(line_key(v, v.find("72da").unwrap()), Some("trash_id"));
        let v = "export API_TOKEN=abc";
        assert_eq!(line_key(v, v.find("abc").unwrap()), Some("API_TOKEN"));
        let v = "curl -H x abc";
        assert_eq!(line_key(v, v.find("abc").unwrap()), None);
        let v = "top: 1\n  - abc\n";
        assert_eq!(line_key(v, v.find("abc").unwrap()), None);
    }

    #[test]
    fn locates_a_word_inside_a_block_scalar() {
        let src =
            "data:\n  config.yml: |\n    cameras:\n      door:\n        path: rtsp://u:p@cam\n";
        let value = "cameras:\n  door:\n    path: rtsp://u:p@cam\n";
        let start = Pos {
            offset: src.find('|').unwrap(),
            line: 2,
            column: 15,
        };
        let end = Pos {
            offset: src.len(),
            line: 6,
            column: 1,
        };
        let r = value.find("rtsp").unwrap();
        let p = locate(src, start, end, value, r..r + 14);
        assert_eq!((p.line, p.column), (5, 15));
        // Not found (an escape changed it): the scalar's start.
        let p = locate(src, start, end, "x\\ty", 0..3);
        assert_eq!((p.line, p.column), (2, 15));
        // On the scalar's own line: the scalar's start.
        let src = "k: a secret\n";
        let start = Pos {
            offset: 3,
            line: 1,
            column: 4,
        };
        let end = Pos {
            offset: 11,
            line: 1,
            column: 12,
        };
        let p = locate(src, start, end, "a secret", 2..8);
        assert_eq!((p.line, p.column), (1, 4));
    }
}
