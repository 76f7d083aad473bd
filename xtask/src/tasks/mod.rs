//! One module per subcommand. Each builds its plan with the pure core, then runs it. Here too:
//! what every task gets ([`Ctx`]) and returns ([`Status`]), and [`dispatch`], which `release`
//! also runs its steps through (the crate root re-exports all three).

pub mod build_base;
pub mod diff;
pub mod doctor;
pub mod lint_manifests;
pub mod push;
pub mod release;
pub mod sign;
pub mod smoke;
pub mod test;
pub mod trivy_scan;
pub mod update_images;

use crate::{flags, settings};
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

/// Runs one subcommand in `ctx`; `release` runs its steps through this too.
pub fn dispatch(command: flags::Command, ctx: &Ctx) -> anyhow::Result<Status> {
    match command {
        flags::Command::UpdateImages(f) => update_images::run(&f, ctx),
        flags::Command::Test(f) => test::run(&f, ctx),
        flags::Command::LintManifests(f) => lint_manifests::run(&f, ctx),
        flags::Command::BuildBase(f) => build_base::run(&f, ctx),
        flags::Command::Push(f) => push::run(&f, ctx),
        flags::Command::TrivyScan(f) => trivy_scan::run(&f, ctx),
        flags::Command::Sign(f) => sign::run(&f, ctx),
        flags::Command::Release(f) => release::run(&f, ctx),
        flags::Command::Doctor(f) => doctor::run(&f, ctx),
        flags::Command::Diff(f) => diff::run(&f, ctx),
        flags::Command::Smoke(f) => smoke::run(&f, ctx),
    }
}
