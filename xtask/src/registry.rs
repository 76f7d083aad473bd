//! The shell around the engines for registries: which engine and registry tool to use, the
//! digest of a tag in its registry, and logins. Shared by build-base, push and update-images
//! (`--verify`, `--digest`); the argv itself comes from [`crate::engine`].

use crate::engine::{self, Engine, RegistryTool};
use crate::exec::{Cmd, Runner, Secret};
use crate::flags::EngineChoice;
use crate::image_ref::ImageRef;
use crate::settings::Settings;
use crate::tools::{self, DOCKER, PODMAN, SKOPEO};
use anyhow::{Context, Result, bail};

/// `auto` picks docker when `docker buildx version` works, else podman.
pub fn select_engine(choice: EngineChoice, runner: &Runner) -> Result<Engine> {
    let buildx = || {
        tools::find(DOCKER).is_some()
            && runner
                .output(&engine::docker_buildx_version())
                .is_ok_and(|o| o.success())
    };
    match choice {
        EngineChoice::Docker => {
            tools::require(DOCKER)?;
            if !buildx() {
                bail!(
                    "`docker buildx version` failed: docker has no buildx plugin\n  docker: {}",
                    DOCKER.hint
                );
            }
            Ok(Engine::Docker)
        }
        EngineChoice::Podman => {
            tools::require(PODMAN)?;
            Ok(Engine::Podman)
        }
        EngineChoice::Auto if buildx() => Ok(Engine::Docker),
        EngineChoice::Auto if tools::find(PODMAN).is_some() => Ok(Engine::Podman),
        EngineChoice::Auto => Err(tools::missing(&[DOCKER, PODMAN])
            .context("no build engine: docker with buildx, or podman, is needed")),
    }
}

/// docker reads registries with `buildx imagetools`; podman's partner for that is skopeo.
pub fn registry_tool(engine: Engine) -> Result<RegistryTool> {
    match engine {
        Engine::Docker => Ok(RegistryTool::Docker),
        Engine::Podman => {
            tools::require(SKOPEO)?;
            Ok(RegistryTool::Skopeo)
        }
    }
}

/// The digest of `reference` in its registry; `None` when the tag does not exist. An unreachable
/// registry is an error, not a missing tag.
pub fn remote_digest(
    runner: &Runner,
    tool: RegistryTool,
    reference: &ImageRef,
    insecure: bool,
) -> Result<Option<String>> {
    let cmd = engine::inspect_digest(tool, reference, insecure);
    digest_from(runner, tool, &cmd, reference)
}

fn digest_from(
    runner: &Runner,
    tool: RegistryTool,
    cmd: &Cmd,
    reference: &ImageRef,
) -> Result<Option<String>> {
    let out = runner.output(cmd)?;
    if out.success() {
        return engine::parse_inspect_digest(tool, &out.stdout)
            .map(Some)
            .with_context(|| format!("`{cmd}`"));
    }
    if engine::is_not_found(&out.stderr) {
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
    let variable = engine::token_variable(reference.host().unwrap_or(host));
    let token = Secret::from_env(variable)
        .with_context(|| format!("--login to {host} needs the token in {variable}"))?;
    let user = login_user(env("GITHUB_ACTOR"), settings.registry_user.clone())
        .with_context(|| format!("--login to {host}"))?;
    Ok(engine::login(tool, host, &user, token, insecure))
}

/// The user to log in as: `GITHUB_ACTOR`, else `XTASK_REGISTRY_USER` / `registry-user`. It
/// becomes an argv item after `-u`, so it must not read as a flag (a leading `-`) nor carry
/// control characters or blanks into the command line and its printed form.
fn login_user(actor: Option<String>, configured: Option<String>) -> Result<String> {
    let (user, from) = match (actor, configured) {
        (Some(user), _) => (user, "GITHUB_ACTOR"),
        (None, Some(user)) => (user, "XTASK_REGISTRY_USER (or registry-user)"),
        (None, None) => bail!(
            "needs a user: set GITHUB_ACTOR, XTASK_REGISTRY_USER or registry-user in \
             [workspace.metadata.xtask]"
        ),
    };
    if user.starts_with('-') || user.chars().any(|c| c.is_control() || c.is_whitespace()) {
        bail!(
            "{from} = `{}` is not a registry user name: it must not start with `-` or hold \
             blanks or control characters",
            crate::output::escape(&user)
        );
    }
    Ok(user)
}

/// The tool for registry reads and copies: skopeo (with podman, or auto when installed), else
/// docker buildx imagetools.
pub fn read_tool(choice: EngineChoice, runner: &Runner) -> Result<RegistryTool> {
    match choice {
        EngineChoice::Podman => {
            tools::require(SKOPEO)?;
            Ok(RegistryTool::Skopeo)
        }
        EngineChoice::Docker => {
            select_engine(EngineChoice::Docker, runner)?;
            Ok(RegistryTool::Docker)
        }
        EngineChoice::Auto if tools::find(SKOPEO).is_some() => Ok(RegistryTool::Skopeo),
        EngineChoice::Auto => match select_engine(EngineChoice::Docker, runner) {
            Ok(_) => Ok(RegistryTool::Docker),
            Err(_) => Err(tools::missing(&[SKOPEO, DOCKER])
                .context("reading a registry needs skopeo, or docker with buildx")),
        },
    }
}

/// The digest of every reference (each with its tag) in its registry; fails naming each tag that
/// is missing. Loopback registries are read over plain HTTP.
pub fn require_digests(
    runner: &Runner,
    tool: RegistryTool,
    references: &[ImageRef],
) -> Result<Vec<String>> {
    let mut digests = Vec::new();
    let mut missing = Vec::new();
    for (reference, cmd) in references.iter().zip(verify_plan(tool, references)) {
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
/// plain HTTP for loopback registries only.
pub fn verify_plan(tool: RegistryTool, references: &[ImageRef]) -> Vec<Cmd> {
    references
        .iter()
        .map(|r| engine::inspect_digest(tool, r, r.is_loopback()))
        .collect()
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in ["--password=x", "-u", "a\nb", "a b", "x\u{1b}[2K"] {
            let err = login_user(some(bad), None).unwrap_err().to_string();
            assert!(err.starts_with("GITHUB_ACTOR = `"), "{err}");
            assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err}");
            let err = login_user(None, some(bad)).unwrap_err().to_string();
            assert!(err.starts_with("XTASK_REGISTRY_USER"), "{err}");
        }
    }

    #[test]
    fn verify_plan_reads_each_tag_and_only_loopback_is_plain_http() {
        let refs = [
            ImageRef::parse("ghcr.io/dcasati/python-base:sha-abc1234").unwrap(),
            ImageRef::parse("127.0.0.1:5000/homelab/python-base:sha-abc1234").unwrap(),
        ];
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
