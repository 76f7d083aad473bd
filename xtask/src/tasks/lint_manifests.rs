//! `cargo xtask lint-manifests`: GitOps-aware lint of the manifests root, with exact positions.
//!
//! Reads every YAML file and Dockerfile under the manifests root, runs every rule family
//! (lint/), optionally renders each kustomization root (`--render`), then reports in the chosen
//! format. Exit 1 on an error finding (or a warning under `--deny-warnings`), 2 on bad input.

use crate::exec::Runner;
use crate::lint::{self, Severity, report};
use crate::{Ctx, Status, flags};
use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub fn run(flags: &flags::LintManifests, ctx: &Ctx) -> Result<Status> {
    if answered_without_linting(flags, ctx)? {
        return Ok(Status::Clean);
    }
    let overrides = lint::overrides(&ctx.settings)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let selected = selected_paths(&ctx.root, &cwd, &flags.paths)?;
    let renderer = if flags.render {
        Some(lint::render::renderer()?)
    } else {
        None
    };
    let outcome = lint::analyze(&ctx.root, &ctx.settings)?;
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    let mut extra = match &renderer {
        Some(r) => lint::render::run(&runner, &outcome.tree, &ctx.settings, &ctx.root, r)?,
        None => Vec::new(),
    };
    let mut notes = Vec::new();
    if flags.render && !outcome.charts.is_empty() {
        if crate::tools::find(crate::tools::HELM).is_some() {
            extra.extend(lint::helm::render(
                &runner,
                &ctx.root,
                &outcome.charts,
                &ctx.settings,
            )?);
        } else {
            notes.extend(lint::helm::not_rendered_note(&outcome.charts));
        }
    }
    notes.extend(outcome.unknown_kinds_note(&selected, &overrides));
    // `lint-manifests FILE`: the summary counts the files shown, not every file read.
    let files = if selected.is_empty() {
        outcome.files
    } else {
        outcome
            .paths
            .iter()
            .filter(|p| selected.iter().any(|s| p.starts_with(s)))
            .count()
    };
    let findings = outcome.finish(extra, &selected, &overrides);
    match flags.format {
        flags::LintFormat::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            // Only what the lint itself could read: never a file outside the repo or a FIFO.
            let source = |p: &Path| crate::walk::read_inside(&ctx.root, p);
            eprint!("{}", report::human(&findings, files, &source, color));
        }
        flags::LintFormat::Json => print!("{}", report::json(&findings)),
        flags::LintFormat::Github => {
            print!("{}", report::github(&findings));
            eprintln!("{}", report::summary(&findings, files));
        }
        flags::LintFormat::Sarif => print!("{}", report::sarif(&findings, &lint::registry())),
    }
    for note in notes {
        eprintln!("{note}");
    }
    let failing = findings
        .iter()
        .any(|f| f.severity == Severity::Error || flags.deny_warnings);
    Ok(if failing {
        Status::Found
    } else {
        Status::Clean
    })
}

/// `--list-rules`, `--explain RULE` and `--parse-only`: answered (true) before any lint runs.
fn answered_without_linting(flags: &flags::LintManifests, ctx: &Ctx) -> Result<bool> {
    if flags.list_rules {
        print!("{}", list_rules());
    } else if let Some(id) = &flags.explain {
        print!("{}", explain(id)?);
    } else if flags.parse_only {
        let docs = lint::parse_only(&ctx.root, &ctx.settings)?;
        eprintln!("parsed {docs} documents");
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// The paths to report on, relative to the repo root ([`repo_relative`]).
fn selected_paths(root: &Path, cwd: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    paths.iter().map(|p| repo_relative(root, cwd, p)).collect()
}

fn list_rules() -> String {
    lint::registry()
        .iter()
        .map(|r| {
            let sev = match r.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            format!("{:<28} {:<8} {}\n", r.id, sev, r.summary)
        })
        .collect()
}

fn explain(id: &str) -> Result<String> {
    let Some(rule) = lint::rule(id) else {
        bail!("unknown rule `{id}`; `cargo xtask lint-manifests --list-rules` lists them");
    };
    let sev = match rule.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    Ok(format!(
        "{} ({sev} by default): {}\n\n{}\n\nSuppress one finding with `# xtask-lint: allow {} <reason>` on its line or the line above;\nturn the rule off with {} = \"off\" in [workspace.metadata.xtask.lint.rules].\n",
        rule.id, rule.summary, rule.explain, rule.id, rule.id
    ))
}

/// A path given on the command line, as a path relative to the repo root. Relative paths are
/// taken from the current directory, else from the root (pre-commit runs at the root).
fn repo_relative(root: &Path, cwd: &Path, path: &Path) -> Result<PathBuf> {
    let candidates = if path.is_absolute() {
        vec![path.to_path_buf()]
    } else {
        vec![cwd.join(path), root.join(path)]
    };
    let Some(found) = candidates.iter().find(|p| p.exists()) else {
        bail!("{}: no such file or directory", path.display());
    };
    let canonical = std::fs::canonicalize(found)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    match canonical.strip_prefix(root) {
        Ok(rel) => Ok(rel.to_path_buf()),
        Err(_) => bail!(
            "{} is outside the repository {}",
            path.display(),
            root.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_and_list_cover_every_rule() {
        let text = explain("sec-privileged").unwrap();
        assert!(
            text.starts_with("SEC-PRIVILEGED (error by default)"),
            "{text}"
        );
        assert!(text.contains("KSV017"));
        assert!(
            explain("NOPE")
                .unwrap_err()
                .to_string()
                .contains("--list-rules")
        );
        let list = list_rules();
        for r in lint::registry() {
            assert!(list.contains(r.id), "{}", r.id);
        }
    }

    #[test]
    fn paths_resolve_against_cwd_then_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("k8s-apps/app")).unwrap();
        let cwd = root.join("k8s-apps");
        assert_eq!(
            repo_relative(&root, &cwd, Path::new("app")).unwrap(),
            Path::new("k8s-apps/app")
        );
        assert_eq!(
            repo_relative(&root, Path::new("/"), Path::new("k8s-apps/app")).unwrap(),
            Path::new("k8s-apps/app")
        );
        let err = repo_relative(&root, &cwd, Path::new("nope.yaml")).unwrap_err();
        assert_eq!(err.to_string(), "nope.yaml: no such file or directory");
        assert!(repo_relative(&root, &cwd, Path::new("/")).is_err());
    }
}
