//! `cargo xtask`: the homelab repo's automation, as a library so that tests and benchmarks can
//! reach the pure core. `main.rs` is the thin binary around [`run`].

pub mod build_record;
pub mod cosign;
pub mod engine;
pub mod exec;
pub mod files;
pub mod flags;
pub mod image_ref;
pub mod kustomize;
pub mod lint;
pub mod registry;
pub mod repo;
pub mod settings;
pub mod tasks;
pub mod tools;
pub mod trivy;
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
    let ctx = Ctx { root, settings };
    match flags.command {
        flags::Command::UpdateImages(f) => tasks::update_images::run(&f, &ctx),
        flags::Command::Test(f) => tasks::test::run(&f, &ctx),
        flags::Command::LintManifests(f) => tasks::lint_manifests::run(&f, &ctx),
        flags::Command::BuildBase(f) => tasks::build_base::run(&f, &ctx),
        flags::Command::Push(f) => tasks::push::run(&f, &ctx),
        flags::Command::TrivyScan(f) => tasks::trivy_scan::run(&f, &ctx),
        flags::Command::Sign(f) => tasks::sign::run(&f, &ctx),
    }
}
