//! Faults and hostile input (issue 11): registries that stall or break mid-answer, closed pipes,
//! locked indexes, kills during a write, names from the tree that try to inject workflow
//! commands, secrets in snippets, ownership. One regression test per fault, on temporary repos
//! and loopback servers ([`shared::FaultServer`]).

mod update_images_support;

use shared::{Fault, FaultServer, processes_with};
use std::time::Duration;
use update_images_support::*;

/// The iot-stack fixture with its registry set to `registry` (`127.0.0.1:PORT/homelab`).
fn fixture_on(registry: &str) -> (Fixture, String) {
    let f = Fixture::new();
    f.write(
        "Cargo.toml",
        format!("[workspace.metadata.xtask]\nregistry = \"{registry}\"\n"),
    );
    iot_stack(&f);
    let tagged = BASE.replace(GHCR, &format!("{registry}/python-base"));
    let head = f.commit(&[
        (BASE_PATH, &tagged),
        (OVERLAY_PATH, "resources: [../../base]\n"),
    ]);
    (f, head)
}

/// Runs the binary in `f` with `env`.
fn run_env(f: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Run {
    shared::xtask(f.root(), args, env, None)
}

/// Every command that reads or writes a registry, against a registry that accepts the
/// connection and never answers: each one exits 2 within the timeout (plus slack), names the
/// registry and the timeout, leaves no child process behind and changes no file.
#[test]
fn e2e_registry_that_accepts_and_stalls_times_out_every_network_step() {
    if !shared::e2e() {
        return;
    }
    for tool in ["skopeo", "podman"] {
        shared::require(tool);
    }
    let server = FaultServer::start(Fault::Stall);
    let registry = format!("{}/homelab", server.host());
    let (f, head) = fixture_on(&registry);
    let mirror = FaultServer::start(Fault::Stall);
    let to = format!("{}/homelab", mirror.host());
    let before = f.snapshot();
    let cases: [&[&str]; 5] = [
        &["update-images", "--verify"],
        &["update-images", "--digest"],
        &["build-base", "--skip-existing", "--engine", "podman"],
        &["push", "--mirror", "--sha", &head, "--to", &to],
        &["sign", "--sha", &head],
    ];
    for args in cases {
        let run = run_env(&f, args, &[("XTASK_NETWORK_TIMEOUT", "2")]);
        let run = run.expect(2);
        assert!(
            run.elapsed < Duration::from_secs(15),
            "{args:?} took {:?}",
            run.elapsed
        );
        run.assert_stderr_has(&format!(
            "no answer from the registry {} within 2 s",
            server.host()
        ));
        run.assert_stderr_has("XTASK_NETWORK_TIMEOUT");
        let left = processes_with(&server.port.to_string());
        assert!(left.is_empty(), "{args:?} left {left:?}");
        assert_eq!(f.snapshot(), before, "{args:?} changed a file");
    }
}

/// A registry that answers 500, or closes the connection in the middle of a body: exit 2 fast,
/// naming the registry, and no file changed.
#[test]
fn e2e_registry_answering_500_or_closing_mid_body_is_an_error_not_a_hang() {
    if !shared::e2e() {
        return;
    }
    shared::require("skopeo");
    for fault in [Fault::Error500, Fault::CloseMidBody] {
        let server = FaultServer::start(fault);
        let (f, _) = fixture_on(&format!("{}/homelab", server.host()));
        let before = f.snapshot();
        let run = run_env(&f, &["update-images", "--verify"], &[]).expect(2);
        assert!(
            run.elapsed < Duration::from_secs(30),
            "{fault:?}: {:?}",
            run.elapsed
        );
        run.assert_stderr_has_all(&[&server.host(), "no file was changed"]);
        assert_eq!(f.snapshot(), before);
    }
}

/// Runs the binary with `--root` and its stdout (or stderr) on a pipe whose reading end is
/// already closed; returns the exit status and what it wrote on the other stream.
fn with_closed_pipe(
    f: &Fixture,
    args: &[&str],
    close_stderr: bool,
) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root").arg(f.root()).args(args);
    cmd.env_remove("GITHUB_ACTIONS").env_remove("NO_COLOR");
    let other = if close_stderr {
        cmd.stderr(writer).stdout(std::process::Stdio::piped())
    } else {
        cmd.stdout(writer).stderr(std::process::Stdio::piped())
    };
    let out = other.output().unwrap();
    let text = if close_stderr { out.stdout } else { out.stderr };
    (out.status, String::from_utf8_lossy(&text).into_owned())
}

/// `| head` closes the pipe: every printing path ends quietly (no panic, no error message),
/// the way git does: by SIGPIPE, or exit 0.
#[test]
fn closed_pipe_ends_every_printing_path_quietly_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let f = Fixture::new();
    iot_stack(&f);
    f.write(
        "k8s-apps/iot-stack/base/bad.yaml",
        "kind: Pod\nspec:\n  hostNetwork: true\n",
    );
    let cases: [(&[&str], bool); 7] = [
        (&["lint-manifests", "--format", "sarif"], false),
        (&["lint-manifests", "--format", "json"], false),
        (&["lint-manifests", "--format", "github"], false),
        (&["lint-manifests"], true),
        (&["update-images", "--dry-run"], false),
        (&["update-images", "--check"], false),
        (&["update-images", "--dry-run"], true),
    ];
    for (args, close_stderr) in cases {
        let (status, other) = with_closed_pipe(&f, args, close_stderr);
        let quiet = status.signal() == Some(libc_sigpipe()) || status.code() == Some(0);
        assert!(
            quiet && !other.contains("panicked") && !other.contains("Broken pipe"),
            "{args:?} (closed {}): {status:?}\n{other}",
            if close_stderr { "stderr" } else { "stdout" }
        );
    }
}

/// SIGPIPE's number on Linux.
fn libc_sigpipe() -> i32 {
    13
}
