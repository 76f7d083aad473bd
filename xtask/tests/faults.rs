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
