//! Fixture trees for the lint-manifests tests and benchmark: a clean app folder (kustomization
//! with a configMapGenerator and images, a CronJob, a Deployment with its ConfigMap, a Service,
//! a script, optionally a Dockerfile), and a runner for the built binary.
use super::write;
use std::path::{Path, PathBuf};

pub const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - cronjob.yaml
  - deployment.yaml
  - service.yaml
  - configmap.yaml
configMapGenerator:
  - name: APP-script
    files:
      - forecast.py
images:
  - name: ghcr.io/dcasati/python-base
    newTag: sha-abc1234
";

pub const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: APP-forecast
spec:
  schedule: \"5 * * * *\"
  timeZone: Europe/Berlin
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          securityContext:
            runAsNonRoot: true
            seccompProfile:
              type: RuntimeDefault
          containers:
            - name: forecast
              image: ghcr.io/dcasati/python-base
              command: [\"python\", \"/app/forecast.py\"]
              env:
                - name: LOG_LEVEL
                  value: info
              resources:
                requests: {cpu: 50m, memory: 64Mi}
                limits: {cpu: 500m, memory: 128Mi}
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities:
                  drop: [ALL]
              volumeMounts:
                - name: script
                  mountPath: /app
          volumes:
            - name: script
              configMap:
                name: APP-script
";

pub const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: APP-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: APP-web}
  template:
    metadata:
      labels: {app: APP-web}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: ghcr.io/dcasati/python-base
          command: [python, /srv/serve.py]
          ports:
            - containerPort: 8080
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 100m, memory: 64Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - name: web
              mountPath: /srv
      volumes:
        - name: web
          configMap:
            name: APP-web
";

pub const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: APP-web
spec:
  selector: {app: APP-web}
  ports:
    - port: 80
      targetPort: 8080
";

pub const CONFIGMAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: APP-web
data:
  serve.py: |
    import http.server
    http.server.test(port=8080)
  LOG_LEVEL: info
";

pub const SCRIPT: &str = "print('forecast')\n";

pub const DOCKERFILE: &str = "\
FROM python:3.11-slim
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
USER 10001:10001
";

/// A clean app folder `dir` (repo-relative) named `app`; with a Dockerfile when `dockerfile`.
pub fn app(root: &Path, dir: &str, app: &str, dockerfile: bool) {
    let files = [
        ("kustomization.yaml", KUSTOMIZATION),
        ("cronjob.yaml", CRONJOB),
        ("deployment.yaml", DEPLOYMENT),
        ("service.yaml", SERVICE),
        ("configmap.yaml", CONFIGMAP),
        ("forecast.py", SCRIPT),
    ];
    for (name, text) in files {
        write(root, &format!("{dir}/{name}"), text.replace("APP", app));
    }
    if dockerfile {
        write(root, &format!("{dir}/Dockerfile"), DOCKERFILE);
        write(
            root,
            &format!("{dir}/requirements.txt"),
            "requests==2.32.3\n",
        );
    }
}

/// A repo of `n` app folders under k8s-apps/apps, a root kustomization listing them, and a
/// Dockerfile in every tenth folder.
pub fn corpus(root: &Path, n: usize) {
    let mut k = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for i in 0..n {
        let name = format!("app{i:04}");
        app(root, &format!("k8s-apps/apps/{name}"), &name, i % 10 == 0);
        k.push_str(&format!("  - {name}\n"));
    }
    write(root, "k8s-apps/apps/kustomization.yaml", k);
}

/// A temporary repo with one clean app at k8s-apps/apps/forecast.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

pub const APP: &str = "k8s-apps/apps/forecast";

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        corpus(dir.path(), 0);
        app(dir.path(), APP, "forecast", true);
        write(
            dir.path(),
            "k8s-apps/apps/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - forecast\n",
        );
        Fixture { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> &Fixture {
        write(self.root(), rel, text);
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Replaces `from` (which must occur) with `to` in `rel`.
    pub fn edit(&self, rel: &str, from: &str, to: &str) -> &Fixture {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} has no `{from}`");
        self.write(rel, text.replacen(from, to, 1))
    }

    pub fn lint(&self, args: &[&str]) -> Out {
        run(self.root(), args, &[])
    }

    /// `--format json` findings as (rule, file, line, column).
    pub fn findings(&self, args: &[&str]) -> Vec<(String, String, u64, u64)> {
        let mut all = vec!["--format", "json"];
        all.extend(args);
        let out = self.lint(&all);
        assert!(out.code == 0 || out.code == 1, "{out:?}");
        parse_findings(&out.stdout)
    }
}

pub fn parse_findings(json: &str) -> Vec<(String, String, u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub type Out = super::Outcome;

/// Runs `xtask --root ROOT lint-manifests ARGS` with a clean environment plus `env`.
pub fn run(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut all = vec!["lint-manifests"];
    all.extend_from_slice(args);
    super::xtask(root, &all, env, None)
}
