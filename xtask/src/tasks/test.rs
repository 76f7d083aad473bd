//! `cargo xtask test`: every test of the repo, the Rust suite and then the Python services'
//! pytest suite, with one exit status.

use crate::exec::{Cmd, Runner};
use crate::{Ctx, Status, flags};
use anyhow::{Result, bail};

pub fn run(flags: &flags::Test, ctx: &Ctx) -> Result<Status> {
    let runner = Runner::new(false)?;
    let mut failed = Vec::new();
    for cmd in plan(flags, ctx, crate::tools::find(NEXTEST).is_some()) {
        if let Err(e) = runner.run(&cmd) {
            eprintln!("error: {e:#}");
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
fn plan(flags: &flags::Test, ctx: &Ctx, nextest: bool) -> Vec<Cmd> {
    let mut plan = Vec::new();
    if !flags.python {
        let rust = if nextest {
            Cmd::new("cargo").args(["nextest", "run", "--workspace", "--no-fail-fast"])
        } else {
            Cmd::new("cargo").args(["test", "--workspace", "--no-fail-fast"])
        };
        plan.push(rust.cwd(&ctx.root));
    }
    if !flags.rust && ctx.root.join("pytest.ini").is_file() {
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
    fn plan_runs_rust_then_python() {
        let dir = std::env::temp_dir().join(format!("xtask-test-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ctx = Ctx {
            root: dir.clone(),
            settings: Default::default(),
        };
        let all = flags::Test {
            rust: false,
            python: false,
        };
        let lines = |flags, nextest| {
            plan(flags, &ctx, nextest)
                .iter()
                .map(|c| c.argv().join(" "))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            lines(&all, true),
            ["cargo nextest run --workspace --no-fail-fast"]
        );
        std::fs::write(dir.join("pytest.ini"), "[pytest]\n").unwrap();
        assert_eq!(
            lines(&all, false),
            [
                "cargo test --workspace --no-fail-fast",
                "python3 -m pytest -q"
            ]
        );
        assert_eq!(
            lines(
                &flags::Test {
                    rust: false,
                    python: true
                },
                true
            ),
            ["python3 -m pytest -q"]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
