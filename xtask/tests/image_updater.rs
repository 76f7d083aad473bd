//! The Argo CD Image Updater v1 resource of `k8s-apps/argocd`, rendered by the real kustomize
//! (`kubectl kustomize`) and validated against the ImageUpdater CRD's own openAPIV3Schema, as
//! argoproj-labs/argocd-image-updater v1.3.0 ships it (vendored under `tests/data/`), by
//! `tests/crd_schema.py` (jsonschema, strict about unknown fields). End to end: runs only under
//! `XTASK_E2E=1`, and then a missing kubectl, python3, jsonschema or PyYAML is a failure.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{e2e, require};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn crd() -> PathBuf {
    repo_root().join("xtask/tests/data/argocd-image-updater-v1.3.0/imageupdaters.yaml")
}

/// `kubectl kustomize k8s-apps/argocd`: what `kubectl apply -k` would send.
fn render() -> String {
    let out = Command::new("kubectl")
        .args(["kustomize", "k8s-apps/argocd"])
        .current_dir(repo_root())
        .output()
        .expect("kubectl must be installed for XTASK_E2E=1");
    assert!(
        out.status.success(),
        "kubectl kustomize k8s-apps/argocd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the validator on `manifests`; returns its exit code and everything it printed.
fn validate(manifests: &str) -> (i32, String) {
    let mut child = Command::new("python3")
        .arg(repo_root().join("xtask/tests/crd_schema.py"))
        .arg(crd())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed to validate the ImageUpdater");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(manifests.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(code, 2, "the validator cannot run:\n{text}");
    (code, text)
}

#[test]
fn vendored_crd_names_its_source_and_tag() {
    let text = std::fs::read_to_string(crd()).unwrap();
    assert!(text.contains("github.com/argoproj-labs/argocd-image-updater"));
    assert!(text.contains("at tag v1.3.0 (commit 098b544f1c7d6d1368e89c3f8d92415ede353916)"));
    assert!(text.contains("name: imageupdaters.argocd-image-updater.argoproj.io"));
    assert!(text.contains("imagesVerification:"));
}

#[test]
fn e2e_image_updater_renders_and_matches_the_crd_schema() {
    if !e2e() {
        return;
    }
    require("kubectl");
    require("python3");
    let rendered = render();
    assert!(rendered.contains("kind: ImageUpdater"), "{rendered}");
    assert!(
        !rendered.contains("annotations:") && !rendered.contains("image-list"),
        "the v0 annotations are gone:\n{rendered}"
    );
    let (code, out) = validate(&rendered);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: 1 ImageUpdater resource(s)"), "{out}");
}

#[test]
fn e2e_crd_schema_refuses_a_misspelt_field_and_a_bad_method() {
    if !e2e() {
        return;
    }
    require("kubectl");
    require("python3");
    let broken = render()
        .replace("allowTags:", "allowTag:")
        .replace("method: git", "method: svn")
        .replace("secretName: ", "secret: ");
    let (code, out) = validate(&broken);
    assert_eq!(code, 1, "{out}");
    for expected in [
        "spec.applicationRefs.0.images.0.commonUpdateSettings: Additional properties are not allowed ('allowTag' was unexpected)",
        "spec.writeBackConfig.method: 'svn' does not match",
        "spec.imagesVerification.cosignKey: 'secretName' is a required property",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
}
