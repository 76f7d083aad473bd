//! `cargo xtask push`: push a locally built image (named by the build record, or `--sha`) to a
//! registry, or with `--mirror` copy it registry to registry by digest (`skopeo copy --all` or
//! `docker buildx imagetools create`, pulling nothing). `--mirror` copies the digest the build
//! record names, and refuses when the source tag now holds another one. Either way it then
//! reads the destination's digest and fails unless it equals the source's.

use crate::build_record::{BuildRecord, check_tag_holds};
use crate::engine::{self, Engine, registry_tool, select_engine};
use crate::exec::{Cmd, Runner};
use crate::flags;
use crate::image_ref::ImageRef;
use crate::registry::{self, RegistryTool, login_cmd, read_tool, remote_digest};
use crate::resolve::{configured_image, image_name, no_record, registry_for, sha_tag};
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::path::Path;

pub fn run(flags: &flags::Push, ctx: &Ctx) -> Result<Status> {
    let push = resolve(flags, ctx)?;
    let runner = Runner::new(flags.dry_run, ctx.settings.network_timeout)?;
    if flags.mirror {
        return mirror(flags, ctx, &runner, &push);
    }
    let engine = select_engine(flags.engine, &runner)?;
    let tool = registry_tool(engine)?;
    let dest = &push.dest;
    let insecure = push.insecure(dest);
    if flags.login {
        runner.run_to_stderr(&login_cmd(
            &ctx.settings,
            engine.login_tool(),
            dest,
            insecure,
        )?)?;
    }
    let digest_file = ctx
        .root
        .join("target/xtask/build")
        .join(format!("{}.push-digest", push.image));
    if engine == Engine::Podman {
        runner.for_real(|| {
            crate::files::make_dir(&ctx.root, digest_file.parent().expect("a folder"))?;
            let _ = std::fs::remove_file(&digest_file);
            Ok(())
        })?;
    }
    for cmd in plan(engine, &push, &digest_file) {
        runner.run_to_stderr(&cmd)?;
    }
    runner.for_real(|| {
        let digest = pushed_digest(&runner, engine, dest, &digest_file)?;
        verify(&runner, tool, dest, &digest, insecure)
    })?;
    Ok(Status::Clean)
}

/// The digest the engine pushed: podman's digest file, or docker's RepoDigests.
fn pushed_digest(runner: &Runner, engine: Engine, dest: &ImageRef, file: &Path) -> Result<String> {
    match engine {
        Engine::Podman => engine::parse_digest_file(
            &crate::files::read_text(file)
                .with_context(|| format!("podman manifest push wrote no {}", file.display()))?
                .0,
        ),
        Engine::Docker => {
            let inspect = engine::docker_repo_digests(dest);
            engine::parse_repo_digests(&runner.read(&inspect)?, dest)
        }
    }
}

/// The image to push: its tag (`--sha`, else the build record's), where it is and where it goes.
struct Push {
    image: String,
    /// The build record, when it is of this tag.
    record: Option<BuildRecord>,
    source_registry: String,
    source: ImageRef,
    dest: ImageRef,
    insecure_registry: bool,
}

impl Push {
    /// Plain HTTP: a loopback registry, or --insecure-registry.
    fn insecure(&self, r: &ImageRef) -> bool {
        r.is_loopback() || self.insecure_registry
    }
}

/// The tag, then the source registry (`--registry`, else the record's for that tag, else the
/// primary) and the destination (`--to`, else the backup with `--mirror`, else the primary).
fn resolve(flags: &flags::Push, ctx: &Ctx) -> Result<Push> {
    let image = configured_image(&ctx.settings, flags.image.as_deref())?;
    let record = BuildRecord::load(&ctx.root, &image.name)?;
    let tag = match (&flags.sha, &record) {
        (Some(sha), _) => sha_tag(&ctx.root, image, sha)?,
        (None, Some(record)) => record.tag.clone(),
        (None, None) => return Err(no_record(&ctx.root, &image.name, "build-base", "--sha")),
    };
    if tag.ends_with("-dirty") {
        bail!("refusing to push {tag}: a -dirty tag is never pushed; commit and rebuild");
    }
    let record = record.filter(|r| r.tag == tag);
    let source_registry = registry_for(&ctx.settings, flags.registry.as_deref(), record.as_ref())?;
    let dest_registry = match &flags.to {
        Some(name) => ctx.settings.registry_named(name)?,
        None if flags.mirror => ctx.settings.backup_registry.clone(),
        None => ctx.settings.registry.clone(),
    };
    Ok(Push {
        source: image_name(&source_registry, &image.name)?.with_tag(&tag),
        dest: image_name(&dest_registry, &image.name)?.with_tag(&tag),
        image: image.name.clone(),
        record,
        source_registry,
        insecure_registry: flags.insecure_registry,
    })
}

/// The engine's push of the local image: podman writes the pushed digest to `digest_file`.
fn plan(engine: Engine, push: &Push, digest_file: &Path) -> Vec<Cmd> {
    match engine {
        Engine::Podman => vec![engine::podman_push(
            &push.source,
            &push.dest,
            push.insecure(&push.dest),
            &digest_file.display().to_string(),
        )],
        Engine::Docker => engine::docker_push(&push.source, &push.dest),
    }
}

/// `--mirror`: copies the recorded digest (its tag must still hold it), else the tag's current
/// digest, registry to registry.
fn mirror(flags: &flags::Push, ctx: &Ctx, runner: &Runner, push: &Push) -> Result<Status> {
    let (source, dest) = (&push.source, &push.dest);
    if source == dest {
        bail!(
            "--mirror from {} to itself: pass --to",
            push.source_registry
        );
    }
    let tool = read_tool(flags.engine, runner)?;
    if flags.login {
        runner.run_to_stderr(&login_cmd(&ctx.settings, tool, dest, push.insecure(dest))?)?;
    }
    let current = remote_digest(runner, tool, source, push.insecure(source))?;
    // The build this tag was recorded for, by its digest: a tag moved since is refused.
    let digest = match push.record.as_ref().and_then(|r| r.digest.clone()) {
        Some(recorded) => {
            check_tag_holds(source, &recorded, current.as_deref())?;
            recorded
        }
        None => current
            .with_context(|| format!("{source} is not in the registry; build and push it first"))?,
    };
    let copy = registry::copy(
        tool,
        &source.with_digest(&digest),
        dest,
        push.insecure(source),
        push.insecure(dest),
    );
    runner.run_to_stderr(&copy)?;
    runner.for_real(|| verify(runner, tool, dest, &digest, push.insecure(dest)))?;
    Ok(Status::Clean)
}

/// Reads the destination's digest, fails unless it is `want`, and prints `dest@digest`.
fn verify(
    runner: &Runner,
    tool: RegistryTool,
    dest: &ImageRef,
    want: &str,
    insecure: bool,
) -> Result<()> {
    match remote_digest(runner, tool, dest, insecure)? {
        Some(got) if got == want => {
            crate::sayln!("verified: {dest} has digest {want}");
            crate::output::stdout(&format!("{dest}@{want}\n"))?;
            Ok(())
        }
        Some(got) => bail!("{dest} has digest {got} after the push, but the source is {want}"),
        None => bail!("{dest} is not in the registry after the push"),
    }
}
