//! `cargo xtask lint-manifests` as a homelab grows (issue 16): hidden files, custom kinds, Helm
//! charts, SOPS and kustomize generators, ARG-expanded ADD sources, and secrets in config, each
//! against the clean fixture with one change.

use crate::support::lint_manifests::{APP, Fixture};

/// The findings of `fx` as (rule, file under the app folder or the repo, line, column).
fn found(fx: &Fixture) -> Vec<(String, String, u64, u64)> {
    fx.findings(&[])
        .into_iter()
        .map(|(rule, file, line, col)| {
            let file = file
                .strip_prefix(&format!("{APP}/"))
                .map_or(file.clone(), str::to_string);
            (rule, file, line, col)
        })
        .collect()
}

#[test]
fn hidden_files_and_folders_under_the_manifests_root_are_skipped() {
    let fx = Fixture::new();
    fx.write(
        &format!("{APP}/.sops.yaml"),
        "creation_rules:\n  - path_regex: .*\\.sops\\.yaml$\n    age: age1xyz\n",
    );
    fx.write("k8s-apps/.hidden/broken.yaml", "a: [\n");
    fx.write("k8s-apps/.github.yml", "kind: Nope\n");
    assert_eq!(found(&fx), []);
}
