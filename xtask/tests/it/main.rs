//! The integration tests, one test binary: the built `xtask` run against temporary git repos
//! and fixture trees, `*_recorded_*` runs against strict stand-ins for tools that cannot be
//! installed here, end-to-end runs with the real tools under `XTASK_E2E=1`, property tests, and
//! the repo's conventions (`tidy`). One module per area; `support` holds what they share.

mod build_push;
mod build_push_e2e;
mod diff;
mod diff_e2e;
mod doctor;
mod faults;
mod git_setups;
mod hostile_inputs;
mod image_updater;
mod kustomize_shapes_props;
mod layers;
mod lint_crd_e2e;
mod lint_growth;
mod lint_helm_recorded;
mod lint_manifests;
mod lint_manifests_e2e;
mod lint_rules_fuzz;
mod lint_sarif_schema;
mod merge_e2e;
mod merge_recorded;
mod output_safety;
mod outside_writes;
mod process_groups;
mod release;
mod repo_files;
mod rollback;
mod sign;
mod smoke;
mod smoke_e2e;
mod support;
mod test_task;
mod tidy;
mod trivy_scan;
mod update_images;
mod update_images_props;
mod yaml_fuzz;
