//! cosign: argv for `cosign sign` and `cosign verify`, always by digest.
//!
//! Keys are named, never carried in argv: `--key env://COSIGN_PRIVATE_KEY` makes cosign read the
//! key from its environment, where the task puts it as an [`exec::Secret`](crate::exec::Secret)
//! together with `COSIGN_PASSWORD`. Without a key, signing is keyless (Sigstore's Fulcio and
//! Rekor, with the GitHub Actions OIDC token), and keyless verification pins the signer's
//! certificate identity and issuer.
//!
//! Loopback registries (a development registry on 127.0.0.1 or localhost) get
//! `--allow-insecure-registry`, and their signatures are kept out of the public transparency
//! log: `--tlog-upload=false` to sign, `--insecure-ignore-tlog=true` to verify.

use crate::exec::{Cmd, Secret};
use crate::image_ref::ImageRef;
use anyhow::{Result, bail};

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

/// Where the signature goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// Must carry a digest.
    pub reference: &'a ImageRef,
    /// Plain HTTP or unverified TLS (`--allow-insecure-registry`).
    pub insecure: bool,
    /// Upload to / check against the public transparency log (off for loopback registries).
    pub tlog: bool,
}

impl Target<'_> {
    /// `name@sha256:…` (a tag next to the digest is dropped), or an error for a tag-only ref.
    fn by_digest(&self) -> Result<String> {
        match &self.reference.digest {
            Some(digest) => Ok(self.reference.with_digest(digest).to_string()),
            None => bail!(
                "cosign signs and verifies only by digest, and {} names a tag: a tag can be moved \
                 to another image after signing; pass NAME@sha256:…, --digest or --sha, or use the \
                 build record of a pushed build",
                self.reference
            ),
        }
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

/// `cosign sign --yes [--key KEY] [--tlog-upload=false] [--allow-insecure-registry] REF@DIGEST`.
/// `secrets` (the key, its password) go into cosign's environment.
pub fn sign(target: &Target, key: &Key, secrets: Vec<Secret>) -> Result<Cmd> {
    let reference = target.by_digest()?;
    if *key == Key::Keyless && !target.tlog {
        bail!(
            "keyless signing needs the public transparency log, which a loopback registry's \
             image stays out of: pass --key (e.g. env://COSIGN_PRIVATE_KEY)"
        );
    }
    let mut cmd = Cmd::new("cosign").args(["sign", "--yes"]);
    if let Key::Ref(r) = key {
        cmd = cmd.args(["--key", r]);
    }
    if !target.tlog {
        cmd = cmd.arg("--tlog-upload=false");
    }
    Ok(with_secrets(registry_flags(cmd, target), secrets).arg(reference))
}

/// `cosign verify --key KEY REF@DIGEST`, or keyless with `--certificate-identity-regexp` and
/// `--certificate-oidc-issuer`.
pub fn verify(
    target: &Target,
    key: &Key,
    identity: Option<&Identity>,
    secrets: Vec<Secret>,
) -> Result<Cmd> {
    let reference = target.by_digest()?;
    let mut cmd = Cmd::new("cosign").arg("verify");
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
    if !target.tlog {
        cmd = cmd.arg("--insecure-ignore-tlog=true");
    }
    Ok(with_secrets(registry_flags(cmd, target), secrets).arg(reference))
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
    Ok(registry_flags(cmd, target).arg(reference))
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
        let target = Target {
            reference: &r,
            insecure: true,
            tlog: false,
        };
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
    fn tree_lists_signatures_by_tag_or_referrer() {
        let r = reference(&format!("127.0.0.1:5000/h/python-base@{}", digest()));
        let target = Target {
            reference: &r,
            insecure: true,
            tlog: false,
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
