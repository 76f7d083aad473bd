//! cosign: argv for `cosign sign`, `attest`, `verify` and `verify-attestation`, always by
//! digest, for the cosign major version `cosign version` reports (2.x or 3.x).
//!
//! Keys are named, never carried in argv: `--key env://COSIGN_PRIVATE_KEY` makes cosign read the
//! key from its environment, where the task puts it as an [`exec::Secret`](crate::exec::Secret)
//! together with `COSIGN_PASSWORD`. Without a key, signing is keyless (Sigstore's Fulcio and
//! Rekor, with the GitHub Actions OIDC token), and keyless verification pins the signer's
//! certificate identity and issuer.
//!
//! Loopback registries (a development registry on 127.0.0.1 or localhost) get
//! `--allow-insecure-registry`, and their signatures are kept out of the public transparency
//! log: `--tlog-upload=false` to sign and attest, `--insecure-ignore-tlog=true` to verify. On
//! cosign 3 that needs `--use-signing-config=false` too (see [`no_tlog`]).
//!
//! The rules come from sigstore/cosign's own source at v2.5.x and v3.1.x:
//! `cmd/cosign/cli/options/{sign,attest,verify,predicate}.go` (the flags) and
//! `cmd/cosign/cli/signcommon/common.go` (`LoadTrustedMaterialAndSigningConfig`).

use crate::exec::{Cmd, Secret};
use crate::image_ref::ImageRef;
use anyhow::{Context, Result, bail};

/// How to sign or verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A key reference cosign resolves: `env://NAME`, a file, or a KMS URI.
    Ref(String),
    /// Sigstore keyless (OIDC, Fulcio, Rekor).
    Keyless,
}

impl Key {
    /// The variable an `env://NAME` key is read from.
    pub fn env_var(&self) -> Option<&str> {
        match self {
            Key::Ref(r) => r.strip_prefix("env://"),
            Key::Keyless => None,
        }
    }
}

/// The signer a keyless signature must come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub identity_regexp: String,
    pub oidc_issuer: String,
}

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

impl Identity {
    /// Any workflow of `repository` (`owner/name`) on `server` (`https://github.com`).
    pub fn github(server: &str, repository: &str) -> Identity {
        let prefix = format!(
            "{}/{repository}/.github/workflows/",
            server.trim_end_matches('/')
        );
        Identity {
            identity_regexp: format!("^{}", escape_regex(&prefix)),
            oidc_issuer: GITHUB_ISSUER.to_string(),
        }
    }
}

/// Escapes the characters a regular expression gives a meaning to.
pub fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The cosign major versions whose argv this module knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Major {
    V2,
    V3,
}

impl Major {
    /// The newest major this module knows: what `sign --dry-run` assumes without a cosign.
    pub const NEWEST: Major = Major::V3;

    /// `2.x (v2.5)`, `3.x (v3.1)`: the release line whose flags the argv follows.
    pub fn label(self) -> &'static str {
        match self {
            Major::V2 => "2.x (v2.5)",
            Major::V3 => "3.x (v3.1)",
        }
    }
}

/// What an unknown version is told.
pub const SUPPORTED: &str = "cosign 2.x (v2.5) and 3.x (v3.1)";

/// `cosign version` (it prints `GitVersion: vX.Y.Z` on stderr).
pub fn version_cmd() -> Cmd {
    Cmd::new("cosign").arg("version")
}

/// The major version in `cosign version`'s output (stdout and stderr together).
pub fn parse_version(output: &str) -> Result<Major> {
    let version = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("GitVersion:"))
        .map(|v| v.trim().trim_start_matches('v'))
        .with_context(|| {
            format!(
                "`cosign version` printed no GitVersion line; {SUPPORTED} are supported:\n{}",
                output.trim_end()
            )
        })?;
    match version.split('.').next() {
        Some("2") => Ok(Major::V2),
        Some("3") => Ok(Major::V3),
        _ => bail!(
            "cosign {version} is not supported: {SUPPORTED} are; install one of them \
             (sigstore/cosign-installer with cosign-release: v3.1.2)"
        ),
    }
}

/// Where the signature goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// Must carry a digest.
    pub reference: &'a ImageRef,
    /// Plain HTTP or unverified TLS (`--allow-insecure-registry`).
    pub insecure: bool,
    /// Upload to / check against the public transparency log (off for loopback registries).
    pub tlog: bool,
    /// The cosign that runs.
    pub major: Major,
}

impl Target<'_> {
    /// `name@sha256:…` (a tag next to the digest is dropped), or an error for a tag-only ref.
    pub fn by_digest(&self) -> Result<String> {
        by_digest(self.reference)
    }
}

/// `name@sha256:…` of `reference` (a tag next to the digest is dropped), or an error for a
/// tag-only reference: checked before cosign runs at all.
pub fn by_digest(reference: &ImageRef) -> Result<String> {
    match &reference.digest {
        Some(digest) => Ok(reference.with_digest(digest).to_string()),
        None => bail!(
            "cosign signs and verifies only by digest, and {reference} names a tag: a tag can be \
             moved to another image after signing; pass NAME@sha256:…, --digest or --sha, or use \
             the build record of a pushed build"
        ),
    }
}

fn registry_flags(mut cmd: Cmd, target: &Target) -> Cmd {
    if target.insecure {
        cmd = cmd.arg("--allow-insecure-registry");
    }
    cmd
}

fn with_secrets(cmd: Cmd, secrets: Vec<Secret>) -> Cmd {
    secrets.into_iter().fold(cmd, |cmd, secret| {
        let name = secret.name.clone();
        cmd.env_secret(&name, secret)
    })
}

/// The flags that keep a signature or attestation out of the transparency log.
///
/// cosign 2: `--tlog-upload=false`. cosign 3 signs through a signing config by default, and
/// `LoadTrustedMaterialAndSigningConfig` refuses `--tlog-upload=false` next to one. Of its two
/// ways out, a signing config without tlog services (a JSON file from `cosign signing-config
/// create`) or `--use-signing-config=false`, we take the flag: a key-signed image in a
/// loopback or MicroK8s registry involves no Sigstore service at all, so there is no service
/// list to keep in a file, no file to write or clean up, and nothing fetched from the public
/// TUF root; the signature still goes to the registry as a bundle (`--new-bundle-format` and
/// upload stay at their defaults, which the PreRunE check needs).
fn no_tlog(cmd: Cmd, major: Major) -> Cmd {
    match major {
        Major::V2 => cmd.arg("--tlog-upload=false"),
        Major::V3 => cmd.args(["--use-signing-config=false", "--tlog-upload=false"]),
    }
}

fn signer(subcommand: &str, target: &Target, key: &Key) -> Result<Cmd> {
    if *key == Key::Keyless && !target.tlog {
        bail!(
            "keyless signing needs the public transparency log, which a loopback registry's \
             image stays out of: pass --key (e.g. env://COSIGN_PRIVATE_KEY)"
        );
    }
    let mut cmd = Cmd::new("cosign").args([subcommand, "--yes"]);
    if let Key::Ref(r) = key {
        cmd = cmd.args(["--key", r]);
    }
    Ok(cmd)
}

fn finish(cmd: Cmd, target: &Target, secrets: Vec<Secret>, reference: String) -> Cmd {
    let cmd = if target.tlog {
        cmd
    } else {
        no_tlog(cmd, target.major)
    };
    with_secrets(registry_flags(cmd, target), secrets).arg(reference)
}

/// `cosign sign --yes [--key KEY] [no-tlog flags] [--allow-insecure-registry] REF@DIGEST`.
/// `secrets` (the key, its password) go into cosign's environment.
pub fn sign(target: &Target, key: &Key, secrets: Vec<Secret>) -> Result<Cmd> {
    let reference = target.by_digest()?;
    let cmd = signer("sign", target, key)?;
    Ok(finish(cmd, target, secrets, reference))
}

/// `cosign attest --yes [--key KEY] --type cyclonedx --predicate SBOM [no-tlog flags]
/// [--allow-insecure-registry] REF@DIGEST`: the SBOM as a signed in-toto attestation of the same
/// digest, with the same key (or keyless).
pub fn attest_sbom(
    target: &Target,
    key: &Key,
    sbom: &std::path::Path,
    secrets: Vec<Secret>,
) -> Result<Cmd> {
    let reference = target.by_digest()?;
    let cmd = signer("attest", target, key)?
        .args(["--type", "cyclonedx", "--predicate"])
        .arg(sbom.display().to_string());
    Ok(finish(cmd, target, secrets, reference))
}

fn verifier(
    subcommand: &str,
    target: &Target,
    key: &Key,
    identity: Option<&Identity>,
) -> Result<Cmd> {
    let mut cmd = Cmd::new("cosign").arg(subcommand);
    match (key, identity) {
        (Key::Ref(r), _) => cmd = cmd.args(["--key", r]),
        (Key::Keyless, Some(id)) => {
            if !target.tlog {
                bail!("keyless verification needs the public transparency log: pass --key");
            }
            cmd = cmd
                .args(["--certificate-identity-regexp", &id.identity_regexp])
                .args(["--certificate-oidc-issuer", &id.oidc_issuer]);
        }
        (Key::Keyless, None) => bail!(
            "keyless verification needs the signer's identity: pass \
             --certificate-identity-regexp (GITHUB_REPOSITORY gives a default), or --key"
        ),
    }
    Ok(cmd)
}

fn finish_verify(cmd: Cmd, target: &Target, secrets: Vec<Secret>, reference: String) -> Cmd {
    let cmd = if target.tlog {
        cmd
    } else {
        cmd.arg("--insecure-ignore-tlog=true")
    };
    // Verifying only reads the registry (and the log): it gets the network timeout. Signing,
    // which may wait for a browser login (keyless), does not.
    let registry = crate::registry::registry_host(target.reference);
    with_secrets(registry_flags(cmd, target), secrets)
        .arg(reference)
        .talks_to(registry)
}

/// `cosign verify --key KEY REF@DIGEST`, or keyless with `--certificate-identity-regexp` and
/// `--certificate-oidc-issuer`. The same argv for cosign 2 and 3.
pub fn verify(
    target: &Target,
    key: &Key,
    identity: Option<&Identity>,
    secrets: Vec<Secret>,
) -> Result<Cmd> {
    let cmd = verifier("verify", target, key, identity)?;
    Ok(finish_verify(cmd, target, secrets, target.by_digest()?))
}

/// `cosign verify-attestation … --type cyclonedx …`: a CycloneDX SBOM attestation signed by the
/// same key or identity as the image.
pub fn verify_sbom_attestation(
    target: &Target,
    key: &Key,
    identity: Option<&Identity>,
    secrets: Vec<Secret>,
) -> Result<Cmd> {
    let cmd = verifier("verify-attestation", target, key, identity)?.args(["--type", "cyclonedx"]);
    Ok(finish_verify(cmd, target, secrets, target.by_digest()?))
}

/// Does cosign's stderr say the signature check itself failed (exit 1 for us), as opposed to
/// a registry, network or usage error (exit 2)?
pub fn is_verification_failure(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    [
        "no matching signatures",
        "no signatures found",
        "invalid signature",
        "failed to verify signature",
        "none of the expected identities matched",
    ]
    .iter()
    .any(|needle| s.contains(needle))
}

/// `cosign tree --experimental-oci11 REF@DIGEST`: the signatures, attestations and SBOMs
/// attached to an image, both as `sha256-<hex>.sig` tags and as OCI referrers (cosign v3 signs
/// as referrers by default; v2.5 lists them only with the flag, which v3 still accepts).
pub fn tree(target: &Target) -> Result<Cmd> {
    let reference = target.by_digest()?;
    let cmd = Cmd::new("cosign").args(["tree", "--experimental-oci11"]);
    let registry = crate::registry::registry_host(target.reference);
    Ok(registry_flags(cmd, target)
        .arg(reference)
        .talks_to(registry))
}

/// Does `cosign tree`'s stdout list a signature: the legacy signature tag, or a referrer that
/// is a signature bundle (its predicate type is cosign's sign predicate)?
pub fn tree_has_signature(stdout: &str) -> bool {
    stdout.lines().any(|l| {
        l.contains("Signatures for an image tag:")
            || (l.contains("artifacts via OCI referrer:")
                && (l.contains("https://sigstore.dev/cosign/sign/v1")
                    || l.contains("application/vnd.dev.sigstore.bundle")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> String {
        format!("sha256:{}", "a".repeat(64))
    }

    fn reference(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    /// A loopback registry's target: plain HTTP, no tlog.
    fn loopback(r: &ImageRef, major: Major) -> Target<'_> {
        Target {
            reference: r,
            insecure: true,
            tlog: false,
            major,
        }
    }

    fn secrets() -> Vec<Secret> {
        vec![
            Secret::new("COSIGN_PRIVATE_KEY", "-----BEGIN KEY----- s3cret".into()),
            Secret::new("COSIGN_PASSWORD", "hunter2".into()),
        ]
    }

    #[test]
    fn sign_with_a_key_from_env_by_digest() {
        let r = reference(&format!(
            "ghcr.io/dcasati/python-base:sha-abc1234@{}",
            digest()
        ));
        let target = Target {
            reference: &r,
            insecure: false,
            tlog: true,
            major: Major::V2,
        };
        let cmd = sign(
            &target,
            &Key::Ref("env://COSIGN_PRIVATE_KEY".into()),
            secrets(),
        )
        .unwrap();
        assert_eq!(
            cmd.argv(),
            [
                "cosign",
                "sign",
                "--yes",
                "--key",
                "env://COSIGN_PRIVATE_KEY",
                &format!("ghcr.io/dcasati/python-base@{}", digest())
            ]
        );
        let line = cmd.to_string();
        assert!(
            line.starts_with(
                "COSIGN_PRIVATE_KEY=\"$COSIGN_PRIVATE_KEY\" COSIGN_PASSWORD=\"$COSIGN_PASSWORD\" cosign sign"
            ),
            "{line}"
        );
        assert!(!format!("{line}{cmd:?}").contains("s3cret"));
        assert!(!format!("{line}{cmd:?}").contains("hunter2"));
    }

    #[test]
    fn loopback_registry_skips_the_tlog_and_allows_http() {
        let r = reference(&format!("127.0.0.1:5000/homelab/python-base@{}", digest()));
        let target = loopback(&r, Major::V2);
        let key = Key::Ref("cosign.key".into());
        assert_eq!(
            sign(&target, &key, vec![]).unwrap().argv()[2..],
            [
                "--yes",
                "--key",
                "cosign.key",
                "--tlog-upload=false",
                "--allow-insecure-registry",
                &r.to_string()
            ]
        );
        assert_eq!(
            verify(&target, &Key::Ref("cosign.pub".into()), None, vec![])
                .unwrap()
                .argv()[1..],
            [
                "verify",
                "--key",
                "cosign.pub",
                "--insecure-ignore-tlog=true",
                "--allow-insecure-registry",
                &r.to_string()
            ]
        );
        let err = sign(&target, &Key::Keyless, vec![]).unwrap_err();
        assert!(err.to_string().contains("pass --key"), "{err}");
    }

    #[test]
    fn keyless_sign_and_verify_pin_the_workflow_identity() {
        let r = reference(&format!("ghcr.io/dcasati/python-base@{}", digest()));
        let target = Target {
            reference: &r,
            insecure: false,
            tlog: true,
            major: Major::V2,
        };
        assert_eq!(
            sign(&target, &Key::Keyless, vec![]).unwrap().argv(),
            ["cosign", "sign", "--yes", &r.to_string()]
        );
        let id = Identity::github("https://github.com/", "dcasati/homelab");
        assert_eq!(
            id.identity_regexp,
            r"^https://github\.com/dcasati/homelab/\.github/workflows/"
        );
        assert_eq!(
            verify(&target, &Key::Keyless, Some(&id), vec![])
                .unwrap()
                .argv(),
            [
                "cosign",
                "verify",
                "--certificate-identity-regexp",
                r"^https://github\.com/dcasati/homelab/\.github/workflows/",
                "--certificate-oidc-issuer",
                "https://token.actions.githubusercontent.com",
                &r.to_string()
            ]
        );
        let err = verify(&target, &Key::Keyless, None, vec![]).unwrap_err();
        assert!(err.to_string().contains("--certificate-identity-regexp"));
    }

    #[test]
    fn a_tag_only_reference_is_refused() {
        let r = reference("ghcr.io/dcasati/python-base:sha-abc1234");
        let target = Target {
            reference: &r,
            insecure: false,
            tlog: true,
            major: Major::V2,
        };
        for err in [
            sign(&target, &Key::Keyless, vec![]).unwrap_err(),
            verify(&target, &Key::Ref("k.pub".into()), None, vec![]).unwrap_err(),
        ] {
            let err = err.to_string();
            assert!(
                err.contains("only by digest") && err.contains("python-base:sha-abc1234"),
                "{err}"
            );
        }
    }

    #[test]
    fn env_keys_name_their_variable() {
        assert_eq!(
            Key::Ref("env://COSIGN_PRIVATE_KEY".into()).env_var(),
            Some("COSIGN_PRIVATE_KEY")
        );
        assert_eq!(Key::Ref("cosign.key".into()).env_var(), None);
        assert_eq!(Key::Keyless.env_var(), None);
    }

    #[test]
    fn verification_failures_are_told_from_tool_errors() {
        assert!(is_verification_failure(
            "Error: no matching signatures:\nerror verifying signature"
        ));
        assert!(is_verification_failure(
            "Error: no signatures found for image"
        ));
        assert!(!is_verification_failure(
            "Error: GET https://127.0.0.1:5000/v2/: connection refused"
        ));
        assert_eq!(escape_regex("a.b+c"), r"a\.b\+c");
    }

    #[test]
    fn version_is_read_from_git_version_and_unknown_majors_are_refused() {
        let v2 = "  ______   ______\ncosign: A tool for Container Signing\n\nGitVersion:    v2.5.3\nGitCommit:     abc\n";
        assert_eq!(parse_version(v2).unwrap(), Major::V2);
        assert_eq!(parse_version("GitVersion:    v3.1.2\n").unwrap(), Major::V3);
        let err = parse_version("GitVersion:    v4.0.0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cosign 4.0.0 is not supported") && err.contains(SUPPORTED),
            "{err}"
        );
        let err = parse_version("cosign v1\n").unwrap_err().to_string();
        assert!(
            err.contains("no GitVersion line") && err.contains(SUPPORTED),
            "{err}"
        );
        assert_eq!(version_cmd().argv(), ["cosign", "version"]);
    }

    #[test]
    fn cosign_3_keeps_a_loopback_signature_out_of_the_tlog_without_a_signing_config() {
        let r = reference(&format!("127.0.0.1:5000/homelab/python-base@{}", digest()));
        let target = loopback(&r, Major::V3);
        let key = Key::Ref("env://COSIGN_PRIVATE_KEY".into());
        let tail = [
            "--use-signing-config=false",
            "--tlog-upload=false",
            "--allow-insecure-registry",
        ];
        let argv = sign(&target, &key, vec![]).unwrap().argv().join(" ");
        assert_eq!(
            argv,
            format!(
                "cosign sign --yes --key env://COSIGN_PRIVATE_KEY {} {r}",
                tail.join(" ")
            )
        );
        let sbom = std::path::Path::new("/w/sbom.cdx.json");
        let argv = attest_sbom(&target, &key, sbom, vec![])
            .unwrap()
            .argv()
            .join(" ");
        assert_eq!(
            argv,
            format!(
                "cosign attest --yes --key env://COSIGN_PRIVATE_KEY --type cyclonedx --predicate \
                 /w/sbom.cdx.json {} {r}",
                tail.join(" ")
            )
        );
        let public = Key::Ref("env://COSIGN_PUBLIC_KEY".into());
        assert_eq!(
            verify_sbom_attestation(&target, &public, None, vec![])
                .unwrap()
                .argv()
                .join(" "),
            format!(
                "cosign verify-attestation --key env://COSIGN_PUBLIC_KEY --type cyclonedx \
                 --insecure-ignore-tlog=true --allow-insecure-registry {r}"
            )
        );
        // cosign 2 has no signing config: the tlog flag alone.
        let v2 = Target {
            major: Major::V2,
            ..target
        };
        assert_eq!(
            attest_sbom(&v2, &key, sbom, vec![]).unwrap().argv()[2..],
            [
                "--yes",
                "--key",
                "env://COSIGN_PRIVATE_KEY",
                "--type",
                "cyclonedx",
                "--predicate",
                "/w/sbom.cdx.json",
                "--tlog-upload=false",
                "--allow-insecure-registry",
                &r.to_string()
            ]
        );
        // With the public log (ghcr.io), both versions get the same argv: their defaults.
        let public_target = Target {
            tlog: true,
            insecure: false,
            ..target
        };
        assert_eq!(
            sign(&public_target, &Key::Keyless, vec![]).unwrap().argv(),
            ["cosign", "sign", "--yes", &r.to_string()]
        );
        let id = Identity::github("https://github.com", "dcasati/homelab");
        assert_eq!(
            verify_sbom_attestation(&public_target, &Key::Keyless, Some(&id), vec![])
                .unwrap()
                .argv()[1..4],
            [
                "verify-attestation",
                "--certificate-identity-regexp",
                &id.identity_regexp
            ]
        );
    }

    #[test]
    fn tree_lists_signatures_by_tag_or_referrer() {
        let r = reference(&format!("127.0.0.1:5000/h/python-base@{}", digest()));
        let target = Target {
            reference: &r,
            insecure: true,
            tlog: false,
            major: Major::V2,
        };
        assert_eq!(
            tree(&target).unwrap().argv(),
            [
                "cosign",
                "tree",
                "--experimental-oci11",
                "--allow-insecure-registry",
                &r.to_string()
            ]
        );
        let tagged = reference("ghcr.io/dcasati/python-base:sha-abc1234");
        let target = Target {
            reference: &tagged,
            insecure: false,
            tlog: true,
            major: Major::V2,
        };
        assert!(tree(&target).is_err(), "by digest only");
        let legacy = "📦 Supply Chain Security Related artifacts for an image: x\n\
                      └── 🔐 Signatures for an image tag: x:sha256-aa.sig\n   └── 🍒 sha256:bb\n";
        assert!(tree_has_signature(legacy));
        let referrer =
            "└── 🔗 https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer: x@sha256:cc\n";
        assert!(tree_has_signature(referrer));
        let sbom_only = "└── 🔗 https://cyclonedx.org/bom artifacts via OCI referrer: x@sha256:dd\n\
                         └── 📦 SBOMs for an image tag: x:sha256-aa.sbom\n";
        assert!(!tree_has_signature(sbom_only));
        assert!(!tree_has_signature(
            "No Supply Chain Security Related Artifacts found for image x"
        ));
    }
}
