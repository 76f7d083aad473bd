//! Every subcommand and flag of `cargo xtask`, with its help text, in one place.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The homelab repo's automation: build, tag, lint, scan and sign the shared base image and the
/// manifests Argo CD deploys.
///
/// Exit codes: 0 success; 1 the check found something; 2 bad input, a missing tool or a tool failure.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    max_term_width = 100
)]
pub struct Xtask {
    /// Repository root (default: the git work tree containing the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    UpdateImages(UpdateImages),
    Test(Test),
    LintManifests(LintManifests),
}

/// Set the base image's tag in every kustomization.yaml, keeping every other byte.
///
/// The tag is `sha-` plus the first 7 hex digits of the commit. With no SHA it is the last commit
/// that changed the image's build context, since that is the commit the image was built from.
#[derive(Debug, Args)]
pub struct UpdateImages {
    /// Commit to tag with: 7 to 40 hex digits naming a commit of this repo.
    pub sha: Option<String>,

    /// Kustomization file or folder to update (repeatable; default: every kustomization under the
    /// manifests root).
    #[arg(long, value_name = "PATH")]
    pub path: Vec<PathBuf>,

    /// Only update entries for this image: a configured short name (python-base) or a full name
    /// (ghcr.io/dcasati/python-base) (repeatable).
    #[arg(long, value_name = "NAME")]
    pub image: Vec<String>,

    /// Print a unified diff and write nothing.
    #[arg(long, conflicts_with_all = ["check", "commit"])]
    pub dry_run: bool,

    /// Write nothing; exit 1 if any file would change.
    #[arg(long, conflicts_with = "commit")]
    pub check: bool,

    /// Commit exactly the changed kustomization files: "Update images to sha-abc1234".
    #[arg(long)]
    pub commit: bool,
}

/// Run every test of the repo: the Rust tests (nextest when installed) and the Python services'
/// pytest suite. `XTASK_E2E=1` adds the end-to-end tests against real tools.
#[derive(Debug, Args)]
pub struct Test {
    /// Only the Rust tests.
    #[arg(long, conflicts_with = "python")]
    pub rust: bool,

    /// Only the Python tests.
    #[arg(long)]
    pub python: bool,
}

/// Lint the manifests root (k8s-apps): YAML, kustomizations, workloads, security and Dockerfiles,
/// with exact file:line:column positions.
///
/// Suppress a finding on its line or the line above with
/// `# xtask-lint: allow RULE-ID reason` (the reason is required). Turn rules off or change their
/// severity in `[workspace.metadata.xtask.lint.rules]`: RULE-ID = "off" | "warning" | "error".
/// Exit 1 when an error is found (or a warning, under --deny-warnings).
#[derive(Debug, Args)]
pub struct LintManifests {
    /// Files or folders to report on (as pre-commit passes them); cross-file relations are still
    /// resolved against the whole tree. Default: everything under the manifests root.
    pub paths: Vec<PathBuf>,

    /// Output format: human (stderr), json, github or sarif (stdout).
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,

    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Also render every kustomization root with `kustomize build` or `kubectl kustomize`.
    #[arg(long)]
    pub render: bool,

    /// Print what RULE checks and why, then exit.
    #[arg(long, value_name = "RULE", conflicts_with_all = ["paths", "list_rules"])]
    pub explain: Option<String>,

    /// List every rule with its default severity, then exit.
    #[arg(long)]
    pub list_rules: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    Github,
    Sarif,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Xtask::command().debug_assert();
    }
}
