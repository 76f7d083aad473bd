//! Fixture git repos for the update-images tests: files committed through git2, the built binary
//! run against them, and byte snapshots of the work tree.

use super::GitRepo;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const GHCR: &str = "ghcr.io/dcasati/python-base";

/// A finished run of the binary.
pub type Run = super::Outcome;

/// A temporary git repository whose configured identity (and the clock) signs its commits.
pub struct Fixture(GitRepo);

impl std::ops::Deref for Fixture {
    type Target = GitRepo;
    fn deref(&self) -> &GitRepo {
        &self.0
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let repo = GitRepo::new();
        let mut cfg = repo.git.config().unwrap();
        cfg.set_str("user.name", "Test").unwrap();
        cfg.set_str("user.email", "test@example.com").unwrap();
        Fixture(repo)
    }

    /// Writes `files`, stages everything and commits; returns the full commit id.
    pub fn commit(&self, files: &[(&str, &str)]) -> String {
        for (path, content) in files {
            self.write(path, content);
        }
        self.commit_as(&self.git.signature().unwrap(), "fixture")
    }

    pub fn head(&self) -> String {
        self.head_commit().unwrap().id().to_string()
    }

    /// Runs the built binary with `--root` and the repo as cwd, without GITHUB_*/XTASK_* env.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.root(), args)
    }

    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let root = self.root().to_str().unwrap();
        let mut all = vec!["--root", root];
        all.extend_from_slice(args);
        super::xtask_in(cwd, &all, &[], None)
    }

    /// Every file of the work tree (not `.git`) with its bytes.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        snap(self.root(), self.root(), &mut files);
        files
    }
}

fn snap(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if path.is_dir() {
            snap(root, &path, files);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            files.insert(rel, std::fs::read(&path).unwrap());
        }
    }
}

/// `sha-` plus the first 7 hex digits.
pub fn tag(id: &str) -> String {
    format!("sha-{}", &id[..7])
}

pub const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: forecast
spec:
  schedule: \"*/15 * * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: forecast
              image: ghcr.io/dcasati/python-base
              command: [python, /app/forecast.py]
";

pub const BASE: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - cronjob.yaml
images:
  - name: ghcr.io/dcasati/python-base # the shared base image
    newTag: \"sha-0000000\"
";

pub const OVERLAY: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
images:
- {name: ghcr.io/dcasati/python-base, digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}
";

pub const BASE_PATH: &str = "k8s-apps/iot-stack/base/kustomization.yaml";
pub const OVERLAY_PATH: &str = "k8s-apps/iot-stack/overlays/dev/kustomization.yaml";

/// The iot-stack base + dev overlay, and a base-images commit followed by an unrelated one.
/// Returns (the base-images commit, HEAD).
pub fn iot_stack(f: &Fixture) -> (String, String) {
    let built = f.commit(&[
        ("k8s-apps/base-images/Dockerfile", "FROM python:3.11-slim\n"),
        ("k8s-apps/iot-stack/base/cronjob.yaml", CRONJOB),
        (BASE_PATH, BASE),
        (OVERLAY_PATH, OVERLAY),
    ]);
    let head = f.commit(&[("README.md", "later work\n")]);
    (built, head)
}
