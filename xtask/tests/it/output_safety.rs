//! Issue 20, class 6: output never panics and never carries a raw control byte. A full disk on
//! stdout or stderr is exit 2 (std's `print!` panicked: 101); a secret is masked in every
//! snippet of its line; ESC, OSC 52, BEL and bidi controls from the tree are escaped in diffs
//! and `--format github`; a registry user with a bidi control is refused; a diff header names a
//! path holding a backslash as git does; a repo path that is not UTF-8 is refused by `release`
//! (its output folder would have been another one).

use crate::support::lint_manifests::{self as lint, APP};
use crate::support::update_images::*;
use crate::support::{self};
use std::process::Stdio;

/// Runs the binary in `root` with stdout (or stderr) on /dev/full; the exit code.
fn to_full_disk(root: &std::path::Path, args: &[&str], stderr: bool) -> (i32, String) {
    let full = || Stdio::from(std::fs::File::create("/dev/full").unwrap());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root").arg(root).args(args).current_dir(root);
    cmd.stdin(Stdio::null()).env_remove("GITHUB_ACTIONS");
    if stderr {
        cmd.stderr(full()).stdout(Stdio::piped());
    } else {
        cmd.stdout(full()).stderr(Stdio::piped());
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(if stderr { &out.stdout } else { &out.stderr });
    (out.status.code().unwrap_or(-1), text.into_owned())
}

#[test]
fn a_full_disk_on_stdout_or_stderr_is_exit_2_never_a_panic() {
    let f = lint::Fixture::new();
    // One finding, so that every format has something to print.
    f.edit(
        &format!("{APP}/configmap.yaml"),
        "  LOG_LEVEL: info\n",
        "  LOG_LEVEL: info\n  LOG_LEVEL: debug\n",
    );
    for format in ["json", "sarif", "github"] {
        let (code, stderr) = to_full_disk(f.root(), &["lint-manifests", "--format", format], false);
        assert_eq!(code, 2, "--format {format}: {stderr}");
        assert!(stderr.contains("cannot write to stdout"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (code, out) = to_full_disk(f.root(), &["lint-manifests"], true);
    assert_eq!(code, 2, "{out}");
    let (code, stderr) = to_full_disk(f.root(), &["lint-manifests", "--list-rules"], false);
    assert_eq!(code, 2, "{stderr}");
    let (code, stderr) = to_full_disk(f.root(), &["doctor", "--format", "json"], false);
    assert_eq!(code, 2, "{stderr}");
    let (code, out) = to_full_disk(f.root(), &["doctor"], true);
    assert_eq!(code, 2, "{out}");

    let u = Fixture::new();
    iot_stack(&u);
    let (code, stderr) = to_full_disk(u.root(), &["update-images", "--dry-run"], false);
    assert_eq!(code, 2, "{stderr}");
    let (code, stderr) = to_full_disk(u.root(), &["update-images", "--check"], false);
    assert_eq!(code, 2, "{stderr}");
    let before = u.snapshot();
    let (code, out) = to_full_disk(u.root(), &["update-images", "--check"], true);
    assert_eq!(code, 2, "{out}");
    assert_eq!(u.snapshot(), before);
    let (code, _) = to_full_disk(u.root(), &["--help"], false);
    assert_eq!(code, 2);
}

/// A secret on a line that has another finding (here a duplicate key, with the secret rule
/// allowed on that line so that no secret finding masks it) is masked in that finding's snippet.
#[test]
fn a_secret_is_masked_in_the_snippet_of_every_finding_on_its_line() {
    let f = lint::Fixture::new();
    let value = "Zq8vN3xR7tLp2Wm9Kd4Hs6Yb";
    f.edit(
        &format!("{APP}/configmap.yaml"),
        "\ndata:\n",
        &format!(
            "\ndata:\n  db_password: one\n  db_password: \"{value}\" # xtask-lint: allow SEC-SECRET-IN-CONFIG test\n"
        ),
    );
    let out = f.lint(&[]);
    assert!(
        out.stderr.contains("  db_password: ********"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(value), "{}", out.all());
    // With the secret finding on the same line too, both snippets are masked.
    f.edit(
        &format!("{APP}/configmap.yaml"),
        " # xtask-lint: allow SEC-SECRET-IN-CONFIG test",
        "",
    );
    let out = f.lint(&[]);
    assert!(
        out.stderr.contains("SEC-SECRET-IN-CONFIG"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(value), "{}", out.all());
}

const HOSTILE: &str = "\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}[2J\u{202e}evil";

fn assert_no_raw_controls(text: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!text.contains(c), "raw {c:?} in:\n{text:?}");
    }
}

#[test]
fn control_and_bidi_characters_from_the_tree_are_escaped_in_diffs_and_github_output() {
    let f = Fixture::new();
    iot_stack(&f);
    let base = f.read(BASE_PATH).replace(
        "# the shared base image",
        &format!("# the shared base image {HOSTILE}"),
    );
    f.commit(&[(BASE_PATH, &base)]);
    for args in [
        &["update-images", "--dry-run"][..],
        &["update-images", "--check"],
    ] {
        let run = f.run(args);
        assert!(run.code == 0 || run.code == 1, "{run:?}");
        assert!(run.stdout.contains("\\u{1b}]52;c;"), "{}", run.stdout);
        assert!(run.stdout.contains("\\u{202e}evil"), "{}", run.stdout);
        assert_no_raw_controls(&run.all());
    }

    let l = lint::Fixture::new();
    l.edit(
        &format!("{APP}/cronjob.yaml"),
        "schedule: \"5 * * * *\"",
        &format!("schedule: \"5 * * * * {HOSTILE}\""),
    );
    let run = l.lint(&["--format", "github"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("::error"), "{}", run.stdout);
    assert_no_raw_controls(&run.all());
}

#[test]
fn a_registry_user_with_a_bidi_control_is_refused_escaped() {
    let f = Fixture::new();
    iot_stack(&f);
    let env = [("XTASK_REGISTRY_USER", "admin\u{202e}nimda")];
    let run = support::xtask(f.root(), &["update-images", "--check"], &env, None).expect(2);
    run.assert_stderr_has_all(&["registry-user", "admin\\u{202e}nimda"]);
    assert_no_raw_controls(&run.all());
}

#[test]
fn a_diff_header_names_a_path_with_a_backslash_as_git_does() {
    let f = Fixture::new();
    iot_stack(&f);
    let odd = "k8s-apps/iot-stack/odd\\dir/kustomization.yaml";
    f.commit(&[
        (odd, BASE),
        ("k8s-apps/iot-stack/odd\\dir/cronjob.yaml", CRONJOB),
    ]);
    let run = f.run(&["update-images", "--dry-run"]).expect(0);
    assert!(
        run.stdout
            .contains("--- \"a/k8s-apps/iot-stack/odd\\\\dir/kustomization.yaml\""),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("a/k8s-apps/iot-stack/odd/dir"),
        "{}",
        run.stdout
    );
}

#[test]
fn release_refuses_a_repo_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let parent = support::temp_dir("non-utf8");
    let root = parent
        .path()
        .join(std::ffi::OsStr::from_bytes(b"repo-\xff"));
    std::fs::create_dir_all(&root).unwrap();
    git2::Repository::init(&root).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    let out = cmd
        .arg("--root")
        .arg(&root)
        .args(["release", "--dry-run"])
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not UTF-8 text"), "{stderr}");
}
