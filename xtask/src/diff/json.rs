//! `--format json`: the stable shape other tools read (documented in the README):
//! `{"base", "head", "images": [{"image", "from", "to", "objects": {KIND: N}}],
//! "apps": [{"name", "path", "changes": [{"action", "kind", "namespace", "name", "diff"}]}]}`.
//! `namespace` is null when the object names none; every unit is listed, unchanged ones with
//! no changes.

use super::Report;
use serde_json::{Value, json};

pub fn render(report: &Report) -> String {
    let apps: Vec<Value> = report
        .apps
        .iter()
        .map(|a| {
            let changes: Vec<Value> = a
                .changes
                .iter()
                .map(|c| {
                    json!({
                        "action": c.action.as_str(),
                        "kind": c.kind,
                        "namespace": (!c.namespace.is_empty()).then_some(&c.namespace),
                        "name": c.name,
                        "diff": c.diff,
                    })
                })
                .collect();
            json!({"name": a.name, "path": a.path, "changes": changes})
        })
        .collect();
    let images: Vec<Value> = report
        .images
        .iter()
        .map(|i| json!({"image": i.image, "from": i.from, "to": i.to, "objects": i.objects}))
        .collect();
    let mut out = serde_json::to_string_pretty(&json!({
        "base": report.base,
        "head": report.head,
        "images": images,
        "apps": apps,
    }))
    .expect("JSON of strings");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Action, AppDiff, Change};

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
        let v: Value = serde_json::from_str(&render(&report)).unwrap();
        assert_eq!(
            v,
            json!({"base": "a".repeat(40), "head": "b".repeat(40), "images": [], "apps": [{"name": "iot-stack", "path": "k8s-apps/iot-stack", "changes": [{"action": "removed", "kind": "Namespace", "namespace": null, "name": "iot", "diff": "@@ -1 +0,0 @@\n-x\n"}]}]})
        );
    }
}
