//! `cargo xtask diff [BASE] [--head REV]`: what Argo CD will change. Both commits' trees are
//! exported from git objects under `target/xtask/diff/PID/` (the working tree is never read or
//! touched), the units of each ([`crate::diff::units`]) are rendered with kustomize, several at
//! a time, and the objects compared ([`crate::diff::compare`]). The scratch folder goes whatever
//! happens. A unit that fails to render at either commit is exit 2 naming the unit, the commit
//! and kustomize's message; remote resources are refused unless `--allow-remote`.

mod render;
mod scratch;

use crate::diff::units::{self, Found, Source, TreeFiles, Unit};
use crate::diff::{AppDiff, Report, compare, human, json, markdown, objects};
use crate::exec::{Cmd, Runner};
use crate::flags::{Diff, DiffFormat};
use crate::repo::{Commit, Repo};
use crate::{Ctx, Status, files, output, signals, walk};
use anyhow::{Context, Result, bail};
use render::Job;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

pub fn run(flags: &Diff, ctx: &Ctx) -> Result<Status> {
    let repo = Repo::open(&ctx.root)?;
    let (base, head) = commits(&repo, flags)?;
    let repos = this_repo(&repo);
    let signals = signals::defer();
    let report = {
        let scratch = scratch::Scratch::create(&ctx.root)?;
        compare_commits(
            flags,
            ctx,
            &repo,
            &base,
            &head,
            &repos,
            &scratch.dir,
            &signals,
        )
    };
    if let Some(signal) = signals.received() {
        bail!(
            "stopped by {}; the scratch folder was removed",
            signals::name(signal)
        );
    }
    let report = report?;
    let text = match flags.format {
        DiffFormat::Json => json::render(&report),
        DiffFormat::Markdown => markdown::render(&report),
        DiffFormat::Human => {
            let color = flags.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            human::render(&report, color)
        }
    };
    match &flags.output {
        Some(path) => files::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(if flags.exit_code && report.has_changes() {
        Status::Found
    } else {
        Status::Clean
    })
}

/// BASE and HEAD. A shallow clone that cannot name BASE is told how to deepen itself.
fn commits(repo: &Repo, flags: &Diff) -> Result<(Commit, Commit)> {
    let shallow = || {
        anyhow::anyhow!(
            "{} is a shallow clone and BASE is not in its history: run `git fetch --unshallow` \
             (GitHub Actions: actions/checkout with `fetch-depth: 0`), or name BASE",
            repo.root().display()
        )
    };
    let head = repo
        .resolve(&flags.head)
        .map_err(|e| if repo.is_shallow() { shallow() } else { e })?;
    let base = match &flags.base {
        Some(rev) => repo
            .resolve(rev)
            .map_err(|e| if repo.is_shallow() { shallow() } else { e })?,
        None => match repo.default_base(&head.id) {
            Some(base) => base,
            None if repo.is_shallow() => return Err(shallow()),
            None => bail!(
                "no default branch to compare with: neither origin/HEAD nor main exists; name BASE \
                 (`cargo xtask diff origin/develop`)"
            ),
        },
    };
    Ok((base, head))
}

/// The URLs an Application's repoURL must match: the origin remote and, under GitHub Actions,
/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY`.
fn this_repo(repo: &Repo) -> Vec<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut urls: Vec<String> = repo.origin_url().into_iter().collect();
    if let Some(url) = crate::oci_labels::source_url(env, None) {
        urls.push(url);
    }
    urls
}

#[allow(clippy::too_many_arguments)]
fn compare_commits(
    flags: &Diff,
    ctx: &Ctx,
    repo: &Repo,
    base: &Commit,
    head: &Commit,
    repos: &[String],
    scratch: &Path,
    signals: &signals::Deferred,
) -> Result<Report> {
    let manifests = &ctx.settings.manifests;
    let mut sides = Vec::new();
    for (label, commit) in [("base", base), ("head", head)] {
        let dir = scratch.join(label);
        repo.export_commit(&commit.id, &dir)
            .with_context(|| format!("cannot export commit {}", commit.short()))?;
        let tree = read_tree(&dir, manifests, &commit.id)?;
        let found = units::find(&tree, repos);
        sides.push((dir, commit, found, tree));
    }
    for note in sides[1].2.notes.iter() {
        output::sayln!("note: {}", output::escape_line(note));
    }
    let renderer = crate::lint::render::renderer().context("diff renders with kustomize")?;
    let mut jobs = Vec::new();
    let mut slots = Vec::new();
    let unchanged = unchanged_units(repo, base, head, &sides)?;
    for (side, (dir, commit, found, _)) in sides.iter().enumerate() {
        for unit in found.units.iter().filter(|u| !unchanged.contains(&u.name)) {
            let remote = flags.allow_remote.then_some(ctx.settings.network_timeout);
            if let Some(job) = job(unit, dir, commit, &renderer, remote)? {
                slots.push((side, unit.name.clone()));
                jobs.push(job);
            }
        }
    }
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    let rendered = render::run_all(&runner, &jobs, signals)?;
    let mut failures = Vec::new();
    let mut objects_of: [std::collections::BTreeMap<String, Vec<objects::Object>>; 2] =
        Default::default();
    for ((side, name), out) in slots.into_iter().zip(rendered) {
        let commit = sides[side].1.short();
        match out.and_then(|yaml| objects::parse(&yaml)) {
            Ok(objs) => {
                objects_of[side].insert(name, objs);
            }
            Err(message) => failures.push(format!(
                "unit `{name}` at commit {commit} failed to render:\n{}",
                indent(&message)
            )),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{}\nnothing was compared; fix the render (`kubectl kustomize <folder>` shows the same message)",
            failures.join("\n")
        );
    }
    Ok(assemble(base, head, &sides[0].2, &sides[1].2, objects_of))
}

/// The units whose input folders are the same at both commits (by git tree id): their renders
/// would be the same, so neither is run.
fn unchanged_units(
    repo: &Repo,
    base: &Commit,
    head: &Commit,
    sides: &[Side],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for h in &sides[1].2.units {
        let Some(b) = sides[0].2.units.iter().find(|b| b.name == h.name) else {
            continue;
        };
        if !units::skippable(b, h, &sides[0].3, &sides[1].3) {
            continue;
        }
        let mut same = true;
        for dir in &h.inputs {
            if repo.changed_between(&base.id, &head.id, dir)? {
                same = false;
                break;
            }
        }
        if same {
            out.push(h.name.clone());
        }
    }
    Ok(out)
}

/// One commit: its exported tree's folder, the commit, its units and its files.
type Side<'a> = (std::path::PathBuf, &'a Commit, Found, TreeFiles);

/// The render of one unit at one commit; `None` for a Helm chart (noted, not rendered).
/// `remote` is the network timeout when remote resources are allowed: a render that fetches
/// one is killed (with its process group) when it runs longer.
fn job(
    unit: &Unit,
    dir: &Path,
    commit: &Commit,
    renderer: &Cmd,
    remote: Option<Duration>,
) -> Result<Option<Job>> {
    let short = commit.short();
    if let Some((file, entry)) = unit.remote.first().filter(|_| remote.is_none()) {
        bail!(
            "unit `{}` at commit {short}: {} names the remote resource `{}`; diff renders offline, so \
             it refuses to fetch it. Pass --allow-remote to let kustomize fetch it",
            output::escape_line(&unit.name),
            output::path(file),
            output::escape_line(entry)
        );
    }
    Ok(match unit.source {
        Source::Kustomize => {
            let cmd = renderer
                .clone()
                .arg(dir.join(&unit.path).display().to_string())
                .cwd(dir);
            Some(Job::Kustomize(match remote {
                Some(limit) if !unit.remote.is_empty() => cmd.deadline(limit),
                _ => cmd,
            }))
        }
        Source::Directory => Some(Job::Directory {
            root: dir.to_path_buf(),
            dir: unit.path.clone(),
        }),
        Source::Helm => {
            output::sayln!(
                "note: unit `{}` at commit {short} is a Helm chart, which diff does not render",
                output::escape_line(&unit.name)
            );
            None
        }
        Source::Missing => bail!(
            "unit `{}` at commit {short}: its path {} is not a folder of that commit",
            output::escape_line(&unit.name),
            output::path(&unit.path)
        ),
    })
}

/// The YAML files and folders under the manifests root of an exported tree. A symlink that
/// leads out of the tree is refused: kustomize must never read outside the commit.
fn read_tree(root: &Path, manifests: &Path, id: &str) -> Result<TreeFiles> {
    let mut tree = TreeFiles::default();
    if !root.join(manifests).is_dir() {
        return Ok(tree);
    }
    let listing = walk::walk(root, manifests)?;
    for link in &listing.links {
        if walk::resolve(root, link) == walk::Resolved::Outside {
            bail!(
                "{} in commit {}: a symlink that leads outside the repository; diff refuses to render it",
                output::path(link),
                crate::repo::short(id)
            );
        }
    }
    tree.dirs.extend(listing.dirs.iter().cloned());
    tree.links.extend(listing.links.iter().cloned());
    for file in listing.files.iter().chain(&listing.links) {
        tree.files.insert(file.clone());
        let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml")
            || crate::kustomize::is_kustomization(file);
        let read = || crate::files::read_in_repo(root, file, crate::files::READ_LIMIT);
        if yaml && let Ok(Some((text, _))) = read() {
            tree.texts.insert(file.clone(), text);
        }
    }
    Ok(tree)
}

fn assemble(
    base: &Commit,
    head: &Commit,
    base_units: &Found,
    head_units: &Found,
    mut objects_of: [std::collections::BTreeMap<String, Vec<objects::Object>>; 2],
) -> Report {
    let mut names: Vec<&Unit> = head_units.units.iter().collect();
    names.extend(
        base_units
            .units
            .iter()
            .filter(|b| !head_units.units.iter().any(|h| h.name == b.name)),
    );
    names.sort_by(|a, b| a.name.cmp(&b.name));
    let mut apps = Vec::new();
    let mut moves = Vec::new();
    for unit in names {
        let b = objects_of[0].remove(&unit.name).unwrap_or_default();
        let h = objects_of[1].remove(&unit.name).unwrap_or_default();
        let (changes, m) = compare::compare(b, h);
        moves.extend(m);
        apps.push(AppDiff {
            name: unit.name.clone(),
            path: unit.path.display().to_string(),
            changes,
        });
    }
    Report {
        base: base.id.clone(),
        head: head.id.clone(),
        apps,
        images: compare::summarize_images(&moves),
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {}", output::escape_line(l)))
        .collect::<Vec<_>>()
        .join("\n")
}
