//! Two commits' objects into changes: each object keyed as [`Key`] is added, removed or
//! modified, with a unified diff of its redacted, sorted-key YAML; and every container whose
//! image moved is one image change, summarised over all units.

use super::emit::to_yaml;
use super::objects::{Key, Object};
use super::redact::redact_pair;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Added,
    Removed,
    Modified,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Added => "added",
            Action::Removed => "removed",
            Action::Modified => "modified",
        }
    }
}

/// One object's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    pub kind: String,
    /// Empty when the object names none.
    pub namespace: String,
    /// The name as rendered at HEAD (at BASE when removed), hash suffix included.
    pub name: String,
    /// Unified diff of the object's YAML (hunks only, no file header).
    pub diff: String,
}

impl Change {
    /// `namespace/name`, or the name alone when the object names no namespace.
    pub fn qualified_name(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

/// One image move: `python-base sha-aaaaaaa → sha-bbbbbbb in 2 CronJobs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageChange {
    /// The repository's last path segment when only the tag or digest moved, else empty.
    pub image: String,
    pub from: String,
    pub to: String,
    /// Objects whose containers moved, counted by kind.
    pub objects: BTreeMap<String, usize>,
}

/// The changes between `base` and `head` (one unit's objects at each commit), sorted by action,
/// kind, namespace and name; and the raw image moves `(from, to, kind)`, one per object and pair.
pub fn compare(
    base: Vec<Object>,
    head: Vec<Object>,
) -> (Vec<Change>, Vec<(String, String, String)>) {
    let mut base: BTreeMap<Key, Object> = base.into_iter().map(|o| (o.key.clone(), o)).collect();
    let mut changes = Vec::new();
    let mut images = Vec::new();
    for mut h in head {
        match base.remove(&h.key) {
            Some(mut b) => {
                if b.value == h.value {
                    continue;
                }
                let mut moved = image_moves(&b.value, &h.value);
                moved.dedup();
                images.extend(moved.into_iter().map(|(f, t)| (f, t, h.key.kind.clone())));
                redact_pair(Some(&mut b.value), Some(&mut h.value));
                changes.push(change(
                    Action::Modified,
                    &h,
                    unified(&to_yaml(&b.value), &to_yaml(&h.value)),
                ));
            }
            None => {
                redact_pair(None, Some(&mut h.value));
                changes.push(change(Action::Added, &h, unified("", &to_yaml(&h.value))));
            }
        }
    }
    for (_, mut b) in base {
        redact_pair(Some(&mut b.value), None);
        changes.push(change(Action::Removed, &b, unified(&to_yaml(&b.value), "")));
    }
    changes.sort_by(|a, b| {
        (a.action, &a.kind, &a.namespace, &a.name).cmp(&(b.action, &b.kind, &b.namespace, &b.name))
    });
    (changes, images)
}

fn change(action: Action, o: &Object, diff: String) -> Change {
    Change {
        action,
        kind: o.key.kind.clone(),
        namespace: o.key.namespace.clone(),
        name: o.name.clone(),
        diff,
    }
}

/// Hunks with three lines of context; a missing final newline is marked as diff marks it.
pub fn unified(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

/// Every container image of an object, keyed by the container list and container name.
fn images(v: &Value, out: &mut BTreeMap<(String, String), String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if matches!(
                    k.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Some(list) = child.as_array()
                {
                    for c in list {
                        if let (Some(name), Some(image)) = (
                            c.get("name").and_then(Value::as_str),
                            c.get("image").and_then(Value::as_str),
                        ) {
                            out.insert((k.clone(), name.to_string()), image.to_string());
                        }
                    }
                }
                images(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| images(i, out)),
        _ => {}
    }
}

/// `(from, to)` for each container of both objects whose image differs.
fn image_moves(base: &Value, head: &Value) -> Vec<(String, String)> {
    let (mut b, mut h) = (BTreeMap::new(), BTreeMap::new());
    images(base, &mut b);
    images(head, &mut h);
    let mut moves: Vec<(String, String)> = b
        .iter()
        .filter_map(|(k, from)| {
            h.get(k)
                .filter(|to| *to != from)
                .map(|to| (from.clone(), to.clone()))
        })
        .collect();
    moves.sort();
    moves
}

/// Image moves summarised: one line per (from, to), objects counted by kind, in order of
/// first appearance.
pub fn summarize_images(moves: &[(String, String, String)]) -> Vec<ImageChange> {
    let mut out: Vec<ImageChange> = Vec::new();
    for (from, to, kind) in moves {
        let (image, f, t) = short(from, to);
        let at = match out
            .iter()
            .position(|c| c.image == image && c.from == f && c.to == t)
        {
            Some(at) => at,
            None => {
                out.push(ImageChange {
                    image,
                    from: f,
                    to: t,
                    objects: BTreeMap::new(),
                });
                out.len() - 1
            }
        };
        *out[at].objects.entry(kind.clone()).or_default() += 1;
    }
    out
}

/// `(repository, tag-or-digest)` of an image reference; the tag is empty when there is none.
fn split(image: &str) -> (&str, &str) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo, digest);
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, ""),
    }
}

/// `("python-base", "sha-aaaaaaa", "sha-bbbbbbb")` when only the tag or digest moved; the full
/// references otherwise. A digest is cut to 12 hex digits; no tag reads `(no tag)`.
fn short(from: &str, to: &str) -> (String, String, String) {
    let ((fr, ft), (tr, tt)) = (split(from), split(to));
    if fr != tr {
        return (String::new(), from.to_string(), to.to_string());
    }
    let cut = |t: &str| match t.strip_prefix("sha256:") {
        Some(hex) => format!("sha256:{}", &hex[..hex.len().min(12)]),
        None if t.is_empty() => "(no tag)".into(),
        None => t.to_string(),
    };
    let name = fr.rsplit('/').next().unwrap_or(fr).to_string();
    (name, cut(ft), cut(tt))
}

/// The one-line form of an image change.
pub fn image_line(c: &ImageChange) -> String {
    let objects: Vec<String> = c
        .objects
        .iter()
        .map(|(kind, n)| super::count_of(*n, kind))
        .collect();
    let what = if c.image.is_empty() {
        String::new()
    } else {
        format!("{} ", c.image)
    };
    format!("{what}{} → {} in {}", c.from, c.to, objects.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::objects::parse;

    fn cronjob(name: &str, image: &str, schedule: &str) -> String {
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\n  namespace: iot\nspec:\n  schedule: \"{schedule}\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: main\n            image: {image}\n"
        )
    }

    #[test]
    fn a_tag_bump_is_one_image_line_and_a_modified_object_each() {
        let img = |t: &str| format!("ghcr.io/dcasati/python-base:{t}");
        let base = parse(
            &(cronjob("a", &img("sha-aaaaaaa"), "0 * * * *")
                + "---\n"
                + &cronjob("b", &img("sha-aaaaaaa"), "5 * * * *")),
        )
        .unwrap();
        let head = parse(
            &(cronjob("b", &img("sha-bbbbbbb"), "5 * * * *")
                + "---\n"
                + &cronjob("a", &img("sha-bbbbbbb"), "0 * * * *")),
        )
        .unwrap();
        let (changes, moves) = compare(base, head);
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.action, c.name.as_str()))
            .collect();
        assert_eq!(got, [(Action::Modified, "a"), (Action::Modified, "b")]);
        assert!(changes[0].diff.contains("-          - image: ghcr.io/dcasati/python-base:sha-aaaaaaa\n+          - image: ghcr.io/dcasati/python-base:sha-bbbbbbb\n"), "{}", changes[0].diff);
        let lines: Vec<_> = summarize_images(&moves).iter().map(image_line).collect();
        assert_eq!(
            lines,
            ["python-base sha-aaaaaaa → sha-bbbbbbb in 2 CronJobs"]
        );
    }

    #[test]
    fn added_removed_and_unchanged() {
        let base = parse(
            &(cronjob("old", "x:1", "* * * * *") + "---\n" + &cronjob("same", "x:1", "* * * * *")),
        )
        .unwrap();
        let head = parse(
            &(cronjob("same", "x:1", "* * * * *") + "---\n" + &cronjob("new", "x:1", "* * * * *")),
        )
        .unwrap();
        let (changes, moves) = compare(base, head);
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.action, c.name.as_str()))
            .collect();
        assert_eq!(got, [(Action::Added, "new"), (Action::Removed, "old")]);
        assert!(
            changes[0].diff.starts_with("@@ -0,0 +1,"),
            "{}",
            changes[0].diff
        );
        assert!(changes[0].diff.lines().skip(1).all(|l| l.starts_with('+')));
        assert!(changes[1].diff.lines().skip(1).all(|l| l.starts_with('-')));
        assert!(moves.is_empty());
    }

    #[test]
    fn a_renamed_generated_configmap_is_modified_and_shows_the_script_line() {
        let cm = |hash: &str, line: &str| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script-{hash}\ndata:\n  run.py: |\n    import os\n    {line}\n"
            )
        };
        let (changes, _) = compare(
            parse(&cm("7b4m9tgk2c", "print(1)")).unwrap(),
            parse(&cm("h2dfk5t6b8", "print(2)")).unwrap(),
        );
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (changes[0].action, changes[0].name.as_str()),
            (Action::Modified, "script-h2dfk5t6b8")
        );
        assert!(
            changes[0].diff.contains("-    print(1)\n+    print(2)\n"),
            "{}",
            changes[0].diff
        );
        assert!(
            changes[0]
                .diff
                .contains("-  name: script-7b4m9tgk2c\n+  name: script-h2dfk5t6b8\n")
        );
    }

    #[test]
    fn image_lines_name_digests_short_and_other_registries_in_full() {
        let moves = [
            (
                "r/app@sha256:0123456789abcdef0123".to_string(),
                "r/app@sha256:fedcba9876543210ffff".to_string(),
                "Deployment".to_string(),
            ),
            ("a/x:1".into(), "b/x:1".into(), "CronJob".into()),
            ("a/x".into(), "a/x:2".into(), "Job".into()),
        ];
        let lines: Vec<_> = summarize_images(&moves).iter().map(image_line).collect();
        assert_eq!(
            lines,
            [
                "app sha256:0123456789ab → sha256:fedcba987654 in 1 Deployment",
                "a/x:1 → b/x:1 in 1 CronJob",
                "x (no tag) → 2 in 1 Job",
            ]
        );
    }
}
