//! End to end (XTASK_E2E=1): `smoke` of an image built FROM scratch with busybox, pushed by
//! `build-base --engine podman --push` to a real docker-registry on loopback, run with the real
//! podman (or buildah's chroot isolation where podman cannot start containers). The machine's
//! emulators are simulated with `XTASK_BINFMT_DIR`: an empty folder has none, so linux/arm64 is
//! NOT RUN; a folder with a `qemu-aarch64` handler makes it run emulated (the test image's
//! busybox is the host's, so it runs either way).

use crate::support::build_push::*;
use crate::support::{self, require};

const DOCKERFILE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nUSER 65532\nCMD [\"/bin/busybox\", \"echo\", \"cmd-started\"]\n";

fn settings(registry: &str, smoke: &str) -> String {
    format!(
        "registry = \"{registry}/homelab\"\n[[workspace.metadata.xtask.images]]\n\
         name = \"python-base\"\ncontext = \"{CONTEXT}\"\nsmoke = {smoke}\n"
    )
}

/// Rewrites the settings with `smoke` (a TOML array); the image is unchanged.
fn set_smoke(f: &Fixture, registry: &Registry, smoke: &str) {
    f.write(
        "Cargo.toml",
        format!(
            "[workspace]\n\n[workspace.metadata.xtask]\n{}",
            settings(&registry.addr(), smoke)
        ),
    );
}

fn run(f: &Fixture, podman: &Podman, args: &[&str], binfmt: &std::path::Path) -> Outcome {
    run_with(f, podman, args, binfmt, &[])
}

/// `cargo xtask ARGS` with this test's podman storage, `XTASK_BINFMT_DIR` and `extra`.
fn run_with(
    f: &Fixture,
    podman: &Podman,
    args: &[&str],
    binfmt: &std::path::Path,
    extra: &[(&str, &str)],
) -> Outcome {
    let mut env = podman.env();
    env.push(("XTASK_BINFMT_DIR", binfmt.display().to_string()));
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    xtask(f.root(), args, &env, None)
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_smoke_passes_fails_and_names_the_platforms_it_cannot_run() {
    for program in ["podman", "buildah", "skopeo", "docker-registry", "busybox"] {
        require(program);
    }
    let registry = Registry::start("smoke");
    let podman = Podman::new();
    let good = r#"["/bin/busybox", "sh", "-c", "echo smoke-ran as uid $(/bin/busybox id -u); /bin/busybox touch /probe 2>/dev/null || echo rootfs-not-writable"]"#;
    let f = Fixture::new("smoke", &settings(&registry.addr(), good), DOCKERFILE);
    f.copy_in(
        &which::which("busybox").unwrap(),
        &format!("{CONTEXT}/busybox"),
    );
    f.commit("base image");
    let no_emulator = support::temp_dir("binfmt-none");
    let args = ["build-base", "--engine", "podman", "--push"];
    run(&f, &podman, &args, no_emulator.path()).expect(0);
    let digest = f.record().unwrap()["digest"].as_str().unwrap().to_string();
    let by_digest = format!("{}/homelab/python-base@{digest}", registry.addr());

    // A good image: amd64 passes and shows the command's output (as UID 65534, on a root
    // filesystem it cannot write) and the CMD's; arm64 is NOT RUN, with the reason and the fix.
    let out = run(
        &f,
        &podman,
        &["smoke", "--engine", "podman"],
        no_emulator.path(),
    )
    .expect(0);
    eprintln!("smoke (1 platform run) took {:?}", out.elapsed);
    out.assert_stderr_has_all(&[
        &format!("smoke test of {by_digest}"),
        "==> linux/amd64 (native)",
        "| smoke-ran as uid 65534",
        "| rootfs-not-writable",
        "| cmd-started",
        "smoke command: ok",
        "image CMD: ok",
        "linux/arm64: NOT RUN: this machine is linux/amd64 and no emulator for linux/arm64 is \
         registered (no binfmt_misc handler qemu-aarch64)",
        "fix: run it on a native linux/arm64 runner",
        "passed: every platform that ran (linux/amd64 passed, linux/arm64 NOT RUN)",
    ]);
    // Which engine ran it is said, and what it could not apply.
    let buildah = out.stderr.contains("(with buildah run --isolation chroot)");
    assert!(
        buildah || out.stderr.contains("(with podman run)"),
        "{}",
        out.stderr
    );
    if buildah {
        out.assert_stderr_has("hardening not applied: no network");
    }
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(f.root().join("target/xtask/smoke/python-base.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["reference"], by_digest.as_str());
    assert_eq!(record["platforms"][1]["result"], "NOT RUN");

    // With a qemu-aarch64 handler registered, arm64 runs, emulated, and passes.
    let qemu = support::temp_dir("binfmt-qemu");
    std::fs::write(
        qemu.path().join("qemu-aarch64"),
        "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n",
    )
    .unwrap();
    let out = run(&f, &podman, &["smoke", "--engine", "buildah"], qemu.path()).expect(0);
    out.assert_stderr_has_all(&[
        "==> linux/arm64 (emulated (qemu-aarch64))",
        "linux/amd64 passed, linux/arm64 passed",
        "hardening not applied: read-only root filesystem",
    ]);
    assert!(!out.stderr.contains("NOT RUN"), "{}", out.stderr);

    // A failing command: exit 1, naming the platform, the command, its exit code and output.
    let failing = r#"["/bin/busybox", "sh", "-c", "echo ModuleNotFoundError: No module named dateutil; exit 3"]"#;
    set_smoke(&f, &registry, failing);
    let out = run(
        &f,
        &podman,
        &["smoke", "--digest", &digest],
        no_emulator.path(),
    )
    .expect(1);
    out.assert_stderr_has_all(&[
        "smoke command FAILED on linux/amd64 with exit code 3",
        "/bin/busybox sh -c 'echo ModuleNotFoundError: No module named dateutil; exit 3'",
        "| ModuleNotFoundError: No module named dateutil",
        "FAILED on linux/amd64: smoke command",
        "linux/arm64: NOT RUN",
    ]);
    assert!(
        !out.stderr.contains("passed: every platform"),
        "{}",
        out.stderr
    );

    // Output from the image cannot start a GitHub Actions workflow command in the log.
    let planted = r#"["/bin/busybox", "sh", "-c", "echo '##[error]planted'"]"#;
    set_smoke(&f, &registry, planted);
    let out = run(&f, &podman, &["smoke"], no_emulator.path()).expect(0);
    assert!(!out.stderr.contains("##[error]"), "{}", out.stderr);
    out.assert_stderr_has("| ##\\u{5b}error]planted");

    // A command that never finishes fails (exit 1) once XTASK_SMOKE_TIMEOUT passes.
    set_smoke(&f, &registry, r#"["/bin/busybox", "sleep", "60"]"#);
    let timeout = [("XTASK_SMOKE_TIMEOUT", "3")];
    let out = run_with(&f, &podman, &["smoke"], no_emulator.path(), &timeout).expect(1);
    out.assert_stderr_has(
        "FAILED on linux/amd64: smoke command did not finish within 3 s and was killed",
    );
    assert!(out.elapsed.as_secs() < 50, "took {:?}", out.elapsed);

    // A digest the registry does not have is a tool error (exit 2), not a pass.
    let missing = format!("sha256:{}", "0".repeat(64));
    let out = run(
        &f,
        &podman,
        &["smoke", "--digest", &missing],
        no_emulator.path(),
    )
    .expect(2);
    out.assert_stderr_has(&missing);
}
