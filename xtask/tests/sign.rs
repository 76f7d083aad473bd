//! `cargo xtask sign`: bad input without tools, and `*_recorded_*` tests against a recording
//! stand-in `cosign` (cosign cannot be installed here): exact argv, the key and password only
//! in cosign's environment, tag-only references refused before cosign runs, exit codes.

mod scan_sign_support;

use scan_sign_support::{Fixture, StandIn, digest, xtask};

const KEY: &str = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nFAKEKEYMATERIAL0123456789\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const PASSWORD: &str = "pw-hunter2-not-in-argv";
const PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nFAKEPUBLIC987\n-----END PUBLIC KEY-----\n";

fn assert_no_secret(text: &str) {
    for secret in ["FAKEKEYMATERIAL0123456789", PASSWORD] {
        assert!(!text.contains(secret), "a secret leaked into:\n{text}");
    }
}

/// The reference [`pushed_build`]'s record names.
fn pushed_reference() -> String {
    format!("ghcr.io/dcasati/python-base@{}", digest('d'))
}

/// A repo with no build record, and a recording `cosign`.
fn no_build() -> (Fixture, StandIn) {
    (Fixture::new(), StandIn::new(&["cosign"]))
}

/// A repo whose build record names the pushed `ghcr.io/dcasati/python-base@sha256:dd…`, and a
/// recording `cosign`.
fn pushed_build() -> (Fixture, StandIn) {
    let repo = Fixture::new();
    repo.record("ghcr.io/dcasati", Some(digest('d')), true);
    (repo, StandIn::new(&["cosign"]))
}

#[test]
fn sign_recorded_by_the_build_records_digest_with_the_key_in_env() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(
        repo.root(),
        &["sign"],
        &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let reference = pushed_reference();
    assert_eq!(cosign.calls(), 1);
    assert_eq!(
        cosign.argv(1),
        [
            "sign",
            "--yes",
            "--key",
            "env://COSIGN_PRIVATE_KEY",
            &reference
        ]
    );
    assert_eq!(cosign.env_of(1, "COSIGN_PRIVATE_KEY").as_deref(), Some(KEY));
    assert_eq!(
        cosign.env_of(1, "COSIGN_PASSWORD").as_deref(),
        Some(PASSWORD)
    );
    assert_eq!(cosign.stdin(1), "");
    assert_no_secret(&cosign.argv(1).join(" "));
    assert_eq!(out.stdout, format!("{reference}\n"));
    out.assert_stderr_has(
        "COSIGN_PRIVATE_KEY=\"$COSIGN_PRIVATE_KEY\" COSIGN_PASSWORD=\"$COSIGN_PASSWORD\" cosign sign",
    );
    assert_no_secret(&out.all());
}

#[test]
fn sign_recorded_keyless_passes_no_key_and_no_secret() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(
        repo.root(),
        &["sign"],
        &[("FAKE_STDOUT", "Generating ephemeral keys...")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let reference = pushed_reference();
    assert_eq!(cosign.argv(1), ["sign", "--yes", &reference]);
    // Streamed, with cosign's stdout kept off ours: stdout is only the signed reference.
    assert_eq!(out.stdout, format!("{reference}\n"));
    out.assert_stderr_has("Generating ephemeral keys...");
    assert_eq!(cosign.env_of(1, "COSIGN_PRIVATE_KEY"), None);
    assert_eq!(cosign.env_of(1, "COSIGN_PASSWORD"), None);
}

#[test]
fn sign_recorded_loopback_registry_keeps_out_of_the_tlog() {
    let repo = Fixture::new();
    repo.record("127.0.0.1:5000/homelab", Some(digest('e')), true);
    let cosign = StandIn::new(&["cosign"]);
    let out = cosign.run(
        repo.root(),
        &["sign", "--key", "env://COSIGN_PRIVATE_KEY"],
        &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        cosign.argv(1),
        [
            "sign",
            "--yes",
            "--key",
            "env://COSIGN_PRIVATE_KEY",
            "--tlog-upload=false",
            "--allow-insecure-registry",
            &format!("127.0.0.1:5000/homelab/python-base@{}", digest('e'))
        ]
    );
    // Keyless needs the public log, which a loopback image stays out of.
    let out = cosign.run(repo.root(), &["sign"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("pass --key");
    assert_eq!(cosign.calls(), 1);
}

#[test]
fn sign_recorded_refuses_a_tag_only_reference_without_running_cosign() {
    let (repo, cosign) = no_build();
    let key = [("COSIGN_PRIVATE_KEY", KEY)];
    let out = cosign.run(
        repo.root(),
        &["sign", "--image", "ghcr.io/dcasati/python-base:sha-abc1234"],
        &key,
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&["only by digest", "ghcr.io/dcasati/python-base:sha-abc1234"]);
    // A pushed build whose engine reported no digest: its record names only the tag.
    repo.record("ghcr.io/dcasati", None, true);
    let out = cosign.run(repo.root(), &["sign", "--verify"], &key);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("python-base:sha-abc1234");
    assert_eq!(cosign.calls(), 0);
}

#[test]
fn sign_recorded_full_reference_with_digest_is_signed_as_given() {
    let (repo, cosign) = no_build();
    let reference = format!("registry.lan:5000/team/app@{}", digest('f'));
    let out = cosign.run(
        repo.root(),
        &["sign", "--image", &reference, "--insecure-registry"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        cosign.argv(1),
        ["sign", "--yes", "--allow-insecure-registry", &reference]
    );
}

#[test]
fn sign_recorded_cosign_failure_exits_2_with_secrets_redacted() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(
        repo.root(),
        &["sign"],
        &[
            ("COSIGN_PRIVATE_KEY", KEY),
            ("COSIGN_PASSWORD", PASSWORD),
            ("FAKE_FAIL", "leak"),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("decrypting the key with password <redacted COSIGN_PASSWORD> failed"),
        "{}",
        out.stderr
    );
    assert_eq!(
        cosign.env_of(1, "COSIGN_PASSWORD").as_deref(),
        Some(PASSWORD)
    );
    assert_no_secret(&out.all());
}

#[test]
fn verify_recorded_failed_signature_exits_1() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(repo.root(), &["sign", "--verify"], &[
            ("COSIGN_PUBLIC_KEY", PUBLIC),
            ("COSIGN_PRIVATE_KEY", KEY),
            ("COSIGN_PASSWORD", PASSWORD),
            (
                "FAKE_FAIL",
                "Error: no matching signatures:\ninvalid signature when validating ASN.1 encoded signature",
            ),
        ]);
    assert_eq!(out.code, 1, "{out:?}");
    let reference = pushed_reference();
    assert_eq!(
        cosign.argv(1),
        ["verify", "--key", "env://COSIGN_PUBLIC_KEY", &reference]
    );
    assert_eq!(
        cosign.env_of(1, "COSIGN_PUBLIC_KEY").as_deref(),
        Some(PUBLIC)
    );
    out.assert_stderr_has("verification FAILED");
    out.assert_stderr_has("no matching signatures");
    assert_no_secret(&out.all());
}

#[test]
fn verify_recorded_registry_error_exits_2() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(
        repo.root(),
        &["sign", "--verify"],
        &[
            ("COSIGN_PUBLIC_KEY", PUBLIC),
            (
                "FAKE_FAIL",
                "Error: GET https://ghcr.io/v2/: dial tcp: connection refused",
            ),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("connection refused");
}

#[test]
fn verify_recorded_keyless_pins_the_repositorys_workflows() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(
        repo.root(),
        &["sign", "--verify"],
        &[
            ("GITHUB_REPOSITORY", "dcasati/homelab"),
            (
                "FAKE_STDOUT",
                r#"[{"critical":{"type":"cosign container image signature"}}]"#,
            ),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        cosign.argv(1),
        [
            "verify",
            "--certificate-identity-regexp",
            r"^https://github\.com/dcasati/homelab/\.github/workflows/",
            "--certificate-oidc-issuer",
            "https://token.actions.githubusercontent.com",
            &pushed_reference()
        ]
    );
    assert!(out.stdout.contains("cosign container image signature"));
    // Without GITHUB_REPOSITORY or a key there is no identity to pin.
    let out = cosign.run(repo.root(), &["sign", "--verify"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("--certificate-identity-regexp");
    assert_eq!(cosign.calls(), 1);
}

#[test]
fn sign_recorded_sha_signs_the_digest_its_tag_has_in_the_registry() {
    let repo = Fixture::new();
    let commit = repo.commit("fixture");
    let tools = StandIn::new(&["cosign", "skopeo"]);
    let out = tools.run(
        repo.root(),
        &[
            "sign",
            "--sha",
            &commit[..7],
            "--registry",
            "backup",
            "--key",
            "env://COSIGN_PRIVATE_KEY",
        ],
        &[("COSIGN_PRIVATE_KEY", KEY), ("FAKE_STDOUT", &digest('5'))],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let tagged = format!("localhost:32000/homelab/python-base:sha-{}", &commit[..7]);
    assert_eq!(
        tools.argv(1),
        [
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            &format!("docker://{tagged}")
        ]
    );
    assert_eq!(
        tools.argv(2),
        [
            "sign",
            "--yes",
            "--key",
            "env://COSIGN_PRIVATE_KEY",
            "--tlog-upload=false",
            "--allow-insecure-registry",
            &format!("localhost:32000/homelab/python-base@{}", digest('5'))
        ]
    );
}

#[test]
fn sign_recorded_dry_run_prints_the_plan_without_secrets_and_runs_nothing() {
    let (repo, cosign) = pushed_build();
    let out = cosign.run(
        repo.root(),
        &["sign", "--dry-run"],
        &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "+ COSIGN_PRIVATE_KEY=\"$COSIGN_PRIVATE_KEY\" COSIGN_PASSWORD=\"$COSIGN_PASSWORD\" \
             cosign sign --yes --key env://COSIGN_PRIVATE_KEY ghcr.io/dcasati/python-base@{}",
            digest('d')
        )
    );
    assert_eq!(cosign.calls(), 0);
}

#[test]
fn sign_without_cosign_exits_2_with_the_install_hint() {
    let repo = Fixture::new();
    repo.record("ghcr.io/dcasati", Some(digest('d')), true);
    let empty = tempfile::tempdir().unwrap();
    let out = xtask(
        repo.root(),
        &["sign"],
        &[],
        Some(empty.path().to_str().unwrap()),
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&["cosign not found on PATH", "sigstore/cosign-installer"]);
}

#[test]
fn sign_recorded_bad_input_exits_2_without_running_cosign() {
    let (repo, cosign) = no_build();
    let run = |args: &[&str]| cosign.run(repo.root(), args, &[]);
    for (args, want) in [
        (vec!["sign"], "no build record for python-base"),
        (
            vec!["sign", "--digest", "sha256:abc"],
            "--digest sha256:abc: not a digest",
        ),
        (
            vec!["sign", "--image", "nope"],
            "--image nope: neither a configured image",
        ),
        (
            vec!["sign", "--digest", &digest('1'), "--key", "missing.key"],
            "--key missing.key: no such file",
        ),
        (
            vec![
                "sign",
                "--digest",
                &digest('1'),
                "--key",
                "env://MY_COSIGN_KEY",
            ],
            "the variable MY_COSIGN_KEY is not set",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
    repo.record("ghcr.io/dcasati", None, false);
    let out = run(&["sign"]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("built but not pushed");
    assert_eq!(cosign.calls(), 0);
}
