//! `cargo xtask test`: every test of the repo, the Rust suite and then the Python services'
//! pytest suite, with one exit status. On a fresh machine without pytest it first installs the
//! pinned Python test dependencies and the base image's hash-pinned requirements with pip.

use crate::exec::{Cmd, Runner};
use crate::{Ctx, Status, flags};
use anyhow::{Result, bail};

pub fn run(flags: &flags::Test, ctx: &Ctx) -> Result<Status> {
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    // Only asked when the Python suite runs.
    let have_pytest = flags.rust
        || runner
            .output(&Cmd::new("python3").args(["-c", "import pytest"]))?
            .success();
    let mut failed = Vec::new();
    let e2e = std::env::var_os("XTASK_E2E").is_some_and(|v| v == "1");
    let nextest = crate::tools::find(NEXTEST).is_some();
    for cmd in plan(flags, ctx, nextest, have_pytest, e2e) {
        if let Err(e) = runner.run(&cmd) {
            crate::output::sayln!("error: {e:#}");
            failed.push(cmd.to_string());
        }
    }
    if !failed.is_empty() {
        bail!("failing test suites:\n  {}", failed.join("\n  "));
    }
    Ok(Status::Clean)
}

const NEXTEST: crate::tools::Tool = crate::tools::Tool {
    name: "cargo-nextest",
    hint: "cargo install cargo-nextest --locked",
};

/// The suites to run, in order. Both run even when the first fails (`--keep-going` style).
/// End-to-end tests are `#[ignore = "e2e: …"]`: with `e2e` (`XTASK_E2E=1`) they run too,
/// otherwise the runner reports them as skipped.
fn plan(flags: &flags::Test, ctx: &Ctx, nextest: bool, have_pytest: bool, e2e: bool) -> Vec<Cmd> {
    let mut plan = Vec::new();
    if !flags.python {
        let rust = match (nextest, e2e) {
            (true, false) => {
                Cmd::new("cargo").args(["nextest", "run", "--workspace", "--no-fail-fast"])
            }
            (true, true) => Cmd::new("cargo").args([
                "nextest",
                "run",
                "--workspace",
                "--no-fail-fast",
                "--run-ignored",
                "all",
            ]),
            (false, false) => Cmd::new("cargo").args(["test", "--workspace", "--no-fail-fast"]),
            (false, true) => Cmd::new("cargo").args([
                "test",
                "--workspace",
                "--no-fail-fast",
                "--",
                "--include-ignored",
            ]),
        };
        plan.push(rust.cwd(&ctx.root));
    }
    if !flags.rust && ctx.root.join("pytest.ini").is_file() {
        if !have_pytest {
            let pip = || {
                Cmd::new("python3")
                    .args(["-m", "pip", "install", "--quiet"])
                    .cwd(&ctx.root)
            };
            plan.push(pip().args(["-r", "requirements-dev.txt"]));
            let base = "k8s-apps/base-images/requirements.txt";
            plan.push(pip().args(["--require-hashes", "-r", base]));
        }
        plan.push(
            Cmd::new("python3")
                .args(["-m", "pytest", "-q"])
                .cwd(&ctx.root),
        );
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_runs_rust_then_python_installing_pytest_only_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx {
            root: dir.path().to_path_buf(),
            settings: Default::default(),
        };
        let all = flags::Test {
            rust: false,
            python: false,
        };
        let lines = |flags, nextest, have_pytest| {
            let plan = plan(flags, &ctx, nextest, have_pytest, false);
            plan.iter().map(|c| c.argv().join(" ")).collect::<Vec<_>>()
        };
        assert_eq!(
            lines(&all, true, true),
            ["cargo nextest run --workspace --no-fail-fast"]
        );
        let e2e = |nextest| plan(&all, &ctx, nextest, true, true)[0].argv().join(" ");
        assert_eq!(
            e2e(true),
            "cargo nextest run --workspace --no-fail-fast --run-ignored all"
        );
        assert_eq!(
            e2e(false),
            "cargo test --workspace --no-fail-fast -- --include-ignored"
        );
        std::fs::write(dir.path().join("pytest.ini"), "[pytest]\n").unwrap();
        assert_eq!(
            lines(&all, false, true),
            [
                "cargo test --workspace --no-fail-fast",
                "python3 -m pytest -q"
            ]
        );
        let python_only = flags::Test {
            rust: false,
            python: true,
        };
        assert_eq!(
            lines(&python_only, true, false),
            [
                "python3 -m pip install --quiet -r requirements-dev.txt",
                "python3 -m pip install --quiet --require-hashes -r k8s-apps/base-images/requirements.txt",
                "python3 -m pytest -q",
            ]
        );
    }
}
