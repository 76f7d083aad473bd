//! `cargo xtask`: the homelab repo's automation, as a library so that tests and benchmarks can
//! reach the pure core. `main.rs` is the thin binary around [`run`].

pub mod build_record;
pub mod cosign;
pub mod diff;
pub mod engine;
pub mod exec;
pub mod files;
pub mod flags;
pub mod image_ref;
pub mod kustomize;
pub mod lint;
pub mod oci_labels;
pub mod output;
pub mod registry;
pub mod repo;
pub mod resolve;
pub mod scan_target;
pub mod settings;
pub mod signals;
pub mod tasks;
pub mod tools;
pub mod trivy;
pub mod trivy_sarif;
pub mod walk;

pub use xtask_yaml as yaml;

use std::path::PathBuf;

/// How a task that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0.
    Clean,
    /// Exit 1: the check found something.
    Found,
}

/// What every task gets: the repo root and the merged settings.
pub struct Ctx {
    pub root: PathBuf,
    pub settings: settings::Settings,
}

/// Finds the root and settings, then runs the subcommand.
pub fn run(flags: flags::Xtask) -> anyhow::Result<Status> {
    let root = repo::find_root(flags.root.as_deref())?;
    let settings = settings::Settings::load(&root)?;
    dispatch(flags.command, &Ctx { root, settings })
}

/// Runs one subcommand in `ctx`; `release` runs its steps through this too.
pub fn dispatch(command: flags::Command, ctx: &Ctx) -> anyhow::Result<Status> {
    match command {
        flags::Command::UpdateImages(f) => tasks::update_images::run(&f, ctx),
        flags::Command::Test(f) => tasks::test::run(&f, ctx),
        flags::Command::LintManifests(f) => tasks::lint_manifests::run(&f, ctx),
        flags::Command::BuildBase(f) => tasks::build_base::run(&f, ctx),
        flags::Command::Push(f) => tasks::push::run(&f, ctx),
        flags::Command::TrivyScan(f) => tasks::trivy_scan::run(&f, ctx),
        flags::Command::Sign(f) => tasks::sign::run(&f, ctx),
        flags::Command::Release(f) => tasks::release::run(&f, ctx),
        flags::Command::Doctor(f) => tasks::doctor::run(&f, ctx),
        flags::Command::Diff(f) => tasks::diff::run(&f, ctx),
    }
}
