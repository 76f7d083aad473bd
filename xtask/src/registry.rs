//! The registries: which tool reads them (skopeo, or docker buildx imagetools), the digest of a
//! tag, logins, and, pure, the argv of those tools (inspect, copy, login) and the parsers for
//! what they print. Shared by build-base, push, sign, trivy-scan, doctor and update-images
//! (`--verify`, `--digest`).

use crate::exec::{Cmd, Runner, Secret};
use crate::image_ref::{ImageRef, is_digest};
use crate::settings::Settings;

use anyhow::{Context, Result, bail};

/// The digest of `reference` in its registry; `None` when the tag does not exist. An unreachable
/// registry is an error, not a missing tag.
pub fn remote_digest(
    runner: &Runner,
    tool: RegistryTool,
    reference: &ImageRef,
    insecure: bool,
) -> Result<Option<String>> {
    let cmd = inspect_digest(tool, reference, insecure);
    digest_from(runner, tool, &cmd, reference)
}

/// The digest `cmd` (an [`inspect_digest`]-like read) prints; `None` when not found.
pub fn digest_from(
    runner: &Runner,
    tool: RegistryTool,
    cmd: &Cmd,
    reference: &ImageRef,
) -> Result<Option<String>> {
    let out = runner.output(cmd)?;
    if out.success() {
        return parse_inspect_digest(tool, &out.stdout)
            .map(Some)
            .with_context(|| format!("`{cmd}`"));
    }
    if is_not_found(&out.stderr) {
        return Ok(None);
    }
    bail!(
        "cannot read {reference} from its registry: `{cmd}` failed:\n{}",
        cmd.redact(out.stderr.trim_end())
    )
}

/// `<tool> login HOST -u USER --password-stdin` for the registry of `reference`.
pub fn login_cmd(
    settings: &Settings,
    tool: RegistryTool,
    reference: &ImageRef,
    insecure: bool,
) -> Result<Cmd> {
    let host = reference.registry.as_deref().unwrap_or("docker.io");
    let variable = token_variable(reference.host().unwrap_or(host));
    let token = Secret::from_env(variable)
        .with_context(|| format!("--login to {host} needs the token in {variable}"))?;
    let user = login_user(env("GITHUB_ACTOR"), settings.registry_user.clone())
        .with_context(|| format!("--login to {host}"))?;
    Ok(login(tool, host, &user, token, insecure))
}

/// The user to log in as: `GITHUB_ACTOR`, else `XTASK_REGISTRY_USER` / `registry-user`. It
/// becomes an argv item after `-u`, so it must not read as a flag (a leading `-`) nor carry
/// control characters or blanks into the command line and its printed form.
pub fn login_user(actor: Option<String>, configured: Option<String>) -> Result<String> {
    let (user, from) = match (actor, configured) {
        (Some(user), _) => (user, "GITHUB_ACTOR"),
        (None, Some(user)) => (user, "XTASK_REGISTRY_USER (or registry-user)"),
        (None, None) => bail!(
            "needs a user: set GITHUB_ACTOR, XTASK_REGISTRY_USER or registry-user in \
             [workspace.metadata.xtask]"
        ),
    };
    let hidden = |c: char| c.is_control() || c.is_whitespace() || crate::output::is_bidi(c);
    if user.starts_with('-') || user.chars().any(hidden) {
        bail!(
            "{from} = `{}` is not a registry user name: it must not start with `-` or hold \
             blanks, control or bidi characters",
            crate::output::escape(&user)
        );
    }
    Ok(user)
}

/// The digest of every reference (each with its tag, and whether its registry is plain HTTP) in
/// its registry; fails naming each tag that is missing.
pub fn require_digests(
    runner: &Runner,
    tool: RegistryTool,
    references: &[(ImageRef, bool)],
) -> Result<Vec<String>> {
    let mut digests = Vec::new();
    let mut missing = Vec::new();
    for ((reference, _), cmd) in references.iter().zip(verify_plan(tool, references)) {
        match digest_from(runner, tool, &cmd, reference)? {
            Some(digest) => digests.push(digest),
            None => missing.push(reference.to_string()),
        }
    }
    if !missing.is_empty() {
        bail!(
            "not in the registry: {}; build and push it first (cargo xtask build-base --sha SHA --push)",
            missing.join(", ")
        );
    }
    Ok(digests)
}

/// The registry reads behind `update-images --verify/--digest`: one inspect per reference,
/// plain HTTP where the reference says so (the resolver's loopback rule).
pub fn verify_plan(tool: RegistryTool, references: &[(ImageRef, bool)]) -> Vec<Cmd> {
    references
        .iter()
        .map(|(r, plain_http)| inspect_digest(tool, r, *plain_http))
        .collect()
}

// The argv of the registry tools and the parsers for what they print: pure.

/// The program that reads, copies and logs in to registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryTool {
    /// `docker buildx imagetools` and `docker login`.
    Docker,
    /// `skopeo inspect|copy|login`.
    Skopeo,
    /// `podman login` (podman reads and copies through skopeo).
    Podman,
}

/// Reads the digest of `reference` (a tag or digest) from its registry, without pulling.
pub fn inspect_digest(tool: RegistryTool, reference: &ImageRef, insecure: bool) -> Cmd {
    let cmd = match tool {
        RegistryTool::Docker => Cmd::new("docker").args([
            "buildx",
            "imagetools",
            "inspect",
            "--format",
            "{{json .Manifest}}",
            &reference.to_string(),
        ]),
        RegistryTool::Skopeo | RegistryTool::Podman => {
            let mut cmd = Cmd::new("skopeo").arg("inspect");
            if insecure {
                cmd = cmd.arg("--tls-verify=false");
            }
            cmd.args(["--format", "{{.Digest}}", &format!("docker://{reference}")])
        }
    };
    cmd.talks_to(registry_host(reference))
}

/// The registry a reference names (`docker.io` when it names none), for timeout messages.
pub fn registry_host(reference: &ImageRef) -> &str {
    reference.registry.as_deref().unwrap_or("docker.io")
}

/// The manifest (list) digest from [`inspect_digest`]'s stdout.
pub fn parse_inspect_digest(tool: RegistryTool, stdout: &str) -> Result<String> {
    let digest = match tool {
        RegistryTool::Docker => {
            let text = stdout.trim();
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => v["digest"].as_str().unwrap_or_default().to_string(),
                // The default, human format has a `Digest:` line.
                Err(_) => text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Digest:"))
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            }
        }
        RegistryTool::Skopeo | RegistryTool::Podman => stdout.trim().to_string(),
    };
    if !is_digest(&digest) {
        bail!(
            "expected a sha256 digest from the registry, got `{}`",
            stdout.trim()
        );
    }
    Ok(digest)
}

/// Does a failed inspect's stderr say that the tag does not exist (as opposed to the registry
/// being unreachable or refusing us)?
pub fn is_not_found(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("manifest unknown") || s.contains(": not found") || s.contains("name unknown")
}

/// Copies every platform of `source` (which carries its digest) to `dest`, registry to
/// registry, keeping the digest. Nothing is pulled into a local image store.
pub fn copy(
    tool: RegistryTool,
    source: &ImageRef,
    dest: &ImageRef,
    insecure_source: bool,
    insecure_dest: bool,
) -> Cmd {
    let hosts = format!("{} or {}", registry_host(source), registry_host(dest));
    let cmd = match tool {
        RegistryTool::Docker => Cmd::new("docker").args([
            "buildx",
            "imagetools",
            "create",
            "--tag",
            &dest.to_string(),
            &source.to_string(),
        ]),
        RegistryTool::Skopeo | RegistryTool::Podman => {
            let mut cmd = Cmd::new("skopeo").args(["copy", "--all", "--preserve-digests"]);
            if insecure_source {
                cmd = cmd.arg("--src-tls-verify=false");
            }
            if insecure_dest {
                cmd = cmd.arg("--dest-tls-verify=false");
            }
            cmd.args([format!("docker://{source}"), format!("docker://{dest}")])
        }
    };
    cmd.talks_to(&hosts)
}

/// `<tool> login HOST -u USER --password-stdin`, the token on stdin only.
pub fn login(tool: RegistryTool, host: &str, user: &str, token: Secret, insecure: bool) -> Cmd {
    let program = match tool {
        RegistryTool::Docker => "docker",
        RegistryTool::Podman => "podman",
        RegistryTool::Skopeo => "skopeo",
    };
    let mut cmd = Cmd::new(program).args(["login", host, "-u", user, "--password-stdin"]);
    if insecure && tool != RegistryTool::Docker {
        cmd = cmd.arg("--tls-verify=false");
    }
    cmd.stdin_secret(token).talks_to(host)
}

/// The token for `host`: `GITHUB_TOKEN` for ghcr.io, else `REGISTRY_TOKEN`.
pub fn token_variable(host: &str) -> &'static str {
    if host == "ghcr.io" {
        "GITHUB_TOKEN"
    } else {
        "REGISTRY_TOKEN"
    }
}

/// Reads the raw manifest (or image index) of `reference` from its registry, without pulling.
pub fn inspect_raw(tool: RegistryTool, reference: &ImageRef, insecure: bool) -> Cmd {
    inspect(tool, reference, insecure, &["--raw"], &["--raw"])
}

/// Reads the image configuration of a single-platform image (its os, architecture and
/// variant, which [`parse_config_platform`] reads), without pulling.
pub fn inspect_config(tool: RegistryTool, reference: &ImageRef, insecure: bool) -> Cmd {
    let docker = ["--format", "{{json .Image}}"];
    inspect(tool, reference, insecure, &docker, &["--config"])
}

/// `docker buildx imagetools inspect DOCKER… REF` or `skopeo inspect SKOPEO… docker://REF`.
fn inspect(
    tool: RegistryTool,
    reference: &ImageRef,
    insecure: bool,
    docker: &[&str],
    skopeo: &[&str],
) -> Cmd {
    let cmd = match tool {
        RegistryTool::Docker => Cmd::new("docker")
            .args(["buildx", "imagetools", "inspect"])
            .args(docker.iter().copied())
            .arg(reference.to_string()),
        RegistryTool::Skopeo | RegistryTool::Podman => {
            let mut cmd = Cmd::new("skopeo")
                .arg("inspect")
                .args(skopeo.iter().copied());
            if insecure {
                cmd = cmd.arg("--tls-verify=false");
            }
            cmd.arg(format!("docker://{reference}"))
        }
    };
    cmd.talks_to(registry_host(reference))
}

/// `os/arch[/variant]` of an image configuration (what [`inspect_config`] prints).
pub fn parse_config_platform(json: &str) -> Result<String> {
    let v: serde_json::Value =
        serde_json::from_str(json).context("the image configuration is not JSON")?;
    platform_of(&v).context("the image configuration names no os and architecture")
}

/// `os/arch[/variant]` of a JSON object with `os`, `architecture` and an optional `variant`
/// (an image configuration, or an index entry's `platform`).
fn platform_of(v: &serde_json::Value) -> Option<String> {
    let (os, arch) = (v["os"].as_str()?, v["architecture"].as_str()?);
    Some(match v["variant"].as_str().filter(|v| !v.is_empty()) {
        Some(variant) => format!("{os}/{arch}/{variant}"),
        None => format!("{os}/{arch}"),
    })
}

/// The platforms of `reference`'s index, read from its registry (empty for a single-platform
/// image): [`inspect_raw`] then [`parse_index_platforms`].
pub fn index_platforms(
    runner: &Runner,
    tool: RegistryTool,
    reference: &ImageRef,
    insecure: bool,
) -> Result<Vec<String>> {
    let raw = runner
        .read(&inspect_raw(tool, reference, insecure))
        .with_context(|| format!("cannot read the platforms of {reference}"))?;
    parse_index_platforms(&raw).with_context(|| format!("the manifest of {reference}"))
}

/// The platforms (`os/arch[/variant]`) of an image index or manifest list, sorted (engines
/// list them in build order); empty for a single-platform manifest. Entries without a real platform (buildx's
/// attestation manifests, `unknown/unknown`) are left out.
pub fn parse_index_platforms(raw: &str) -> Result<Vec<String>> {
    let v: serde_json::Value =
        serde_json::from_str(raw).context("the registry's manifest is not JSON")?;
    let Some(manifests) = v["manifests"].as_array() else {
        return Ok(Vec::new());
    };
    let mut platforms = Vec::new();
    for m in manifests {
        let p = &m["platform"];
        if p["os"] == "unknown" || p["architecture"] == "unknown" {
            continue;
        }
        let Some(name) = platform_of(p) else {
            continue;
        };
        if !platforms.contains(&name) {
            platforms.push(name);
        }
    }
    platforms.sort();
    Ok(platforms)
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_platform_image_is_read_for_its_configuration_and_platform() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse("127.0.0.1:5000/h/p")
            .unwrap()
            .with_digest(&digest);
        assert_eq!(
            inspect_config(RegistryTool::Skopeo, &r, true)
                .argv()
                .join(" "),
            format!(
                "skopeo inspect --config --tls-verify=false docker://127.0.0.1:5000/h/p@{digest}"
            )
        );
        assert_eq!(
            inspect_config(RegistryTool::Docker, &r, true)
                .argv()
                .join(" "),
            format!(
                "docker buildx imagetools inspect --format {{{{json .Image}}}} 127.0.0.1:5000/h/p@{digest}"
            )
        );
        let config = r#"{"architecture":"arm64","os":"linux","variant":"v8","config":{}}"#;
        assert_eq!(parse_config_platform(config).unwrap(), "linux/arm64/v8");
        let plain = r#"{"architecture":"amd64","os":"linux"}"#;
        assert_eq!(parse_config_platform(plain).unwrap(), "linux/amd64");
        assert!(parse_config_platform(r#"{"os":"linux"}"#).is_err());
        assert!(parse_config_platform("{}").is_err());
        assert!(parse_config_platform("nope").is_err());
    }
    #[test]
    fn login_user_comes_from_github_actor_first_and_cannot_be_a_flag() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(login_user(some("octo"), some("cfg")).unwrap(), "octo");
        assert_eq!(login_user(None, some("cfg-user")).unwrap(), "cfg-user");
        assert!(
            login_user(None, None)
                .unwrap_err()
                .to_string()
                .contains("GITHUB_ACTOR")
        );
        for bad in [
            "--password=x",
            "-u",
            "a\nb",
            "a b",
            "x\u{1b}[2K",
            "admin\u{202e}resu",
        ] {
            let err = login_user(some(bad), None).unwrap_err().to_string();
            assert!(err.starts_with("GITHUB_ACTOR = `"), "{err}");
            assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err}");
            assert!(!err.contains('\u{202e}'), "{err}");
            let err = login_user(None, some(bad)).unwrap_err().to_string();
            assert!(err.starts_with("XTASK_REGISTRY_USER"), "{err}");
        }
    }

    #[test]
    fn verify_plan_reads_each_tag_and_only_loopback_is_plain_http() {
        let refs = [
            ImageRef::parse("ghcr.io/dcasati/python-base:sha-abc1234").unwrap(),
            ImageRef::parse("127.0.0.1:5000/homelab/python-base:sha-abc1234").unwrap(),
        ]
        .map(|r| {
            let plain_http = crate::resolve::plain_http(&r, false);
            (r, plain_http)
        });
        let lines = |tool| -> Vec<String> {
            verify_plan(tool, &refs)
                .iter()
                .map(|c| c.argv().join(" "))
                .collect()
        };
        assert_eq!(
            lines(RegistryTool::Skopeo),
            [
                "skopeo inspect --format {{.Digest}} docker://ghcr.io/dcasati/python-base:sha-abc1234",
                "skopeo inspect --tls-verify=false --format {{.Digest}} docker://127.0.0.1:5000/homelab/python-base:sha-abc1234",
            ]
        );
        assert_eq!(
            lines(RegistryTool::Docker),
            [
                "docker buildx imagetools inspect --format {{json .Manifest}} ghcr.io/dcasati/python-base:sha-abc1234",
                "docker buildx imagetools inspect --format {{json .Manifest}} 127.0.0.1:5000/homelab/python-base:sha-abc1234",
            ]
        );
    }
}
