//! A git repo shaped like this one for `cargo xtask diff`: an app-of-apps folder
//! (`k8s-apps/argocd`) with the iot-stack Application, and `k8s-apps/iot-stack` with two
//! CronJobs on the base image, a generated script ConfigMap and a generated Secret. The origin
//! remote is the Application's repoURL (never contacted).

use super::{GitRepo, Outcome, xtask};

pub const REPO_URL: &str = "https://github.com/dcasati/homelab";

pub const KUSTOMIZATION: &str = "\
namespace: iot-stack
resources:
  - namespace.yaml
  - forecasting/cronjob.yaml
  - sunrise/cronjob.yaml
configMapGenerator:
  - name: forecast-script
    files:
      - forecasting/forecast.py
secretGenerator:
  - name: influx-creds
    literals:
      - INFLUX_TOKEN=old-token-value-1
images:
  - name: ghcr.io/dcasati/python-base
    newTag: sha-aaaaaaa
";

pub fn cronjob(name: &str, schedule: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
spec:
  schedule: \"{schedule}\"
  timeZone: Europe/Amsterdam
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: {name}
              image: ghcr.io/dcasati/python-base
              command: [python, /app/forecast.py]
              envFrom:
                - secretRef:
                    name: influx-creds
              volumeMounts:
                - name: app
                  mountPath: /app
          volumes:
            - name: app
              configMap:
                name: forecast-script
"
    )
}

pub fn application(name: &str, path: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {REPO_URL}.git
    targetRevision: main
    path: {path}
  destination:
    server: https://kubernetes.default.svc
    namespace: {name}
"
    )
}

/// The fixture at its first commit.
pub struct DiffRepo {
    pub git: GitRepo,
}

impl DiffRepo {
    pub fn new() -> DiffRepo {
        let git = GitRepo::named("diff");
        git.write(".gitignore", "target/\n");
        git.write("Cargo.toml", "[workspace]\n");
        git.write(
            "k8s-apps/argocd/kustomization.yaml",
            "resources:\n  - iot-stack-application.yaml\n",
        );
        git.write(
            "k8s-apps/argocd/iot-stack-application.yaml",
            application("iot-stack", "k8s-apps/iot-stack"),
        );
        git.write("k8s-apps/iot-stack/kustomization.yaml", KUSTOMIZATION);
        git.write(
            "k8s-apps/iot-stack/namespace.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: iot-stack\n",
        );
        git.write(
            "k8s-apps/iot-stack/forecasting/cronjob.yaml",
            cronjob("forecast", "0 * * * *"),
        );
        git.write(
            "k8s-apps/iot-stack/sunrise/cronjob.yaml",
            cronjob("sunrise", "30 5 * * *"),
        );
        git.write(
            "k8s-apps/iot-stack/forecasting/forecast.py",
            "import os\n\nprint('forecast')\n",
        );
        git.git.remote("origin", REPO_URL).unwrap();
        git.commit("first");
        DiffRepo { git }
    }

    /// The fixture, then one commit replacing `from` by `to` in `rel`: (repo, first, second).
    pub fn edited(rel: &str, from: &str, to: &str) -> (DiffRepo, String, String) {
        let r = DiffRepo::new();
        let first = r.git.head_commit().unwrap().id().to_string();
        r.edit(rel, from, to);
        let second = r.git.commit(&format!("edit {rel}"));
        (r, first, second)
    }

    /// Replaces `from` by `to` in `rel` (which must contain it).
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.git.read(rel);
        assert!(text.contains(from), "{rel} has no `{from}`");
        self.git.write(rel, text.replacen(from, to, 1));
    }

    /// `cargo xtask diff ARGS` in the repo.
    pub fn diff(&self, args: &[&str]) -> Outcome {
        let mut all = vec!["diff"];
        all.extend_from_slice(args);
        xtask(self.git.root(), &all, &[], None)
    }

    /// `--format json` between `base` and `head`, parsed; exit 0 required.
    pub fn json(&self, base: &str, head: &str) -> serde_json::Value {
        let out = self
            .diff(&[base, "--head", head, "--format", "json"])
            .expect(0);
        serde_json::from_str(&out.stdout).unwrap()
    }
}

/// `(unit, action, kind, name)` of every change in a JSON report.
pub fn changes(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for app in report["apps"].as_array().unwrap() {
        for c in app["changes"].as_array().unwrap() {
            out.push((
                s(&app["name"]),
                s(&c["action"]),
                s(&c["kind"]),
                s(&c["name"]),
            ));
        }
    }
    out
}
