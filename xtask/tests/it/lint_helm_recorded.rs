//! `lint-manifests --render` with Helm charts, against a recording stand-in for helm (helm is
//! not installable here). The stand-in records its argv and enforces what helm's `template`
//! command does at v4 (pkg/cmd/template.go, helm/helm 00542aba): the `template` subcommand,
//! no flag it does not know (we pass none), NAME and CHART (one argument alone needs
//! --generate-name), a release name of lower-case RFC 1123 labels of at most 53 characters
//! (chartutil.ValidateReleaseName), and a chart folder with a Chart.yaml. It prints the
//! rendering the test recorded for that release, as helm prints it: documents after
//! `---` and `# Source: <chart>/templates/<file>`.

use crate::support::lint_manifests::{Fixture, parse_findings};
use std::os::unix::fs::PermissionsExt;

const HELM: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$HELM_RECORD"
[ "$1" = template ] || { echo "Error: unknown command \"$1\" for \"helm\"" >&2; exit 1; }
shift
for a in "$@"; do
  case "$a" in -*) echo "Error: unknown flag: $a" >&2; exit 1 ;; esac
done
[ $# -ge 1 ] || { echo 'Error: "helm template" requires at least 1 argument' >&2; exit 1; }
[ $# -ge 2 ] || { echo 'Error: must either provide a name or specify --generate-name' >&2; exit 1; }
[ $# -le 2 ] || { echo "Error: unexpected arguments: $3" >&2; exit 1; }
name=$1
chart=$2
if ! printf '%s' "$name" | grep -Eq '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' || [ ${#name} -gt 53 ]; then
  echo "Error: release name \"$name\": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\$ and the length must not be longer than 53" >&2
  exit 1
fi
[ -e "$chart" ] || { echo "Error: path \"$chart\" not found" >&2; exit 1; }
[ -f "$chart/Chart.yaml" ] || { echo "Error: Chart.yaml file is missing" >&2; exit 1; }
[ -f "$HELM_RENDERED/$name.yaml" ] || { echo "Error: INSTALLATION FAILED: template: $name/templates/broken.yaml:3:10: executing \"$name/templates/broken.yaml\" at <.Values.missing.key>: nil pointer evaluating interface {}.key" >&2; exit 1; }
cat "$HELM_RENDERED/$name.yaml"
"#;

#[test]
fn charts_render_through_helm_template_recorded_and_their_output_is_linted() {
    let fx = Fixture::new();
    for (chart, app) in [("web", true), ("broken", true)] {
        fx.write(
            &format!("k8s-apps/charts/{chart}/Chart.yaml"),
            format!("apiVersion: v2\nname: {chart}\nversion: 0.1.0\n"),
        );
        fx.write(
            &format!("k8s-apps/charts/{chart}/templates/deployment.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        );
        if app {
            fx.write(
                &format!("k8s-apps/argocd/{chart}.yaml"),
                format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {chart}, namespace: argocd}}\nspec:\n  project: default\n  source: {{repoURL: 'https://github.com/dcasati/homelab.git', path: k8s-apps/charts/{chart}, targetRevision: main}}\n  destination: {{server: 'https://kubernetes.default.svc', namespace: web}}\n"),
            );
        }
    }
    fx.write(
        "k8s-apps/argocd/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - web.yaml\n  - broken.yaml\n",
    );
    let bin = tempfile::tempdir().unwrap();
    let helm = bin.path().join("helm");
    std::fs::write(&helm, HELM).unwrap();
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rendered = tempfile::tempdir().unwrap();
    std::fs::write(
        rendered.path().join("web.yaml"),
        "---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          imagePullPolcy: Always\n",
    )
    .unwrap();
    let record = bin.path().join("record");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = crate::support::xtask(
        fx.root(),
        &["lint-manifests", "--render", "--format", "json"],
        &[
            ("HELM_RECORD", record.to_str().unwrap()),
            ("HELM_RENDERED", rendered.path().to_str().unwrap()),
        ],
        Some(&path),
    );
    assert_eq!(out.code, 1, "{out:?}");
    let calls = std::fs::read_to_string(&record).unwrap();
    let root = fx.root().display().to_string();
    assert_eq!(
        calls,
        format!(
            "template broken {root}/k8s-apps/charts/broken\ntemplate web {root}/k8s-apps/charts/web\n"
        )
    );
    let found: Vec<_> = parse_findings(&out.stdout)
        .into_iter()
        .filter(|f| f.1.starts_with("k8s-apps/charts/"))
        .collect();
    assert_eq!(
        found,
        [
            (
                "RENDER-FAILED".to_string(),
                "k8s-apps/charts/broken/Chart.yaml".to_string(),
                1,
                1
            ),
            (
                "SCHEMA-UNKNOWN-FIELD".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
            // Every family lints the rendering: its container has no securityContext.
            (
                "SEC-CAPABILITIES".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
            (
                "SEC-PRIVILEGE-ESCALATION".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
            (
                "SEC-READONLY-ROOTFS".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
            (
                "SEC-RESOURCES".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
            (
                "SEC-RUN-AS-NON-ROOT".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
            (
                "SEC-SECCOMP".to_string(),
                "k8s-apps/charts/web/templates/deployment.yaml".to_string(),
                1,
                1
            ),
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("rendered line 16: unknown field `imagePullPolcy`"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("helm template failed: Error: INSTALLATION FAILED: template: broken/templates/broken.yaml:3:10"), "{}", out.stdout);
    assert!(!out.stderr.contains("not rendered"), "{}", out.stderr);
}
