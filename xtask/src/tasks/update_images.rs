//! `cargo xtask update-images [SHA]`: set the base image's `newTag` in every kustomization that
//! names it, keeping every other byte of each file.
//!
//! The steps, in order, and nothing is written before the last one:
//! 1. targets: which images (`--image`), their primary and backup names, and the tag of the
//!    commit (SHA, or the last commit that touched the image's build context);
//! 2. `--verify` / `--digest`: check the tag exists in the registry, and read its digest;
//! 3. plan: discover the kustomizations, compute every new content and check it re-parses with
//!    the new tag ([`kustomize::update_file`]);
//! 4. report (`--dry-run`, `--check`) or write every changed file atomically, then `--commit`.

mod registry_move;
mod uncommitted;

use crate::exec::Runner;
use crate::kustomize::{self, UpdateError};
use crate::repo::Repo;
use crate::resolve::{self, Target};
use crate::{Ctx, Status, files, flags};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One kustomization whose content changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Relative to the repo root.
    pub path: PathBuf,
    pub old: String,
    pub new: String,
    /// Permission bits of the old file, kept by the write (`None`: read them when writing).
    pub mode: Option<u32>,
}

/// What a run did (or, with `--dry-run` / `--check`, would do).
#[derive(Debug)]
pub struct Update {
    pub targets: Vec<Target>,
    /// How many kustomizations were searched.
    pub searched: usize,
    pub changes: Vec<Change>,
    /// Whether `changes` were written.
    pub written: bool,
    /// The commit made by `--commit`.
    pub commit: Option<String>,
}

pub fn run(flags: &flags::UpdateImages, ctx: &Ctx) -> Result<Status> {
    let outcome = update(flags, ctx)?;
    if flags.sha.is_none() {
        uncommitted::note_uncommitted_contexts(ctx, &outcome.targets);
    }
    let tags = tag_list(&outcome.targets);
    let changes = &outcome.changes;
    if changes.is_empty() {
        eprintln!(
            "already up to date: {tags} ({} kustomization(s) searched)",
            outcome.searched
        );
        return Ok(Status::Clean);
    }
    if !outcome.written {
        print!("{}", crate::output::raw_block(&diff(changes)));
        if flags.check {
            eprintln!("{} kustomization(s) are not on {tags}:", changes.len());
            list(changes);
            eprintln!("fix: {}", fix_command(flags));
            return Ok(Status::Found);
        }
        eprintln!("would update {} file(s) to {tags}:", changes.len());
        list(changes);
        return Ok(Status::Clean);
    }
    eprintln!("updated {} file(s) to {tags}:", changes.len());
    list(changes);
    if let Some(id) = &outcome.commit {
        eprintln!(
            "committed {}: {}",
            crate::repo::short(id),
            commit_message(&outcome.targets)
        );
    }
    Ok(Status::Clean)
}

/// Every step but the report: targets, plan, then (unless `--dry-run` or `--check`) the writes
/// and the `--commit`. Nothing is written when any step before the writes fails.
pub fn update(flags: &flags::UpdateImages, ctx: &Ctx) -> Result<Update> {
    let repo = Repo::open(&ctx.root)?;
    let stale = files::clean_stale(&ctx.root)?;
    if !stale.is_empty() {
        eprintln!(
            "note: removed {} temporary file(s) left by an interrupted run",
            stale.len()
        );
    }
    let (wanted, sha) = (&flags.image, flags.sha.as_deref());
    let runner = Runner::new(flags.dry_run || flags.check, ctx.settings.network_timeout)?;
    let mut targets = resolve::update_targets(&ctx.settings, wanted, sha, &repo)?;
    if flags.verify || flags.digest {
        resolve::check_registry(&runner, &mut targets, &ctx.settings, flags.digest)?;
    }
    let paths = search_paths(flags, ctx)?;
    let found = kustomize::discover(&ctx.root, &paths)?;
    for (path, why) in &found.skipped {
        eprintln!(
            "warning: {}: {}; skipped, not read",
            crate::output::path(path),
            crate::output::escape(why)
        );
    }
    let files = found.files;
    let changes = plan(
        &ctx.root,
        &files,
        &targets,
        !flags.image.is_empty(),
        flags.verify || flags.digest,
    )?;
    let mut outcome = Update {
        targets,
        searched: files.len(),
        changes,
        written: false,
        commit: None,
    };
    if !outcome.changes.is_empty() {
        // --dry-run and --check write nothing: the Runner decides, as for every task.
        runner.for_real(|| write(flags, ctx, &repo, &mut outcome))?;
    }
    Ok(outcome)
}

/// Writes every change at once, then `--commit`s them.
fn write(flags: &flags::UpdateImages, ctx: &Ctx, repo: &Repo, outcome: &mut Update) -> Result<()> {
    if flags.commit {
        refuse_dirty(repo, &outcome.changes)?;
        repo.ready_to_commit().context("no file was changed")?;
    }
    // SIGINT/SIGTERM wait until the files are written and committed (or put back).
    let signals = crate::signals::defer();
    write_all(&ctx.root, &outcome.changes)?;
    outcome.written = true;
    if flags.commit {
        let paths: Vec<PathBuf> = outcome.changes.iter().map(|c| c.path.clone()).collect();
        outcome.commit = Some(repo.commit_paths(&paths, &commit_message(&outcome.targets))?);
    }
    if let Some(signal) = signals.received() {
        // The signal came too late to stop anything: say what was done before it takes effect.
        eprintln!(
            "{} arrived after {} file(s) were written{}; stopping now",
            crate::signals::name(signal),
            outcome.changes.len(),
            outcome
                .commit
                .as_ref()
                .map(|id| format!(" and committed as {}", crate::repo::short(id)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `--path` values (relative to the current directory when it is inside the root, else to the
/// root), or the manifests root.
fn search_paths(flags: &flags::UpdateImages, ctx: &Ctx) -> Result<Vec<PathBuf>> {
    if flags.path.is_empty() {
        let manifests = &ctx.settings.manifests;
        if !ctx.root.join(manifests).is_dir() {
            bail!(
                "the manifests root {} does not exist; set `manifests` in [workspace.metadata.xtask] or pass --path",
                manifests.display()
            );
        }
        return Ok(vec![manifests.clone()]);
    }
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok())
        .filter(|d| d.starts_with(&ctx.root));
    Ok(flags
        .path
        .iter()
        .map(|p| match &cwd {
            Some(cwd) if p.is_relative() => cwd.join(p),
            _ => p.clone(),
        })
        .collect())
}

/// Every changed file's new content, computed and checked before anything is written. Errors of
/// every file are collected; any error fails the plan, and so does an image that no kustomization
/// references (each one when `each_required`, as for `--image`; else when none is referenced).
/// An entry whose `newName` sends the image to another registry is a warning, and an error
/// when `registry_checked` (`--verify`/`--digest` read the configured registry, not that one).
pub fn plan(
    root: &Path,
    files: &[PathBuf],
    targets: &[Target],
    each_required: bool,
    registry_checked: bool,
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut matched = vec![0usize; targets.len()];
    for path in files {
        let (old, mode) = files::read_text(&root.join(path))
            .with_context(|| format!("cannot read {}", crate::output::path(path)))?;
        let mut redirected = Vec::new();
        let mut moved = Vec::new();
        let result = update_text(&old, targets, &mut matched, &mut redirected, &mut moved);
        for note in moved {
            eprintln!(
                "note: {}:{}",
                crate::output::path(path),
                crate::output::escape(&note)
            );
        }
        match result {
            Ok(new) if new != old => changes.push(Change {
                path: path.clone(),
                old,
                new,
                mode: Some(mode),
            }),
            Ok(_) => {}
            Err(e) => errors.push(format!(
                "{}:{}",
                crate::output::path(path),
                crate::output::escape(&e)
            )),
        }
        for r in redirected {
            let r = format!(
                "{}:{}",
                crate::output::path(path),
                crate::output::escape(&r)
            );
            if registry_checked {
                errors.push(format!(
                    "{r}, but --verify/--digest read the configured registry; point \
                     newName at {} or drop --verify/--digest",
                    targets[0].names.join(" or ")
                ));
            } else {
                eprintln!("warning: {r}; its tag is set all the same");
            }
        }
    }
    if !errors.is_empty() {
        bail!("{}\nno file was changed", errors.join("\n"));
    }
    let unreferenced: Vec<&Target> = targets
        .iter()
        .zip(&matched)
        .filter(|(_, count)| **count == 0)
        .map(|(target, _)| target)
        .collect();
    // An image named by --image must be referenced; of all configured images, at least one.
    if let Some(target) = unreferenced
        .iter()
        .find(|_| each_required || unreferenced.len() == targets.len())
    {
        bail!(
            "no kustomization among {} file(s) has an images: entry named {}; add one (name: {}, newTag: {})",
            files.len(),
            target.names.join(" or "),
            target.names[0],
            target.tag
        );
    }
    for target in unreferenced {
        eprintln!("note: no kustomization references {}", target.image);
    }
    Ok(changes)
}

fn update_text(
    src: &str,
    targets: &[Target],
    matched: &mut [usize],
    redirected: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<String, String> {
    let mut text = src.to_string();
    for (target, count) in targets.iter().zip(matched.iter_mut()) {
        // The configured registry, when it is not the one the entry names: kustomize's newName.
        let moved = registry_move::point_at_registry(&text, target)?;
        notes.extend(moved.notes);
        text = moved.text;
        let names: Vec<String> = target.names.iter().cloned().chain(moved.names).collect();
        let update = kustomize::update_file(&text, &names, &target.tag, target.digest.as_deref())
            .map_err(|e| match e {
            UpdateError::Parse(e) => format!("{e} (not valid YAML)"),
            UpdateError::Edit(e) => e,
        })?;
        *count += update.matched;
        redirected.extend(update.redirected);
        text = update.new;
    }
    Ok(text)
}

/// Unified diffs with `a/` and `b/` repo-relative headers.
pub fn diff(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| {
            let path = crate::output::path(&c.path).replace('\\', "/");
            similar::TextDiff::from_lines(&c.old, &c.new)
                .unified_diff()
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string()
        })
        .collect()
}

/// The changed paths, one per line, in one write to stderr.
fn list(changes: &[Change]) {
    let text: String = changes
        .iter()
        .map(|c| format!("  {}\n", crate::output::path(&c.path)))
        .collect();
    eprint!("{text}");
}

fn tag_list(targets: &[Target]) -> String {
    let mut tags: Vec<&str> = targets.iter().map(|t| t.tag.as_str()).collect();
    tags.dedup();
    tags.join(", ")
}

pub fn commit_message(targets: &[Target]) -> String {
    format!("Update images to {}", tag_list(targets))
}

/// The command that brings the files up to date, with the flags that chose them.
fn fix_command(flags: &flags::UpdateImages) -> String {
    let mut cmd = String::from("cargo xtask update-images");
    if let Some(sha) = &flags.sha {
        cmd.push_str(&format!(" {sha}"));
    }
    for p in &flags.path {
        cmd.push_str(&format!(" --path {}", p.display()));
    }
    for i in &flags.image {
        cmd.push_str(&format!(" --image {i}"));
    }
    if flags.digest {
        cmd.push_str(" --digest");
    }
    cmd
}

/// `--commit` commits whole files: refuse when one of them already holds uncommitted work.
fn refuse_dirty(repo: &Repo, changes: &[Change]) -> Result<()> {
    let dirty: std::collections::HashSet<PathBuf> = repo
        .dirty_paths(Path::new(""))?
        .into_iter()
        .map(PathBuf::from)
        .collect();
    for c in changes {
        if dirty.contains(&c.path) {
            bail!(
                "--commit: {} has uncommitted changes; commit or stash them first (no file was changed)",
                crate::output::path(&c.path)
            );
        }
    }
    Ok(())
}

/// Writes every change through a temp file and a rename ([`files::replace_all`]): if one write
/// fails, or the run is interrupted, the files already written get their old content back.
fn write_all(root: &Path, changes: &[Change]) -> Result<()> {
    let items: Vec<files::Replacement> = changes
        .iter()
        .map(|c| files::Replacement {
            path: &c.path,
            new: c.new.as_bytes(),
            old: c.old.as_bytes(),
            mode: c.mode,
        })
        .collect();
    files::replace_all(root, &items)
}

#[cfg(test)]
mod tests;
