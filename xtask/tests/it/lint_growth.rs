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

/// The `note:` lines of a run's stderr.
fn notes(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("note:")).collect()
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
    let notes = notes(&out.stderr);
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

/// A chart at k8s-apps/charts/web: Chart.yaml, values files, templates and a CRD.
fn chart(fx: &Fixture) {
    fx.write(
        "k8s-apps/charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndependencies:\n  - name: common\n    version: 1.0.0\n    repository: file://../common\n",
    );
    fx.write(
        "k8s-apps/charts/web/values.yaml",
        "replicaCount: 1\nimage:\n  repository: nginx\n",
    );
    fx.write("k8s-apps/charts/web/values-prod.yaml", "replicaCount: 3\n");
    fx.write(
        "k8s-apps/charts/web/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n{{- include \"web.selector\" . | nindent 2 }}\n",
    );
    fx.write(
        "k8s-apps/charts/common/Chart.yaml",
        "apiVersion: v2\nname: common\ntype: library\nversion: 1.0.0\n",
    );
    fx.write(
        "k8s-apps/charts/common/templates/_helpers.tpl",
        "{{- define \"web.selector\" -}}{{- end -}}\n",
    );
}

#[test]
fn helm_charts_are_not_manifests_and_an_application_deploys_them() {
    let fx = Fixture::new();
    chart(&fx);
    // Nothing deploys it: the chart (not its files) is the orphan.
    assert_eq!(
        found(&fx),
        [(
            "KUS-ORPHAN-MANIFEST".to_string(),
            "k8s-apps/charts/web/Chart.yaml".to_string(),
            1,
            1
        )]
    );
    fx.write(
        "k8s-apps/argocd/web.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: web, namespace: argocd}\nspec:\n  project: default\n  source: {repoURL: 'https://github.com/dcasati/homelab.git', path: ./k8s-apps/charts/web/, targetRevision: main}\n  destination: {server: 'https://kubernetes.default.svc', namespace: web}\n",
    );
    fx.write(
        "k8s-apps/argocd/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - web.yaml\n",
    );
    assert_eq!(found(&fx), []);
    // --render without helm says once that the charts were not rendered.
    let out = fx.lint(&["--render"]);
    let notes = notes(&out.stderr);
    assert_eq!(
        notes,
        [
            "note: 2 Helm charts were not rendered, since helm is not on PATH: k8s-apps/charts/common, k8s-apps/charts/web; install helm (https://helm.sh/docs/intro/install/) to lint their output"
        ],
        "{out:?}"
    );
}

const SOPS_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: NAME\ntype: Opaque\nstringData:\n  password: ENC[AES256_GCM,data:q8Zb0Kd9,iv:3Yq1o8bK0d5yXzJm2hB0S7pT4kLw6vNcR1uE9aQf=,tag:Zx0=,type:str]\nsops:\n  age:\n    - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n      enc: |\n        -----BEGIN AGE ENCRYPTED FILE-----\n        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBa\n        -----END AGE ENCRYPTED FILE-----\n  lastmodified: \"2024-05-01T10:00:00Z\"\n  mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\n  version: 3.8.1\n";

#[test]
fn ksops_generators_sops_inputs_and_remote_sources() {
    let fx = Fixture::new();
    fx.write(
        &format!("{APP}/secret-generator.yaml"),
        "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: forecast-secrets\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ksops\nfiles:\n  - ./secret.sops.yaml\n  - ./gone.sops.yaml\n",
    );
    fx.write(
        &format!("{APP}/secret.sops.yaml"),
        SOPS_SECRET.replace("NAME", "forecast-db"),
    );
    fx.write(
        &format!("{APP}/plain.sops.yaml"),
        SOPS_SECRET.replace("NAME", "forecast-api"),
    );
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - plain.sops.yaml\ngenerators:\n  - secret-generator.yaml\n",
    );
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "      - forecast.py\n",
        "      - forecast.py\n      - dash.json=https://raw.githubusercontent.com/dcasati/dash/main/d.json\n      - https://raw.githubusercontent.com/dcasati/dash/0123456789abcdef0123456789abcdef01234567/e.json\n",
    );
    let k = fx.read(&format!("{APP}/kustomization.yaml"));
    let line_of = |text: &str, needle: &str| {
        text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
    };
    let mut expected = vec![
        (
            "KUS-GENERATOR-FILE-MISSING".to_string(),
            "secret-generator.yaml".to_string(),
            11,
            5,
        ),
        (
            "KUS-REMOTE-INPUT".to_string(),
            "kustomization.yaml".to_string(),
            line_of(&k, "dash.json="),
            9,
        ),
        (
            "KUS-SOPS-RESOURCE".to_string(),
            "kustomization.yaml".to_string(),
            line_of(&k, "plain.sops.yaml"),
            5,
        ),
    ];
    expected.sort();
    let mut got = found(&fx);
    got.sort();
    assert_eq!(got, expected);
    // With Flux decrypting, an encrypted resource is fine.
    fx.write(
        "k8s-apps/flux/apps.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  interval: 10m\n  path: ./k8s-apps/apps\n  prune: true\n  sourceRef: {kind: GitRepository, name: home}\n  decryption: {provider: sops, secretRef: {name: sops-age}}\n",
    );
    let rules: Vec<String> = found(&fx).into_iter().map(|f| f.0).collect();
    assert!(
        !rules.contains(&"KUS-SOPS-RESOURCE".to_string()),
        "{rules:?}"
    );
}

const BACKUP_CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.homelab.dcasati.dev
spec:
  group: homelab.dcasati.dev
  names: {kind: Backup, plural: backups, singular: backup, listKind: BackupList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required: [spec]
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [schedule, targets]
              properties:
                schedule: {type: string, pattern: '^(@daily|[0-9*/, -]+)$'}
                retention: {type: integer, minimum: 1, maximum: 30}
                mode: {type: string, enum: [full, incremental]}
                suspend: {type: boolean}
                port: {x-kubernetes-int-or-string: true}
                targets:
                  type: array
                  minItems: 1
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string, maxLength: 10}
                      options: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

#[test]
fn crds_in_the_tree_are_schemas_for_their_objects() {
    let fx = Fixture::new();
    fx.write(&format!("{APP}/crd.yaml"), BACKUP_CRD);
    fx.write(
        &format!("{APP}/backup.yaml"),
        "apiVersion: homelab.dcasati.dev/v1\nkind: Backup\nmetadata:\n  name: nightly\n  labelz: {a: b}\nspec:\n  schedule: every night\n  retention: 90\n  mode: Full\n  suspend: \"no\"\n  port: http\n  targets:\n    - name: influxdb-and-more\n      options: {anything: [1, 2]}\n    - nmae: grafana\n  retension: 3\n---\napiVersion: homelab.dcasati.dev/v1\nkind: Backup\nmetadata: {name: weekly}\nspec:\n  schedule: '@daily'\n  targets: []\n",
    );
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - crd.yaml\n  - backup.yaml\n",
    );
    let mut got = found(&fx);
    got.sort_by_key(|f| (f.2, f.3));
    let got: Vec<(&str, u64, u64)> = got.iter().map(|f| (f.0.as_str(), f.2, f.3)).collect();
    assert_eq!(
        got,
        [
            ("SCHEMA-UNKNOWN-FIELD", 5, 3),
            ("SCHEMA-LIMIT", 7, 13),
            ("SCHEMA-LIMIT", 8, 14),
            ("SCHEMA-ENUM", 9, 9),
            ("SCHEMA-TYPE", 10, 12),
            ("SCHEMA-LIMIT", 13, 13),
            ("SCHEMA-REQUIRED", 15, 7),
            ("SCHEMA-UNKNOWN-FIELD", 15, 7),
            ("SCHEMA-UNKNOWN-FIELD", 16, 3),
            ("SCHEMA-LIMIT", 23, 12),
        ]
    );
    let out = fx.lint(&["--format", "json"]);
    for hint in [
        "did you mean `labels`?",
        "did you mean `name`?",
        "did you mean `retention`?",
        "did you mean `full`?",
        "must be at most 30",
        "does not match the pattern",
    ] {
        assert!(out.stdout.contains(hint), "{hint}: {}", out.stdout);
    }
    assert!(!out.stderr.contains("note:"), "{}", out.stderr);
}

#[test]
fn folders_and_value_files_that_applications_deploy_are_not_orphans() {
    let fx = Fixture::new();
    // App of apps: a folder of Applications, applied file by file (no kustomization there).
    fx.write(
        "k8s-apps/argo/apps/root.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: apps, namespace: argocd}\nspec:\n  project: default\n  source: {repoURL: 'https://github.com/dcasati/homelab.git', path: k8s-apps/argo/apps, targetRevision: main}\n  destination: {server: 'https://kubernetes.default.svc', namespace: argocd}\n",
    );
    fx.write(
        "k8s-apps/argo/apps/grafana.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: grafana, namespace: argocd}\nspec:\n  project: default\n  sources:\n    - {repoURL: 'https://github.com/dcasati/homelab.git', targetRevision: main, ref: repo}\n    - repoURL: https://grafana.github.io/helm-charts\n      chart: grafana\n      targetRevision: 8.5.0\n      helm:\n        valueFiles: [$repo/k8s-apps/grafana/values.yaml]\n  destination: {server: 'https://kubernetes.default.svc', namespace: grafana}\n",
    );
    fx.write(
        "k8s-apps/grafana/values.yaml",
        "adminUser: admin\npersistence: {enabled: true}\n",
    );
    // A SOPS-encrypted file without a kind is ciphertext, not a manifest missing its fields.
    fx.write(
        "k8s-apps/grafana/values.sops.yaml",
        "adminPassword: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops:\n  lastmodified: \"2024-05-01T10:00:00Z\"\n  mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\n  version: 3.8.1\n",
    );
    assert_eq!(found(&fx), []);
    // Without `directory.recurse`, Argo CD applies only the folder's own files.
    fx.write(
        "k8s-apps/argo/apps/old/grafana.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\ndata: {a: b}\n",
    );
    assert_eq!(
        found(&fx),
        [(
            "KUS-ORPHAN-MANIFEST".to_string(),
            "k8s-apps/argo/apps/old/grafana.yaml".to_string(),
            1,
            1
        )]
    );
    fx.edit(
        "k8s-apps/argo/apps/root.yaml",
        "targetRevision: main}",
        "targetRevision: main, directory: {recurse: true}}",
    );
    assert_eq!(found(&fx), []);
}

#[test]
fn crds_from_settings_and_the_carried_ones_validate_too() {
    let fx = Fixture::new();
    // The Backup CRD lives outside the manifests root, named by the settings.
    fx.write("crds/backup.yaml", BACKUP_CRD);
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint]\ncrds = [\"crds\"]\n",
    );
    fx.write(
        &format!("{APP}/backup.yaml"),
        "apiVersion: homelab.dcasati.dev/v1\nkind: Backup\nmetadata: {name: b}\nspec:\n  schedule: '@daily'\n  targets: [{name: db}]\n  retention: 0\n",
    );
    // A Flux HelmRelease: the carried CRD.
    fx.write(
        &format!("{APP}/helmrelease.yaml"),
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: grafana}\nspec:\n  interval: 30m\n  chart:\n    spec:\n      chart: grafana\n      sourceRef: {kind: HelmRepo, name: grafana}\n",
    );
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - backup.yaml\n  - helmrelease.yaml\n",
    );
    assert_eq!(
        found(&fx),
        [
            ("SCHEMA-LIMIT".to_string(), "backup.yaml".to_string(), 7, 14),
            (
                "SCHEMA-ENUM".to_string(),
                "helmrelease.yaml".to_string(),
                9,
                25
            ),
        ]
    );
    // A setting that names nothing is bad input (exit 2).
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint]\ncrds = [\"nope\"]\n",
    );
    let out = fx.lint(&[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "[workspace.metadata.xtask.lint] crds: `nope` is not a file or folder in the repository"
        ),
        "{}",
        out.stderr
    );
}

/// A copy of `xtask/tests/data/homelab_corpus/<tree>` as a repo whose manifests root is
/// `kubernetes`, at Kubernetes 1.35.
pub fn homelab_tree(tree: &str) -> tempfile::TempDir {
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/homelab_corpus")
        .join(tree);
    let dir = tempfile::tempdir().unwrap();
    let mut stack = vec![from.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&from)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                crate::support::write(dir.path(), &rel, std::fs::read(&p).unwrap());
            }
        }
    }
    crate::support::write(
        dir.path(),
        "Cargo.toml",
        "[workspace.metadata.xtask]\nmanifests = \"kubernetes\"\n[workspace.metadata.xtask.lint]\nkubernetes-version = \"1.35\"\n",
    );
    dir
}

fn corpus_findings(root: &std::path::Path) -> (Vec<(String, String, u64, u64)>, String) {
    let out = crate::support::lint_manifests::run(root, &["--format", "json"], &[]);
    assert!(out.code <= 1, "{out:?}");
    (
        crate::support::lint_manifests::parse_findings(&out.stdout),
        out.stderr,
    )
}

fn edit(root: &std::path::Path, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    assert!(text.contains(from), "{rel} has no `{from}`");
    std::fs::write(root.join(rel), text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_flux_home_ops_tree_keeps_only_what_a_maintainer_wants() {
    let dir = homelab_tree("flux");
    let (found, stderr) = corpus_findings(dir.path());
    assert_eq!(found, []);
    assert!(
        stderr.contains("note: 1 object of 1 kind with no schema was not validated: GrafanaDashboard (grafana.integreatly.org/v1beta1) 1;"),
        "{stderr}"
    );
    // The rules are on: without the namespace transformer `_` is a bad name, and a HelmRelease
    // interval that Flux cannot parse is reported.
    let root = dir.path();
    edit(
        root,
        "kubernetes/apps/default/kustomization.yaml",
        "namespace: default\n",
        "",
    );
    edit(
        root,
        "kubernetes/apps/default/notes/app/helmrelease.yaml",
        "  interval: 1h\n",
        "  interval: 1 hour\n",
    );
    let (found, _) = corpus_findings(root);
    let got: Vec<(&str, &str, u64, u64)> = found
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), f.2, f.3))
        .collect();
    assert_eq!(
        got,
        [
            (
                "SCHEMA-NAME",
                "kubernetes/apps/default/namespace.yaml",
                5,
                9
            ),
            (
                "SCHEMA-LIMIT",
                "kubernetes/apps/default/notes/app/helmrelease.yaml",
                10,
                13
            ),
        ]
    );
}

#[test]
fn an_argocd_ksops_tree_keeps_only_what_a_maintainer_wants() {
    let dir = homelab_tree("argocd");
    let (found, stderr) = corpus_findings(dir.path());
    let got: Vec<(&str, &str, u64, u64)> = found
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), f.2, f.3))
        .collect();
    assert_eq!(
        got,
        [(
            "SEC-SECRET-IN-CONFIG",
            "kubernetes/apps/homeassistant/configmap.yaml",
            41,
            19
        )]
    );
    assert!(!stderr.contains("note:"), "{stderr}");
    // The SOPS file listed as a plain resource would deploy ciphertext.
    let root = dir.path();
    edit(
        root,
        "kubernetes/apps/homeassistant/kustomization.yaml",
        "  - ./certificate.yaml\n",
        "  - ./certificate.yaml\n  - ./homeassistant-secret.sops.yaml\n",
    );
    let (found, _) = corpus_findings(root);
    assert!(
        found.iter().any(|f| f.0 == "KUS-SOPS-RESOURCE"
            && f.1 == "kubernetes/apps/homeassistant/kustomization.yaml"
            && (f.2, f.3) == (7, 5)),
        "{found:?}"
    );
}
