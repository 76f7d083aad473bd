//! Helpers for the trivy-scan and sign tests: a fixture repo, a runner for the built binary
//! with a clean environment, and recording stand-ins (`cosign` cannot be installed here;
//! `trivy` can, but its image scan needs a vulnerability DB that cannot be downloaded here).
#![allow(dead_code)]

#[path = "../support/mod.rs"]
#[macro_use]
pub mod shared;

use shared::GitRepo;
pub use shared::{Outcome, xtask};
use std::path::{Path, PathBuf};
use xtask::build_record::BuildRecord;

pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

repo_fixture! {
    /// A git repo with a root Cargo.toml (default settings) and the base image's context.
    Fixture
}

impl Fixture {
    pub fn new() -> Fixture {
        let fixture = Fixture(GitRepo::new());
        fixture.write("Cargo.toml", "[workspace]\n");
        fixture.write(
            "k8s-apps/base-images/Dockerfile",
            "FROM python:3.11-slim\nUSER 10001\n",
        );
        fixture
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
        let stand_in = StandIn {
            bin: tempfile::tempdir().unwrap(),
            record: tempfile::tempdir().unwrap(),
        };
        for program in programs {
            shared::install_script(stand_in.bin.path(), program, STAND_IN);
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

    /// Runs `xtask --root ROOT ARGS` with the stand-ins on PATH, `FAKE_RECORD` and `extra` set.
    pub fn run(&self, root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Outcome {
        xtask(root, args, &self.env(extra), Some(&self.path()))
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
