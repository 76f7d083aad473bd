//! Issue 20, class 5: the rollback tells the truth. When a batch fails and putting a file back
//! fails too (here a file size limit, RLIMIT_FSIZE, that the old content exceeds; a full disk
//! during the restore is the same error path), the message names which file holds which
//! content, and never says "no file was changed" when one was.

use crate::support::update_images::*;
use std::os::unix::process::CommandExt;

const A: &str = "k8s-apps/a/kustomization.yaml";
const B: &str = "k8s-apps/b/kustomization.yaml";

fn kustomization(tag: &str, padding: usize) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n# {}\nimages:\n  - name: ghcr.io/dcasati/python-base\n    newTag: {tag}\n",
        "x".repeat(padding)
    )
}

/// Runs update-images in `f` under a file size limit of `limit` bytes; with SIGXFSZ ignored
/// when `ignore_sigxfsz` (as `trap '' XFSZ; ulimit -f N` in a shell), else with its default
/// action, which xtask must turn into EFBIG itself.
fn under_size_limit(f: &Fixture, limit: u64, ignore_sigxfsz: bool) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root").arg(f.root()).arg("update-images");
    cmd.current_dir(f.root()).stdin(std::process::Stdio::null());
    // SAFETY: setrlimit(2) between fork and exec, async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let action = if ignore_sigxfsz {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            };
            libc::signal(libc::SIGXFSZ, action);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_restore_that_fails_is_reported_file_by_file_never_as_no_change() {
    let f = Fixture::new();
    // A's old tag is 40 hex long, its new one 7: A's new content fits under the limit, its old
    // content does not, so A is written and cannot be put back. B is over the limit: it fails.
    let long = format!("sha-{}", "0".repeat(40));
    let a_old = kustomization(&long, 100);
    let b_old = kustomization("sha-0000000", 5000);
    let built = f.commit(&[
        ("k8s-apps/base-images/Dockerfile", "FROM scratch\n"),
        (A, &a_old),
        (B, &b_old),
    ]);
    let a_new = a_old.replace(&long, &tag(&built));
    let limit = (a_new.len() + 10) as u64;
    assert!(limit < a_old.len() as u64 && limit < b_old.len() as u64);
    let (code, stderr) = under_size_limit(&f, limit, true);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(f.read(A), a_new, "A holds the new content");
    assert_eq!(f.read(B), b_old, "B was never written");
    assert!(!stderr.contains("no file was changed"), "{stderr}");
    let stuck = stderr
        .split("could NOT be put back and hold the NEW content:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(stuck.starts_with(&format!("  {A} (")), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot write {}", f.root().join(B).display())),
        "{stderr}"
    );
    assert!(stderr.contains("1 file(s) were not written"), "{stderr}");
    // Without the limit the same run is whole, and a failure that can be undone says so.
    let (code, stderr) = under_size_limit(&f, u64::MAX, false);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(f.read(B), b_old.replace("sha-0000000", &tag(&built)));
}

#[test]
fn a_failure_whose_restore_succeeds_still_says_no_file_was_changed() {
    let f = Fixture::new();
    let a_old = kustomization("sha-0000000", 100);
    let b_old = kustomization("sha-0000000", 5000);
    f.commit(&[
        ("k8s-apps/base-images/Dockerfile", "FROM scratch\n"),
        (A, &a_old),
        (B, &b_old),
    ]);
    let (code, stderr) = under_size_limit(&f, 1000, false);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no file was changed"), "{stderr}");
    assert_eq!(f.read(A), a_old);
    assert_eq!(f.read(B), b_old);
}
