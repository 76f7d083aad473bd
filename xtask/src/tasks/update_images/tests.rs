//! Unit tests of update-images' pure core: planning, diffs, the commit message.

use super::*;

fn target() -> Target {
    Target {
        image: "python-base".into(),
        names: vec![
            "ghcr.io/dcasati/python-base".into(),
            "localhost:32000/homelab/python-base".into(),
        ],
        tag: "sha-abc1234".into(),
        digest: None,
    }
}

#[test]
fn a_failed_write_puts_back_the_files_already_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.yaml"), "old\n").unwrap();
    let change = |path: &str| Change {
        path: path.into(),
        old: "old\n".into(),
        new: "new\n".into(),
        mode: None,
    };
    let err = write_all(dir.path(), &[change("k.yaml"), change("gone/k.yaml")]).unwrap_err();
    assert!(
        format!("{err:#}").contains("no file was changed"),
        "{err:#}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("k.yaml")).unwrap(),
        "old\n"
    );
    write_all(dir.path(), &[change("k.yaml")]).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("k.yaml")).unwrap(),
        "new\n"
    );
}

#[test]
fn a_new_name_in_another_registry_warns_or_fails_when_the_registry_was_checked() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "images:\n- name: ghcr.io/dcasati/python-base\n  newName: quay.io/else/python-base\n";
    std::fs::write(dir.path().join("k.yaml"), text).unwrap();
    let files = [PathBuf::from("k.yaml")];
    let changes = plan(dir.path(), &files, &[target()], false, false).unwrap();
    assert_eq!(changes.len(), 1, "the tag is still set");
    let err = plan(dir.path(), &files, &[target()], false, true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "k.yaml:3:12: newName `quay.io/else/python-base` sends ghcr.io/dcasati/python-base \
         to another registry, but --verify/--digest read the configured registry; point \
         newName at ghcr.io/dcasati/python-base or localhost:32000/homelab/python-base or \
         drop --verify/--digest\nno file was changed"
    );
}

#[test]
fn diff_has_repo_relative_headers_and_message_names_the_tag() {
    let change = Change {
        path: "k8s-apps/kustomization.yaml".into(),
        old: "a: 1\nnewTag: x\n".into(),
        new: "a: 1\nnewTag: sha-abc1234\n".into(),
        mode: None,
    };
    assert_eq!(
        diff(&[change]),
        "--- a/k8s-apps/kustomization.yaml\n+++ b/k8s-apps/kustomization.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-newTag: x\n+newTag: sha-abc1234\n"
    );
    assert_eq!(commit_message(&[target()]), "Update images to sha-abc1234");
}

#[test]
fn update_text_counts_matches_and_names_parse_errors() {
    let mut matched = [0];
    let src = "images:\n- name: localhost:32000/homelab/python-base\n";
    let new = update_text(
        src,
        &[target()],
        &mut matched,
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(new, format!("{src}  newTag: sha-abc1234\n"));
    assert_eq!(matched, [1]);
    let err = update_text(
        "images: [\n",
        &[target()],
        &mut matched,
        &mut Vec::new(),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(
        err.starts_with("2:1: ") && err.ends_with("(not valid YAML)"),
        "{err}"
    );
}
