//! `cargo xtask sign`: sign the base image with cosign (and with `--attest-sbom FILE` attest
//! its CycloneDX SBOM), or `--verify` the signature (and the attestation), always by digest:
//! from the build record of a pushed build (whose tag must still hold that digest), `--digest`,
//! `--sha` (the tag's digest read from the registry) or a full `--image REF@sha256:…`. A
//! tag-only reference is refused before cosign runs. The argv follows the cosign major version
//! `cosign version` reports (2.x or 3.x; see [`crate::cosign`]).
//!
//! The key and its password reach cosign only through its environment (`env://` key
//! references, `COSIGN_PASSWORD`); cosign's output is then captured and redacted before it is
//! shown. Keyless signing, which involves no secret of ours, streams (it may print a login URL).
//! A failed verification exits 1; a missing cosign or a cosign error exits 2.

use crate::cosign::{self, Identity, Key};
use crate::engine::{Choice, read_tool};
use crate::exec::{Cmd, Runner, Secret};
use crate::flags;
use crate::image_ref::{ImageRef, is_digest};
use crate::registry::remote_digest;
use crate::resolve::{self, FromRecord, Purpose};
use crate::tools::{self, COSIGN};
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::path::Path;

pub fn run(flags: &flags::Sign, ctx: &Ctx) -> Result<Status> {
    let runner = Runner::new(flags.dry_run, ctx.settings.network_timeout)?;
    // A dry run previews the commands without cosign installed.
    let installed = tools::find(COSIGN).is_some();
    runner.show_or_run(|| Ok(()), || tools::require(COSIGN).map(|_| ()))?;
    let reference = reference(flags, ctx, &runner)?;
    cosign::by_digest(&reference)?;
    let key = key(flags)?;
    let secrets = secrets(&key, flags.verify)?;
    if let Some(sbom) = &flags.attest_sbom
        && !sbom.is_file()
    {
        bail!("--attest-sbom {}: no such file", sbom.display());
    }
    let major = if installed {
        let version = runner.output(&cosign::version_cmd())?;
        cosign::parse_version(&format!("{}{}", version.stdout, version.stderr))?
    } else {
        cosign::Major::NEWEST
    };
    let source = if installed {
        "the installed cosign's major version".to_string()
    } else {
        format!(
            "cosign is not on PATH, so the newest supported is assumed; to run it, {}",
            COSIGN.hint
        )
    };
    runner.show_or_run(
        || {
            eprintln!(
                "dry run: cosign argv for cosign {} ({source})",
                major.label()
            )
        },
        || (),
    );
    let target = cosign::Target {
        reference: &reference,
        insecure: resolve::plain_http(&reference, flags.target.insecure_registry),
        // No transparency log entry for an image in a loopback registry.
        tlog: !resolve::plain_http(&reference, false),
        major,
    };
    let plan = plan(flags, &target, &key, secrets)?;
    for cmd in &plan {
        if !run_one(&runner, cmd, flags.verify, &key)? {
            let what = if cmd.argv()[1] == "verify" {
                "signature"
            } else {
                "CycloneDX attestation"
            };
            let who = who(&key);
            eprintln!("verification FAILED: {reference} has no valid {what} for {who}");
            return Ok(Status::Found);
        }
    }
    runner.for_real(|| {
        report(flags, &reference, &key);
        Ok(())
    })?;
    Ok(Status::Clean)
}

/// The cosign commands, in order: sign (and attest the SBOM), or verify (and the attestation).
fn plan(
    flags: &flags::Sign,
    target: &cosign::Target,
    key: &Key,
    secrets: Vec<Secret>,
) -> Result<Vec<Cmd>> {
    let mut plan = Vec::new();
    if flags.verify {
        let id = identity(flags);
        plan.push(cosign::verify(target, key, id.as_ref(), secrets.clone())?);
        if attestation(flags) {
            plan.push(cosign::verify_sbom_attestation(
                target,
                key,
                id.as_ref(),
                secrets,
            )?);
        }
    } else {
        plan.push(cosign::sign(target, key, secrets.clone())?);
        if let Some(sbom) = &flags.attest_sbom {
            let sbom = std::path::absolute(sbom)?;
            plan.push(cosign::attest_sbom(target, key, &sbom, secrets)?);
        }
    }
    Ok(plan)
}

fn attestation(flags: &flags::Sign) -> bool {
    flags.attest_sbom.is_some() || flags.attestations
}

/// What was signed or verified: on stderr, and the signed reference on stdout.
fn report(flags: &flags::Sign, reference: &ImageRef, key: &Key) {
    let what = if attestation(flags) {
        "signed and attested"
    } else {
        "signed"
    };
    if flags.verify {
        eprintln!("verified: {reference} is {what} by {}", who(key));
    } else {
        eprintln!("{what}: {reference}");
        println!("{reference}");
    }
}

/// Runs one cosign command; `false` when a verification failed (exit 1 for us). Keyless
/// signing, which involves no secret of ours, streams (it may print a login URL and wait);
/// everything else is captured and redacted before it is shown.
fn run_one(runner: &Runner, cmd: &Cmd, verify: bool, key: &Key) -> Result<bool> {
    if *key == Key::Keyless && !verify {
        runner.run_to_stderr(cmd)?;
        return Ok(true);
    }
    let out = runner.run_captured(cmd)?;
    let stderr = cmd.redact(out.stderr.trim_end());
    if verify && !out.success() && cosign::is_verification_failure(&out.stderr) {
        eprintln!("{stderr}");
        return Ok(false);
    }
    if !out.success() {
        bail!(
            "`{cmd}` failed with {}:\n{stderr}",
            out.code
                .map_or("a signal".into(), |c| format!("exit code {c}"))
        );
    }
    if !stderr.is_empty() {
        eprintln!("{stderr}");
    }
    if verify {
        print!("{}", cmd.redact(&out.stdout));
    }
    Ok(true)
}

fn who(key: &Key) -> String {
    match key {
        Key::Ref(r) => format!("key {r}"),
        Key::Keyless => "the expected keyless identity".into(),
    }
}

/// The reference to sign, with its digest (or, when only a tag is known, without: cosign's argv
/// builder refuses it).
fn reference(flags: &flags::Sign, ctx: &Ctx, runner: &Runner) -> Result<ImageRef> {
    let given = flags.target.image.as_deref();
    if let Some(given) = given.filter(|g| ctx.settings.image(g).is_err()) {
        return full_reference(flags, ctx, given);
    }
    let wanted = flags.target.wanted();
    let (target, _) = resolve::target(&ctx.root, &ctx.settings, &wanted, Purpose::Existing)?;
    if let Some(d) = &flags.digest {
        return Ok(target.name.with_digest(&checked_digest(d)?));
    }
    if flags.target.sha.is_some() {
        let tagged = target.reference().expect("--sha names a tag");
        let tool = read_tool(Choice::Auto, runner)?;
        let digest = remote_digest(runner, tool, &tagged, target.plain_http(&tagged))?
            .with_context(|| format!("{tagged} is not in the registry: push it first"))?;
        return Ok(target.name.with_digest(&digest));
    }
    match target.lookup(runner)? {
        Some(FromRecord::Digest(reference)) => Ok(reference),
        Some(FromRecord::Unpushed(r)) => bail!(
            "the build record of {} says {} was built but not pushed: push it first \
             (cargo xtask push), then sign",
            target.image.name,
            r.reference()
        ),
        Some(FromRecord::Tagged(r)) => Ok(target.name.with_tag(&r.tag)),
        None => Err(target.no_record(&ctx.root, "build-base --push", "--digest or --sha")),
    }
}

/// `--image REGISTRY/PATH[@sha256:…]`: a full reference, with `--digest` when given.
fn full_reference(flags: &flags::Sign, ctx: &Ctx, given: &str) -> Result<ImageRef> {
    let r = match ImageRef::parse(given) {
        Ok(r) if r.registry.is_some() => r,
        _ => bail!(
            "--image {given}: neither a configured image ({}) nor a full reference \
             REGISTRY/PATH@sha256:…",
            ctx.settings.image_list()
        ),
    };
    if flags.target.sha.is_some() || flags.target.registry.is_some() {
        bail!("--image {given} is a full reference: --sha and --registry need an image name");
    }
    match &flags.digest {
        Some(d) => Ok(r.with_digest(&checked_digest(d)?)),
        None => Ok(r),
    }
}

fn checked_digest(d: &str) -> Result<String> {
    if !is_digest(d) {
        bail!("--digest {d}: not a digest (sha256: and 64 lowercase hex digits)");
    }
    Ok(d.to_string())
}

/// `--key`, else `env://COSIGN_PRIVATE_KEY` (sign) / `env://COSIGN_PUBLIC_KEY` (verify) when
/// that variable is set, else keyless.
fn key(flags: &flags::Sign) -> Result<Key> {
    if let Some(key) = &flags.key {
        if !key.contains("://") && !Path::new(key).is_file() {
            bail!("--key {key}: no such file (or pass env://VAR or a KMS URI)");
        }
        return Ok(Key::Ref(key.clone()));
    }
    let var = if flags.verify {
        "COSIGN_PUBLIC_KEY"
    } else {
        "COSIGN_PRIVATE_KEY"
    };
    Ok(match Secret::from_env(var) {
        Some(_) => Key::Ref(format!("env://{var}")),
        None => Key::Keyless,
    })
}

/// The `env://` key's variable and, to sign, `COSIGN_PASSWORD`: for cosign's environment.
fn secrets(key: &Key, verify: bool) -> Result<Vec<Secret>> {
    let mut secrets = Vec::new();
    if let Some(var) = key.env_var() {
        secrets.push(
            Secret::from_env(var)
                .with_context(|| format!("--key env://{var}: the variable {var} is not set"))?,
        );
    }
    if !verify
        && *key != Key::Keyless
        && let Some(password) = Secret::from_env("COSIGN_PASSWORD")
    {
        secrets.push(password);
    }
    Ok(secrets)
}

/// `--certificate-identity-regexp`, else any workflow of GITHUB_REPOSITORY on GITHUB_SERVER_URL.
fn identity(flags: &flags::Sign) -> Option<Identity> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let regexp = flags.certificate_identity_regexp.clone().or_else(|| {
        let server = env("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        env("GITHUB_REPOSITORY").map(|repo| Identity::github(&server, &repo).identity_regexp)
    })?;
    Some(Identity {
        identity_regexp: regexp,
        oidc_issuer: flags.certificate_oidc_issuer.clone(),
    })
}
