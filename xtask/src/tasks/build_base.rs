//! `cargo xtask build-base`: build the base image for every platform, tagged `sha-<7 hex>` of
//! the commit, with OCI labels and `SOURCE_DATE_EPOCH` from the commit, optionally pushed; then
//! print `reference@digest` and write the build record (`target/xtask/images/<image>.json`).
//!
//! Every decision (commit, tag, dirty state, platforms, cache, skip rules) is made before a
//! process starts; `--if-changed` and `--skip-existing` never start a build.

use crate::build_record::BuildRecord;
use crate::engine::{
    self, BuildOutput, BuildSpec, Cache, CacheChoice, Engine, registry_tool, select_engine,
};
use crate::exec::Runner;
use crate::flags;
use crate::image_ref::ImageRef;
use crate::oci_labels;
use crate::registry::{login_cmd, remote_digest};
use crate::repo::{Commit, Repo};
use crate::resolve::{self, Purpose, Tag};
use crate::settings::ImageSettings;
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

mod by_digest;

pub fn run(flags: &flags::BuildBase, ctx: &Ctx) -> Result<Status> {
    let repo = Repo::open(&ctx.root)?;
    let build = resolve(flags, ctx)?;
    if let Some(base) = &flags.if_changed
        && unchanged(&repo, base, &build)?
    {
        return Ok(Status::Clean);
    }
    let runner = Runner::new(flags.dry_run, ctx.settings.network_timeout)?;
    let engine = select_engine(flags.engine.into(), &runner)?;
    let reference = &build.reference;
    if flags.login {
        let login = login_cmd(
            &ctx.settings,
            engine.login_tool(),
            reference,
            build.insecure,
        )?;
        runner.run_to_stderr(&login)?;
    }
    if flags.skip_existing
        && let Some(digest) =
            remote_digest(&runner, registry_tool(engine)?, reference, build.insecure)?
    {
        eprintln!("skipped: {reference} is already in the registry");
        println!("{reference}@{digest}");
        let record = build.record(engine, Some(digest), true);
        runner.for_real(|| record.write(&ctx.root).map(drop))?;
        return Ok(Status::Clean);
    }
    let exported = match build.from_head {
        true => None,
        false => Some(Exported::new(&repo, &build.commit, &build.image.context)?),
    };
    let spec = spec(ctx, &repo, &build, engine, exported.as_ref());
    let plan = engine::build(engine, &spec)?;
    runner.for_real(|| prepare(ctx, &build, &spec))?;
    execute(&runner, engine, &build, &plan)?;
    if build.output == BuildOutput::PushByDigest {
        return by_digest::finish(ctx, &runner, engine, &build, &spec);
    }
    runner.for_real(|| finish(ctx, engine, &build, &spec))?;
    Ok(Status::Clean)
}

/// What to build, decided before any process starts.
struct Build<'a> {
    image: &'a ImageSettings,
    registry: String,
    platforms: Vec<String>,
    cache: Cache,
    output: BuildOutput,
    /// The tag's commit (the one tag rule: the last commit that changed the context as seen
    /// from HEAD, or --sha as given).
    commit: Commit,
    /// Whether HEAD's work tree is built (no --sha, or --sha names HEAD); else the commit's own
    /// tree is exported.
    from_head: bool,
    /// The commit whose tree is built.
    built: Commit,
    /// `sha-<7 hex>`, with `-dirty` for a local build of uncommitted changes.
    tag: Tag,
    reference: ImageRef,
    /// Plain HTTP: a loopback registry, or --insecure-registry.
    insecure: bool,
    /// `--builder NAME` (docker buildx only).
    builder: Option<String>,
}

impl Build<'_> {
    fn record(&self, engine: Engine, digest: Option<String>, pushed: bool) -> BuildRecord {
        BuildRecord {
            image: self.image.name.clone(),
            registry: self.registry.clone(),
            tag: self.tag.to_string(),
            digest,
            platforms: self.platforms.clone(),
            commit: self.commit.id.clone(),
            pushed,
            engine: engine.name().into(),
        }
    }
}

/// The image, registry, platforms, cache, output, commit and tag the flags ask for.
fn resolve<'a>(flags: &flags::BuildBase, ctx: &'a Ctx) -> Result<Build<'a>> {
    let allow_dirty = flags.allow_dirty;
    let purpose = Purpose::Build { allow_dirty };
    let (target, source) =
        resolve::target(&ctx.root, &ctx.settings, &flags.target.wanted(), purpose)?;
    let source = source.expect("a build resolves what it builds from");
    let platforms = if flags.platform.is_empty() {
        ctx.settings.platforms.clone()
    } else {
        flags.platform.clone()
    };
    // Named by where it came from: a platform from the settings was never a flag.
    let named = if flags.platform.is_empty() {
        "the configured platforms (XTASK_PLATFORMS, else platforms in [workspace.metadata.xtask])"
    } else {
        "--platform"
    };
    for platform in &platforms {
        engine::validate_platform(platform).context(named)?;
    }
    let cache = CacheChoice::parse(&flags.cache)
        .map_err(|e| anyhow::anyhow!("--cache: {e}"))?
        .resolve(env("GITHUB_ACTIONS").as_deref() == Some("true"));
    let output = match (flags.push, flags.load) {
        _ if flags.push_by_digest => BuildOutput::PushByDigest,
        (true, _) => BuildOutput::Push,
        (_, true) => BuildOutput::Load,
        _ => BuildOutput::Keep,
    };
    engine::check_output(output, &platforms)?;
    let tag = target.tag.clone().expect("a build has a tag");
    if (flags.push || flags.push_by_digest) && !tag.is_pushable() {
        bail!("refusing to push {tag}: a -dirty tag is never pushed; commit the build context");
    }
    let reference = target.reference().expect("a build has a tag");
    Ok(Build {
        insecure: target.plain_http(&reference),
        commit: target.commit.clone().expect("a build has a commit"),
        image: target.image,
        registry: target.registry.clone(),
        platforms,
        cache,
        output,
        from_head: source.from_head,
        built: source.built,
        tag,
        reference,
        builder: flags.builder.clone(),
    })
}

/// `--if-changed [BASE]`: true (and says so) when the context did not change since the base.
fn unchanged(repo: &Repo, base: &str, build: &Build) -> Result<bool> {
    let (base, why) = if_changed_base(repo, base, &build.built)?;
    let context = build.image.context.display();
    let built = build.built.short();
    match base {
        Some(base) if !repo.changed_between(&base.id, &build.built.id, &build.image.context)? => {
            let base = base.short();
            eprintln!("skipped: {context} did not change between {base} ({why}) and {built}");
            Ok(true)
        }
        Some(base) => {
            let base = base.short();
            eprintln!("{context} changed between {base} ({why}) and {built}: building");
            Ok(false)
        }
        None => {
            eprintln!("{built}: {why}; building");
            Ok(false)
        }
    }
}

/// Everything the engine's build commands need.
fn spec(
    ctx: &Ctx,
    repo: &Repo,
    build: &Build,
    engine: Engine,
    exported: Option<&Exported>,
) -> BuildSpec {
    let context = match exported {
        Some(e) => e.dir.clone(),
        None => ctx.root.join(&build.image.context),
    };
    let source = oci_labels::source_url(env, repo.origin_url().as_deref());
    let name = &build.image.name;
    BuildSpec {
        image: name.clone(),
        dockerfile: context.join(&build.image.dockerfile),
        context,
        reference: build.reference.clone(),
        platforms: build.platforms.clone(),
        labels: oci_labels::labels(&build.commit, build.tag.as_str(), name, source),
        source_date_epoch: build.commit.time,
        cache: build.cache.clone(),
        output: build.output,
        insecure: build.insecure,
        result_file: work_dir(ctx).join(by_digest::result_file_name(build, engine)),
        builder: build.builder.clone(),
    }
}

fn work_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("target/xtask/build")
}

/// A new build starts: the old record goes, and the engine's result file with it.
fn prepare(ctx: &Ctx, build: &Build, spec: &BuildSpec) -> Result<()> {
    BuildRecord::remove(&ctx.root, &build.image.name)?;
    let work = work_dir(ctx);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let _ = std::fs::remove_file(&spec.result_file);
    by_digest::prepare(spec)
}

/// Runs the build (podman: after removing a manifest list left by an earlier build).
fn execute(
    runner: &Runner,
    engine: Engine,
    build: &Build,
    plan: &[crate::exec::Cmd],
) -> Result<()> {
    let reference = &build.reference;
    let tagged_list = !matches!(build.output, BuildOutput::Load | BuildOutput::PushByDigest);
    if engine == Engine::Podman && tagged_list {
        let exists = engine::podman_manifest_exists(reference);
        if runner.output(&exists)?.success() {
            runner.run_to_stderr(&engine::podman_manifest_rm(reference))?;
        }
    }
    for (i, cmd) in plan.iter().enumerate() {
        runner.run_to_stderr(cmd).with_context(|| {
            if i > 0 {
                format!(
                    "cannot push {reference}: is {} up, and are you logged in (--login)?",
                    build.registry
                )
            } else if matches!(build.output, BuildOutput::Push | BuildOutput::PushByDigest) {
                format!("building or pushing {reference} failed")
            } else {
                format!("building {reference} failed")
            }
        })?;
    }
    Ok(())
}

/// Prints `reference@digest` (or the reference, when the engine reported no digest) and
/// writes the build record.
fn finish(ctx: &Ctx, engine: Engine, build: &Build, spec: &BuildSpec) -> Result<()> {
    let digest = result_digest(engine, build.output, &spec.result_file)?;
    match &digest {
        Some(digest) => println!("{}@{digest}", build.reference),
        None => println!("{}", build.reference),
    }
    let pushed = build.output == BuildOutput::Push;
    let path = build.record(engine, digest, pushed).write(&ctx.root)?;
    eprintln!("build record: {}", path.display());
    Ok(())
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The digest the engine reported: docker's metadata file, podman's digest file (after a push).
fn result_digest(engine: Engine, output: BuildOutput, file: &Path) -> Result<Option<String>> {
    let read = || {
        std::fs::read_to_string(file)
            .with_context(|| format!("the build wrote no {}", file.display()))
    };
    match (engine, output) {
        (Engine::Docker, BuildOutput::Push) => Ok(Some(engine::parse_docker_metadata(&read()?)?)),
        (Engine::Docker, _) => Ok(read()
            .ok()
            .and_then(|json| engine::parse_docker_metadata(&json).ok())),
        (Engine::Podman, BuildOutput::Push) => Ok(Some(engine::parse_digest_file(&read()?)?)),
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
            commit.short(),
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
