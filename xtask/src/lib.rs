//! `cargo xtask`: the homelab repo's automation, as a library so that tests and benchmarks can
//! reach the pure core. `main.rs` is the thin binary around [`run`].

pub mod build_record;
pub mod buildx_nodes;
pub mod cosign;
pub mod diff;
pub mod digests;
pub mod engine;
pub mod exec;
pub mod files;
pub mod flags;
pub mod image_ref;
pub mod kustomize;
pub mod kustomize_shapes;
pub mod lint;
pub mod oci_labels;
pub mod output;
pub mod registry;
pub mod registry_error;
pub mod repo;
pub mod resolve;
pub mod sarif;
pub mod settings;
pub mod signals;
pub mod smoke;
pub mod tasks;
pub mod tools;
pub mod trivy;
pub mod trivy_sarif;
pub mod walk;

pub use tasks::{Ctx, Status, dispatch};
pub use xtask_yaml as yaml;

/// Finds the root and settings, then runs the subcommand.
/// The git library's internals (`class=…; code=…`) in an error become sentences.
pub fn run(flags: flags::Xtask) -> anyhow::Result<Status> {
    let run = || {
        let root = repo::find_root(flags.root.as_deref())?;
        let settings = settings::Settings::load(&root)?;
        dispatch(flags.command, &Ctx { root, settings })
    };
    run().map_err(|e| {
        let text = format!("{e:#}");
        if text.contains("; class=") {
            anyhow::anyhow!(repo::without_git_codes(&text))
        } else {
            e
        }
    })
}
