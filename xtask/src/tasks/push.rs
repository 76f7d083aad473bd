//! `cargo xtask push`: push a locally built image (named by the build record, or `--sha`) to a
//! registry, or with `--mirror` copy it registry to registry by digest (`skopeo copy --all` or
//! `docker buildx imagetools create`, pulling nothing). `--mirror` copies the digest the build
//! record names, and refuses when the source tag now holds another one. Either way it then
//! reads the destination's digest and fails unless it equals the source's.

use crate::build_record::BuildRecord;
use crate::engine::{self, Engine, RegistryTool};
use crate::exec::Runner;
use crate::flags;
use crate::image_ref::ImageRef;
use crate::registry::{login_cmd, read_tool, registry_tool, remote_digest, select_engine};
use crate::repo::Repo;
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};

pub fn run(flags: &flags::Push, ctx: &Ctx) -> Result<Status> {
    let image = match &flags.image {
        Some(name) => ctx.settings.image(name)?,
        None => &ctx.settings.images[0],
    };
    let record = BuildRecord::load(&ctx.root, &image.name)?;
    let tag = match (&flags.sha, &record) {
        (Some(sha), _) => Repo::open(&ctx.root)?
            .tag_commit(&image.context, Some(sha))
            .context("--sha")?
            .tag(),
        (None, Some(record)) => record.tag.clone(),
        (None, None) => bail!(
            "no build record for {} ({}): run `cargo xtask build-base` first, or pass --sha",
            image.name,
            crate::build_record::path(&ctx.root, &image.name).display()
        ),
    };
    if tag.ends_with("-dirty") {
        bail!("refusing to push {tag}: a -dirty tag is never pushed; commit and rebuild");
    }
    let source_registry = match (&flags.registry, &record) {
        (Some(name), _) => ctx.settings.registry_named(name)?,
        (None, Some(r)) if r.tag == tag => r.registry.clone(),
        (None, _) => ctx.settings.registry.clone(),
    };
    let dest_registry = match &flags.to {
        Some(name) => ctx.settings.registry_named(name)?,
        None if flags.mirror => ctx.settings.backup_registry.clone(),
        None => ctx.settings.registry.clone(),
    };
    let named = |registry: &str| -> Result<ImageRef> {
        Ok(ImageRef::parse(&format!("{registry}/{}", image.name))
            .map_err(anyhow::Error::msg)?
            .with_tag(&tag))
    };
    let source = named(&source_registry)?;
    let dest = named(&dest_registry)?;
    let insecure = |r: &ImageRef| r.is_loopback() || flags.insecure_registry;
    let runner = Runner::new(flags.dry_run)?;

    if flags.mirror {
        if source == dest {
            bail!("--mirror from {source_registry} to itself: pass --to");
        }
        let tool = read_tool(flags.engine, &runner)?;
        if flags.login {
            runner.run_to_stderr(&login_cmd(&ctx.settings, tool, &dest, insecure(&dest))?)?;
        }
        let current = remote_digest(&runner, tool, &source, insecure(&source))?;
        // The build this tag was recorded for, by its digest: a tag moved since is refused.
        let recorded = record
            .as_ref()
            .filter(|r| r.tag == tag)
            .and_then(|r| r.digest.clone());
        let digest = match recorded {
            Some(recorded) => {
                crate::build_record::check_tag_holds(&source, &recorded, current.as_deref())?;
                recorded
            }
            None => current.with_context(|| {
                format!("{source} is not in the registry; build and push it first")
            })?,
        };
        let copy = engine::copy(
            tool,
            &source.with_digest(&digest),
            &dest,
            insecure(&source),
            insecure(&dest),
        );
        runner.run_to_stderr(&copy)?;
        return finish(&runner, tool, &dest, &digest, insecure(&dest));
    }

    let engine = select_engine(flags.engine, &runner)?;
    let tool = registry_tool(engine)?;
    if flags.login {
        let login_tool = match engine {
            Engine::Docker => RegistryTool::Docker,
            Engine::Podman => RegistryTool::Podman,
        };
        runner.run_to_stderr(&login_cmd(
            &ctx.settings,
            login_tool,
            &dest,
            insecure(&dest),
        )?)?;
    }
    let digest = match engine {
        Engine::Podman => {
            let work = ctx.root.join("target/xtask/build");
            std::fs::create_dir_all(&work)?;
            let file = work.join(format!("{}.push-digest", image.name));
            let _ = std::fs::remove_file(&file);
            let push =
                engine::podman_push(&source, &dest, insecure(&dest), &file.display().to_string());
            runner.run_to_stderr(&push)?;
            if flags.dry_run {
                return Ok(Status::Clean);
            }
            engine::parse_digest_file(
                &std::fs::read_to_string(&file)
                    .with_context(|| format!("podman manifest push wrote no {}", file.display()))?,
            )?
        }
        Engine::Docker => {
            for cmd in engine::docker_push(&source, &dest) {
                runner.run_to_stderr(&cmd)?;
            }
            if flags.dry_run {
                return Ok(Status::Clean);
            }
            let inspect = engine::docker_repo_digests(&dest);
            engine::parse_repo_digests(&runner.read(&inspect)?, &dest)?
        }
    };
    finish(&runner, tool, &dest, &digest, insecure(&dest))
}

/// Reads the destination's digest, fails unless it is `want`, and prints `dest@digest`.
fn finish(
    runner: &Runner,
    tool: RegistryTool,
    dest: &ImageRef,
    want: &str,
    insecure: bool,
) -> Result<Status> {
    if runner.dry_run {
        return Ok(Status::Clean);
    }
    match remote_digest(runner, tool, dest, insecure)? {
        Some(got) if got == want => {
            eprintln!("verified: {dest} has digest {want}");
            println!("{}@{want}", dest);
            Ok(Status::Clean)
        }
        Some(got) => bail!("{dest} has digest {got} after the push, but the source is {want}"),
        None => bail!("{dest} is not in the registry after the push"),
    }
}
