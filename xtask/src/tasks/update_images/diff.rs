//! update-images' `--check` and `--dry-run` output: unified diffs whose headers name each path
//! as git does and whose text carries no raw control or bidi character.

use super::Change;

/// Unified diffs with `a/` and `b/` repo-relative headers.
pub fn diff(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| {
            let (a, b) = (
                crate::output::diff_path("a/", &c.path),
                crate::output::diff_path("b/", &c.path),
            );
            // Raw text from the tree (comments, values) cannot move a terminal's cursor,
            // write its clipboard (OSC 52), ring it or reorder a line: control and bidi
            // characters are escaped; tabs and CRLF line ends are kept.
            let diff = similar::TextDiff::from_lines(&c.old, &c.new)
                .unified_diff()
                .header(&a, &b)
                .to_string();
            crate::output::escape_controls(&diff).into_owned()
        })
        .collect()
}
