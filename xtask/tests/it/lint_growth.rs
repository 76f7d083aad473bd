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

#[test]
fn custom_kinds_without_a_schema_make_one_note_not_a_warning_each() {
    let fx = Fixture::new();
    let monitors: String = (0..3)
        .map(|i| format!("---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {{name: m{i}}}\nspec: {{endpoints: [{{port: http}}]}}\n"))
        .collect();
    fx.write(&format!("{APP}/monitors.yaml"), monitors);
    fx.write(
        &format!("{APP}/talos.yaml"),
        "apiVersion: talos.dev/v1alpha1\nkind: ServiceAccount\nmetadata: {name: s}\nspec: {roles: ['os:reader']}\n",
    );
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - monitors.yaml\n  - talos.yaml\n",
    );
    let out = fx.lint(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("note:"))
        .collect();
    assert_eq!(
        notes,
        [
            "note: 4 objects of 2 kinds with no schema were not validated: ServiceMonitor (monitoring.coreos.com/v1) 3, ServiceAccount (talos.dev/v1alpha1) 1; add their CRDs under [workspace.metadata.xtask.lint] crds to validate them (SCHEMA-UNKNOWN-KIND)"
        ]
    );
    assert_eq!(found(&fx), []);
    // The path filter counts only what it selects; the rule set to off silences the note.
    let out = fx.lint(&[&format!("{APP}/talos.yaml")]);
    assert!(out.stderr.contains("note: 1 object of 1 kind"), "{out:?}");
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint.rules]\nSCHEMA-UNKNOWN-KIND = \"off\"\n",
    );
    let out = fx.lint(&[]);
    assert!(!out.stderr.contains("note:"), "{out:?}");
}

#[test]
fn secrets_in_block_scalars_are_reported_on_their_own_line() {
    let fx = Fixture::new();
    let pass = ["hun", "ter2", "-x9"].concat();
    fx.edit(
        &format!("{APP}/configmap.yaml"),
        "  LOG_LEVEL: info\n",
        &format!(
            "  LOG_LEVEL: info\n  frigate.yml: |\n    mqtt:\n      host: mqtt\n    cameras:\n      door:\n        ffmpeg:\n          inputs:\n            - path: rtsp://view:{{FRIGATE_RTSP_PASSWORD}}@10.0.0.5:554/live\n            - path: rtsp://view:{pass}@10.0.0.6:554/live\n  recyclarr.yml: |\n    custom_formats:\n      - trash_ids:\n          - 72dae194fc92bf828f32cde7744e51a1\n"
        ),
    );
    let line = fx
        .read(&format!("{APP}/configmap.yaml"))
        .lines()
        .position(|l| l.contains(&pass))
        .unwrap() as u64
        + 1;
    assert_eq!(
        found(&fx),
        [(
            "SEC-SECRET-IN-CONFIG".to_string(),
            "configmap.yaml".to_string(),
            line,
            21
        )]
    );
    let out = fx.lint(&[]);
    assert!(!out.stderr.contains(&pass), "{}", out.stderr);
    assert!(
        out.stderr.contains("            - path: ********"),
        "{}",
        out.stderr
    );
}
