//! `cargo xtask sign`: bad input without tools, and `*_recorded_*` tests against the strict
//! stand-ins for cosign 2 and 3 (cosign cannot be installed here; each refuses what that
//! version refuses): exact argv per version, the key and password only in cosign's
//! environment, tag-only references refused before cosign runs, SBOM attestations, exit codes.

use crate::support::scan_sign::{Fixture, Outcome, StandIn, cosign_stand_in, digest, xtask};

const KEY: &str = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nFAKEKEYMATERIAL0123456789\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const PASSWORD: &str = "pw-hunter2-not-in-argv";
const PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nFAKEPUBLIC987\n-----END PUBLIC KEY-----\n";

fn assert_no_secret(text: &str) {
    for secret in ["FAKEKEYMATERIAL0123456789", PASSWORD] {
        assert!(!text.contains(secret), "a secret leaked into:\n{text}");
    }
}

/// Both supported cosign majors.
const MAJORS: [u8; 2] = [2, 3];

/// The reference [`pushed_build`]'s record names.
fn pushed_reference() -> String {
    format!("ghcr.io/dcasati/python-base@{}", digest('d'))
}

/// A repo with no build record, and the strict cosign `major`.
fn no_build(major: u8) -> (Fixture, StandIn) {
    (Fixture::new(), StandIn::cosign(major, &[]))
}

/// A repo whose build record names the pushed `ghcr.io/dcasati/python-base@sha256:dd…`, and the
/// strict cosign `major`. Runs must set `FAKE_TAG_DIGEST` ([`TAG_HOLDS_D`]): the record's tag
/// is read back from the registry first.
fn pushed_build(major: u8) -> (Fixture, StandIn) {
    let repo = Fixture::new();
    repo.record("ghcr.io/dcasati", Some(digest('d')), true);
    (repo, StandIn::cosign(major, &[]))
}

/// The registry answer that the record's tag still holds `sha256:dd…`.
fn tag_holds_d() -> (&'static str, String) {
    ("FAKE_TAG_DIGEST", digest('d'))
}

/// Runs `args` with `env` plus the registry answering that the record's tag holds `sha256:dd…`.
fn run_d(cosign: &StandIn, repo: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let (k, v) = tag_holds_d();
    let mut all = vec![(k, v.as_str())];
    all.extend_from_slice(env);
    cosign.run(repo.root(), args, &all)
}

/// What cosign `major` needs to keep a signature out of the transparency log.
fn no_tlog(major: u8) -> Vec<&'static str> {
    match major {
        2 => vec!["--tlog-upload=false"],
        _ => vec!["--use-signing-config=false", "--tlog-upload=false"],
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// `head`, then what cosign `major` needs to skip the tlog, then `--allow-insecure-registry`
/// and `reference`: the argv of a key-signed loopback image.
fn no_tlog_argv(major: u8, head: &[&str], reference: &str) -> Vec<String> {
    let mut argv = strings(head);
    argv.extend(strings(&no_tlog(major)));
    argv.extend(strings(&["--allow-insecure-registry", reference]));
    argv
}

#[test]
fn sign_recorded_by_the_build_records_digest_with_the_key_in_env() {
    for major in MAJORS {
        let (repo, cosign) = pushed_build(major);
        let out = run_d(
            &cosign,
            &repo,
            &["sign"],
            &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)],
        );
        assert_eq!(out.code, 0, "cosign {major}: {out:?}");
        let reference = pushed_reference();
        assert_eq!(cosign.version_calls(), 1);
        assert_eq!(
            cosign.skopeo_calls(),
            ["inspect --format {{.Digest}} docker://ghcr.io/dcasati/python-base:sha-abc1234"]
        );
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
}

#[test]
fn sign_recorded_keyless_passes_no_key_and_no_secret() {
    for major in MAJORS {
        let (repo, cosign) = pushed_build(major);
        let out = run_d(
            &cosign,
            &repo,
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
}

#[test]
fn sign_recorded_loopback_registry_keeps_out_of_the_tlog_on_each_cosign() {
    for major in MAJORS {
        let repo = Fixture::new();
        repo.record("127.0.0.1:5000/homelab", Some(digest('e')), true);
        let cosign = StandIn::cosign(major, &[]);
        let tag = ("FAKE_TAG_DIGEST", digest('e'));
        let out = cosign.run(
            repo.root(),
            &["sign", "--key", "env://COSIGN_PRIVATE_KEY"],
            &[
                ("COSIGN_PRIVATE_KEY", KEY),
                ("COSIGN_PASSWORD", PASSWORD),
                (tag.0, &tag.1),
            ],
        );
        assert_eq!(out.code, 0, "cosign {major}: {out:?}");
        let reference = format!("127.0.0.1:5000/homelab/python-base@{}", digest('e'));
        let want = no_tlog_argv(
            major,
            &["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY"],
            &reference,
        );
        assert_eq!(cosign.argv(1), want);
        assert_eq!(
            cosign.skopeo_calls(),
            [
                "inspect --tls-verify=false --format {{.Digest}} docker://127.0.0.1:5000/homelab/python-base:sha-abc1234"
            ]
        );
        // Keyless needs the public log, which a loopback image stays out of.
        let out = cosign.run(repo.root(), &["sign"], &[(tag.0, &tag.1)]);
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has("pass --key");
        assert_eq!(cosign.calls(), 1);
    }
}

/// The stand-ins themselves: each refuses what its cosign refuses, so the tests above would
/// fail wherever the real cosign would. Run directly, with the argv the other version needs.
#[test]
fn cosign_recorded_stand_ins_refuse_what_each_version_refuses() {
    let r = format!("127.0.0.1:5000/homelab/python-base@{}", digest('a'));
    let bin = tempfile::tempdir().unwrap();
    let run = |major: u8, args: &[&str]| {
        let record = tempfile::tempdir().unwrap();
        let script = bin.path().join(format!("cosign{major}"));
        std::fs::write(&script, cosign_stand_in(major)).unwrap();
        let out = std::process::Command::new("sh")
            .arg(&script)
            .args(args)
            .env("FAKE_RECORD", record.path())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let key = ["--key", "env://K"];
    let sign = |extra: &[&str]| -> Vec<String> {
        let mut a = strings(&["sign", "--yes"]);
        a.extend(strings(&key));
        a.extend(strings(extra));
        a.push(r.clone());
        a
    };
    for (major, args, want) in [
        // v3's signing config (on by default) refuses the v2 way of skipping the log.
        (
            3,
            sign(&["--tlog-upload=false"]),
            "--tlog-upload=false is not supported with --signing-config",
        ),
        (
            3,
            sign(&["--signing-config", "sc.json", "--tlog-upload=false"]),
            "is not supported with --signing-config",
        ),
        (
            3,
            sign(&["--use-signing-config", "--signing-config", "sc.json"]),
            "if any flags in the group [use-signing-config signing-config] are set",
        ),
        (
            3,
            sign(&["--rekor-url", "https://rekor.example"]),
            "cannot specify service URLs and use signing config",
        ),
        (
            3,
            sign(&["--upload=false"]),
            "must enable upload to the OCI registry or specify a local --bundle",
        ),
        (
            3,
            sign(&[
                "--use-signing-config=false",
                "--tlog-upload=false",
                "--new-bundle-format=false",
            ]),
            "",
        ),
        (
            3,
            sign(&["--new-bundle-format=false"]),
            "must provide --new-bundle-format or --bundle",
        ),
        // v2 knows no signing config at all.
        (
            2,
            sign(&["--use-signing-config=false", "--tlog-upload=false"]),
            "unknown flag: --use-signing-config",
        ),
        (2, sign(&["--tlog-upload=false"]), ""),
        (
            2,
            sign(&["--new-bundle-format"]),
            "unknown flag: --new-bundle-format",
        ),
        (2, sign(&["-x"]), "unknown shorthand flag: 'x' in -x"),
        (
            2,
            sign(&["--yes=maybe"]),
            "invalid argument \"maybe\" for \"--yes\"",
        ),
        (
            3,
            strings(&["sign", "--yes", "--key"]),
            "flag needs an argument: --key",
        ),
        (2, strings(&["sign", "--yes"]), "requires at least 1 arg(s)"),
        (
            2,
            strings(&["attest", "--yes", "--type", "cyclonedx", &r]),
            "required flag(s) \"predicate\" not set",
        ),
        (
            3,
            strings(&["attest", "--yes", "--type", "cyclonedx", &r]),
            "at least one of the flags in the group [predicate statement] is required",
        ),
        (
            3,
            strings(&[
                "attest",
                "--key",
                "k",
                "--predicate",
                "p",
                "--no-upload",
                &r,
            ]),
            "must enable upload",
        ),
        (
            2,
            strings(&["verify", "--certificate-identity-regexp", "x", &r]),
            "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required",
        ),
        (
            3,
            strings(&[
                "verify",
                "--key",
                "k",
                "--ca-roots",
                "a",
                "--certificate-chain",
                "b",
                &r,
            ]),
            "[ca-roots certificate-chain]",
        ),
        (
            2,
            strings(&["verify", "--key", "k", "--tlog-upload=false", &r]),
            "unknown flag: --tlog-upload",
        ),
        (
            2,
            strings(&[
                "verify-attestation",
                "--key",
                "k",
                "--signature-digest-algorithm",
                "sha256",
                &r,
            ]),
            "unknown flag: --signature-digest-algorithm",
        ),
        (
            3,
            strings(&[
                "verify-attestation",
                "--key",
                "k",
                "--signature-digest-algorithm",
                "sha256",
                "--type",
                "cyclonedx",
                &r,
            ]),
            "",
        ),
    ] {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stderr) = run(major, &argv);
        if want.is_empty() {
            assert_eq!(code, 0, "cosign {major} {args:?}: {stderr}");
        } else {
            assert_eq!(code, 1, "cosign {major} {args:?} must fail: {stderr}");
            assert!(stderr.contains(want), "cosign {major} {args:?}: {stderr}");
        }
    }
}

#[test]
fn sign_recorded_attest_sbom_and_verify_the_attestation_on_each_cosign() {
    for major in MAJORS {
        let repo = Fixture::new();
        repo.record("127.0.0.1:5000/homelab", Some(digest('e')), true);
        repo.write(
            "sbom.cdx.json",
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6"}"#,
        );
        let sbom = repo.root().join("sbom.cdx.json");
        let sbom = sbom.to_str().unwrap();
        let cosign = StandIn::cosign(major, &[]);
        let tag = digest('e');
        let env = [
            ("COSIGN_PRIVATE_KEY", KEY),
            ("COSIGN_PASSWORD", PASSWORD),
            ("COSIGN_PUBLIC_KEY", PUBLIC),
            ("FAKE_TAG_DIGEST", tag.as_str()),
        ];
        let reference = format!("127.0.0.1:5000/homelab/python-base@{}", digest('e'));
        // A signature alone does not carry the SBOM attestation: verifying it fails (exit 1).
        let out = cosign.run(repo.root(), &["sign"], &env);
        assert_eq!(out.code, 0, "cosign {major}: {out:?}");
        let out = cosign.run(repo.root(), &["sign", "--verify", "--attestations"], &env);
        assert_eq!(out.code, 1, "cosign {major}: {out:?}");
        out.assert_stderr_has("has no valid CycloneDX attestation");

        let out = cosign.run(
            repo.root(),
            &["sign", "--attest-sbom", "sbom.cdx.json"],
            &env,
        );
        assert_eq!(out.code, 0, "cosign {major}: {out:?}");
        out.assert_stderr_has(&format!("signed and attested: {reference}"));
        let (sign_call, attest_call) = (cosign.calls() - 1, cosign.calls());
        let want = no_tlog_argv(
            major,
            &["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY"],
            &reference,
        );
        assert_eq!(cosign.argv(sign_call), want);
        let want = no_tlog_argv(
            major,
            &[
                "attest",
                "--yes",
                "--key",
                "env://COSIGN_PRIVATE_KEY",
                "--type",
                "cyclonedx",
                "--predicate",
                sbom,
            ],
            &reference,
        );
        assert_eq!(cosign.argv(attest_call), want);
        assert_eq!(
            cosign.env_of(attest_call, "COSIGN_PASSWORD").as_deref(),
            Some(PASSWORD)
        );

        for args in [
            vec!["sign", "--verify", "--attest-sbom", "sbom.cdx.json"],
            vec!["sign", "--verify", "--attestations"],
        ] {
            let out = cosign.run(repo.root(), &args, &env);
            assert_eq!(out.code, 0, "cosign {major} {args:?}: {out:?}");
            let n = cosign.calls();
            assert_eq!(
                cosign.argv(n - 1),
                [
                    "verify",
                    "--key",
                    "env://COSIGN_PUBLIC_KEY",
                    "--insecure-ignore-tlog=true",
                    "--allow-insecure-registry",
                    &reference
                ]
            );
            assert_eq!(
                cosign.argv(n),
                [
                    "verify-attestation",
                    "--key",
                    "env://COSIGN_PUBLIC_KEY",
                    "--type",
                    "cyclonedx",
                    "--insecure-ignore-tlog=true",
                    "--allow-insecure-registry",
                    &reference
                ]
            );
            out.assert_stderr_has("is signed and attested by key env://COSIGN_PUBLIC_KEY");
        }
        assert_no_secret(&out.all());
        let out = cosign.run(
            repo.root(),
            &["sign", "--attest-sbom", "missing.json"],
            &env,
        );
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has("--attest-sbom missing.json: no such file");
    }
}

#[test]
fn sign_recorded_unknown_cosign_major_is_refused_naming_the_supported_ones() {
    let (repo, cosign) = pushed_build(3);
    let out = run_d(
        &cosign,
        &repo,
        &["sign"],
        &[
            ("COSIGN_PRIVATE_KEY", KEY),
            ("FAKE_COSIGN_VERSION", "v4.0.0"),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&["cosign 4.0.0 is not supported", "2.x", "3.x"]);
    assert_eq!(cosign.calls(), 0);
}

#[test]
fn sign_recorded_moved_tag_exits_2_naming_both_digests() {
    for verify in [false, true] {
        let (repo, cosign) = pushed_build(2);
        let moved = digest('9');
        let mut args = vec!["sign"];
        if verify {
            args.push("--verify");
        }
        let out = cosign.run(
            repo.root(),
            &args,
            &[
                ("COSIGN_PRIVATE_KEY", KEY),
                ("COSIGN_PUBLIC_KEY", PUBLIC),
                ("FAKE_TAG_DIGEST", &moved),
            ],
        );
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has_all(&[
            &format!("ghcr.io/dcasati/python-base:sha-abc1234 now holds {moved}"),
            &format!("the build record names {}", digest('d')),
        ]);
        assert_eq!(cosign.calls(), 0);
        // A tag that is gone is no better.
        let out = cosign.run(
            repo.root(),
            &args,
            &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PUBLIC_KEY", PUBLIC)],
        );
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has("is not in the registry, but the build record names");
        assert_eq!(cosign.calls(), 0);
    }
}

#[test]
fn sign_recorded_refuses_a_tag_only_reference_without_running_cosign() {
    let (repo, cosign) = no_build(3);
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
    assert_eq!(cosign.version_calls(), 0);
}

#[test]
fn sign_recorded_full_reference_with_digest_is_signed_as_given() {
    for major in MAJORS {
        let (repo, cosign) = no_build(major);
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
        assert!(cosign.skopeo_calls().is_empty());
    }
}

#[test]
fn sign_recorded_cosign_failure_exits_2_with_secrets_redacted() {
    let (repo, cosign) = pushed_build(3);
    let out = run_d(
        &cosign,
        &repo,
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
    let (repo, cosign) = pushed_build(2);
    let out = run_d(
        &cosign,
        &repo,
        &["sign", "--verify"],
        &[
            ("COSIGN_PUBLIC_KEY", PUBLIC),
            ("COSIGN_PRIVATE_KEY", KEY),
            ("COSIGN_PASSWORD", PASSWORD),
            (
                "FAKE_FAIL",
                "Error: no matching signatures:\ninvalid signature when validating ASN.1 encoded signature",
            ),
        ],
    );
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
    let (repo, cosign) = pushed_build(3);
    let out = run_d(
        &cosign,
        &repo,
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
    for major in MAJORS {
        let (repo, cosign) = pushed_build(major);
        let out = run_d(
            &cosign,
            &repo,
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
        let out = run_d(&cosign, &repo, &["sign", "--verify"], &[]);
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has("--certificate-identity-regexp");
        assert_eq!(cosign.calls(), 1);
    }
}

#[test]
fn sign_recorded_sha_signs_the_digest_its_tag_has_in_the_registry() {
    for major in MAJORS {
        let repo = Fixture::new();
        let commit = repo.commit("fixture");
        let tools = StandIn::cosign(major, &[]);
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
            &[
                ("COSIGN_PRIVATE_KEY", KEY),
                ("FAKE_TAG_DIGEST", &digest('5')),
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        let tagged = format!("localhost:32000/homelab/python-base:sha-{}", &commit[..7]);
        assert_eq!(
            tools.skopeo_calls(),
            [format!(
                "inspect --tls-verify=false --format {{{{.Digest}}}} docker://{tagged}"
            )]
        );
        let want = no_tlog_argv(
            major,
            &["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY"],
            &format!("localhost:32000/homelab/python-base@{}", digest('5')),
        );
        assert_eq!(tools.argv(1), want);
    }
}

#[test]
fn sign_recorded_dry_run_prints_the_plan_without_secrets_and_runs_nothing() {
    let (repo, cosign) = pushed_build(3);
    let out = run_d(
        &cosign,
        &repo,
        &["sign", "--dry-run"],
        &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "dry run: cosign argv for cosign 3.x (v3.1) (the installed cosign's major version)\n\
             + COSIGN_PRIVATE_KEY=\"$COSIGN_PRIVATE_KEY\" COSIGN_PASSWORD=\"$COSIGN_PASSWORD\" \
             cosign sign --yes --key env://COSIGN_PRIVATE_KEY ghcr.io/dcasati/python-base@{}",
            digest('d')
        )
    );
    assert_eq!(cosign.calls(), 0);
    // The version decides the argv, so it is read even in a dry run.
    assert_eq!(cosign.version_calls(), 1);
}

/// Without cosign, `sign --dry-run` still prints the commands, for the newest cosign we
/// support, and says so; `sign` itself exits 2.
#[test]
fn sign_dry_run_without_cosign_prints_the_argv_for_the_newest_supported_cosign() {
    let repo = Fixture::new();
    let empty = tempfile::tempdir().unwrap();
    let d = digest('d');
    let out = xtask(
        repo.root(),
        &[
            "sign",
            "--dry-run",
            "--digest",
            &d,
            "--attest-sbom",
            "Cargo.toml",
        ],
        &[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)],
        Some(empty.path().to_str().unwrap()),
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has_all(&[
        "dry run: cosign argv for cosign 3.x (v3.1) (cosign is not on PATH, so the newest supported is assumed; to run it, install cosign",
        &format!("cosign sign --yes --key env://COSIGN_PRIVATE_KEY ghcr.io/dcasati/python-base@{d}"),
        "cosign attest --yes --key env://COSIGN_PRIVATE_KEY",
    ]);
    assert!(!out.all().contains("FAKEKEYMATERIAL"), "{}", out.all());
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
    let (repo, cosign) = no_build(2);
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
        (vec!["sign", "--attestations"], "--verify"),
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
    assert_eq!(cosign.version_calls(), 0);
}
