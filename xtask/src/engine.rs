//! docker buildx | podman, the build engines: which one to use, the argv to build, push and
//! read a local image, and the parsers for what they print. The tasks run the [`Cmd`]s.
//!
//! docker builds with `docker buildx build` and pushes straight from it. podman builds a manifest
//! list with `podman build --manifest` and pushes it with `podman manifest push --all`. Registry
//! reads and copies are in [`crate::registry`].
//!
//! Only [`select_engine`] runs anything: it asks the [`Runner`] whether docker has buildx.

use crate::exec::{Cmd, Runner};
use crate::image_ref::{ImageRef, is_digest};
use crate::registry::{RegistryTool, registry_host};
use crate::tools::{self, DOCKER, PODMAN, SKOPEO};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

pub mod by_digest;

/// The program that builds the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    /// `docker` or `podman`, as the build record and file names spell it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    /// The tool that logs this engine in to a registry. podman's login also serves skopeo: they
    /// share the containers auth file.
    pub fn login_tool(self) -> RegistryTool {
        match self {
            Engine::Docker => RegistryTool::Docker,
            Engine::Podman => RegistryTool::Podman,
        }
    }
}

/// The engine a task asked for (`--engine`, converted from the CLI's choice at the task
/// boundary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// docker when `docker buildx version` works, else podman.
    Auto,
    Docker,
    Podman,
}

/// The tool for registry reads and copies: skopeo (with podman, or auto when installed), else
/// docker buildx imagetools.
pub fn read_tool(choice: Choice, runner: &Runner) -> Result<RegistryTool> {
    match choice {
        Choice::Podman => {
            tools::require(SKOPEO)?;
            Ok(RegistryTool::Skopeo)
        }
        Choice::Docker => {
            select_engine(Choice::Docker, runner)?;
            Ok(RegistryTool::Docker)
        }
        Choice::Auto if tools::find(SKOPEO).is_some() => Ok(RegistryTool::Skopeo),
        Choice::Auto => match select_engine(Choice::Docker, runner) {
            Ok(_) => Ok(RegistryTool::Docker),
            Err(_) => Err(tools::missing(&[SKOPEO, DOCKER])
                .context("reading a registry needs skopeo, or docker with buildx")),
        },
    }
}

/// `auto` picks docker when `docker buildx version` works, else podman.
pub fn select_engine(choice: Choice, runner: &Runner) -> Result<Engine> {
    let buildx = || {
        tools::find(DOCKER).is_some()
            && runner
                .output(&docker_buildx_version())
                .is_ok_and(|o| o.success())
    };
    match choice {
        Choice::Docker => {
            tools::require(DOCKER)?;
            if !buildx() {
                bail!(
                    "`docker buildx version` failed: docker has no buildx plugin\n  docker: {}",
                    DOCKER.hint
                );
            }
            Ok(Engine::Docker)
        }
        Choice::Podman => {
            tools::require(PODMAN)?;
            Ok(Engine::Podman)
        }
        Choice::Auto if buildx() => Ok(Engine::Docker),
        Choice::Auto if tools::find(PODMAN).is_some() => Ok(Engine::Podman),
        Choice::Auto => Err(tools::missing(&[DOCKER, PODMAN])
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

/// Where the build cache lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cache {
    None,
    /// GitHub Actions cache: `type=gha,mode=max,scope=<image>`.
    Gha,
    /// `<registry>/<image>:buildcache` (docker) or the `<image>-buildcache` repository (podman).
    Registry,
    /// A local folder (docker only).
    Local(PathBuf),
}

/// `--cache auto|gha|registry|local:DIR|none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheChoice {
    Auto,
    Set(Cache),
}

impl CacheChoice {
    pub fn parse(s: &str) -> Result<CacheChoice, String> {
        Ok(match s {
            "auto" => CacheChoice::Auto,
            "none" => CacheChoice::Set(Cache::None),
            "gha" => CacheChoice::Set(Cache::Gha),
            "registry" => CacheChoice::Set(Cache::Registry),
            _ => match s.strip_prefix("local:") {
                Some(dir) if !dir.is_empty() => CacheChoice::Set(Cache::Local(dir.into())),
                _ => {
                    return Err(format!(
                        "`{s}` is not a cache: use auto, gha, registry, local:DIR or none"
                    ));
                }
            },
        })
    }

    /// auto is gha under GitHub Actions (`GITHUB_ACTIONS=true`), else none.
    pub fn resolve(&self, github_actions: bool) -> Cache {
        match self {
            CacheChoice::Set(cache) => cache.clone(),
            CacheChoice::Auto if github_actions => Cache::Gha,
            CacheChoice::Auto => Cache::None,
        }
    }
}

/// What happens to the built image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildOutput {
    /// Push it to the registry.
    Push,
    /// Load a single-platform image into the local image store.
    Load,
    /// Keep it in the builder (docker: the build cache; podman: a local manifest list).
    Keep,
    /// Push one platform with no tag, by digest only (`build-base --push-by-digest`); see
    /// [`by_digest`].
    PushByDigest,
}

/// Everything a build needs, decided before any process starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    /// Short image name, e.g. `python-base`.
    pub image: String,
    pub context: PathBuf,
    /// The Dockerfile's full path.
    pub dockerfile: PathBuf,
    /// The reference with its tag: `ghcr.io/dcasati/python-base:sha-abc1234`.
    pub reference: ImageRef,
    pub platforms: Vec<String>,
    /// `org.opencontainers.image.*` labels, in order.
    pub labels: Vec<(String, String)>,
    /// The commit time, exported as `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: i64,
    pub cache: Cache,
    pub output: BuildOutput,
    /// Plain-HTTP registry (loopback, or `--insecure-registry`).
    pub insecure: bool,
    /// docker's `--metadata-file`, or podman's `--digestfile`.
    pub result_file: PathBuf,
    /// `--builder NAME` for buildx (docker only).
    pub builder: Option<String>,
}

/// Checks `os/arch[/variant]`, e.g. `linux/amd64` or `linux/arm/v7`.
pub fn validate_platform(p: &str) -> Result<()> {
    let parts: Vec<&str> = p.split('/').collect();
    let word = |s: &&str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(word) {
        bail!("platform `{p}`: expected os/arch[/variant] such as linux/amd64 or linux/arm/v7");
    }
    Ok(())
}

/// `--load` puts one image in the local store, so it takes exactly one platform.
pub fn check_output(output: BuildOutput, platforms: &[String]) -> Result<()> {
    by_digest::check_one_platform(output, platforms)?;
    if output == BuildOutput::Load && platforms.len() != 1 {
        bail!(
            "--load needs exactly one platform (got {}): pass --platform linux/amd64, or use --push",
            platforms.join(",")
        );
    }
    Ok(())
}

/// The commands that build (and push) the image, in order.
pub fn build(engine: Engine, spec: &BuildSpec) -> Result<Vec<Cmd>> {
    check_output(spec.output, &spec.platforms)?;
    match engine {
        Engine::Docker => Ok(vec![docker_build(spec)]),
        Engine::Podman => podman_build(spec),
    }
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// `docker buildx build`, pushing straight from buildx.
pub fn docker_build(spec: &BuildSpec) -> Cmd {
    let mut cmd = Cmd::new("docker").args(["buildx", "build"]);
    if let Some(builder) = &spec.builder {
        cmd = cmd.args(["--builder", builder]);
    }
    cmd = cmd
        .arg("--file")
        .arg(path(&spec.dockerfile))
        .args(["--platform", &spec.platforms.join(",")]);
    // By digest, the image gets its name from --output and no tag at all.
    if spec.output != BuildOutput::PushByDigest {
        cmd = cmd.args(["--tag", &spec.reference.to_string()]);
    }
    for (key, value) in &spec.labels {
        cmd = cmd.args(["--label", &format!("{key}={value}")]);
    }
    let insecure = if spec.insecure {
        ",registry.insecure=true"
    } else {
        ""
    };
    let cache_ref = cache_ref(spec, ":buildcache");
    let (from, to) = match &spec.cache {
        Cache::None => (None, None),
        Cache::Gha => {
            let scope = by_digest::gha_scope(spec);
            (
                Some(format!("type=gha,scope={scope}")),
                Some(format!("type=gha,mode=max,scope={scope}")),
            )
        }
        Cache::Registry => (
            Some(format!("type=registry,ref={cache_ref}{insecure}")),
            Some(format!("type=registry,ref={cache_ref},mode=max{insecure}")),
        ),
        Cache::Local(dir) => (
            Some(format!("type=local,src={}", path(dir))),
            Some(format!("type=local,dest={},mode=max", path(dir))),
        ),
    };
    if let (Some(from), Some(to)) = (from, to) {
        cmd = cmd.args(["--cache-from", &from, "--cache-to", &to]);
    }
    cmd = match spec.output {
        BuildOutput::Push if spec.insecure => {
            cmd.args(["--output", "type=image,push=true,registry.insecure=true"])
        }
        BuildOutput::Push => cmd.arg("--push"),
        BuildOutput::PushByDigest => cmd.args(["--output", &by_digest::docker_output(spec)]),
        BuildOutput::Load => cmd.arg("--load"),
        BuildOutput::Keep => cmd,
    };
    cmd.args(["--metadata-file", &path(&spec.result_file)])
        .arg(path(&spec.context))
        .env("SOURCE_DATE_EPOCH", spec.source_date_epoch.to_string())
}

/// `podman build --manifest` (or `--tag` for `--load`), then `podman manifest push --all`.
///
/// A multi-platform build runs with `--no-cache`: podman 4 reuses the first platform's cached
/// layers for the next one when the base is `scratch`, and the list then holds one platform.
pub fn podman_build(spec: &BuildSpec) -> Result<Vec<Cmd>> {
    if let Some(builder) = &spec.builder {
        bail!("--builder {builder} names a docker buildx builder: use --engine docker, or drop it");
    }
    let multi = spec.platforms.len() > 1;
    let reference = spec.reference.to_string();
    let mut cmd = Cmd::new("podman")
        .args(["build", "--file"])
        .arg(path(&spec.dockerfile))
        .args(["--platform", &spec.platforms.join(",")]);
    cmd = match spec.output {
        BuildOutput::Load | BuildOutput::PushByDigest => cmd.args(["--tag", &reference]),
        BuildOutput::Push | BuildOutput::Keep => cmd.args(["--manifest", &reference]),
    };
    for (key, value) in &spec.labels {
        cmd = cmd.args(["--label", &format!("{key}={value}")]);
    }
    cmd = cmd.args(["--timestamp", &spec.source_date_epoch.to_string()]);
    match &spec.cache {
        Cache::None => {}
        Cache::Registry if !multi => {
            let repo = cache_ref(spec, "-buildcache");
            cmd = cmd.args(["--layers", "--cache-from", &repo, "--cache-to", &repo]);
            if spec.insecure {
                cmd = cmd.arg("--tls-verify=false");
            }
        }
        Cache::Registry => bail!(
            "--cache registry is not supported with podman for a multi-platform build (podman 4 \
             needs --no-cache there); use --cache none, a single --platform, or --engine docker"
        ),
        Cache::Gha => bail!(
            "--cache gha is not supported with podman; use --cache none or registry, or --engine docker"
        ),
        Cache::Local(_) => bail!(
            "--cache local:DIR is not supported with podman (it keeps its layers in its own \
             storage); use --cache none, or --engine docker"
        ),
    }
    if multi {
        cmd = cmd.arg("--no-cache");
    }
    let build = cmd
        .arg(path(&spec.context))
        .env("SOURCE_DATE_EPOCH", spec.source_date_epoch.to_string());
    let mut plan = vec![build];
    if spec.output == BuildOutput::PushByDigest {
        plan.push(by_digest::podman_push_to_layout(spec));
    }
    if spec.output == BuildOutput::Push {
        let mut push = Cmd::new("podman").args(["manifest", "push", "--all"]);
        if spec.insecure {
            push = push.arg("--tls-verify=false");
        }
        plan.push(
            push.args(["--digestfile", &path(&spec.result_file)])
                .arg(&reference)
                .arg(format!("docker://{reference}"))
                .talks_to(registry_host(&spec.reference)),
        );
    }
    Ok(plan)
}

/// The cache image: `<registry>/<image><suffix>`, without the build's tag.
fn cache_ref(spec: &BuildSpec, suffix: &str) -> String {
    format!("{}{suffix}", spec.reference.name())
}

/// `podman manifest exists REF`: a list left over from an earlier build would get this build's
/// images appended to it, so the task removes it first with [`podman_manifest_rm`].
pub fn podman_manifest_exists(reference: &ImageRef) -> Cmd {
    Cmd::new("podman").args(["manifest", "exists", &reference.to_string()])
}

pub fn podman_manifest_rm(reference: &ImageRef) -> Cmd {
    Cmd::new("podman").args(["manifest", "rm", &reference.to_string()])
}

/// `docker buildx version`: does docker have buildx?
pub fn docker_buildx_version() -> Cmd {
    Cmd::new("docker").args(["buildx", "version"])
}

/// The digest from docker's `--metadata-file` JSON (`containerimage.digest`).
pub fn parse_docker_metadata(json: &str) -> Result<String> {
    let v: serde_json::Value =
        serde_json::from_str(json).context("docker's --metadata-file is not JSON")?;
    let digest = v["containerimage.digest"].as_str().unwrap_or_default();
    if !is_digest(digest) {
        bail!("docker's --metadata-file has no containerimage.digest: {json}");
    }
    Ok(digest.to_string())
}

/// The digest from podman's or skopeo's `--digestfile`.
pub fn parse_digest_file(text: &str) -> Result<String> {
    let digest = text.trim();
    if !is_digest(digest) {
        bail!("the digest file holds `{digest}`, not a sha256 digest");
    }
    Ok(digest.to_string())
}

/// Pushes the local podman manifest list `local` to `dest`, writing the pushed digest.
pub fn podman_push(local: &ImageRef, dest: &ImageRef, insecure: bool, digest_file: &str) -> Cmd {
    let mut cmd = Cmd::new("podman").args(["manifest", "push", "--all"]);
    if insecure {
        cmd = cmd.arg("--tls-verify=false");
    }
    cmd.args(["--digestfile", digest_file])
        .arg(local.to_string())
        .arg(format!("docker://{dest}"))
        .talks_to(registry_host(dest))
}

/// `docker tag` + `docker push` for an image loaded with `--load`.
pub fn docker_push(local: &ImageRef, dest: &ImageRef) -> Vec<Cmd> {
    let mut plan = Vec::new();
    if local != dest {
        plan.push(Cmd::new("docker").args(["tag", &local.to_string(), &dest.to_string()]));
    }
    plan.push(
        Cmd::new("docker")
            .args(["push", &dest.to_string()])
            .talks_to(registry_host(dest)),
    );
    plan
}

/// `docker image inspect` of the repo digests a `docker push` recorded.
pub fn docker_repo_digests(reference: &ImageRef) -> Cmd {
    Cmd::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{json .RepoDigests}}",
        &reference.to_string(),
    ])
}

/// The digest of `reference`'s repository in `docker image inspect`'s RepoDigests JSON.
pub fn parse_repo_digests(json: &str, reference: &ImageRef) -> Result<String> {
    let digests: Vec<String> = serde_json::from_str(json.trim())
        .with_context(|| format!("docker image inspect printed `{}`", json.trim()))?;
    let prefix = format!("{}@", reference.name());
    digests
        .iter()
        .find_map(|d| d.strip_prefix(&prefix))
        .filter(|d| is_digest(d))
        .map(str::to_string)
        .with_context(|| {
            format!(
                "docker recorded no digest for {}: {}",
                reference.name(),
                json.trim()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Secret;
    use crate::registry::{
        copy, inspect_digest, inspect_raw, is_not_found, login, parse_index_platforms,
        parse_inspect_digest, token_variable,
    };

    fn spec(output: BuildOutput, platforms: &[&str], cache: Cache, insecure: bool) -> BuildSpec {
        BuildSpec {
            image: "python-base".into(),
            context: "/repo/k8s-apps/base-images".into(),
            dockerfile: "/repo/k8s-apps/base-images/Dockerfile".into(),
            reference: ImageRef::parse("ghcr.io/dcasati/python-base:sha-abc1234").unwrap(),
            platforms: platforms.iter().map(|p| p.to_string()).collect(),
            labels: vec![
                (
                    "org.opencontainers.image.revision".into(),
                    "abc1234".repeat(5) + "abcde",
                ),
                (
                    "org.opencontainers.image.title".into(),
                    "python-base".into(),
                ),
            ],
            source_date_epoch: 1_700_000_000,
            cache,
            output,
            insecure,
            result_file: "/tmp/meta.json".into(),
            builder: None,
        }
    }

    const BOTH: &[&str] = &["linux/amd64", "linux/arm64"];
    const REV: &str = "org.opencontainers.image.revision=abc1234abc1234abc1234abc1234abc1234abcde";

    fn line(cmd: &Cmd) -> String {
        cmd.argv().join(" ")
    }

    #[test]
    fn docker_push_multi_platform_with_labels_and_epoch() {
        let cmd = docker_build(&spec(BuildOutput::Push, BOTH, Cache::None, false));
        assert_eq!(
            line(&cmd),
            format!(
                "docker buildx build --file /repo/k8s-apps/base-images/Dockerfile \
                 --platform linux/amd64,linux/arm64 --tag ghcr.io/dcasati/python-base:sha-abc1234 \
                 --label {REV} --label org.opencontainers.image.title=python-base --push \
                 --metadata-file /tmp/meta.json /repo/k8s-apps/base-images"
            )
        );
        assert_eq!(
            cmd.env,
            [(
                "SOURCE_DATE_EPOCH".to_string(),
                crate::exec::EnvValue::Plain("1700000000".into())
            )]
        );
    }

    #[test]
    fn docker_every_cache_and_output() {
        let args = |s: &BuildSpec| docker_build(s).args;
        let has = |args: &[String], want: &[&str]| args.windows(want.len()).any(|w| w == want);
        let gha = args(&spec(BuildOutput::Push, BOTH, Cache::Gha, false));
        assert!(has(
            &gha,
            &[
                "--cache-from",
                "type=gha,scope=python-base",
                "--cache-to",
                "type=gha,mode=max,scope=python-base"
            ]
        ));
        let reg = args(&spec(BuildOutput::Push, BOTH, Cache::Registry, false));
        assert!(has(
            &reg,
            &[
                "--cache-from",
                "type=registry,ref=ghcr.io/dcasati/python-base:buildcache",
                "--cache-to",
                "type=registry,ref=ghcr.io/dcasati/python-base:buildcache,mode=max"
            ]
        ));
        let local = args(&spec(
            BuildOutput::Keep,
            BOTH,
            Cache::Local("/c".into()),
            false,
        ));
        assert!(has(
            &local,
            &[
                "--cache-from",
                "type=local,src=/c",
                "--cache-to",
                "type=local,dest=/c,mode=max"
            ]
        ));
        assert!(
            !local
                .iter()
                .any(|a| a == "--push" || a == "--output" || a == "--load")
        );
        let none = args(&spec(BuildOutput::Push, BOTH, Cache::None, false));
        assert!(!none.iter().any(|a| a.starts_with("--cache")));
        let load = args(&spec(
            BuildOutput::Load,
            &["linux/arm64"],
            Cache::None,
            false,
        ));
        assert!(has(&load, &["--platform", "linux/arm64"]) && load.contains(&"--load".into()));
        let insecure = args(&spec(BuildOutput::Push, BOTH, Cache::Registry, true));
        assert!(has(
            &insecure,
            &["--output", "type=image,push=true,registry.insecure=true"]
        ));
        assert!(!insecure.contains(&"--push".into()));
        assert!(has(
            &insecure,
            &[
                "--cache-to",
                "type=registry,ref=ghcr.io/dcasati/python-base:buildcache,mode=max,registry.insecure=true"
            ]
        ));
    }

    #[test]
    fn load_refuses_several_platforms() {
        for engine in [Engine::Docker, Engine::Podman] {
            let err =
                build(engine, &spec(BuildOutput::Load, BOTH, Cache::None, false)).unwrap_err();
            assert!(
                err.to_string()
                    .contains("--load needs exactly one platform"),
                "{err}"
            );
            assert!(
                build(
                    engine,
                    &spec(BuildOutput::Load, &["linux/amd64"], Cache::None, false)
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn podman_manifest_build_then_push_all_with_digestfile() {
        let plan = podman_build(&spec(BuildOutput::Push, BOTH, Cache::None, true)).unwrap();
        let lines: Vec<String> = plan.iter().map(line).collect();
        assert_eq!(
            lines,
            [
                format!(
                    "podman build --file /repo/k8s-apps/base-images/Dockerfile \
                     --platform linux/amd64,linux/arm64 \
                     --manifest ghcr.io/dcasati/python-base:sha-abc1234 --label {REV} \
                     --label org.opencontainers.image.title=python-base --timestamp 1700000000 \
                     --no-cache /repo/k8s-apps/base-images"
                ),
                "podman manifest push --all --tls-verify=false --digestfile /tmp/meta.json \
                 ghcr.io/dcasati/python-base:sha-abc1234 \
                 docker://ghcr.io/dcasati/python-base:sha-abc1234"
                    .to_string()
            ]
        );
        assert_eq!(plan[0].env[0].0, "SOURCE_DATE_EPOCH");
        // A secure registry gets no --tls-verify=false anywhere, and the build itself never
        // does (it would also apply to the FROM image's registry).
        let secure = podman_build(&spec(BuildOutput::Push, BOTH, Cache::None, false)).unwrap();
        assert!(
            secure
                .iter()
                .all(|c| !c.args.iter().any(|a| a.contains("tls-verify")))
        );
        assert!(!plan[0].args.iter().any(|a| a.contains("tls-verify")));
    }

    #[test]
    fn podman_single_platform_load_keep_and_cache() {
        let load = podman_build(&spec(
            BuildOutput::Load,
            &["linux/amd64"],
            Cache::None,
            false,
        ))
        .unwrap();
        assert_eq!(load.len(), 1);
        let args = &load[0].args;
        assert!(
            args.windows(2)
                .any(|w| w == ["--tag", "ghcr.io/dcasati/python-base:sha-abc1234"])
        );
        assert!(!args.contains(&"--no-cache".into()) && !args.contains(&"--manifest".into()));
        let keep = podman_build(&spec(BuildOutput::Keep, BOTH, Cache::None, false)).unwrap();
        assert_eq!(keep.len(), 1, "no push without --push");
        assert!(keep[0].args.contains(&"--manifest".into()));
        let cached = podman_build(&spec(
            BuildOutput::Push,
            &["linux/amd64"],
            Cache::Registry,
            true,
        ))
        .unwrap();
        let args = &cached[0].args;
        assert!(args.windows(6).any(|w| w
            == [
                "--layers",
                "--cache-from",
                "ghcr.io/dcasati/python-base-buildcache",
                "--cache-to",
                "ghcr.io/dcasati/python-base-buildcache",
                "--tls-verify=false"
            ]));
    }

    #[test]
    fn podman_refuses_caches_it_cannot_use() {
        for (cache, platforms, want) in [
            (
                Cache::Gha,
                &["linux/amd64"][..],
                "--cache gha is not supported with podman",
            ),
            (
                Cache::Local("/c".into()),
                &["linux/amd64"][..],
                "--cache local:DIR is not supported",
            ),
            (Cache::Registry, BOTH, "multi-platform"),
        ] {
            let err = podman_build(&spec(BuildOutput::Push, platforms, cache, false)).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn cache_choice_parses_and_resolves() {
        assert_eq!(
            CacheChoice::parse("auto").unwrap().resolve(true),
            Cache::Gha
        );
        assert_eq!(
            CacheChoice::parse("auto").unwrap().resolve(false),
            Cache::None
        );
        assert_eq!(
            CacheChoice::parse("registry").unwrap().resolve(true),
            Cache::Registry
        );
        assert_eq!(
            CacheChoice::parse("local:/tmp/c").unwrap().resolve(false),
            Cache::Local("/tmp/c".into())
        );
        assert_eq!(
            CacheChoice::parse("none").unwrap().resolve(true),
            Cache::None
        );
        assert!(
            CacheChoice::parse("local:")
                .unwrap_err()
                .contains("`local:`")
        );
        assert!(CacheChoice::parse("s3").is_err());
    }

    #[test]
    fn platforms_are_os_arch_variant() {
        for ok in [
            "linux/amd64",
            "linux/arm64",
            "linux/arm/v7",
            "windows/amd64",
        ] {
            validate_platform(ok).unwrap();
        }
        for bad in [
            "linux",
            "amd64",
            "linux/",
            "linux/amd64/v3/x",
            "Linux/amd64",
            "linux amd64",
        ] {
            let err = validate_platform(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn inspect_copy_and_parsers() {
        let r = ImageRef::parse("127.0.0.1:5000/homelab/python-base:sha-abc1234").unwrap();
        assert_eq!(
            line(&inspect_digest(RegistryTool::Skopeo, &r, true)),
            "skopeo inspect --tls-verify=false --format {{.Digest}} \
             docker://127.0.0.1:5000/homelab/python-base:sha-abc1234"
        );
        assert_eq!(
            line(&inspect_digest(RegistryTool::Docker, &r, true)),
            "docker buildx imagetools inspect --format {{json .Manifest}} \
             127.0.0.1:5000/homelab/python-base:sha-abc1234"
        );
        let d = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            parse_inspect_digest(RegistryTool::Skopeo, &format!("{d}\n")).unwrap(),
            d
        );
        let json = format!(
            r#"{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{d}","size":1}}"#
        );
        assert_eq!(
            parse_inspect_digest(RegistryTool::Docker, &json).unwrap(),
            d
        );
        let human = format!("Name: x\nMediaType: y\nDigest:    {d}\n");
        assert_eq!(
            parse_inspect_digest(RegistryTool::Docker, &human).unwrap(),
            d
        );
        assert!(parse_inspect_digest(RegistryTool::Skopeo, "oops").is_err());

        let src = r.with_digest(&d);
        let dst = ImageRef::parse("localhost:32000/homelab/python-base:sha-abc1234").unwrap();
        assert_eq!(
            line(&copy(RegistryTool::Skopeo, &src, &dst, true, true)),
            format!(
                "skopeo copy --all --preserve-digests --src-tls-verify=false \
                 --dest-tls-verify=false docker://127.0.0.1:5000/homelab/python-base@{d} \
                 docker://localhost:32000/homelab/python-base:sha-abc1234"
            )
        );
        assert_eq!(
            line(&copy(RegistryTool::Docker, &src, &dst, false, false)),
            format!(
                "docker buildx imagetools create --tag \
                 localhost:32000/homelab/python-base:sha-abc1234 \
                 127.0.0.1:5000/homelab/python-base@{d}"
            )
        );
        assert!(is_not_found(
            "reading manifest x: manifest unknown: manifest unknown"
        ));
        assert!(is_not_found("ERROR: ghcr.io/x/y:sha-1: not found"));
        assert!(!is_not_found(
            "dial tcp 127.0.0.1:5798: connect: connection refused"
        ));

        assert_eq!(
            parse_docker_metadata(&format!(
                r#"{{"buildx.build.ref":"b/b/x","containerimage.digest":"{d}","image.name":"x"}}"#
            ))
            .unwrap(),
            d
        );
        assert!(parse_docker_metadata("{}").is_err());
        assert!(parse_docker_metadata("nope").is_err());
        assert_eq!(parse_digest_file(&format!("{d}\n")).unwrap(), d);
        assert!(parse_digest_file("").is_err());
    }

    #[test]
    fn repo_digests_pick_the_destination() {
        let r = ImageRef::parse("127.0.0.1:5001/homelab/python-base:sha-abc1234").unwrap();
        assert_eq!(
            line(&docker_repo_digests(&r)),
            "docker image inspect --format {{json .RepoDigests}} \
             127.0.0.1:5001/homelab/python-base:sha-abc1234"
        );
        let d = format!("sha256:{}", "e".repeat(64));
        let json = format!(
            r#"["ghcr.io/dcasati/python-base@sha256:{}","127.0.0.1:5001/homelab/python-base@{d}"]"#,
            "f".repeat(64)
        );
        assert_eq!(parse_repo_digests(&json, &r).unwrap(), d);
        assert!(parse_repo_digests("[]", &r).is_err());
        assert!(parse_repo_digests("nope", &r).is_err());
    }

    #[test]
    fn push_and_login_keep_the_token_off_argv() {
        let local = ImageRef::parse("ghcr.io/dcasati/python-base:sha-abc1234").unwrap();
        let dst = ImageRef::parse("127.0.0.1:5001/homelab/python-base:sha-abc1234").unwrap();
        assert_eq!(
            line(&podman_push(&local, &dst, true, "/tmp/d")),
            "podman manifest push --all --tls-verify=false --digestfile /tmp/d \
             ghcr.io/dcasati/python-base:sha-abc1234 \
             docker://127.0.0.1:5001/homelab/python-base:sha-abc1234"
        );
        let docker: Vec<String> = docker_push(&local, &dst).iter().map(line).collect();
        assert_eq!(
            docker,
            [
                "docker tag ghcr.io/dcasati/python-base:sha-abc1234 \
                 127.0.0.1:5001/homelab/python-base:sha-abc1234",
                "docker push 127.0.0.1:5001/homelab/python-base:sha-abc1234"
            ]
        );
        let token = || Secret::new("GITHUB_TOKEN", "ghp_t0ken".into());
        for (tool, want) in [
            (
                RegistryTool::Docker,
                "docker login ghcr.io -u dcasati --password-stdin",
            ),
            (
                RegistryTool::Podman,
                "podman login ghcr.io -u dcasati --password-stdin",
            ),
            (
                RegistryTool::Skopeo,
                "skopeo login ghcr.io -u dcasati --password-stdin",
            ),
        ] {
            let cmd = login(tool, "ghcr.io", "dcasati", token(), false);
            assert_eq!(line(&cmd), want);
            assert_eq!(cmd.stdin.as_ref().unwrap().expose(), "ghp_t0ken");
            assert!(!cmd.to_string().contains("t0ken"));
        }
        let insecure = login(RegistryTool::Podman, "127.0.0.1:5000", "u", token(), true);
        assert!(insecure.args.contains(&"--tls-verify=false".into()));
        assert_eq!(token_variable("ghcr.io"), "GITHUB_TOKEN");
        assert_eq!(token_variable("registry.example.com"), "REGISTRY_TOKEN");
    }

    #[test]
    fn index_platforms_skip_attestations_and_keep_variants() {
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
          "manifests":[
            {"digest":"sha256:a","platform":{"architecture":"amd64","os":"linux"}},
            {"digest":"sha256:b","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
            {"digest":"sha256:c","platform":{"architecture":"unknown","os":"unknown"},
             "annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}"#;
        assert_eq!(
            parse_index_platforms(index).unwrap(),
            ["linux/amd64", "linux/arm64/v8"]
        );
        let single = r#"{"schemaVersion":2,"config":{"digest":"sha256:x"},"layers":[]}"#;
        assert!(parse_index_platforms(single).unwrap().is_empty());
        assert!(parse_index_platforms("not json").is_err());
        let r = ImageRef::parse("127.0.0.1:5000/h/p:sha-abc1234").unwrap();
        assert_eq!(
            inspect_raw(RegistryTool::Skopeo, &r, true).argv(),
            [
                "skopeo",
                "inspect",
                "--raw",
                "--tls-verify=false",
                "docker://127.0.0.1:5000/h/p:sha-abc1234"
            ]
        );
    }
}
