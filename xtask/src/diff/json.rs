//! `--format json`: the stable shape other tools read (documented in the README):
//! `{"base", "head", "images": [{"image", "from", "to", "objects": {KIND: N}}],
//! "apps": [{"name", "path", "changes": [{"action", "kind", "namespace", "name", "diff"}]}]}`.
//! `namespace` is null when the object names none; every unit is listed, unchanged ones with
//! no changes.

use super::Report;
use serde::Serialize;
use std::collections::BTreeMap;

/// The top level, fields in the documented order.
#[derive(Serialize)]
struct Out<'a> {
    base: &'a str,
    head: &'a str,
    images: Vec<Image<'a>>,
    apps: Vec<App<'a>>,
}

#[derive(Serialize)]
struct Image<'a> {
    image: &'a str,
    from: &'a str,
    to: &'a str,
    objects: &'a BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct App<'a> {
    name: &'a str,
    path: &'a str,
    changes: Vec<Change<'a>>,
}

#[derive(Serialize)]
struct Change<'a> {
    action: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    diff: &'a str,
}

pub fn render(report: &Report) -> String {
    let out = Out {
        base: &report.base,
        head: &report.head,
        images: report
            .images
            .iter()
            .map(|i| Image {
                image: &i.image,
                from: &i.from,
                to: &i.to,
                objects: &i.objects,
            })
            .collect(),
        apps: report
            .apps
            .iter()
            .map(|a| App {
                name: &a.name,
                path: &a.path,
                changes: a
                    .changes
                    .iter()
                    .map(|c| Change {
                        action: c.action.as_str(),
                        kind: &c.kind,
                        namespace: (!c.namespace.is_empty()).then_some(c.namespace.as_str()),
                        name: &c.name,
                        diff: &c.diff,
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&out).expect("JSON of strings");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Action, AppDiff, Change};
    use serde_json::{Value, json};

    #[test]
    fn the_documented_shape() {
        let report = Report {
            base: "a".repeat(40),
            head: "b".repeat(40),
            apps: vec![AppDiff {
                name: "iot-stack".into(),
                path: "k8s-apps/iot-stack".into(),
                changes: vec![Change {
                    action: Action::Removed,
                    kind: "Namespace".into(),
                    namespace: String::new(),
                    name: "iot".into(),
                    diff: "@@ -1 +0,0 @@\n-x\n".into(),
                }],
            }],
            images: vec![],
        };
        let text = render(&report);
        assert!(text.starts_with("{\n  \"base\": "), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            json!({"base": "a".repeat(40), "head": "b".repeat(40), "images": [], "apps": [{"name": "iot-stack", "path": "k8s-apps/iot-stack", "changes": [{"action": "removed", "kind": "Namespace", "namespace": null, "name": "iot", "diff": "@@ -1 +0,0 @@\n-x\n"}]}]})
        );
    }
}
