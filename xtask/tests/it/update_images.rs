//! `cargo xtask update-images` run as a binary against temporary git repos: the files it writes,
//! its exit codes, stdout (diffs) and stderr (messages), and the commits it makes. With
//! `XTASK_E2E=1`, the result is rendered by the real kustomize (`kubectl kustomize`).

use crate::support::update_images::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn base_with(tag: &str) -> String {
    BASE.replace("sha-0000000", tag)
}

fn overlay_with(tag: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\nimages:\n- {{name: ghcr.io/dcasati/python-base, newTag: {tag}}}\n"
    )
}

#[test]
fn base_and_overlay_both_change_and_a_second_run_changes_nothing() {
    let f = Fixture::new();
    let (built, head) = iot_stack(&f);
    let run = f.run(&["update-images", &head[..10]]).expect(0);
    let t = tag(&head);
    assert_eq!(f.read(BASE_PATH), base_with(&t));
    assert_eq!(f.read(OVERLAY_PATH), overlay_with(&t));
    assert!(run.stdout.is_empty(), "stdout is for diffs: {}", run.stdout);
    let err = run.stderr;
    assert!(
        err.contains(&t) && err.contains(BASE_PATH) && err.contains(OVERLAY_PATH),
        "{err}"
    );
    assert_ne!(built, head);

    let before = f.snapshot();
    let again = f.run(&["update-images", &head]).expect(0);
    again.assert_stderr_has("already up to date");
    assert_eq!(f.snapshot(), before);
    f.run(&["update-images", "--check", &head]).expect(0);
}

#[test]
fn without_sha_the_tag_is_the_last_commit_touching_base_images_not_head() {
    let f = Fixture::new();
    let (built, head) = iot_stack(&f);
    f.run(&["update-images"]).expect(0);
    assert_eq!(f.read(BASE_PATH), base_with(&tag(&built)));
    assert_ne!(tag(&built), tag(&head));
    // A later change to the build context moves the default tag.
    let rebuilt = f.commit(&[("k8s-apps/base-images/requirements.txt", "requests\n")]);
    f.commit(&[("README.md", "more\n")]);
    f.run(&["update-images"]).expect(0);
    assert_eq!(f.read(OVERLAY_PATH), overlay_with(&tag(&rebuilt)));
}

#[test]
fn check_prints_the_diff_and_the_fix_and_writes_nothing() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let before = f.snapshot();
    let run = f.run(&["update-images", "--check", &head[..7]]).expect(1);
    assert_eq!(f.snapshot(), before);
    let out = run.stdout;
    assert!(
        out.contains(&format!("--- a/{BASE_PATH}\n+++ b/{BASE_PATH}\n"))
            && out.contains(&format!("+    newTag: \"{}\"\n", tag(&head)))
            && out.contains("-    newTag: \"sha-0000000\"\n")
            && out.contains(&format!("--- a/{OVERLAY_PATH}\n")),
        "{out}"
    );
    let err = run.stderr;
    assert!(
        err.contains(&format!("fix: cargo xtask update-images {}", &head[..7])),
        "{err}"
    );
}

#[test]
fn dry_run_prints_the_same_diff_and_writes_nothing() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let before = f.snapshot();
    let dry = f.run(&["update-images", "--dry-run", &head]).expect(0);
    assert_eq!(f.snapshot(), before);
    let check = f.run(&["update-images", "--check", &head]).expect(1);
    assert_eq!(dry.stdout, check.stdout);
    assert!(
        dry.stdout.starts_with(&format!("--- a/{BASE_PATH}\n")),
        "{}",
        dry.stdout
    );
}

#[test]
fn commit_takes_exactly_the_kustomizations_and_leaves_other_work_alone() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    // The user's work: an unstaged edit and a staged new file.
    f.write("README.md", "unstaged edit\n");
    f.write("notes/staged.txt", "staged\n");
    let mut index = f.git.index().unwrap();
    index.add_path(Path::new("notes/staged.txt")).unwrap();
    index.write().unwrap();

    let run = f.run(&["update-images", "--commit", &head]).expect(0);
    let t = tag(&head);
    let commit = f.head_commit().unwrap();
    assert_eq!(
        commit.message().ok(),
        Some(format!("Update images to {t}").as_str())
    );
    assert_eq!(
        commit.parent_ids().collect::<Vec<_>>(),
        [git2::Oid::from_str(&head).unwrap()]
    );
    run.assert_stderr_has(&commit.id().to_string()[..7]);
    let tree = commit.tree().unwrap();
    let blob = |path: &str| {
        let id = tree.get_path(Path::new(path)).unwrap().id();
        String::from_utf8(f.git.find_blob(id).unwrap().content().to_vec()).unwrap()
    };
    assert_eq!(blob(BASE_PATH), base_with(&t));
    assert_eq!(blob(OVERLAY_PATH), overlay_with(&t));
    assert_eq!(blob("README.md"), "later work\n");
    assert!(tree.get_path(Path::new("notes/staged.txt")).is_err());
    let parent_tree = commit.parent(0).unwrap().tree().unwrap();
    let diff = f
        .git
        .diff_tree_to_tree(Some(&parent_tree), Some(&tree), None)
        .unwrap();
    let changed: Vec<_> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(changed, [BASE_PATH, OVERLAY_PATH]);

    assert_eq!(f.read("README.md"), "unstaged edit\n");
    let status = |p: &str| f.git.status_file(Path::new(p)).unwrap();
    assert_eq!(status("README.md"), git2::Status::WT_MODIFIED);
    assert_eq!(status("notes/staged.txt"), git2::Status::INDEX_NEW);
    assert_eq!(status(BASE_PATH), git2::Status::CURRENT);

    // Nothing left to change: no new commit.
    let again = f.run(&["update-images", "--commit", &head]).expect(0);
    assert!(again.stderr.contains("already up to date"));
    assert_eq!(f.head_commit().unwrap().id(), commit.id());
}

#[test]
fn commit_refuses_a_kustomization_with_uncommitted_work() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let edited = format!("{BASE}# my unfinished edit\n");
    f.write(BASE_PATH, &edited);
    let before = f.snapshot();
    let run = f.run(&["update-images", "--commit", &head]).expect(2);
    assert!(
        run.stderr
            .contains(&format!("{BASE_PATH} has uncommitted changes")),
        "{}",
        run.stderr
    );
    assert_eq!(f.snapshot(), before);
    assert_eq!(f.head(), head);
}

/// Runs `args`, expects exit 2 and no byte changed, and returns stderr.
fn refused(f: &Fixture, args: &[&str]) -> String {
    let before = f.snapshot();
    let run = f.run(args).expect(2);
    assert_eq!(f.snapshot(), before, "{args:?} changed a file");
    run.stderr
}

#[test]
fn bad_input_exits_2_and_changes_no_byte() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    for bad in ["xyz1234", "abc123", &"a".repeat(41), "", "sha-abc1234"] {
        let err = refused(&f, &["update-images", bad]);
        assert!(err.contains("expected 7 to 40 hex digits"), "{bad}: {err}");
    }
    let err = refused(&f, &["update-images", "1234567"]);
    assert!(err.contains("`1234567` names no commit"), "{err}");
    let err = refused(&f, &["update-images", "--image", "influxdb", &head]);
    assert!(
        err.contains("--image influxdb: not a configured image"),
        "{err}"
    );
    let err = refused(&f, &["update-images", "--path", "k8s-apps/nope", &head]);
    assert!(err.contains("k8s-apps/nope"), "{err}");
}

#[test]
fn one_invalid_kustomization_stops_every_write() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    f.write(
        "k8s-apps/broken/kustomization.yaml",
        "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: [unclosed\n",
    );
    let err = refused(&f, &["update-images", &head]);
    assert!(
        err.contains("k8s-apps/broken/kustomization.yaml:4:1: ") && err.contains("not valid YAML"),
        "{err}"
    );
    assert!(err.contains("no file was changed"), "{err}");
    // The valid base and overlay were not written either.
    assert_eq!(f.read(BASE_PATH), BASE);
}

#[test]
fn no_kustomization_referencing_the_image_is_an_error() {
    let f = Fixture::new();
    f.commit(&[
        ("k8s-apps/base-images/Dockerfile", "FROM python:3.11-slim\n"),
        (
            "k8s-apps/app/kustomization.yaml",
            "images:\n- name: influxdb\n  newTag: '1.8'\n",
        ),
    ]);
    let err = refused(&f, &["update-images"]);
    assert!(
        err.contains("no kustomization among 1 file(s) has an images: entry named ghcr.io/dcasati/python-base or localhost:32000/homelab/python-base"),
        "{err}"
    );
    f.commit(&[("k8s-apps/app/kustomization.yaml", "resources: []\n")]);
    std::fs::remove_file(f.root().join("k8s-apps/app/kustomization.yaml")).unwrap();
    let err = refused(&f, &["update-images"]);
    assert!(err.contains("among 0 file(s)"), "{err}");
}

#[test]
fn path_and_image_narrow_what_changes() {
    let f = Fixture::new();
    let (built, _) = iot_stack(&f);
    // A second configured image, referenced beside python-base in one file.
    f.commit(&[
        (
            "Cargo.toml",
            "[workspace.metadata.xtask]\n[[workspace.metadata.xtask.images]]\nname = \"python-base\"\ncontext = \"k8s-apps/base-images\"\n[[workspace.metadata.xtask.images]]\nname = \"tools\"\ncontext = \"images/tools\"\n",
        ),
        ("images/tools/Dockerfile", "FROM busybox\n"),
        (
            "k8s-apps/ops/Kustomization",
            "images:\n  - name: ghcr.io/dcasati/tools\n    newTag: old\n  - name: localhost:32000/homelab/python-base\n    newTag: old\n",
        ),
    ]);
    let t = tag(&built);
    let overlay_dir = f.root().join("k8s-apps/iot-stack/overlays");
    // --path relative to the current directory, inside the root.
    f.run_in(&overlay_dir, &["update-images", "--path", "dev", &built])
        .expect(0);
    assert_eq!(f.read(OVERLAY_PATH), overlay_with(&t));
    assert_eq!(f.read(BASE_PATH), BASE);
    assert!(
        f.read("k8s-apps/ops/Kustomization")
            .contains("newTag: old\n  - name: localhost")
    );

    f.run(&["update-images", "--image", "ghcr.io/dcasati/tools", &built])
        .expect(0);
    assert_eq!(
        f.read("k8s-apps/ops/Kustomization"),
        format!(
            "images:\n  - name: ghcr.io/dcasati/tools\n    newTag: {t}\n  - name: localhost:32000/homelab/python-base\n    newTag: old\n"
        )
    );
    assert_eq!(f.read(BASE_PATH), BASE);
}

#[test]
fn permissions_line_endings_and_all_file_names_are_kept() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let crlf =
        "images:\r\n  - name: localhost:32000/homelab/python-base\r\n    newTag: 'x' # keep\r\n";
    f.write("k8s-apps/crlf/kustomization.yml", crlf);
    let path = f.root().join("k8s-apps/crlf/kustomization.yml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(
        f.root().join(BASE_PATH),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    f.run(&["update-images", &head]).expect(0);
    assert_eq!(
        f.read("k8s-apps/crlf/kustomization.yml"),
        crlf.replace("'x'", &format!("'{}'", tag(&head)))
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&f.root().join(BASE_PATH)), 0o755);
    let leftovers: Vec<_> = f
        .snapshot()
        .into_keys()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `kubectl kustomize` renders every CronJob container of the image with the new tag.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_kustomize_renders_the_new_tag() {
    crate::support::require("kubectl");
    let kubectl = which::which("kubectl").unwrap();
    let f = Fixture::new();
    let (built, _) = iot_stack(&f);
    f.run(&["update-images"]).expect(0);
    let want = format!("{GHCR}:{}", tag(&built));
    for dir in ["k8s-apps/iot-stack/base", "k8s-apps/iot-stack/overlays/dev"] {
        let out = duct::cmd!(&kubectl, "kustomize", f.root().join(dir))
            .stderr_to_stdout()
            .unchecked()
            .stdout_capture()
            .run()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "kubectl kustomize {dir}:\n{text}");
        let docs = xtask::yaml::load(&text).unwrap();
        let images: Vec<String> = docs
            .iter()
            .filter(|d| d.root.get("kind").and_then(|k| k.as_str()) == Some("CronJob"))
            .flat_map(|d| {
                let spec = d
                    .root
                    .get_path(&["spec", "jobTemplate", "spec", "template", "spec"])
                    .expect("a pod spec");
                ["containers", "initContainers"]
                    .into_iter()
                    .filter_map(|k| spec.get(k).and_then(|c| c.as_seq()))
                    .flatten()
                    .filter_map(|c| c.get("image").and_then(|i| i.as_str()).map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(images, std::slice::from_ref(&want), "{dir}:\n{text}");
    }
}

#[test]
fn update_images_edits_a_symlinked_kustomization_at_its_target_and_keeps_the_link() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let shared = "k8s-apps/iot-stack/shared/dev-overlay.yaml";
    f.write(shared, OVERLAY);
    std::fs::remove_file(f.root().join(OVERLAY_PATH)).unwrap();
    std::os::unix::fs::symlink("../../shared/dev-overlay.yaml", f.root().join(OVERLAY_PATH))
        .unwrap();
    let head = f.commit(&[("README.md", &head)]);
    let run = f.run(&["update-images", &head]).expect(0);
    run.assert_stderr_has(shared);
    let link = std::fs::symlink_metadata(f.root().join(OVERLAY_PATH)).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    assert_eq!(f.read(shared), overlay_with(&tag(&head)));
    assert_eq!(f.read(BASE_PATH), base_with(&tag(&head)));
}

#[test]
fn update_images_refuses_a_kustomization_symlinked_outside_the_repo() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("kustomization.yaml");
    std::fs::write(&target, OVERLAY).unwrap();
    std::fs::remove_file(f.root().join(OVERLAY_PATH)).unwrap();
    std::os::unix::fs::symlink(&target, f.root().join(OVERLAY_PATH)).unwrap();
    let before = f.snapshot();
    for args in [
        &["update-images", &head][..],
        &["update-images", "--check", &head],
    ] {
        let run = f.run(args).expect(2);
        run.assert_stderr_has_all(&[
            OVERLAY_PATH,
            "outside the repository",
            "no file was changed",
        ]);
    }
    assert_eq!(f.snapshot(), before);
    assert!(
        std::fs::symlink_metadata(f.root().join(OVERLAY_PATH))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), OVERLAY);
}

#[test]
fn update_images_skips_a_fifo_named_like_a_kustomization_and_refuses_it_with_path() {
    let f = Fixture::new();
    let (_, head) = iot_stack(&f);
    let fifo = "k8s-apps/iot-stack/pipe/kustomization.yaml";
    crate::support::fifo(f.root(), fifo);
    let (walked, named) = crate::support::unblocking_fifo(&f.root().join(fifo), || {
        (
            f.run(&["update-images", &head]),
            f.run(&["update-images", "--path", fifo, &head]),
        )
    });
    let walked = walked.expect(0);
    walked.assert_stderr_has(&format!("warning: {fifo}: a FIFO; skipped, not read"));
    assert_eq!(f.read(BASE_PATH), base_with(&tag(&head)));
    let named = named.expect(2);
    named.assert_stderr_has(&format!("{fifo}: a FIFO, not a kustomization file"));
    assert!(walked.elapsed.as_secs() < 5 && named.elapsed.as_secs() < 5);
}

/// A registry change is one setting: with `XTASK_REGISTRY` elsewhere, update-images points
/// each entry at it with kustomize's `newName` (the CronJobs keep their name), sets the tag,
/// and `--check` then calls it up to date. With `XTASK_E2E=1`, `kubectl kustomize` renders the
/// CronJob from the new registry.
#[test]
fn another_registry_is_one_setting_new_name_points_the_entries_at_it() {
    let f = Fixture::new();
    let (built, _) = iot_stack(&f);
    let root = f.root().to_str().unwrap();
    let moved = "127.0.0.1:5055/homelab/python-base";
    let run = |args: &[&str]| {
        let mut all = vec!["--root", root];
        all.extend_from_slice(args);
        crate::support::xtask_in(
            f.root(),
            &all,
            &[("XTASK_REGISTRY", "127.0.0.1:5055/homelab")],
            None,
        )
    };
    let out = run(&["update-images"]).expect(0);
    let tag = tag(&built);
    assert_eq!(
        f.read(BASE_PATH),
        BASE.replace(
            "    newTag: \"sha-0000000\"\n",
            &format!("    newName: {moved}\n    newTag: \"{tag}\"\n")
        )
    );
    let overlay = f.read(OVERLAY_PATH);
    assert!(
        overlay.contains(&format!(
            "{{name: ghcr.io/dcasati/python-base, newName: {moved}, newTag: {tag}"
        )) && !overlay.contains("digest"),
        "{overlay}"
    );
    out.assert_stderr_has(&format!(
        "note: {BASE_PATH}:6: ghcr.io/dcasati/python-base now deploys from the configured \
         registry: newName {moved}"
    ));
    let again = run(&["update-images", "--check"]).expect(0);
    assert!(!again.stderr.contains("note:"), "{}", again.stderr);
    if crate::support::e2e_enabled() {
        crate::support::require("kubectl");
        let out = duct::cmd!(
            "kubectl",
            "kustomize",
            f.root().join("k8s-apps/iot-stack/base")
        )
        .stderr_to_stdout()
        .read()
        .unwrap();
        assert!(out.contains(&format!("image: {moved}:{tag}")), "{out}");
    }
}

/// An uncommitted change in the build context: update-images says that the tag is its last
/// commit's, and that committing gives a new one (the check itself is of committed history).
#[test]
fn check_with_an_uncommitted_context_change_says_the_tag_is_the_last_commits() {
    let f = Fixture::new();
    iot_stack(&f);
    f.run(&["update-images"]).expect(0);
    f.commit(&[]);
    f.write(
        "k8s-apps/base-images/Dockerfile",
        "FROM python:3.11-slim\nUSER 1000\n",
    );
    let out = f.run(&["update-images", "--check"]).expect(0);
    out.assert_stderr_has_all(&[
        "note: k8s-apps/base-images has uncommitted changes (k8s-apps/base-images/Dockerfile): \
         the tag is that of its last commit; commit them, then run update-images again",
        "already up to date",
    ]);
}
