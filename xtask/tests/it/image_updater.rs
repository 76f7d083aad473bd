//! The Argo CD Image Updater v1 resource of `k8s-apps/argocd`, rendered by the real kustomize
//! (`kubectl kustomize`) and validated against the ImageUpdater CRD's openAPIV3Schema, as
//! argoproj-labs/argocd-image-updater v1.3.0 ships it and `xtask/schemas/crds.json` keeps it
//! (trimmed by `xtask/schemas/gen.py`, source and sha256 recorded; the CRD file itself is not in
//! the repo), by `tests/crd_schema.py` (jsonschema, strict about unknown fields). The e2e tests
//! run only under `XTASK_E2E=1`, and then a missing kubectl, python3, jsonschema or PyYAML is a
//! failure.

use crate::support::require;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The CRD schemas, trimmed, with their sources: what the lint's SCHEMA rules are made from.
fn crds_json() -> PathBuf {
    repo_root().join("xtask/schemas/crds.json")
}

fn crds() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(crds_json()).unwrap()).unwrap()
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
        .arg(crds_json())
        .args(["ImageUpdater", "-"])
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
fn crds_json_records_the_image_updater_crds_source_tag_and_sha256() {
    let crds = crds();
    let sources = crds["sources"].as_array().unwrap();
    let image_updater: Vec<_> = sources
        .iter()
        .filter(|s| s["file"].as_str().unwrap().contains("imageupdaters"))
        .collect();
    assert_eq!(image_updater.len(), 1, "{sources:#?}");
    let source = image_updater[0]["source"].as_str().unwrap();
    let (repo, rest) = source.split_once(" tag ").expect(source);
    assert_eq!(repo, "github.com/argoproj-labs/argocd-image-updater");
    let (tag, rest) = rest.split_once(' ').expect(source);
    assert!(tag.starts_with("v1.3."), "{source}: a v1.3.x tag");
    let commit = rest.trim_start_matches('(').split(')').next().unwrap();
    assert!(
        commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
        "{source}: the tag's commit"
    );
    assert!(
        rest.ends_with("config/crd/bases/argocd-image-updater.argoproj.io_imageupdaters.yaml"),
        "{source}: the CRD's path in the repository"
    );
    let sha256 = image_updater[0]["sha256"].as_str().unwrap();
    assert!(
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha256}"
    );
}

/// gen.py's trimming keeps the value constraints `crd_schema.py` checks, not only the types.
#[test]
fn crds_json_keeps_the_image_updater_constraints() {
    let crds = crds();
    let kinds = crds["kinds"].as_array().unwrap();
    let image_updater: Vec<_> = kinds
        .iter()
        .filter(|k| k["kind"] == "ImageUpdater")
        .collect();
    assert_eq!(image_updater.len(), 1, "one served version");
    assert_eq!(
        image_updater[0]["apiVersion"],
        "argocd-image-updater.argoproj.io/v1alpha1"
    );
    let spec = &image_updater[0]["schema"]["properties"]["spec"];
    let method = &spec["properties"]["writeBackConfig"]["properties"]["method"];
    assert_eq!(
        method["pattern"], "^(argocd|git|git:[a-zA-Z0-9][a-zA-Z0-9-._/:]*)$",
        "{method}"
    );
    assert_eq!(
        spec["properties"]["applicationRefs"]["minItems"], 1,
        "{spec}"
    );
    let cosign_key = &spec["properties"]["imagesVerification"]["properties"]["cosignKey"];
    assert_eq!(
        cosign_key["required"],
        serde_json::json!(["key", "secretName"])
    );
    assert!(
        spec.get("description").is_none(),
        "descriptions are dropped"
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_image_updater_renders_and_matches_the_crd_schema() {
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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_crd_schema_refuses_a_misspelt_field_and_a_bad_method() {
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
