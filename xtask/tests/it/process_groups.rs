//! Issue 20: every child of xtask runs in its own process group, killed as a group on every exit
//! path xtask controls; and when xtask itself is SIGKILLed (no code of ours runs), the child dies
//! by PR_SET_PDEATHSIG and a watchdog kills the rest of its group: a wrapper script's own child
//! (a grandchild) included. Runs in CI: the stand-in tool is a shell script.

use crate::support::update_images::*;
use crate::support::{self};
use std::time::{Duration, Instant};

/// A `skopeo` that starts a long `sleep` (a grandchild of xtask), writes its pid, and waits.
const WRAPPER: &str = "#!/bin/sh\nsleep 300 &\necho $! > \"$PID_FILE\"\nwait\n";

fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|s| !s.starts_with(" Z"))
    })
}

#[test]
fn a_sigkilled_xtask_takes_its_tools_grandchildren_with_it() {
    let f = Fixture::new();
    iot_stack(&f);
    let bin = support::temp_dir("wrapper-bin");
    support::install_script(bin.path(), "skopeo", WRAPPER);
    let pid_file = bin.path().join("grandchild.pid");
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(f.root())
        .args(["update-images", "--verify"])
        .current_dir(f.root())
        .env("PATH", &path)
        .env("PID_FILE", &pid_file)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let grandchild = loop {
        if let Ok(pid) = std::fs::read_to_string(&pid_file)
            && !pid.trim().is_empty()
        {
            break pid.trim().to_string();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("xtask ended ({status}) before its tool started");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the tool never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(alive(&grandchild));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed = Instant::now();
    while alive(&grandchild) && killed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survived = alive(&grandchild);
    if survived {
        // SAFETY: the test's own stray sleep.
        unsafe {
            libc::kill(grandchild.parse().unwrap(), libc::SIGKILL);
        }
    }
    assert!(
        !survived,
        "the grandchild sleep {grandchild} outlived a SIGKILLed xtask"
    );
}
