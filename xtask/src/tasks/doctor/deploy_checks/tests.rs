//! Unit tests of doctor's registry and deploy checks, on inline facts.

use super::*;
use crate::exec::Output;

fn output(code: i32, stdout: &str, stderr: &str) -> Output {
    Output {
        code: Some(code),
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

#[test]
fn registry_answers_are_classified() {
    let digest = |s: &str| Some(s.trim().to_string());
    assert_eq!(
        classify(&output(0, "sha256:aa\n", ""), digest),
        Probe::Found("sha256:aa".into())
    );
    let missing = "FATA[0000] Error parsing image name: reading manifest sha-1 in 127.0.0.1:5000/h/p: manifest unknown";
    assert_eq!(classify(&output(1, "", missing), digest), Probe::Missing);
    let refused = "pinging container registry localhost:32000: Get \"http://localhost:32000/v2/\": dial tcp 127.0.0.1:32000: connect: connection refused";
    assert!(matches!(
        classify(&output(1, "", refused), digest),
        Probe::Unreachable(_)
    ));
    let denied = "reading manifest sha-1 in ghcr.io/dcasati/python-base: unauthorized: authentication required";
    assert!(matches!(
        classify(&output(1, "", denied), digest),
        Probe::Denied(_)
    ));

    let down = registry_check(
        Role::Backup,
        "localhost:32000/homelab",
        Some(&Probe::Unreachable(refused.into())),
        60,
    );
    assert_eq!(down.level, Level::Fail);
    assert!(
        down.message.starts_with(
            "the backup registry: nothing listens at localhost:32000 (connection refused): the \
             backup registry is not running: pinging"
        ),
        "{}",
        down.message
    );
    assert!(
        down.fix
            .as_deref()
            .unwrap()
            .contains("`microk8s enable registry`")
    );
    let auth = registry_check(
        Role::Primary,
        "ghcr.io/dcasati",
        Some(&Probe::Denied(denied.into())),
        60,
    );
    assert!(
        auth.message.contains(
            "the primary registry: ghcr.io refused us (401/403: not logged in, or the token \
             lacks access): reading manifest"
        ),
        "{}",
        auth.message
    );
    let fix = auth.fix.unwrap();
    assert!(
        fix.contains("--login")
            && fix.contains("docker login ghcr.io -u USER --password-stdin")
            && fix.contains("GITHUB_TOKEN"),
        "{fix}"
    );
    assert_eq!(
        registry_check(Role::Primary, "ghcr.io/dcasati", None, 60).level,
        Level::Ok
    );
    // DNS, not a timeout: the 0.16 s failure blamed the 60 s network timeout.
    let dns = "time=\"x\" level=fatal msg=\"Error parsing image name \\\"docker://ghcr.example/d/p:sha-1\\\": pinging container registry ghcr.example: Get \\\"https://ghcr.example/v2/\\\": dial tcp: lookup ghcr.example on 127.0.0.53:53: no such host\"";
    let dns = registry_check(
        Role::Primary,
        "ghcr.example/d",
        Some(&Probe::Unreachable(dns.into())),
        60,
    );
    assert_eq!(
        dns.message,
        "the primary registry: the registry name ghcr.example does not resolve (DNS: no such \
         host): pinging container registry ghcr.example: Get \"https://ghcr.example/v2/\": \
         dial tcp: lookup ghcr.example on 127.0.0.53:53: no such host"
    );
    assert!(dns.fix.unwrap().contains("DNS"));
    let slow = registry_check(
        Role::Primary,
        "10.9.9.9:5000/h",
        Some(&Probe::Unreachable(
            "`skopeo inspect` timed out: no answer from the registry 10.9.9.9:5000 within 60 s"
                .into(),
        )),
        60,
    );
    assert!(
        slow.message.starts_with(
            "the primary registry: no answer from 10.9.9.9:5000 in time (timeout) (60 s): "
        ),
        "{}",
        slow.message
    );
}

#[test]
fn deployed_tags_come_from_kustomizations_naming_a_configured_image() {
    let s = Settings::default();
    let files = vec![
        (PathBuf::from("k8s-apps/a/kustomization.yaml"), "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-522a89c\n  - name: nginx\n    newTag: \"1.27\"\n".to_string()),
        (PathBuf::from("k8s-apps/b/kustomization.yaml"), "images:\n- name: python-base\n  newName: localhost:32000/homelab/python-base\n  newTag: sha-0000000\n- name: ghcr.io/dcasati/python-base\n  newTag: sha-522a89c\n".to_string()),
        (PathBuf::from("k8s-apps/c/kustomization.yaml"), "images: [\n".to_string()),
    ];
    let got: Vec<(String, String, usize)> = deployed(&s, &files)
        .into_iter()
        .map(|d| (d.file.display().to_string(), d.tag, d.line))
        .collect();
    assert_eq!(
        got,
        [
            (
                "k8s-apps/a/kustomization.yaml".into(),
                "sha-522a89c".into(),
                3
            ),
            (
                "k8s-apps/b/kustomization.yaml".into(),
                "sha-0000000".into(),
                4
            ),
        ]
    );
}

fn d() -> Deployed {
    Deployed {
        image: "python-base".into(),
        tag: "sha-522a89c".into(),
        file: "k8s-apps/iot-stack/kustomization.yaml".into(),
        line: 29,
    }
}

fn a() -> String {
    format!("sha256:{}", "a".repeat(64))
}

#[test]
fn a_healthy_tag_is_all_ok() {
    let f = TagFacts {
        primary: Probe::Found(a()),
        backup: Some(Probe::Found(a())),
        platforms: Some(Ok(vec!["linux/amd64".into(), "linux/arm64".into()])),
        signed: Some(Ok(true)),
    };
    let checks = tag_checks(&d(), &f, &Settings::default());
    assert_eq!(checks.len(), 4);
    assert!(checks.iter().all(|c| c.level == Level::Ok), "{checks:?}");
}

#[test]
fn each_missing_piece_names_the_tag_and_its_fix() {
    let s = Settings::default();
    let f = TagFacts {
        primary: Probe::Missing,
        backup: Some(Probe::Missing),
        platforms: None,
        signed: None,
    };
    let checks = tag_checks(&d(), &f, &s);
    let got: Vec<(&str, Option<&str>)> = checks
        .iter()
        .map(|c| (c.message.as_str(), c.fix.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "k8s-apps/iot-stack/kustomization.yaml:29 deploys ghcr.io/dcasati/python-base:sha-522a89c, which is not in the primary registry: Argo CD cannot pull it",
                Some(
                    "cargo xtask release (builds the context's latest commit), or cargo xtask build-base --sha 522a89c --push"
                )
            ),
            (
                "localhost:32000/homelab/python-base:sha-522a89c is not in the backup registry",
                Some("cargo xtask push --mirror --sha 522a89c")
            ),
        ]
    );
    let b = format!("sha256:{}", "b".repeat(64));
    let f = TagFacts {
        primary: Probe::Found(a()),
        backup: Some(Probe::Found(b.clone())),
        platforms: Some(Ok(vec!["linux/amd64".into()])),
        signed: Some(Ok(false)),
    };
    let checks = tag_checks(&d(), &f, &s);
    let failed: Vec<(&str, &str)> = checks
        .iter()
        .filter(|c| c.level == Level::Fail)
        .map(|c| (c.message.as_str(), c.fix.as_deref().unwrap()))
        .collect();
    assert_eq!(failed.len(), 3, "{checks:?}");
    assert_eq!(
        failed[0],
        (
            format!(
                "the backup holds {b}, the primary {}: not the same image",
                a()
            )
            .as_str(),
            "cargo xtask push --mirror --sha 522a89c"
        )
    );
    assert!(
        failed[1]
            .0
            .starts_with("lacks linux/arm64 (has linux/amd64)")
            && failed[1].1.contains("build-base --sha 522a89c --push")
    );
    assert_eq!(failed[2].1, "cargo xtask sign --sha 522a89c");
    let f = TagFacts {
        primary: Probe::Found(a()),
        backup: None,
        platforms: None,
        signed: None,
    };
    let skip = tag_checks(&d(), &f, &s)
        .into_iter()
        .find(|c| c.level == Level::Skip)
        .unwrap();
    assert_eq!(skip.message, "signature not checked: cosign not found");
}
