//! One module per subcommand. Each builds its plan with the pure core, then runs it.

pub mod build_base;
pub mod diff;
pub mod doctor;
pub mod lint_manifests;
pub mod push;
pub mod release;
pub mod sign;
pub mod test;
pub mod trivy_scan;
pub mod update_images;
