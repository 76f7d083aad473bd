//! `cargo xtask`: the homelab repo's automation. See `cargo xtask --help`.
//!
//! This file parses the flags, finds the repo root and settings, dispatches to a task and maps
//! the outcome to an exit code: 0 success, 1 the check found something, 2 anything else.

// Foundation modules are used by the tasks that land next; remove once they all do.
#![allow(dead_code)]

mod exec;
mod flags;
mod image_ref;
mod lint;
mod repo;
mod settings;
mod tasks;
mod tools;
mod yaml;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

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

fn main() -> ExitCode {
    let flags = match flags::Xtask::try_parse() {
        Ok(flags) => flags,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(flags) {
        Ok(Status::Clean) => ExitCode::SUCCESS,
        Ok(Status::Found) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(flags: flags::Xtask) -> anyhow::Result<Status> {
    let root = repo::find_root(flags.root.as_deref())?;
    let settings = settings::Settings::load(&root)?;
    let ctx = Ctx { root, settings };
    match flags.command {
        flags::Command::UpdateImages(f) => tasks::update_images::run(&f, &ctx),
        flags::Command::Test(f) => tasks::test::run(&f, &ctx),
    }
}
