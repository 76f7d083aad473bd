//! Issue 20, class 3, as a property: "up to date" only when kustomize renders the new tag.
//! Generated kustomizations combine the shapes kustomize reads but a first glance does not:
//! keys in any letter case (`newtag`, `Name`, `Digest`, `Images`), the legacy `imageTags:`, a
//! top-level merge key carrying `images:`, a `newName` mapping from a short name, a `!!binary`
//! tag, a digest beside the tag, and an app folder that is a symlink to another folder of the
//! repo. update-images must either exit 2 naming the file and line (writing nothing), or exit 0
//! after which `kubectl kustomize` of every kustomization renders the new tag and `--check`
//! agrees.

use crate::support::update_images::*;
use crate::support::{self};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Shape {
    images_key: &'static str,
    merge_key: bool,
    name_key: &'static str,
    tag_key: &'static str,
    short_name: bool,
    binary: bool,
    digest_key: Option<&'static str>,
    linked_folder: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        prop::sample::select(vec!["images", "images", "Images", "imageTags"]),
        prop::bool::weighted(0.2),
        prop::sample::select(vec!["name", "name", "Name"]),
        prop::sample::select(vec!["newTag", "newTag", "newtag", "NEWTAG"]),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.2),
        prop::sample::select(vec![None, None, Some("digest"), Some("Digest")]),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(images_key, merge_key, name_key, tag_key, short_name, binary, digest_key, linked)| {
                Shape {
                    images_key,
                    merge_key,
                    name_key,
                    tag_key,
                    short_name,
                    binary,
                    digest_key,
                    linked_folder: linked,
                }
            },
        )
}

const OLD: &str = "sha-0000000";

/// The kustomization of `s`, and the image its CronJob names.
fn render(s: &Shape) -> (String, &'static str) {
    let (name, workload) = match s.short_name {
        true => ("python-base", "python-base"),
        false => (GHCR, GHCR),
    };
    let mut entry = format!("{}: {name}", s.name_key);
    if s.short_name {
        entry.push_str(&format!(", newName: {GHCR}"));
    }
    let tag = match s.binary {
        // base64 of "sha-0000000"
        true => "!!binary c2hhLTAwMDAwMDA=".to_string(),
        false => OLD.to_string(),
    };
    entry.push_str(&format!(", {}: {tag}", s.tag_key));
    if let Some(key) = s.digest_key {
        entry.push_str(&format!(", {key}: sha256:{}", "a".repeat(64)));
    }
    let list = format!("{}: [{{{entry}}}]", s.images_key);
    let images = match s.merge_key {
        true => format!("<<: {{{list}}}\n"),
        false => format!("{list}\n"),
    };
    let text = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cronjob.yaml\n{images}"
    );
    (text, workload)
}

/// The image `kubectl kustomize DIR` renders.
fn rendered(dir: &std::path::Path) -> String {
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("image: "))
        .unwrap_or_default()
        .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    #[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
    fn e2e_after_exit_0_kustomize_renders_the_new_tag(s in shape()) {
        support::require("kubectl");
        let f = Fixture::new();
        let (text, workload) = render(&s);
        let cronjob = CRONJOB.replace(GHCR, workload);
        // The app folder: in place, or a link under k8s-apps to a folder elsewhere in the repo.
        let real = if s.linked_folder { "shared/app" } else { "k8s-apps/app" };
        let built = f.commit(&[
            ("k8s-apps/base-images/Dockerfile", "FROM scratch\n"),
            (&format!("{real}/kustomization.yaml"), &text),
            (&format!("{real}/cronjob.yaml"), &cronjob),
        ]);
        if s.linked_folder {
            std::os::unix::fs::symlink("../shared/app", f.root().join("k8s-apps/app")).unwrap();
        }
        let new = tag(&built);
        let before = f.snapshot();
        let run = f.run(&["update-images"]);
        match run.code {
            2 => {
                prop_assert!(
                    run.stderr.contains("kustomization.yaml:"),
                    "a refusal names the file and line: {}", run.stderr
                );
                prop_assert_eq!(f.snapshot(), before, "a refused run wrote");
            }
            0 => {
                let image = rendered(&f.root().join("k8s-apps/app"));
                prop_assert!(
                    image.ends_with(&format!(":{new}")),
                    "exit 0 but kustomize renders {} for {:?}:\n{}\n{}",
                    image, s, f.read(&format!("{real}/kustomization.yaml")), run.stderr
                );
                let check = f.run(&["update-images", "--check"]);
                prop_assert_eq!(check.code, 0, "{}", check.stderr);
            }
            code => prop_assert!(false, "exit {}: {}", code, run.stderr),
        }
    }
}
