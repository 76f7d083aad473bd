//! `lint-manifests` core: a [`Finding`] is a rule id, a severity, a file and a 1-based line and
//! column, and a message. Rule families live one per file beside this one.

pub mod cron;
pub mod dockerfile;
pub mod secrets;

use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id, e.g. `DF-USER-ROOT`.
    pub rule: &'static str,
    pub severity: Severity,
    /// Path relative to the repo root.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// A rule's id, default severity, one-line summary and `--explain` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub explain: &'static str,
}
