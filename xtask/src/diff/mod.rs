//! The pure core of `cargo xtask diff`: what Argo CD would change, from the rendered manifests of
//! two commits. The task (`tasks/diff.rs`) exports both trees and runs kustomize; everything
//! here is pure and takes text in:
//! - [`units`]: which folders are rendered (each Argo CD Application of this repo, and each
//!   top-level kustomization no Application covers);
//! - [`objects`]: rendered YAML into objects keyed by group, kind, namespace and name, with a
//!   generated ConfigMap's or Secret's hash suffix folded;
//! - [`emit`]: an object as YAML with sorted keys, so layout never shows as a change;
//! - [`redact`]: Secret values and secret-looking values replaced by markers;
//! - [`compare`]: added, removed and modified objects with unified diffs, and image changes;
//! - [`human`], [`markdown`], [`json`]: the three output formats.

pub mod compare;
pub mod emit;
pub mod human;
pub mod json;
pub mod markdown;
pub mod objects;
pub mod redact;
pub mod units;

pub use compare::{Action, Change, ImageChange};

/// One unit's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDiff {
    /// The Application's name, or the kustomization folder's path.
    pub name: String,
    /// The rendered folder, relative to the repo root (HEAD's, or BASE's when removed).
    pub path: String,
    pub changes: Vec<Change>,
}

/// Everything a format prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Full commit ids.
    pub base: String,
    pub head: String,
    /// Every unit, sorted by name; units without changes have an empty list.
    pub apps: Vec<AppDiff>,
    /// Image changes over every unit, in the order of [`compare::summarize_images`].
    pub images: Vec<ImageChange>,
}

impl Report {
    /// Units with at least one change.
    pub fn changed(&self) -> impl Iterator<Item = &AppDiff> {
        self.apps.iter().filter(|a| !a.changes.is_empty())
    }

    pub fn has_changes(&self) -> bool {
        self.changed().next().is_some()
    }
}

/// `count kind`, pluralised the simple way: `1 CronJob`, `2 CronJobs`.
pub fn count_of(count: usize, kind: &str) -> String {
    if count == 1 {
        format!("1 {kind}")
    } else if kind.ends_with('s') {
        format!("{count} {kind}es")
    } else {
        format!("{count} {kind}s")
    }
}
