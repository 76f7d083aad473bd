//! `cargo xtask smoke`: run the pushed image, by digest, before anyone deploys it. The digest
//! is `--digest`, `--sha`'s tag in the registry, or the build record's (whose tag must still
//! hold it, as sign checks). Every platform of its index (a single-platform image: the one its
//! config names) runs natively or under qemu
//! ([`crate::smoke::platforms`]); one this machine cannot run is NOT RUN, with the fix. Each
//! runs the smoke command ([`crate::smoke::checks`]) and the image's own CMD, hardened like the
//! CronJobs, with docker, podman, or buildah's chroot isolation where `podman run` cannot start
//! containers.
//!
//! The outcome goes to stderr, and as JSON to `target/xtask/smoke/<image>.json`, which
//! `release` reads for its summary. Exit 0 every platform that ran passed; 1 one failed; 2 bad
//! input, a tool failure, or no platform could run here.

use crate::engine::{Choice, read_tool};
use crate::exec::{Cmd, Output, Runner, quote};
use crate::flags::{self, SmokeEngine};
use crate::image_ref::{ImageRef, is_digest};
use crate::output::escape_line;
use crate::registry::{self, remote_digest};
use crate::resolve::{self, FromRecord, Purpose};
use crate::settings::ImageSettings;
use crate::smoke::platforms::{Runnable, binfmt_dir, handlers, host_platform, runnable};
use crate::smoke::record::{Outcome, PlatformResult, SmokeRecord, Verdict};
use crate::smoke::{self, Check, Engine, scripts};
use crate::tools::{self, BUILDAH, DOCKER, PODMAN};
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::time::Duration;

/// How many lines of a failed command's output are shown.
const TAIL: usize = 20;

pub fn run(flags: &flags::Smoke, ctx: &Ctx) -> Result<Status> {
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    let (image, reference, insecure) = target(flags, ctx, &runner)?;
    let checks = image_checks(ctx, image)?;
    let mut engine = pick(flags.engine, &runner)?;
    let tool = read_tool(Choice::Auto, &runner)?;
    let mut platforms = registry::index_platforms(&runner, tool, &reference, insecure)?;
    if platforms.is_empty() {
        // A single-platform image (no index): its platform is in its config.
        let config = runner.read(&registry::inspect_config(tool, &reference, insecure))?;
        platforms.push(
            registry::parse_config_platform(&config)
                .with_context(|| format!("the config of {reference}"))?,
        );
    }
    let (host, handlers) = (host_platform(), handlers(&binfmt_dir()));
    crate::output::sayln!(
        "smoke test of {reference}, as user {}, on {}",
        smoke::USER,
        platforms.join(", ")
    );
    let targets: Vec<Option<&str>> = platforms.iter().map(|p| Some(p.as_str())).collect();
    let mut results = Vec::new();
    for platform in targets {
        let name = platform.unwrap_or("image").to_string();
        let how = platform.map_or(Runnable::Native, |p| runnable(p, &host, &handlers));
        if let Runnable::No { reason, fix } = &how {
            crate::output::sayln!("\n{name}: NOT RUN: {reason}\n  fix: {fix}");
            results.push(PlatformResult {
                platform: name,
                how: how.label(),
                result: Outcome::NotRun,
                reason: Some(reason.clone()),
            });
            continue;
        }
        crate::output::sayln!("\n==> {name} ({})", how.label());
        let failure = run_platform(
            &runner,
            &mut engine,
            platform,
            &reference,
            insecure,
            &checks,
        )?;
        results.push(PlatformResult {
            platform: name,
            how: how.label(),
            result: match failure {
                Some(_) => Outcome::Failed,
                None => Outcome::Passed,
            },
            reason: failure,
        });
    }
    let record = SmokeRecord {
        reference: reference.to_string(),
        engine: engine.describe().into(),
        not_applied: engine.not_applied().iter().map(|s| s.to_string()).collect(),
        platforms: results,
    };
    let json = serde_json::to_string_pretty(&record)? + "\n";
    let path = SmokeRecord::path(&ctx.root, &image.name);
    crate::files::make_dir(&ctx.root, path.parent().expect("the record has a folder"))?;
    crate::files::write_atomic(&path, json.as_bytes())?;
    report(&record)
}

/// How long one command in the image may run, pull included ([`smoke::timeout`]).
fn limit() -> Result<Duration> {
    smoke::timeout(std::env::var("XTASK_SMOKE_TIMEOUT").ok())
}

/// Runs one command in the image. `Err(why)`: it did not finish within its deadline (a
/// failure of the image, not of the tools).
fn run_in_image(runner: &Runner, cmd: &Cmd) -> Result<Result<Output, String>> {
    match runner.output(cmd) {
        Ok(out) => Ok(Ok(out)),
        Err(e) if e.to_string().contains(" timed out: ") => Ok(Err(format!(
            "did not finish within {} s and was killed (XTASK_SMOKE_TIMEOUT raises the limit)",
            cmd.deadline.unwrap_or_default().as_secs()
        ))),
        Err(e) => Err(e),
    }
}

/// The summary on stderr, and the exit status.
fn report(record: &SmokeRecord) -> Result<Status> {
    crate::output::sayln!(
        "\nsmoke summary: {} (with {})",
        record.reference,
        record.engine
    );
    for p in &record.platforms {
        let (name, how, result) = (&p.platform, &p.how, p.result.label());
        crate::output::sayln!("  {name:<14} {how:<26} {result}");
    }
    for what in &record.not_applied {
        crate::output::sayln!("  hardening not applied: {what}");
    }
    match record.verdict() {
        Verdict::Failed(p) => {
            let why = p.reason.as_deref().unwrap_or_default();
            crate::output::sayln!("FAILED on {}: {why}", p.platform);
            Ok(Status::Found)
        }
        Verdict::NothingRan => bail!(
            "no platform of {} could run on this machine ({}), so nothing was tested: run it on a \
             native runner, or register qemu (see the fixes above)",
            record.reference,
            host_platform()
        ),
        Verdict::Passed => {
            crate::output::sayln!(
                "passed: every platform that ran ({})",
                record.platforms_line()
            );
            Ok(Status::Clean)
        }
    }
}

/// Runs every check on one platform; `Some(why)` when one failed. A tool failure (a pull that
/// fails, an engine that cannot start containers) is an error.
fn run_platform(
    runner: &Runner,
    engine: &mut Engine,
    platform: Option<&str>,
    reference: &ImageRef,
    insecure: bool,
    checks: &[Check],
) -> Result<Option<String>> {
    if *engine == Engine::Buildah {
        return in_buildah(runner, platform, reference, insecure, checks);
    }
    for check in checks {
        let cmd = smoke::run_cmd(
            *engine,
            platform,
            reference,
            insecure,
            check.argv.as_deref(),
        )
        .deadline(limit()?);
        crate::output::sayln!("+ {cmd}");
        let out = match run_in_image(runner, &cmd)? {
            Ok(out) => out,
            Err(why) => return Ok(Some(format!("{} {why}", check.label))),
        };
        if *engine == Engine::Podman && !out.success() && smoke::is_sandbox_refusal(&out.stderr) {
            tools::require(BUILDAH).context(
                "podman run cannot start containers on this machine, and buildah (chroot \
                 isolation) is not installed to run the image instead",
            )?;
            crate::output::sayln!(
                "podman run cannot start containers here ({}): using buildah with chroot \
                 isolation instead",
                smoke::tail(&out.stderr, 1).join("")
            );
            *engine = Engine::Buildah;
            return in_buildah(runner, platform, reference, insecure, checks);
        }
        if check.argv.is_none() && smoke::is_no_command(&out.stderr) {
            return Ok(Some(format!(
                "{}: the image has no ENTRYPOINT or CMD to start",
                check.label
            )));
        }
        if smoke::is_engine_error(*engine, out.code) {
            bail!(
                "`{cmd}` failed with exit code 125: the container did not start:\n{}",
                out.stderr.trim_end()
            );
        }
        if let Some(failure) = outcome(check, &cmd, &out, platform) {
            return Ok(Some(failure));
        }
    }
    Ok(None)
}

/// The checks in a buildah working container of the image, removed afterwards.
fn in_buildah(
    runner: &Runner,
    platform: Option<&str>,
    reference: &ImageRef,
    insecure: bool,
    checks: &[Check],
) -> Result<Option<String>> {
    let name = format!(
        "xtask-smoke-{}-{}",
        std::process::id(),
        platform.unwrap_or("image").replace('/', "-")
    );
    let from = smoke::buildah_from(platform, reference, insecure, &name).deadline(limit()?);
    crate::output::sayln!("+ {from}");
    runner.read(&from)?;
    let result = buildah_checks(runner, &name, platform, checks);
    let rm = smoke::buildah_rm(&name);
    if let Err(e) = runner.read(&rm) {
        crate::output::sayln!("warning: could not remove the working container {name}: {e:#}");
    }
    result
}

fn buildah_checks(
    runner: &Runner,
    name: &str,
    platform: Option<&str>,
    checks: &[Check],
) -> Result<Option<String>> {
    for check in checks {
        let argv = match &check.argv {
            Some(argv) => argv.clone(),
            None => smoke::parse_buildah_command(&runner.read(&smoke::buildah_inspect(name))?)?,
        };
        if argv.is_empty() {
            return Ok(Some(format!(
                "{}: the image has no ENTRYPOINT or CMD to start",
                check.label
            )));
        }
        let cmd = smoke::buildah_run(name, &argv).deadline(limit()?);
        crate::output::sayln!("+ {cmd}");
        let out = match run_in_image(runner, &cmd)? {
            Ok(out) => out,
            Err(why) => return Ok(Some(format!("{} {why}", check.label))),
        };
        if let Some(failure) = outcome(check, &cmd, &out, platform) {
            return Ok(Some(failure));
        }
    }
    Ok(None)
}

/// Shows what one check printed; `Some(why)` when it failed, with the last lines of output.
fn outcome(check: &Check, cmd: &Cmd, out: &Output, platform: Option<&str>) -> Option<String> {
    let all = format!("{}{}", out.stdout, out.stderr);
    if out.success() {
        for line in all.lines() {
            crate::output::sayln!("  | {}", escape_line(line));
        }
        crate::output::sayln!("  {}: ok", check.label);
        return None;
    }
    let code = out
        .code
        .map_or("a signal".into(), |c| format!("exit code {c}"));
    let what = match &check.argv {
        Some(argv) => {
            let words: Vec<String> = argv.iter().map(|w| quote(w)).collect();
            format!("`{}`", words.join(" "))
        }
        None => "(the image's ENTRYPOINT and CMD)".into(),
    };
    crate::output::sayln!(
        "  {} FAILED on {} with {code}: {what}\n  run as: `{cmd}`\n  last lines of its output:",
        check.label,
        platform.unwrap_or("the image's platform")
    );
    for line in smoke::tail(&all, TAIL) {
        crate::output::sayln!("  | {}", escape_line(line));
    }
    Some(format!("{} {what} exited with {code}", check.label))
}

/// The image's checks: its `smoke` setting, else, for the first configured image (the base
/// image the services run), the interpreter importing what the delivered scripts import.
fn image_checks(ctx: &Ctx, image: &ImageSettings) -> Result<Vec<Check>> {
    if let Some(argv) = &image.smoke {
        smoke::check_argv(argv).with_context(|| format!("image {}", image.name))?;
    }
    let is_base = ctx.settings.images[0].name == image.name;
    let default = match (&image.smoke, is_base) {
        (None, true) => {
            let scripts = scripts::delivered(&ctx.root, &ctx.settings.manifests)?;
            let modules = scripts::third_party_imports(&scripts);
            crate::output::sayln!(
                "smoke command: python imports the {} third-party module(s) that the {} \
                 delivered script(s) import: {}",
                modules.len(),
                scripts.len(),
                modules.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            Some(smoke::default_command(&modules))
        }
        _ => None,
    };
    Ok(smoke::checks(image.smoke.as_deref(), default))
}

/// `--engine`, or auto: docker when its daemon answers, else podman, else buildah.
fn pick(choice: SmokeEngine, runner: &Runner) -> Result<Engine> {
    Ok(match choice {
        SmokeEngine::Docker => tools::require(DOCKER).map(|_| Engine::Docker)?,
        SmokeEngine::Podman => tools::require(PODMAN).map(|_| Engine::Podman)?,
        SmokeEngine::Buildah => tools::require(BUILDAH).map(|_| Engine::Buildah)?,
        SmokeEngine::Auto => {
            let daemon = || {
                let probe = smoke::docker_daemon_probe();
                runner.output(&probe).is_ok_and(|out| out.success())
            };
            if tools::find(DOCKER).is_some() && daemon() {
                Engine::Docker
            } else if tools::find(PODMAN).is_some() {
                Engine::Podman
            } else if tools::find(BUILDAH).is_some() {
                Engine::Buildah
            } else {
                return Err(tools::missing(&[DOCKER, PODMAN, BUILDAH]));
            }
        }
    })
}

/// The image and its reference by digest: `--digest`, `--sha`'s tag in the registry, or the
/// build record's digest (its tag must still hold it), or a recorded tag's current digest.
fn target<'a>(
    flags: &flags::Smoke,
    ctx: &'a Ctx,
    runner: &Runner,
) -> Result<(&'a ImageSettings, ImageRef, bool)> {
    let wanted = flags.target.wanted();
    let (t, _) = resolve::target(&ctx.root, &ctx.settings, &wanted, Purpose::Existing)?;
    let tag_digest = |tagged: ImageRef| -> Result<ImageRef> {
        let tool = read_tool(Choice::Auto, runner)?;
        let digest = remote_digest(runner, tool, &tagged, t.plain_http(&tagged))?
            .with_context(|| format!("{tagged} is not in the registry: push it first"))?;
        Ok(t.name.with_digest(&digest))
    };
    let from_file = match &flags.digests {
        Some(dir) => Some(crate::digests::for_platform(
            &ctx.root.join(dir),
            &ctx.settings.platforms,
        )?),
        None => None,
    };
    let reference = if let Some(d) = from_file.as_ref().or(flags.digest.as_ref()) {
        if !is_digest(d) {
            bail!("--digest {d}: not a digest (sha256: and 64 lowercase hex digits)");
        }
        t.name.with_digest(d)
    } else if flags.target.sha.is_some() {
        tag_digest(t.reference().expect("--sha names a tag"))?
    } else {
        match t.lookup(runner)? {
            Some(FromRecord::Digest(reference)) => reference,
            Some(FromRecord::Tagged(r)) => tag_digest(t.name.with_tag(&r.tag))?,
            Some(FromRecord::Unpushed(r)) => bail!(
                "the build record of {} says {} was built but not pushed: smoke tests the \
                 pushed image, so push it first (cargo xtask push)",
                t.image.name,
                r.reference()
            ),
            None => {
                return Err(t.no_record(&ctx.root, "build-base --push", "--digest or --sha"));
            }
        }
    };
    let plain_http = t.plain_http(&reference);
    Ok((t.image, reference, plain_http))
}
