//! Issue 20, class 1: every file xtask reads (not only manifests) gets the manifest rules. A
//! symlink out of the repository is not read, a FIFO is never opened (nothing hangs), a file
//! over the size limit is refused, and no error quotes a byte of a file that could hold a
//! secret: errors name the file and line.

use crate::support::lint_manifests::{self as lint, APP};
use crate::support::{self, GitRepo};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "hunter2-s3cret-token";

/// A file outside every test repo holding a secret-looking line, as `/proc/self/environ` would.
fn outside_secret(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("environ");
    std::fs::write(&path, format!("HOME=/root\0GITHUB_TOKEN={SECRET}\0\n")).unwrap();
    path
}

/// Runs `args` in `root` under the FIFO watchdog of `fifo` (when given), and checks that the run
/// never waited on it: the watchdog opens a FIFO only after 5 s.
fn quick(root: &Path, args: &[&str], fifo: Option<&Path>) -> support::Outcome {
    let run = || support::xtask(root, args, &[], None);
    let out = match fifo {
        Some(path) => support::unblocking_fifo(path, run),
        None => run(),
    };
    assert!(
        out.elapsed < Duration::from_secs(4),
        "`{args:?}` waited on a FIFO ({:?}): {}",
        out.elapsed,
        out.all()
    );
    out
}

#[test]
fn cargo_toml_out_of_the_repo_or_a_fifo_is_refused_for_every_subcommand_without_its_bytes() {
    let outside = support::temp_dir("outside");
    let secret = outside_secret(outside.path());
    let repo = GitRepo::named("cargo-toml");
    symlink(&secret, repo.root().join("Cargo.toml")).unwrap();
    for args in [
        &["update-images", "--check"][..],
        &["lint-manifests"],
        &["doctor"],
        &["trivy-scan", "--config"],
    ] {
        let out = quick(repo.root(), args, None).expect(2);
        out.assert_stderr_has_all(&["Cargo.toml", "outside the repository", "not read"]);
        assert!(!out.all().contains(SECRET), "{args:?}: {}", out.all());
    }
    std::fs::remove_file(repo.root().join("Cargo.toml")).unwrap();
    support::fifo(repo.root(), "Cargo.toml");
    let fifo = repo.root().join("Cargo.toml");
    let out = quick(repo.root(), &["update-images", "--check"], Some(&fifo)).expect(2);
    out.assert_stderr_has_all(&["Cargo.toml", "a FIFO"]);
}

#[test]
fn a_toml_or_settings_error_names_the_line_and_never_quotes_the_value() {
    let repo = GitRepo::named("cargo-toml-error");
    for (text, line) in [
        (
            format!("[workspace.metadata.xtask]\nregistry = \"ghcr.io/x\"\n{SECRET}\n"),
            ":3:",
        ),
        (
            format!("[workspace.metadata.xtask]\nplatforms = \"{SECRET}\"\n"),
            ":2:",
        ),
        (format!("[workspace]\nmetadata = \"{SECRET}\"\n"), ":2:"),
    ] {
        repo.write("Cargo.toml", &text);
        let out = quick(repo.root(), &["update-images", "--check"], None).expect(2);
        out.assert_stderr_has_all(&["Cargo.toml", line]);
        assert!(!out.all().contains(SECRET), "{}", out.all());
    }
}

#[test]
fn trivyignore_out_of_the_repo_or_a_fifo_is_never_read() {
    let outside = support::temp_dir("outside");
    let secret = outside_secret(outside.path());
    let repo = GitRepo::named("trivyignore");
    symlink(&secret, repo.root().join(".trivyignore")).unwrap();
    let out = quick(repo.root(), &["trivy-scan", "--config"], None).expect(2);
    out.assert_stderr_has_all(&[".trivyignore", "outside the repository"]);
    assert!(!out.all().contains(SECRET), "{}", out.all());
    std::fs::remove_file(repo.root().join(".trivyignore")).unwrap();
    support::fifo(repo.root(), ".trivyignore");
    let fifo = repo.root().join(".trivyignore");
    let out = quick(repo.root(), &["trivy-scan", "--config"], Some(&fifo)).expect(2);
    out.assert_stderr_has_all(&[".trivyignore", "a FIFO"]);
}

#[test]
fn dockerignore_out_of_the_repo_is_not_read_and_a_fifo_does_not_hang_the_lint() {
    let outside = support::temp_dir("outside");
    let secret = outside.path().join("ignore");
    std::fs::write(&secret, format!("requirements.txt\n{SECRET}\n")).unwrap();
    let f = lint::Fixture::new();
    symlink(&secret, f.path(&format!("{APP}/.dockerignore"))).unwrap();
    let out = quick(f.root(), &["lint-manifests", "--format", "json"], None);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(!out.all().contains("requirements.txt`"), "{}", out.all());
    std::fs::remove_file(f.path(&format!("{APP}/.dockerignore"))).unwrap();
    support::fifo(f.root(), &format!("{APP}/Dockerfile.dockerignore"));
    let fifo = f.path(&format!("{APP}/Dockerfile.dockerignore"));
    let out = quick(f.root(), &["lint-manifests"], Some(&fifo));
    assert_eq!(out.code, 0, "{}", out.all());
}

/// A FIFO listed in `resources:` is reported and not rendered: kubectl would block on it.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_a_fifo_in_resources_does_not_hang_lint_render() {
    support::require("kubectl");
    let f = lint::Fixture::new();
    f.edit(
        &format!("{APP}/kustomization.yaml"),
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - pipe.yaml\n",
    );
    support::fifo(f.root(), &format!("{APP}/pipe.yaml"));
    let fifo = f.path(&format!("{APP}/pipe.yaml"));
    let out = quick(f.root(), &["lint-manifests", "--render"], Some(&fifo));
    assert_eq!(out.code, 1, "{}", out.all());
    out.assert_stderr_has_all(&["RENDER-FAILED", "not rendered", "pipe.yaml", "a FIFO"]);
}
