//! Fixture git repos for the update-images tests: files committed through git2, the built binary
//! run against them, and byte snapshots of the work tree.

#![allow(dead_code)]

use git2::Repository;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

pub const GHCR: &str = "ghcr.io/dcasati/python-base";
pub const BACKUP: &str = "localhost:32000/homelab/python-base";

/// A temporary git repository.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub git: Repository,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let git = Repository::init(dir.path()).unwrap();
        let mut cfg = git.config().unwrap();
        cfg.set_str("user.name", "Test").unwrap();
        cfg.set_str("user.email", "test@example.com").unwrap();
        Fixture { dir, git }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, content: &str) {
        let full = self.root().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// Writes `files`, stages everything and commits; returns the full commit id.
    pub fn commit(&self, files: &[(&str, &str)]) -> String {
        for (path, content) in files {
            self.write(path, content);
        }
        let mut index = self.git.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = self.git.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = self.git.signature().unwrap();
        let parent = self.head_commit();
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.git
            .commit(Some("HEAD"), &sig, &sig, "fixture", &tree, &parents)
            .unwrap()
            .to_string()
    }

    pub fn head_commit(&self) -> Option<git2::Commit<'_>> {
        self.git.head().ok().and_then(|h| h.peel_to_commit().ok())
    }

    pub fn head(&self) -> String {
        self.head_commit().unwrap().id().to_string()
    }

    /// Runs the built binary with `--root` and the repo as cwd, without GITHUB_*/XTASK_* env.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.root(), args)
    }

    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("--root")
            .arg(self.root())
            .args(args)
            .current_dir(cwd);
        for (key, _) in std::env::vars() {
            if key.starts_with("GITHUB_") || key.starts_with("XTASK_") {
                cmd.env_remove(key);
            }
        }
        Run(cmd.output().unwrap())
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

/// A finished run of the binary.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
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
