//! SARIF 2.1.0, as github/codeql-action/upload-sarif accepts it: the parts every SARIF log of
//! this repo shares (the envelope, the driver, artifact URIs). lint-manifests and trivy-scan
//! build their rules and results and write them through here. Pure.

use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// A log of `runs`, each one from [`run`].
pub fn log(runs: Vec<Value>) -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    })
}

/// One run of the tool `name` (`xtask-lint-manifests`, `xtask-trivy-scan`): its rule
/// descriptors and results; `extra` fields (columnKind, automationDetails) are added to the run.
pub fn run(name: &str, rules: Vec<Value>, results: Vec<Value>, extra: Value) -> Value {
    let mut run = json!({
        "tool": {
            "driver": {
                "name": name,
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/dcasati/homelab",
                "rules": rules,
            }
        },
    });
    if let Value::Object(extra) = extra {
        run.as_object_mut()
            .expect("a run is an object")
            .extend(extra);
    }
    run["results"] = Value::Array(results);
    run
}

/// `k8s-apps/x/y.yaml` with forward slashes, whatever the platform.
pub fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encodes a relative path for a SARIF `uri`.
pub fn uri(path: &Path) -> String {
    let mut out = String::new();
    for b in slash_path(path).bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
