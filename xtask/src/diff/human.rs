//! `--format human`: the image lines first, then each changed unit with its objects' diffs,
//! coloured when asked (a terminal without `NO_COLOR`). Text from the tree goes through
//! `output::escape_line`, so that a name cannot move the cursor or start a workflow command.

use super::{Action, Report, compare::image_line};
use crate::output::escape_line;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

pub fn render(report: &Report, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = format!(
        "diff {}..{}\n",
        crate::repo::short(&report.base),
        crate::repo::short(&report.head)
    );
    if !report.has_changes() {
        out.push_str(&format!(
            "no change in {} rendered\n",
            super::count_of(report.apps.len(), "unit")
        ));
        return out;
    }
    if !report.images.is_empty() {
        out.push_str(&paint(BOLD, "images:"));
        out.push('\n');
        for i in &report.images {
            out.push_str(&format!("  {}\n", escape_line(&image_line(i))));
        }
    }
    for app in report.changed() {
        out.push('\n');
        out.push_str(&paint(
            BOLD,
            &format!("{} ({})", escape_line(&app.name), escape_line(&app.path)),
        ));
        out.push('\n');
        for c in &app.changes {
            let sign = match c.action {
                Action::Added => paint(GREEN, "+ added"),
                Action::Removed => paint(RED, "- removed"),
                Action::Modified => paint(CYAN, "~ modified"),
            };
            out.push_str(&format!(
                "{sign} {} {}\n",
                escape_line(&c.kind),
                escape_line(&c.qualified_name())
            ));
            for line in c.diff.lines() {
                let line = escape_line(line);
                let painted = match line.as_bytes().first() {
                    Some(b'+') => paint(GREEN, &line),
                    Some(b'-') => paint(RED, &line),
                    Some(b'@') => paint(CYAN, &line),
                    _ => line.into_owned(),
                };
                out.push_str("    ");
                out.push_str(&painted);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{AppDiff, Change, ImageChange};

    fn report() -> Report {
        Report {
            base: "a".repeat(40),
            head: "b".repeat(40),
            apps: vec![AppDiff {
                name: "iot\x1b[2J".into(),
                path: "k8s-apps/iot".into(),
                changes: vec![Change {
                    action: Action::Modified,
                    kind: "CronJob".into(),
                    namespace: "iot".into(),
                    name: "job".into(),
                    diff: "@@ -1 +1 @@\n-a\n+b\n".into(),
                }],
            }],
            images: vec![ImageChange {
                image: "x".into(),
                from: "1".into(),
                to: "2".into(),
                objects: [("CronJob".to_string(), 1)].into(),
            }],
        }
    }

    #[test]
    fn images_first_then_each_unit() {
        let text = render(&report(), false);
        assert_eq!(
            text,
            "diff aaaaaaa..bbbbbbb\nimages:\n  x 1 → 2 in 1 CronJob\n\niot\\u{1b}[2J (k8s-apps/iot)\n~ modified CronJob iot/job\n    @@ -1 +1 @@\n    -a\n    +b\n"
        );
        assert!(!text.contains('\x1b'));
        let painted = render(&report(), true);
        assert!(painted.contains("    \x1b[32m+b\x1b[0m\n"), "{painted:?}");
        assert!(painted.contains("    \x1b[31m-a\x1b[0m\n"), "{painted:?}");
        assert!(
            painted.contains("\x1b[36m~ modified\x1b[0m CronJob iot/job\n"),
            "{painted:?}"
        );
    }
}
