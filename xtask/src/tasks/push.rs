//! `cargo xtask push`: push a locally built image (named by the build record, or `--sha`) to a
//! registry, or with `--mirror` copy it registry to registry by digest (`skopeo copy --all` or
//! `docker buildx imagetools create`, pulling nothing). `--mirror` copies the digest the build
//! record names, and refuses when the source tag now holds another one. Either way it then
//! reads the destination's digest and fails unless it equals the source's. With `--merge DIR`
//! it pushes one index of per-platform digests instead (`push/merge.rs`).

use crate::engine::{self, Engine, read_tool, registry_tool, select_engine};
use crate::exec::{Cmd, Runner};
use crate::flags;
use crate::image_ref::ImageRef;
use crate::registry::{self, RegistryTool, login_cmd, remote_digest};
use crate::resolve::{self, ImageTarget, Purpose};
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::path::Path;

mod merge;

pub fn run(flags: &flags::Push, ctx: &Ctx) -> Result<Status> {
    if let Some(dir) = &flags.merge {
        return merge::run(flags, dir, ctx);
    }
    let push = resolve(flags, ctx)?;
    let runner = Runner::new(flags.dry_run, ctx.settings.network_timeout)?;
    if flags.mirror {
        return mirror(flags, ctx, &runner, &push);
    }
    let engine = select_engine(flags.engine.into(), &runner)?;
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
        .join(format!("{}.push-digest", push.target.image.name));
    if engine == Engine::Podman {
        runner.for_real(|| {
            std::fs::create_dir_all(digest_file.parent().expect("a folder"))?;
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
            &std::fs::read_to_string(file)
                .with_context(|| format!("podman manifest push wrote no {}", file.display()))?,
        ),
        Engine::Docker => {
            let inspect = engine::docker_repo_digests(dest);
            engine::parse_repo_digests(&runner.read(&inspect)?, dest)
        }
    }
}

/// The image to push: its tag (`--sha`, else the build record's), where it is and where it goes.
struct Push<'a> {
    target: ImageTarget<'a>,
    source: ImageRef,
    dest: ImageRef,
}

impl Push<'_> {
    /// Plain HTTP: the resolver's loopback rule with --insecure-registry.
    fn insecure(&self, r: &ImageRef) -> bool {
        self.target.plain_http(r)
    }
}

/// The tag, then the source registry (`--registry`, else the record's for that tag, else the
/// primary) and the destination (`--to`, else the backup with `--mirror`, else the primary).
fn resolve<'a>(flags: &flags::Push, ctx: &'a Ctx) -> Result<Push<'a>> {
    let wanted = flags.target.wanted();
    let (target, _) = resolve::target(&ctx.root, &ctx.settings, &wanted, Purpose::Existing)?;
    let Some(source) = target.reference() else {
        return Err(target.no_record(&ctx.root, "build-base", "--sha"));
    };
    let tag = target.tag.as_ref().expect("a reference has a tag");
    if !tag.is_pushable() {
        bail!("refusing to push {tag}: a -dirty tag is never pushed; commit and rebuild");
    }
    let dest_registry = match &flags.to {
        Some(name) => ctx.settings.registry_named(name)?,
        None if flags.mirror => ctx.settings.backup_registry.clone(),
        None => ctx.settings.registry.clone(),
    };
    Ok(Push {
        dest: target.in_registry(&dest_registry)?.with_tag(tag.as_str()),
        source,
        target,
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
            push.target.registry
        );
    }
    let tool = read_tool(flags.engine.into(), runner)?;
    if flags.login {
        runner.run_to_stderr(&login_cmd(&ctx.settings, tool, dest, push.insecure(dest))?)?;
    }
    // A registry failure names its cause and the fix (the backup: `microk8s enable registry`).
    let backup = &ctx.settings.backup_registry;
    let explained = |e: anyhow::Error, r: &ImageRef| {
        let host = r.registry.as_deref().unwrap_or("docker.io");
        let is_backup = backup.split('/').next() == Some(host);
        crate::registry_error::with_cause(e, host, is_backup)
    };
    // The build this tag was recorded for, by its digest: a tag moved since is refused.
    let recorded = push.target.record_of_tag().and_then(|r| r.digest.clone());
    let digest = match recorded {
        Some(recorded) => push
            .target
            .confirm_digest(runner, tool, source, &recorded)
            .map_err(|e| explained(e, source))?,
        None => remote_digest(runner, tool, source, push.insecure(source))
            .map_err(|e| explained(e, source))?
            .with_context(|| format!("{source} is not in the registry; build and push it first"))?,
    };
    let copy = registry::copy(
        tool,
        &source.with_digest(&digest),
        dest,
        push.insecure(source),
        push.insecure(dest),
    );
    // Captured, so that a failure can be read for its cause; the tool's words follow it.
    let out = runner.run_captured(&copy)?;
    eprint!("{}", copy.redact(&out.stdout));
    if !out.success() {
        let err = anyhow::anyhow!("`{copy}` failed:\n{}", copy.redact(out.stderr.trim_end()));
        let dest_host = dest.registry.as_deref().unwrap_or("docker.io");
        let failed = if out.stderr.contains(&format!("registry {dest_host}")) {
            dest
        } else {
            source
        };
        return Err(explained(err, failed))
            .with_context(|| format!("copying {} to {dest}", source.with_digest(&digest)));
    }
    eprint!("{}", copy.redact(&out.stderr));
    runner
        .for_real(|| verify(runner, tool, dest, &digest, push.insecure(dest)))
        .map_err(|e| explained(e, dest))?;
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
            eprintln!("verified: {dest} has digest {want}");
            println!("{}@{want}", dest);
            Ok(())
        }
        Some(got) => bail!("{dest} has digest {got} after the push, but the source is {want}"),
        None => bail!("{dest} is not in the registry after the push"),
    }
}
