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

use crate::kustomize::{self, UpdateError};
use crate::repo::Repo;
use crate::settings::Settings;
use crate::{Ctx, Status, files, flags};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One image to set: the names its `images:` entries may carry, and what to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Short name from the settings: `python-base`.
    pub image: String,
    /// `ghcr.io/dcasati/python-base` and `localhost:32000/homelab/python-base`.
    pub names: Vec<String>,
    /// `sha-abc1234`.
    pub tag: String,
    /// The digest to pin (`--digest`); `None` removes any digest, which would override the tag.
    pub digest: Option<String>,
}

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
pub struct Outcome {
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
        print!("{}", diff(changes));
        if flags.dry_run {
            eprintln!("would update {} file(s) to {tags}:", changes.len());
            list(changes);
            return Ok(Status::Clean);
        }
        eprintln!("{} kustomization(s) are not on {tags}:", changes.len());
        list(changes);
        eprintln!("fix: {}", fix_command(flags));
        return Ok(Status::Found);
    }
    eprintln!("updated {} file(s) to {tags}:", changes.len());
    list(changes);
    if let Some(id) = &outcome.commit {
        eprintln!(
            "committed {}: {}",
            &id[..7],
            commit_message(&outcome.targets)
        );
    }
    Ok(Status::Clean)
}

/// Every step but the report: targets, plan, then (unless `--dry-run` or `--check`) the writes
/// and the `--commit`. Nothing is written when any step before the writes fails.
pub fn update(flags: &flags::UpdateImages, ctx: &Ctx) -> Result<Outcome> {
    let repo = Repo::open(&ctx.root)?;
    let mut targets = targets(flags, &ctx.settings, &repo)?;
    if flags.verify || flags.digest {
        check_registry(&mut targets, &ctx.settings, flags.digest)?;
    }
    let paths = search_paths(flags, ctx)?;
    let found = kustomize::discover(&ctx.root, &paths)?;
    for (path, why) in &found.skipped {
        eprintln!("warning: {}: {why}; skipped, not read", path.display());
    }
    let files = found.files;
    let changes = plan(&ctx.root, &files, &targets, !flags.image.is_empty())?;
    let mut outcome = Outcome {
        targets,
        searched: files.len(),
        changes,
        written: false,
        commit: None,
    };
    if outcome.changes.is_empty() || flags.dry_run || flags.check {
        return Ok(outcome);
    }
    if flags.commit {
        refuse_dirty(&repo, &outcome.changes)?;
    }
    write_all(&ctx.root, &outcome.changes)?;
    outcome.written = true;
    if flags.commit {
        let paths: Vec<PathBuf> = outcome.changes.iter().map(|c| c.path.clone()).collect();
        outcome.commit = Some(repo.commit_paths(&paths, &commit_message(&outcome.targets))?);
    }
    Ok(outcome)
}

/// The images to set (all configured ones, or those named by `--image`) with their tags.
pub fn targets(
    flags: &flags::UpdateImages,
    settings: &Settings,
    repo: &Repo,
) -> Result<Vec<Target>> {
    let commit = flags
        .sha
        .as_deref()
        .map(|sha| repo.commit(sha))
        .transpose()?;
    let mut targets = Vec::new();
    for image in select_images(settings, &flags.image)? {
        let context = &settings.image(&image)?.context;
        let commit = match &commit {
            Some(commit) => commit.clone(),
            None => repo.last_commit_touching(context)?.with_context(|| {
                format!(
                    "no commit touches {}, the build context of {image}; pass the SHA to tag with",
                    context.display()
                )
            })?,
        };
        targets.push(Target {
            names: vec![
                settings.primary_ref(&image).name(),
                settings.backup_ref(&image).name(),
            ],
            image,
            tag: commit.tag(),
            digest: None,
        });
    }
    Ok(targets)
}

/// `--verify` / `--digest`: every target's tag must be in the primary registry; with `--digest`
/// its digest is pinned too. Runs before any file is planned or written.
fn check_registry(targets: &mut [Target], settings: &Settings, pin: bool) -> Result<()> {
    let runner = crate::exec::Runner::new(false)?;
    let tool = crate::registry::read_tool(flags::EngineChoice::Auto, &runner)?;
    let refs: Vec<_> = targets
        .iter()
        .map(|t| settings.primary_ref(&t.image).with_tag(&t.tag))
        .collect();
    let digests = crate::registry::require_digests(&runner, tool, &refs)
        .map_err(|e| anyhow::anyhow!("{e:#}\nno file was changed"))?;
    for (target, digest) in targets.iter_mut().zip(digests) {
        eprintln!(
            "verified: {}/{}:{} is {digest}",
            settings.registry, target.image, target.tag
        );
        if pin {
            target.digest = Some(digest);
        }
    }
    Ok(())
}

/// Configured short names selected by `--image` (short or full names); all when none is given.
pub fn select_images(settings: &Settings, wanted: &[String]) -> Result<Vec<String>> {
    if wanted.is_empty() {
        return Ok(settings.images.iter().map(|i| i.name.clone()).collect());
    }
    let mut selected: Vec<String> = Vec::new();
    for name in wanted {
        let found = settings.images.iter().find(|i| {
            i.name == *name
                || settings.primary_ref(&i.name).name() == *name
                || settings.backup_ref(&i.name).name() == *name
        });
        match found {
            Some(image) if !selected.contains(&image.name) => selected.push(image.name.clone()),
            Some(_) => {}
            None => bail!(
                "--image {name}: not a configured image; configured: {}",
                settings
                    .images
                    .iter()
                    .map(|i| format!("{} ({})", i.name, settings.primary_ref(&i.name).name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(selected)
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
pub fn plan(
    root: &Path,
    files: &[PathBuf],
    targets: &[Target],
    each_required: bool,
) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut matched = vec![0usize; targets.len()];
    for path in files {
        let (old, mode) = files::read_text(&root.join(path))
            .with_context(|| format!("cannot read {}", path.display()))?;
        match update_text(&old, targets, &mut matched) {
            Ok(new) if new != old => changes.push(Change {
                path: path.clone(),
                old,
                new,
                mode: Some(mode),
            }),
            Ok(_) => {}
            Err(e) => errors.push(format!("{}:{e}", path.display())),
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

fn update_text(src: &str, targets: &[Target], matched: &mut [usize]) -> Result<String, String> {
    let mut text = src.to_string();
    for (target, count) in targets.iter().zip(matched.iter_mut()) {
        let update =
            kustomize::update_file(&text, &target.names, &target.tag, target.digest.as_deref())
                .map_err(|e| match e {
                    UpdateError::Parse(e) => format!("{e} (not valid YAML)"),
                    UpdateError::Edit(e) => e,
                })?;
        *count += update.matched;
        text = update.new;
    }
    Ok(text)
}

/// Unified diffs with `a/` and `b/` repo-relative headers.
pub fn diff(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| {
            let path = c.path.to_string_lossy().replace('\\', "/");
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
        .map(|c| format!("  {}\n", c.path.display()))
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
                c.path.display()
            );
        }
    }
    Ok(())
}

/// Writes every change through a temp file and a rename. If one write fails, the files already
/// written get their old content back.
fn write_all(root: &Path, changes: &[Change]) -> Result<()> {
    for (i, c) in changes.iter().enumerate() {
        if let Err(e) = files::replace(&root.join(&c.path), c.new.as_bytes(), c.mode) {
            for done in &changes[..i] {
                let _ = files::replace(&root.join(&done.path), done.old.as_bytes(), done.mode);
            }
            return Err(e.context("no file was changed"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            image: "python-base".into(),
            names: vec![
                "ghcr.io/dcasati/python-base".into(),
                "localhost:32000/homelab/python-base".into(),
            ],
            tag: "sha-abc1234".into(),
            digest: None,
        }
    }

    #[test]
    fn a_failed_write_puts_back_the_files_already_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k.yaml"), "old\n").unwrap();
        let change = |path: &str| Change {
            path: path.into(),
            old: "old\n".into(),
            new: "new\n".into(),
            mode: None,
        };
        let err = write_all(dir.path(), &[change("k.yaml"), change("gone/k.yaml")]).unwrap_err();
        assert!(
            format!("{err:#}").contains("no file was changed"),
            "{err:#}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("k.yaml")).unwrap(),
            "old\n"
        );
        write_all(dir.path(), &[change("k.yaml")]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("k.yaml")).unwrap(),
            "new\n"
        );
    }

    #[test]
    fn image_selection_by_short_or_full_name() {
        let s = Settings::default();
        assert_eq!(select_images(&s, &[]).unwrap(), ["python-base"]);
        let both = ["ghcr.io/dcasati/python-base".into(), "python-base".into()];
        assert_eq!(select_images(&s, &both).unwrap(), ["python-base"]);
        let backup = ["localhost:32000/homelab/python-base".to_string()];
        assert_eq!(select_images(&s, &backup).unwrap(), ["python-base"]);
        let err = select_images(&s, &["influxdb".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--image influxdb: not a configured image; configured: python-base (ghcr.io/dcasati/python-base)"
        );
    }

    #[test]
    fn diff_has_repo_relative_headers_and_message_names_the_tag() {
        let change = Change {
            path: "k8s-apps/kustomization.yaml".into(),
            old: "a: 1\nnewTag: x\n".into(),
            new: "a: 1\nnewTag: sha-abc1234\n".into(),
            mode: None,
        };
        assert_eq!(
            diff(&[change]),
            "--- a/k8s-apps/kustomization.yaml\n+++ b/k8s-apps/kustomization.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-newTag: x\n+newTag: sha-abc1234\n"
        );
        assert_eq!(commit_message(&[target()]), "Update images to sha-abc1234");
    }

    #[test]
    fn update_text_counts_matches_and_names_parse_errors() {
        let mut matched = [0];
        let src = "images:\n- name: localhost:32000/homelab/python-base\n";
        let new = update_text(src, &[target()], &mut matched).unwrap();
        assert_eq!(new, format!("{src}  newTag: sha-abc1234\n"));
        assert_eq!(matched, [1]);
        let err = update_text("images: [\n", &[target()], &mut matched).unwrap_err();
        assert!(
            err.starts_with("2:1: ") && err.ends_with("(not valid YAML)"),
            "{err}"
        );
    }
}
