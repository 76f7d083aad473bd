//! `cargo xtask release`: the base image's whole path in one command, by running the other
//! subcommands in order: build-base, smoke, trivy-scan, sign, push --mirror, update-images.
//! With `--merge DIR` the first step is `push --merge DIR` (per-platform digests built
//! elsewhere).
//!
//! The plan is pure: a list of `cargo xtask` argv lines (`release/plan.rs`). Before anything runs,
//! each line is parsed with the real CLI; `--dry-run` prints the lines as they are, and a run
//! dispatches each parsed step to its task. Every step after the build works on the digest the
//! build record names (each one checks that the tag still holds it), and update-images derives
//! the same tag with the one tag rule.
//!
//! The gate: the run stops at the first step that fails (exit 2) or finds something (the
//! smoke test or the scan, exit 1), and nothing after it runs. So an image that failed its
//! smoke test or its scan is pushed but never signed, mirrored or deployed. With `--skip-sign` the scan alone gates, and the run
//! says loudly, before and after, that the image it released is unsigned.

pub mod plan;

use crate::build_record::{self, BuildRecord};
use crate::exec::{Runner, Secret};
use crate::image_ref::ImageRef;
use crate::resolve;
use crate::smoke::record::SmokeRecord;
use crate::{Ctx, Status, flags};
use anyhow::{Context, Result, bail};
use plan::{Action, Outcome, Outputs, Row, SECRETS, Step, StepName, UNSIGNED};
use plan::{command_line, describe, parse, plan, summary};
use std::path::Path;
use std::time::Instant;

pub fn run(flags: &flags::Release, ctx: &Ctx) -> Result<Status> {
    // The steps pass the SBOM and SARIF paths on as text: a root that is not UTF-8 would reach
    // them changed (lossy), so the outputs would land in another folder.
    if ctx.root.to_str().is_none() {
        bail!(
            "the repository path {} is not UTF-8 text: release passes its output paths \
             (target/xtask/sbom, target/xtask/sarif) to its steps as text; clone or move the \
             repository to a UTF-8 path",
            crate::output::path(&ctx.root)
        );
    }
    let image = &resolve::configured_image(&ctx.settings, None)?.name;
    let outputs = Outputs::new(&ctx.root, image);
    let steps = plan(flags, image, &outputs);
    // Bad input fails here, before anything runs: each line must parse with the real CLI, and
    // each registry must be one the settings can name.
    let commands = steps
        .iter()
        .map(|s| match &s.action {
            Action::Run(argv) => parse(argv).map(Some),
            Action::Skip(_) => Ok(None),
        })
        .collect::<Result<Vec<_>>>()?;
    let s = &ctx.settings;
    let registry = resolve::registry_or("--registry", s, flags.registry.as_deref(), &s.registry)?;
    let name = resolve::image_name(&registry, image)?;
    let mut title = name.to_string();
    if flags.mirror {
        let to = resolve::registry_or("--to", s, flags.to.as_deref(), &s.backup_registry)?;
        if to == registry {
            bail!("--mirror from {registry} to itself: pass --to REGISTRY");
        }
        title += &format!(", mirrored to {}", resolve::image_name(&to, image)?);
    }
    // Every tool a step will need, checked before the first step runs (the table of
    // `doctor --for`): a missing cosign is found now, not after the build and the push.
    let missing = missing_tools(&steps);
    let needs = (!missing.is_empty()).then(|| {
        format!(
            "release needs these tools, which are not on PATH (see `cargo xtask doctor --for \
             release`):\n  {}",
            missing.join("\n  ")
        )
    });
    let runner = Runner::new(flags.dry_run, ctx.settings.network_timeout)?;
    let show = || {
        if let Some(text) = &needs {
            crate::output::sayln!("WARNING: {text}");
        }
        let set: Vec<bool> = SECRETS
            .iter()
            .map(|(name, _)| Secret::from_env(name).is_some())
            .collect();
        let record = build_record::path(&ctx.root, image);
        crate::output::sayln!("release of {title}");
        crate::output::say!("{}", describe(&steps, &record, &set, flags.skip_sign));
        Ok(Status::Clean)
    };
    runner.show_or_run(show, || {
        if let Some(text) = &needs {
            bail!("{text}\nnothing was built, pushed or changed");
        }
        release(flags, ctx, &steps, commands, &title, &name)
    })
}

/// Runs the steps and says how the release came out.
fn release(
    flags: &flags::Release,
    ctx: &Ctx,
    steps: &[Step],
    commands: Vec<Option<flags::Command>>,
    title: &str,
    name: &ImageRef,
) -> Result<Status> {
    let image = &resolve::configured_image(&ctx.settings, None)?.name;
    let outputs = Outputs::new(&ctx.root, image);
    if flags.skip_sign {
        crate::output::sayln!("WARNING: {UNSIGNED}");
    }
    for file in [&outputs.sbom, &outputs.sarif] {
        fresh(&ctx.root, file)?;
    }
    crate::output::sayln!("release of {title}");

    let (rows, released, stop) = execute(steps, commands, ctx, image);
    let name = released.as_ref().map_or(name.to_string(), |r| {
        format!("{}@{}", r.reference(), r.digest.as_deref().unwrap_or("?"))
    });
    crate::output::sayln!("\nrelease summary: {name}\n{}", summary(&rows));
    match stop {
        Some((step, Some(e))) => Err(e.context(format!(
            "release stopped at {}: nothing after it ran",
            step.label()
        ))),
        Some((StepName::Smoke, None)) => {
            crate::output::sayln!(
                "STOPPED at smoke: {name} is pushed, but it failed its smoke test (above), so it \
                 was not scanned, signed, mirrored or deployed. Fix the image or the `smoke` \
                 command in [workspace.metadata.xtask], then run release again."
            );
            Ok(Status::Found)
        }
        Some((StepName::Scan, None)) => {
            crate::output::sayln!(
                "STOPPED at trivy-scan: {name} is pushed, but its scan found something at or \
                 above HIGH, so it was not signed, mirrored or deployed. Fix the findings above \
                 (the SARIF is {}), or accept one in .trivyignore with its reason, then run \
                 release again.",
                outputs.sarif.display()
            );
            Ok(Status::Found)
        }
        Some((step, None)) => {
            crate::output::sayln!("STOPPED at {}: nothing after it ran", step.label());
            Ok(Status::Found)
        }
        None if flags.skip_sign => {
            crate::output::sayln!(
                "WARNING: released {name} UNSIGNED: sign it with `cargo xtask sign \
                 --attest-sbom {}`.",
                outputs.sbom.display()
            );
            Ok(Status::Clean)
        }
        None => {
            crate::output::sayln!("released: {name}");
            Ok(Status::Clean)
        }
    }
}

/// The tool groups the steps that run need and PATH lacks, one line each with its hints.
fn missing_tools(steps: &[Step]) -> Vec<String> {
    let mut needed: Vec<&[crate::tools::Tool]> = Vec::new();
    for step in steps {
        if let Action::Run(argv) = &step.action {
            let sub = argv.first().map_or("", String::as_str);
            for group in crate::tools::needed_by(sub) {
                if !needed.contains(group) {
                    needed.push(group);
                }
            }
        }
    }
    crate::tools::missing_groups(&needed, |t| crate::tools::find(t).is_some())
}

/// Where a run stopped: the step, and its error (`None`: it found something, exit 1).
type Stop = (StepName, Option<anyhow::Error>);

/// Runs the steps in order until one fails or finds something; the rest are not run. Returns
/// the summary's rows, the build record of the pushed image, and where it stopped.
fn execute(
    steps: &[Step],
    commands: Vec<Option<flags::Command>>,
    ctx: &Ctx,
    image: &str,
) -> (Vec<Row>, Option<BuildRecord>, Option<Stop>) {
    let mut rows = Vec::new();
    let mut released: Option<BuildRecord> = None;
    let mut stop: Option<Stop> = None;
    for (i, (step, command)) in steps.iter().zip(commands).enumerate() {
        let row = |outcome, time, released: &Option<BuildRecord>| Row {
            name: step.name,
            outcome,
            time,
            digest: released.as_ref().and_then(|r| r.digest.clone()),
            detail: None,
        };
        let (Some(command), Action::Run(argv), None) = (command, &step.action, &stop) else {
            let outcome = match step.action {
                Action::Skip(why) if stop.is_none() => Outcome::Skipped(why),
                _ => Outcome::NotRun,
            };
            rows.push(row(outcome, None, &None));
            continue;
        };
        crate::output::sayln!("\n==> [{}/{}] {}", i + 1, steps.len(), command_line(argv));
        let start = Instant::now();
        let result = super::dispatch(command, ctx).and_then(|status| {
            if matches!(step.name, StepName::Build | StepName::Merge) {
                released = Some(pushed_build(ctx, image)?);
            }
            Ok(status)
        });
        let time = Some(start.elapsed());
        let outcome = match result {
            Ok(Status::Clean) => Outcome::Ok,
            Ok(Status::Found) => {
                stop = Some((step.name, None));
                Outcome::Found
            }
            Err(e) => {
                stop = Some((step.name, Some(e)));
                Outcome::Failed
            }
        };
        let mut row = row(outcome, time, &released);
        if step.name == StepName::Smoke && stop.as_ref().is_none_or(|(_, e)| e.is_none()) {
            row.detail = smoke_platforms(ctx, image);
        }
        rows.push(row);
    }
    (rows, released, stop)
}

/// The platforms smoke ran, from the record it just wrote: `linux/amd64 passed, …`.
fn smoke_platforms(ctx: &Ctx, image: &str) -> Option<String> {
    let (text, _) = crate::files::read_text(&SmokeRecord::path(&ctx.root, image)).ok()?;
    let record: SmokeRecord = serde_json::from_str(&text).ok()?;
    Some(record.platforms_line())
}

/// The build record build-base just wrote, which must name a pushed digest.
fn pushed_build(ctx: &Ctx, image: &str) -> Result<BuildRecord> {
    let path = build_record::path(&ctx.root, image);
    match BuildRecord::load(&ctx.root, image)? {
        Some(r) if r.pushed && r.digest.is_some() => Ok(r),
        _ => bail!(
            "build-base left no record of a pushed digest in {}: the later steps have nothing \
             to work on",
            path.display()
        ),
    }
}

/// Removes what an earlier run left at `file` (so no stale SBOM is attested, and no stale
/// SARIF uploaded), and makes its folder.
fn fresh(root: &Path, file: &Path) -> Result<()> {
    let dir = file.parent().expect("an output file has a folder");
    crate::files::make_dir(root, dir)?;
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", file.display()))
        }
        _ => Ok(()),
    }
}
