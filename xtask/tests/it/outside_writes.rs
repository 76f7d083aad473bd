//! Issue 20, class 2: a cloned repo cannot make xtask write outside it. Everything xtask writes
//! under `target/` (journal, build record, SBOM, SARIF, digests) refuses a symlinked or special
//! path component, a committed `target` symlink included, and opens files no-follow; a planted
//! journal is neither followed nor read.

use crate::support::update_images::*;
use crate::support::{self};
use std::os::unix::fs::symlink;
use std::time::Duration;

/// A committed `target` symlink into the repo, holding a `target/xtask/writing/<pid>` symlink to
/// an outside file for every pid the run could get: `git clone` keeps both, and update-images
/// must refuse before writing anything (the outside file and the tree stay as they were).
#[test]
fn a_committed_target_symlink_makes_update_images_refuse_before_writing() {
    let f = Fixture::new();
    iot_stack(&f);
    let outside = support::temp_dir("outside");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let writing = f.root().join("build-cache/xtask/writing");
    std::fs::create_dir_all(&writing).unwrap();
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .map_or(32768, |s| s.trim().parse().unwrap());
    // Links for the pids the next processes are likely to get (pids are given in order).
    let next = std::process::id();
    for pid in next..(next + 3000).min(max) {
        symlink(&victim, writing.join(pid.to_string())).unwrap();
    }
    symlink("build-cache", f.root().join("target")).unwrap();
    let before = f.snapshot();
    let run = f.run(&["update-images"]).expect(2);
    run.assert_stderr_has_all(&["target", "a symlink", "remove it"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(f.snapshot(), before);
}

/// Stale journals of dead processes that are not journals: a link to /dev/zero (read until
/// memory ran out), a FIFO (blocked), and one that names a file outside the repository (its
/// temporary-file neighbours there were removed). Each is removed unread; the run goes on.
#[test]
fn planted_journals_are_removed_unread_and_never_reach_outside() {
    let f = Fixture::new();
    iot_stack(&f);
    let outside = support::temp_dir("outside");
    // Pids above Linux's largest pid_max (2^22) belong to no process: these journals are stale.
    let dead = i32::MAX as u32;
    let tmp_outside = outside.path().join(format!(".victim.{dead}.0.tmp"));
    std::fs::write(&tmp_outside, "not xtask's\n").unwrap();
    let writing = f.root().join("target/xtask/writing");
    std::fs::create_dir_all(&writing).unwrap();
    symlink("/dev/zero", writing.join(dead.to_string())).unwrap();
    support::fifo(f.root(), &format!("target/xtask/writing/{}", dead - 1));
    // Both temp folders sit side by side: `../NAME/victim` from the root, and the absolute path.
    let name = outside.path().file_name().unwrap().to_str().unwrap();
    let absolute = outside.path().join("victim");
    std::fs::write(
        writing.join((dead - 2).to_string()),
        format!("../{name}/victim\0{}\0", absolute.display()),
    )
    .unwrap();
    std::fs::write(
        outside.path().join(format!(".victim.{}.0.tmp", dead - 2)),
        "not xtask's either\n",
    )
    .unwrap();
    let fifo = writing.join((dead - 1).to_string());
    let run = support::unblocking_fifo(&fifo, || f.run(&["update-images"]));
    assert!(run.elapsed < Duration::from_secs(4), "{run:?}");
    let run = run.expect(0);
    run.assert_stderr_has("unread");
    assert!(tmp_outside.exists());
    assert!(
        outside
            .path()
            .join(format!(".victim.{}.0.tmp", dead - 2))
            .exists(),
        "a file outside the repository was removed"
    );
    let left: Vec<_> = std::fs::read_dir(&writing).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The build record's folder through a `target/xtask` symlink to an outside folder: build-base
/// (under --dry-run it writes nothing, so the real write path is asserted by the unit tests)
/// and every writer of `target/` refuse it. The SARIF and SBOM of `release` go to
/// `target/xtask/{sarif,sbom}`: refused the same way.
#[test]
fn a_symlinked_folder_under_target_is_refused_by_every_writer() {
    let f = Fixture::new();
    iot_stack(&f);
    let outside = support::temp_dir("outside");
    std::fs::create_dir_all(f.root().join("target")).unwrap();
    symlink(outside.path(), f.root().join("target/xtask")).unwrap();
    let run = f.run(&["update-images"]).expect(2);
    run.assert_stderr_has_all(&["target/xtask", "a symlink"]);
    let entries: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
    assert!(entries.is_empty(), "{entries:?}");
}
