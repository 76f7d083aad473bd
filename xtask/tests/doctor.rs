//! `cargo xtask doctor` on fixture repos: bad input and the tool verdicts with a controlled
//! PATH, then end to end (XTASK_E2E=1) against two real `docker-registry` instances on 127.0.0.1
//! holding a podman-built FROM scratch image: a healthy pair, the backup down, and a deployed
//! tag that the primary lacks. A missing tool fails the e2e test.

mod build_push_support;

use build_push_support::shared::{e2e, require};
use build_push_support::*;

const DOCKERFILE: &str = "FROM scratch\nCOPY hello.txt /hello.txt\nUSER 65532\n";
const KUSTOMIZATION: &str = "k8s-apps/iot-stack/kustomization.yaml";

fn json(out: &Outcome) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// (level, area, subject, message) of every check.
fn checks(out: &Outcome) -> Vec<(String, String, String, String)> {
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    json(out)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                s(&c["level"]),
                s(&c["area"]),
                s(&c["subject"]),
                s(&c["message"]),
            )
        })
        .collect()
}

#[test]
fn doctor_refuses_an_unknown_for() {
    let f = Fixture::new("doctor-for", "", DOCKERFILE);
    let out = xtask(
        f.root(),
        &["doctor", "--offline", "--for", "deploy"],
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("--for deploy: not a subcommand; one of update-images, test,");
}

#[test]
fn doctor_without_any_engine_fails_and_names_every_missing_tool() {
    let f = Fixture::new("doctor-tools", "", DOCKERFILE);
    f.write(
        KUSTOMIZATION,
        "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-522a89c\n",
    );
    let empty = temp_dir("empty-path");
    let path = empty.path().to_str().unwrap();
    let out = xtask(
        f.root(),
        &["doctor", "--offline", "--format", "json"],
        &[],
        Some(path),
    );
    assert_eq!(out.code, 1, "{out:?}");
    let all = checks(&out);
    let fails: Vec<_> = all.iter().filter(|c| c.0 == "fail").collect();
    assert_eq!(fails.len(), 1, "{all:?}");
    assert_eq!(fails[0].2, "build engine");
    for tool in [
        "git",
        "docker",
        "podman",
        "skopeo",
        "cosign",
        "trivy",
        "kubectl",
        "kustomize",
    ] {
        assert!(
            all.iter()
                .any(|c| c.0 == "warn" && c.2 == tool && c.3.starts_with("not found (used by")),
            "{tool}: {all:?}"
        );
    }
    assert!(
        all.iter().any(|c| c.1 == "registry" && c.0 == "skip"),
        "--offline skips the network"
    );
    assert_eq!(json(&out)["deployed"][0]["tag"], "sha-522a89c");
    assert_eq!(json(&out)["ok"], false);
    out.assert_stderr_has("doctor: 1 problem(s)");
}

#[test]
fn doctor_reports_a_settings_path_outside_the_repo() {
    let f = Fixture::new(
        "doctor-settings",
        "manifests = \"../elsewhere\"\n",
        DOCKERFILE,
    );
    std::fs::create_dir_all(f.root().join("../elsewhere")).unwrap();
    let out = xtask(
        f.root(),
        &["doctor", "--offline", "--format", "json"],
        &[],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let all = checks(&out);
    let bad = all
        .iter()
        .find(|c| c.2 == "manifests ../elsewhere")
        .unwrap();
    assert_eq!(bad.0, "fail");
    assert!(bad.3.contains("outside the repository"), "{bad:?}");
}

fn run(f: &Fixture, podman: &Podman, args: &[&str]) -> Outcome {
    let env = podman.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    xtask(f.root(), args, &env, None)
}

#[test]
fn e2e_doctor_healthy_backup_down_and_tag_missing() {
    if !e2e() {
        return;
    }
    for program in ["podman", "skopeo", "docker-registry"] {
        require(program);
    }
    let primary = Registry::start("doctor-primary");
    let mut backup = Registry::start("doctor-backup");
    let podman = Podman::new();
    let settings = format!(
        "registry = \"{}/homelab\"\nbackup-registry = \"{}/homelab\"\n",
        primary.addr(),
        backup.addr()
    );
    let f = Fixture::new("doctor-e2e", &settings, DOCKERFILE);
    f.write(&format!("{CONTEXT}/hello.txt"), "hello\n");
    let id = f.commit("base image");
    let tag = format!("sha-{}", &id[..7]);
    let deploy = |tag: &str| {
        f.write(
            KUSTOMIZATION,
            format!(
                "resources: []\nimages:\n  - name: {}/homelab/python-base\n    newTag: {tag}\n",
                primary.addr()
            ),
        );
    };
    deploy(&tag);
    let out = run(&f, &podman, &["build-base", "--engine", "podman", "--push"]);
    assert_eq!(out.code, 0, "{out:?}");
    let digest = out.stdout.trim().split_once('@').unwrap().1.to_string();
    let out = run(&f, &podman, &["push", "--mirror"]);
    assert_eq!(out.code, 0, "{out:?}");

    // Healthy: both registries answer, the tag is in both under one digest, both platforms.
    let out = run(&f, &podman, &["doctor", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let all = checks(&out);
    let primary_ref = format!("{}/homelab/python-base:{tag}", primary.addr());
    let backup_ref = format!("{}/homelab/python-base:{tag}", backup.addr());
    for (subject, message) in [
        (
            format!("{}/homelab", primary.addr()),
            "the primary registry answers".to_string(),
        ),
        (
            format!("{}/homelab", backup.addr()),
            "the backup registry answers".to_string(),
        ),
        (
            primary_ref.clone(),
            format!("in the primary as {digest} (deployed by {KUSTOMIZATION}:4)"),
        ),
        (backup_ref.clone(), format!("in the backup as {digest}")),
        (
            primary_ref.clone(),
            "carries linux/amd64, linux/arm64".to_string(),
        ),
    ] {
        assert!(
            all.iter()
                .any(|c| c.0 == "ok" && c.2 == subject && c.3 == message),
            "no ok `{subject}: {message}` in {all:#?}"
        );
    }
    assert_eq!(json(&out)["ok"], true);

    // The deployed tag is missing from the primary (and so from the backup).
    deploy("sha-1234567");
    let out = run(&f, &podman, &["doctor"]);
    assert_eq!(out.code, 1, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!("{KUSTOMIZATION}:4 deploys {}/homelab/python-base:sha-1234567, which is not in the primary registry", primary.addr()),
        "fix: cargo xtask release (builds the context's latest commit), or cargo xtask build-base --sha 1234567 --push",
        "is not in the backup registry",
        "fix: cargo xtask push --mirror --sha 1234567",
    ]);

    // The backup is down: named with its address, and how to start it.
    deploy(&tag);
    backup.stop();
    let out = run(&f, &podman, &["doctor"]);
    assert_eq!(out.code, 1, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!(
            "the backup registry {} does not answer /v2/ (network timeout 60 s): ",
            backup.addr()
        ),
        &format!(
            "fix: start the MicroK8s registry that serves {}",
            backup.addr()
        ),
        "`microk8s enable registry`",
        &format!("in the primary as {digest}"),
    ]);

    // --offline: no network check, and nothing wrong.
    let out = run(&f, &podman, &["doctor", "--offline"]);
    assert_eq!(out.code, 0, "{out:?}");
}
