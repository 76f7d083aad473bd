//! `--format markdown`: a pull-request comment. A marker line (so CI can find its own comment),
//! the image lines, a summary table of every changed unit, then one collapsible `<details>` per
//! unit with a ```` ```diff ```` block per object. The whole comment stays within [`LIMIT`]
//! bytes (GitHub's comment limit is 65,536 characters, and a character is at least one byte):
//! the summary is always complete (short of the thousands of changed units whose table rows
//! alone would pass the limit: then the table stops with a count), and diffs that do not fit are
//! cut with a note saying how many lines were left out. Each diff gets a fair share of what is
//! left, so one huge object cannot crowd out the others.

use super::{Action, AppDiff, Report, compare::image_line};

/// The most a comment may hold, in bytes.
pub const LIMIT: usize = 65_536;
/// The first line, which CI looks for to edit its own comment.
pub const MARKER: &str = "<!-- cargo-xtask-diff -->";
/// Room kept for the closing tags and the last note.
const RESERVE: usize = 400;

pub fn render(report: &Report) -> String {
    render_within(report, LIMIT)
}

/// [`render`] with another limit (tests use small ones).
pub fn render_within(report: &Report, limit: usize) -> String {
    let mut out = summary(report, limit);
    let apps: Vec<&AppDiff> = report.changed().collect();
    let total: usize = apps.iter().map(|a| a.changes.len()).sum();
    let mut left = limit.saturating_sub(out.len() + RESERVE);
    let mut done = 0;
    let mut cut_apps = 0;
    for app in &apps {
        let head = format!(
            "\n<details><summary><b>{}</b>: {}</summary>\n\n",
            cell(&app.name),
            counts(app)
        );
        if head.len() + 40 > left {
            cut_apps += 1;
            done += app.changes.len();
            continue;
        }
        left -= head.len();
        out.push_str(&head);
        for c in &app.changes {
            let share = left / (total - done).max(1);
            done += 1;
            let title = format!(
                "**{}** {} `{}`\n",
                c.action.as_str(),
                cell(&c.kind),
                code(&c.qualified_name())
            );
            let block = diff_block(&c.diff, share.saturating_sub(title.len()));
            let piece = title + &block;
            if piece.len() <= left {
                left -= piece.len();
                out.push_str(&piece);
            }
        }
        let tail = "\n</details>\n";
        left = left.saturating_sub(tail.len());
        out.push_str(tail);
    }
    if cut_apps > 0 {
        out.push_str(&format!(
            "\n_The diffs of {} were left out to stay within GitHub's comment limit; run `cargo xtask diff` for all of them._\n",
            super::count_of(cut_apps, "more unit")
        ));
    }
    out
}

/// The marker, the commits, the image lines and the table: always complete.
fn summary(report: &Report, limit: usize) -> String {
    let short = crate::repo::short;
    let mut out = format!(
        "{MARKER}\n### Rendered manifests: `{}` → `{}`\n\n",
        short(&report.base),
        short(&report.head)
    );
    let changed: Vec<&AppDiff> = report.changed().collect();
    if changed.is_empty() {
        out.push_str(&format!(
            "No change in the rendered manifests of {}.\n",
            super::count_of(report.apps.len(), "unit")
        ));
        return out;
    }
    if !report.images.is_empty() {
        out.push_str("**Images**\n\n");
        for i in &report.images {
            out.push_str(&format!("- {}\n", cell(&image_line(i))));
        }
        out.push('\n');
    }
    out.push_str("| Unit | Path | Added | Removed | Modified |\n|---|---|--:|--:|--:|\n");
    // Only thousands of changed units outgrow the comment: then the table stops at the limit
    // and says how many rows it left out (a comment over the limit would not be posted at all).
    let room = limit.saturating_sub(RESERVE);
    for (i, app) in changed.iter().enumerate() {
        if out.len() + 2 * RESERVE > room {
            out.push_str(&format!(
                "\n_{} left out of this table to stay within GitHub's comment limit; run `cargo xtask diff` for all of them._\n",
                super::count_of(changed.len() - i, "more changed unit")
            ));
            return out;
        }
        let n = |a: Action| app.changes.iter().filter(|c| c.action == a).count();
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            cell(&app.name),
            code(&app.path),
            n(Action::Added),
            n(Action::Removed),
            n(Action::Modified)
        ));
    }
    let same = report.apps.len() - changed.len();
    if same > 0 {
        out.push_str(&format!(
            "\n{} without change.\n",
            super::count_of(same, "more unit")
        ));
    }
    out
}

fn counts(app: &AppDiff) -> String {
    let mut parts = Vec::new();
    for (a, word) in [
        (Action::Added, "added"),
        (Action::Removed, "removed"),
        (Action::Modified, "modified"),
    ] {
        let n = app.changes.iter().filter(|c| c.action == a).count();
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.join(", ")
}

/// A ```` ```diff ```` block of at most `room` bytes: whole lines while they fit, then a note of
/// how many were left out. The fence is longer than any backtick run in the diff.
fn diff_block(diff: &str, room: usize) -> String {
    let longest = diff.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let open = format!("{fence}diff\n");
    let close = format!("{fence}\n");
    let total = diff.lines().count();
    let note_room = 120;
    let mut body = String::new();
    let mut kept = 0;
    let budget = room.saturating_sub(open.len() + close.len() + note_room);
    for line in diff.lines() {
        if body.len() + line.len() + 1 > budget {
            break;
        }
        body.push_str(line);
        body.push('\n');
        kept += 1;
    }
    let mut out = format!("{open}{body}{close}");
    if kept < total {
        out.push_str(&format!(
            "_{} of {} lines of this diff left out to stay within GitHub's comment limit._\n",
            total - kept,
            total
        ));
    }
    out
}

/// Text for a table cell or summary: no line breaks, pipes, or HTML.
fn cell(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside single backticks: no backticks or line breaks.
fn code(text: &str) -> String {
    cell(text).replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Change;

    fn change(name: &str, lines: usize) -> Change {
        let diff: String = std::iter::once("@@ -1 +1 @@\n".to_string())
            .chain((0..lines).map(|i| format!("+line {i} of {name}\n")))
            .collect();
        Change {
            action: Action::Modified,
            kind: "ConfigMap".into(),
            namespace: "iot".into(),
            name: name.into(),
            diff,
        }
    }

    fn report(apps: Vec<(String, Vec<Change>)>) -> Report {
        Report {
            base: "a".repeat(40),
            head: "b".repeat(40),
            apps: apps
                .into_iter()
                .map(|(name, changes)| AppDiff {
                    path: format!("k8s-apps/{name}"),
                    name,
                    changes,
                })
                .collect(),
            images: vec![],
        }
    }

    #[test]
    fn a_small_change_is_shown_whole() {
        let text = render(&report(vec![
            ("iot".into(), vec![change("c", 2)]),
            ("same".into(), vec![]),
        ]));
        assert!(text.starts_with(MARKER));
        assert!(
            text.contains("| iot | `k8s-apps/iot` | 0 | 0 | 1 |\n"),
            "{text}"
        );
        assert!(text.contains("1 more unit without change."));
        assert!(text.contains("<details><summary><b>iot</b>: 1 modified</summary>"));
        assert!(
            text.contains("```diff\n@@ -1 +1 @@\n+line 0 of c\n+line 1 of c\n```\n"),
            "{text}"
        );
        assert!(!text.contains("left out"));
    }

    #[test]
    fn a_huge_change_stays_within_the_limit_with_a_complete_summary() {
        let apps: Vec<_> = (0..60)
            .map(|i| {
                (
                    format!("app{i:02}"),
                    vec![change("big", 3_000), change("small", 1)],
                )
            })
            .collect();
        let text = render(&report(apps));
        assert!(text.len() <= LIMIT, "{}", text.len());
        for i in 0..60 {
            assert!(
                text.contains(&format!("| app{i:02} | `k8s-apps/app{i:02}` | 0 | 0 | 2 |")),
                "app{i:02}"
            );
        }
        assert!(text.contains("lines of this diff left out"));
        assert!(
            text.contains("+line 0 of small"),
            "small diffs keep their share"
        );
    }

    #[test]
    fn units_that_do_not_fit_at_all_are_counted() {
        let apps: Vec<_> = (0..30)
            .map(|i| (format!("app{i:02}"), vec![change("x", 50)]))
            .collect();
        let text = render_within(&report(apps), 4_000);
        assert!(text.len() <= 4_000, "{}", text.len());
        assert!(
            text.contains("30 more units were left out")
                || text.contains("more units were left out"),
            "{text}"
        );
    }

    #[test]
    fn thousands_of_changed_units_still_fit() {
        let apps: Vec<_> = (0..3_000)
            .map(|i| (format!("app{i:04}"), vec![change("x", 1)]))
            .collect();
        let text = render(&report(apps));
        assert!(text.len() <= LIMIT, "{}", text.len());
        assert!(text.contains("| app0000 |"));
        assert!(
            text.contains("more changed units left out of this table"),
            "{}",
            &text[text.len() - 300..]
        );
    }

    #[test]
    fn names_cannot_break_the_table_or_the_fence() {
        let mut c = change("x", 1);
        c.diff = "@@ -1 +1 @@\n+````\n".into();
        let text = render(&report(vec![("a|b<script>".into(), vec![c])]));
        assert!(text.contains("| a\\|b&lt;script&gt; |"), "{text}");
        assert!(
            text.contains("`````diff\n@@ -1 +1 @@\n+````\n`````\n"),
            "{text}"
        );
    }
}
