//! Helpers for the trivy-scan and sign tests: a fixture repo, a runner for the built binary
//! with a clean environment, and recording stand-ins (`cosign` cannot be installed here;
//! `trivy` can, but its image scan needs a vulnerability DB that cannot be downloaded here).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use xtask::build_record::BuildRecord;

pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// A git repo with a root Cargo.toml (default settings) and the base image's context.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let fixture = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        git2::Repository::init(fixture.root()).unwrap();
        fixture.write("Cargo.toml", "[workspace]\n");
        fixture.write(
            "k8s-apps/base-images/Dockerfile",
            "FROM python:3.11-slim\nUSER 10001\n",
        );
        fixture
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, content: &str) {
        let full = self.root().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// Commits every file; returns the full commit id.
    pub fn commit(&self) -> String {
        let git = git2::Repository::open(self.root()).unwrap();
        let mut index = git.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
        let sig =
            git2::Signature::new("T", "t@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
        git.commit(Some("HEAD"), &sig, &sig, "fixture", &tree, &[])
            .unwrap()
            .to_string()
    }

    /// Writes the build record build-base would leave.
    pub fn record(&self, registry: &str, digest: Option<String>, pushed: bool) {
        BuildRecord {
            image: "python-base".into(),
            registry: registry.into(),
            tag: "sha-abc1234".into(),
            digest,
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            commit: "abc1234".repeat(5) + "abcde",
            pushed,
            engine: "podman".into(),
        }
        .write(self.root())
        .unwrap();
    }
}

/// What the binary did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cargo xtask --root ROOT ARGS` with GITHUB_*, XTASK_*, COSIGN_*, TRIVY_* and the
/// stand-ins' variables removed, then `env` applied. `path` replaces PATH when given.
pub fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)], path: Option<&str>) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if ["GITHUB_", "XTASK_", "COSIGN_", "TRIVY_", "FAKE_"]
            .iter()
            .any(|p| key.starts_with(p))
            || key == "REGISTRY_TOKEN"
        {
            cmd.env_remove(key);
        }
    }
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The recording stand-in for `cosign`, `trivy` or `skopeo`: each call gets `<record>/<n>/`
/// with `argv` (one argument a line), `stdin`, and `env.NAME` for each of the variables below
/// that is set. `$FAKE_FAIL` makes it print that text on stderr and exit 1 (`leak` prints the
/// password, as a careless tool might); `$FAKE_STDOUT` is printed on stdout.
pub const STAND_IN: &str = r#"#!/bin/sh
rec="$FAKE_RECORD"
n=$(ls "$rec" | grep -c '^[0-9]')
n=$((n + 1))
mkdir "$rec/$n"
for a in "$@"; do printf '%s\n' "$a"; done > "$rec/$n/argv"
cat > "$rec/$n/stdin"
for v in COSIGN_PRIVATE_KEY COSIGN_PASSWORD COSIGN_PUBLIC_KEY TRIVY_USERNAME TRIVY_PASSWORD; do
  eval "set=\${$v+x} val=\${$v}"
  [ -n "$set" ] && printf '%s' "$val" > "$rec/$n/env.$v"
done
[ -n "$FAKE_STDOUT" ] && printf '%s\n' "$FAKE_STDOUT"
case "$FAKE_FAIL" in
"") exit 0 ;;
leak) echo "Error: decrypting the key with password $COSIGN_PASSWORD failed" >&2; exit 1 ;;
*) printf '%s\n' "$FAKE_FAIL" >&2; exit 1 ;;
esac
"#;

/// A bin folder holding stand-ins, and the folder their calls are recorded in.
pub struct StandIn {
    pub bin: tempfile::TempDir,
    pub record: tempfile::TempDir,
}

impl StandIn {
    /// Stand-ins named `programs`, all recording into one folder.
    pub fn new(programs: &[&str]) -> StandIn {
        use std::os::unix::fs::PermissionsExt;
        let stand_in = StandIn {
            bin: tempfile::tempdir().unwrap(),
            record: tempfile::tempdir().unwrap(),
        };
        for program in programs {
            let path = stand_in.bin.path().join(program);
            std::fs::write(&path, STAND_IN).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        stand_in
    }

    /// PATH with the stand-ins first, then the system's folders (for sh, ls, grep, cat).
    pub fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.bin.path().display())
    }

    /// `FAKE_RECORD` and the caller's stand-in controls.
    pub fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![("FAKE_RECORD", self.record.path().to_str().unwrap())];
        env.extend_from_slice(extra);
        env
    }

    pub fn calls(&self) -> usize {
        std::fs::read_dir(self.record.path()).unwrap().count()
    }

    fn call(&self, n: usize) -> PathBuf {
        self.record.path().join(n.to_string())
    }

    pub fn argv(&self, n: usize) -> Vec<String> {
        std::fs::read_to_string(self.call(n).join("argv"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The value a variable had in call `n`, or `None` when it was not set.
    pub fn env_of(&self, n: usize, var: &str) -> Option<String> {
        std::fs::read_to_string(self.call(n).join(format!("env.{var}"))).ok()
    }

    pub fn stdin(&self, n: usize) -> String {
        std::fs::read_to_string(self.call(n).join("stdin")).unwrap()
    }
}

/// True when `XTASK_E2E=1`; otherwise says why the test returns early.
pub fn e2e() -> bool {
    let on = std::env::var("XTASK_E2E").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("skipped: set XTASK_E2E=1 to run against the real trivy");
    }
    on
}
