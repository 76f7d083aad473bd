//! Renders the units of both commits, several at a time: one `kustomize build` (or
//! `kubectl kustomize`) per unit and commit through the exec Runner, or, for a plain folder, its
//! YAML files read as Argo CD reads them.

use crate::exec::{Cmd, Runner};
use crate::signals::Deferred;
use crate::walk;
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// One render.
pub enum Job {
    /// The renderer's command, with the folder and working directory set.
    Kustomize(Cmd),
    /// A plain folder (relative to the exported tree at `root`): its `*.yaml`, `*.yml` and
    /// `*.json` files, not recursing, in name order.
    Directory { root: PathBuf, dir: PathBuf },
}

/// A job's rendered YAML, or the renderer's message.
pub type Rendered = Result<String, String>;

/// Every job's rendered YAML, or the renderer's message; in job order. Up to 4 at a time on
/// the task's one Runner (`lint::in_parallel_up_to`); once a deferred signal has arrived, no
/// job starts.
pub fn run_all(runner: &Runner, jobs: &[Job], signals: &Deferred) -> Result<Vec<Rendered>> {
    let indexed: Vec<(usize, &Job)> = jobs.iter().enumerate().collect();
    let done = crate::lint::in_parallel_up_to(4, &indexed, |&(i, job)| {
        if let Some(signal) = signals.received() {
            bail!("stopped by {}", crate::signals::name(signal));
        }
        Ok((i, render(runner, job)?))
    });
    let mut out: Vec<Option<Rendered>> = vec![None; jobs.len()];
    for r in done {
        let (i, rendered) = r?;
        out[i] = Some(rendered);
    }
    Ok(out.into_iter().map(|r| r.expect("every job ran")).collect())
}

fn render(runner: &Runner, job: &Job) -> Result<Rendered> {
    match job {
        Job::Kustomize(cmd) => {
            let out = runner.output(cmd)?;
            Ok(if out.success() {
                Ok(out.stdout)
            } else {
                Err(out.stderr.trim().to_string())
            })
        }
        Job::Directory { root, dir } => Ok(read_folder(root, dir)),
    }
}

fn read_folder(root: &Path, dir: &Path) -> Result<String, String> {
    let listing = walk::walk(root, dir).map_err(|e| format!("{e:#}"))?;
    let mut files: Vec<&PathBuf> = listing
        .files
        .iter()
        .chain(&listing.links)
        .filter(|f| f.parent() == Some(dir))
        .filter(|f| {
            f.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .collect();
    files.sort();
    let mut out = String::new();
    for f in files {
        let text = match crate::files::read_in_repo(root, f, crate::files::READ_LIMIT) {
            Ok(Some((text, _))) => text,
            Ok(None) => return Err(format!("{}: no such file", f.display())),
            Err(e) => return Err(format!("{e:#}")),
        };
        out.push_str("---\n");
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}
