//! `cargo xtask build-base`: build the base image for every platform, tagged `sha-<7 hex>` of
//! the commit, with OCI labels and `SOURCE_DATE_EPOCH` from the commit, optionally pushed; then
//! print `reference@digest` and write the build record (`target/xtask/images/<image>.json`).
//!
//! Every decision (commit, tag, dirty state, platforms, cache, skip rules) is made before a
//! process starts; `--if-changed` and `--skip-existing` never start a build.

use crate::build_record::BuildRecord;
use crate::engine::{self, BuildSpec, CacheChoice, Engine, Output, RegistryTool};
use crate::exec::Runner;
use crate::flags;
use crate::image_ref::ImageRef;
use crate::oci_labels;
use crate::registry::{login_cmd, registry_tool, remote_digest, select_engine};
use crate::repo::{Commit, Repo};
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

pub fn run(flags: &flags::BuildBase, ctx: &Ctx) -> Result<Status> {
    let image = match &flags.image {
        Some(name) => ctx.settings.image(name)?,
        None => &ctx.settings.images[0],
    };
    let registry = match &flags.registry {
        Some(name) => ctx.settings.registry_named(name)?,
        None => ctx.settings.registry.clone(),
    };
    let platforms = if flags.platform.is_empty() {
        ctx.settings.platforms.clone()
    } else {
        flags.platform.clone()
    };
    for platform in &platforms {
        engine::validate_platform(platform)?;
    }
    let cache = CacheChoice::parse(&flags.cache)
        .map_err(|e| anyhow::anyhow!("--cache: {e}"))?
        .resolve(env("GITHUB_ACTIONS").as_deref() == Some("true"));
    let output = match (flags.push, flags.load) {
        (true, _) => Output::Push,
        (_, true) => Output::Load,
        _ => Output::Keep,
    };
    engine::check_output(output, &platforms)?;

    let repo = Repo::open(&ctx.root)?;
    let head = repo.head()?;
    // The tag's commit (the one tag rule): the last commit that changed the context as seen
    // from HEAD, or --sha as given. Without --sha, HEAD is built, whose context is that
    // commit's; with it, the commit's own tree is exported unless it is HEAD.
    let commit = repo
        .tag_commit(&image.context, flags.sha.as_deref())
        .context(if flags.sha.is_some() {
            "--sha"
        } else {
            "the image tag"
        })?;
    let from_head = flags.sha.is_none() || commit.id == head.id;
    let built = if from_head {
        head.clone()
    } else {
        commit.clone()
    };
    let mut tag = commit.tag();
    if from_head {
        let dirty = repo.dirty_paths(&image.context)?;
        if !dirty.is_empty() {
            if !flags.allow_dirty {
                bail!(
                    "the build context {} has uncommitted changes, so tag {tag} would not describe \
                     the image:\n  {}\ncommit them, or pass --allow-dirty for a local `{tag}-dirty` build",
                    image.context.display(),
                    dirty.join("\n  ")
                );
            }
            tag.push_str("-dirty");
        }
    }
    if flags.push && tag.ends_with("-dirty") {
        bail!("refusing to push {tag}: a -dirty tag is never pushed; commit the build context");
    }
    let reference = ImageRef::parse(&format!("{registry}/{}", image.name))
        .map_err(anyhow::Error::msg)?
        .with_tag(&tag);
    let insecure = reference.is_loopback() || flags.insecure_registry;

    if let Some(base) = &flags.if_changed {
        let (base, why) = if_changed_base(&repo, base, &built)?;
        match base {
            Some(base) if !repo.changed_between(&base.id, &built.id, &image.context)? => {
                eprintln!(
                    "skipped: {} did not change between {} ({why}) and {}",
                    image.context.display(),
                    &base.id[..7],
                    &built.id[..7]
                );
                return Ok(Status::Clean);
            }
            Some(base) => eprintln!(
                "{} changed between {} ({why}) and {}: building",
                image.context.display(),
                &base.id[..7],
                &built.id[..7]
            ),
            None => eprintln!("{}: {why}; building", &built.id[..7]),
        }
    }

    let runner = Runner::new(flags.dry_run)?;
    let engine = select_engine(flags.engine, &runner)?;
    if flags.login {
        // podman's login also serves skopeo: they share the containers auth file.
        let login_tool = match engine {
            Engine::Docker => RegistryTool::Docker,
            Engine::Podman => RegistryTool::Podman,
        };
        runner.run_to_stderr(&login_cmd(&ctx.settings, login_tool, &reference, insecure)?)?;
    }
    if flags.skip_existing
        && let Some(digest) = remote_digest(&runner, registry_tool(engine)?, &reference, insecure)?
    {
        eprintln!("skipped: {reference} is already in the registry");
        println!("{reference}@{digest}");
        if !flags.dry_run {
            BuildRecord {
                digest: Some(digest),
                pushed: true,
                engine: engine_name(engine).into(),
                ..record(&image.name, &registry, &tag, &commit, &platforms)
            }
            .write(&ctx.root)?;
        }
        return Ok(Status::Clean);
    }

    let exported = if from_head {
        None
    } else {
        Some(Exported::new(&repo, &commit, &image.context)?)
    };
    let context = match &exported {
        Some(e) => e.dir.clone(),
        None => ctx.root.join(&image.context),
    };
    let work = ctx.root.join("target/xtask/build");
    let result_file = work.join(format!("{}.{}", image.name, engine_name(engine)));
    let origin = repo.origin_url();
    let spec = BuildSpec {
        image: image.name.clone(),
        dockerfile: context.join(&image.dockerfile),
        context,
        reference: reference.clone(),
        platforms: platforms.clone(),
        labels: oci_labels::labels(
            &commit,
            &tag,
            &image.name,
            oci_labels::source_url(env, origin.as_deref()),
        ),
        source_date_epoch: commit.time,
        cache,
        output,
        insecure,
        result_file: result_file.clone(),
    };
    let plan = engine::build(engine, &spec)?;

    if !flags.dry_run {
        BuildRecord::remove(&ctx.root, &image.name)?;
        std::fs::create_dir_all(&work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        let _ = std::fs::remove_file(&result_file);
    }
    if engine == Engine::Podman && output != Output::Load {
        let exists = engine::podman_manifest_exists(&reference);
        if runner.output(&exists)?.success() {
            runner.run_to_stderr(&engine::podman_manifest_rm(&reference))?;
        }
    }
    for (i, cmd) in plan.iter().enumerate() {
        runner.run_to_stderr(cmd).with_context(|| {
            if i > 0 {
                format!(
                    "cannot push {reference}: is {registry} up, and are you logged in (--login)?"
                )
            } else if output == Output::Push {
                format!("building or pushing {reference} failed")
            } else {
                format!("building {reference} failed")
            }
        })?;
    }
    if flags.dry_run {
        return Ok(Status::Clean);
    }

    let digest = result_digest(engine, output, &result_file)?;
    match &digest {
        Some(digest) => println!("{reference}@{digest}"),
        None => println!("{reference}"),
    }
    let path = BuildRecord {
        digest,
        pushed: output == Output::Push,
        engine: engine_name(engine).into(),
        ..record(&image.name, &registry, &tag, &commit, &platforms)
    }
    .write(&ctx.root)?;
    eprintln!("build record: {}", path.display());
    Ok(Status::Clean)
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn record(
    image: &str,
    registry: &str,
    tag: &str,
    commit: &Commit,
    platforms: &[String],
) -> BuildRecord {
    BuildRecord {
        image: image.into(),
        registry: registry.into(),
        tag: tag.into(),
        digest: None,
        platforms: platforms.to_vec(),
        commit: commit.id.clone(),
        pushed: false,
        engine: String::new(),
    }
}

pub(crate) fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Docker => "docker",
        Engine::Podman => "podman",
    }
}

/// The digest the engine reported: docker's metadata file, podman's digest file (after a push).
fn result_digest(engine: Engine, output: Output, file: &Path) -> Result<Option<String>> {
    let read = || {
        std::fs::read_to_string(file)
            .with_context(|| format!("the build wrote no {}", file.display()))
    };
    match (engine, output) {
        (Engine::Docker, Output::Push) => Ok(Some(engine::parse_docker_metadata(&read()?)?)),
        (Engine::Docker, _) => Ok(read()
            .ok()
            .and_then(|json| engine::parse_docker_metadata(&json).ok())),
        (Engine::Podman, Output::Push) => Ok(Some(engine::parse_digest_file(&read()?)?)),
        (Engine::Podman, _) => Ok(None),
    }
}

/// The commit to compare with for `--if-changed [BASE]`, and why that one. `None`: nothing to
/// compare with (a root commit), so build.
fn if_changed_base(repo: &Repo, base: &str, commit: &Commit) -> Result<(Option<Commit>, String)> {
    if !base.is_empty() {
        return Ok((
            Some(repo.resolve(base).context("--if-changed")?),
            format!("--if-changed {base}"),
        ));
    }
    let merge_base = ["main", "master"]
        .iter()
        .find_map(|b| repo.merge_base_with(b).map(|c| (c, *b)));
    if let Some((c, branch)) = merge_base
        && c.id != commit.id
    {
        return Ok((Some(c), format!("merge-base with {branch}")));
    }
    match repo.parent(&commit.id)? {
        Some(parent) => Ok((Some(parent), "the parent commit".into())),
        None => Ok((None, "a root commit has nothing to compare with".into())),
    }
}

/// A commit's context exported to a temp folder, removed on drop.
struct Exported {
    dir: PathBuf,
    parent: PathBuf,
}

impl Exported {
    fn new(repo: &Repo, commit: &Commit, context: &Path) -> Result<Exported> {
        let parent = std::env::temp_dir().join(format!(
            "xtask-build-{}-{}",
            &commit.id[..7],
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&parent)?;
        let exported = Exported {
            dir: parent.join("context"),
            parent,
        };
        repo.export(&commit.id, context, &exported.dir)
            .with_context(|| format!("exporting {} at {}", context.display(), commit.id))?;
        Ok(exported)
    }
}

impl Drop for Exported {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.parent);
    }
}
