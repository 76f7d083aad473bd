//! `cargo xtask test`: every test of the repo, the Rust suite and then the Python services'
//! pytest suite, with one exit status. The Python side runs in a virtual environment under
//! `target/xtask/venv` ([`venv`]), made once and reused, so the system Python is never changed
//! (Debian's refuses pip installs, PEP 668). Without `XTASK_E2E=1` it holds only what the
//! non-e2e tests need; with it, also `requirements-e2e.txt`, and the Rust suite finds those
//! tools (python3, kubernetes-validate, hadolint) first on PATH.

mod venv;

use crate::exec::{Cmd, Runner};
use crate::{Ctx, Status, files, flags};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

pub fn run(flags: &flags::Test, ctx: &Ctx) -> Result<Status> {
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    let e2e = std::env::var_os("XTASK_E2E").is_some_and(|v| v == "1");
    let nextest = crate::tools::find(NEXTEST).is_some();
    let mut failed = Vec::new();
    let python_suite = !flags.rust && !flags.setup && ctx.root.join("pytest.ini").is_file();
    let wants_venv =
        python_suite || ((e2e || flags.setup) && ctx.root.join(venv::FILES[0].path).is_file());
    if flags.setup && !wants_venv {
        bail!("no {} here: nothing to set up", venv::FILES[0].path);
    }
    let venv_ready = wants_venv
        && match prepare(&runner, ctx, e2e) {
            Ok(()) => true,
            Err(e) => {
                crate::output::sayln!("error: {e:#}");
                failed.push(format!("the Python test environment {}", venv::DIR));
                if python_suite {
                    crate::output::sayln!("pytest does not run: its environment could not be made");
                }
                false
            }
        };
    if flags.setup {
        return if venv_ready {
            Ok(Status::Clean)
        } else {
            bail!(
                "the Python test environment {} could not be made",
                venv::DIR
            )
        };
    }
    for cmd in plan(flags, ctx, nextest, e2e, venv_ready) {
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

use crate::tools::{NEXTEST, PYTHON3};

/// Makes or updates the virtual environment as [`venv::decide`] says.
fn prepare(runner: &Runner, ctx: &Ctx, e2e: bool) -> Result<()> {
    let root = &ctx.root;
    let mut current = BTreeMap::new();
    for file in venv::FILES {
        let path = root.join(file.path);
        if path.is_file() {
            let (text, _) = files::read_text(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            current.insert(file.path.to_string(), text);
        }
    }
    let stamp_path = root.join(venv::DIR).join(venv::STAMP);
    let stamp: Option<BTreeMap<String, String>> = venv::python(root)
        .is_file()
        .then(|| crate::files::read_text(&stamp_path).ok())
        .flatten()
        .and_then(|(text, _)| serde_json::from_str(&text).ok());
    let (mut held, install) = match venv::decide(&current, stamp.as_ref(), e2e) {
        venv::Action::Reuse => {
            crate::output::sayln!("python: reusing {} (requirements unchanged)", venv::DIR);
            return Ok(());
        }
        venv::Action::Add(install) => (stamp, install),
        venv::Action::Remake(install) => {
            crate::tools::require(PYTHON3)?;
            if !runner.output(&venv::probe())?.success() {
                bail!("{}", venv::NO_VENV_HINT);
            }
            crate::output::sayln!(
                "python: making {} once (the system Python is left alone)",
                venv::DIR
            );
            runner
                .run(&venv::create(root))
                .with_context(|| format!("`python3 -m venv` could not make {}", venv::DIR))?;
            (None, install)
        }
    };
    for (file, cmd) in install.iter().zip(venv::installs(root, &install)) {
        runner.run(&cmd).with_context(|| {
            format!(
                "installing {} into {} failed (pip's output is above); pip needs PyPI, or a \
                 mirror in PIP_INDEX_URL",
                file.path,
                venv::DIR
            )
        })?;
        let stamp = venv::stamp_after(held.as_ref(), std::slice::from_ref(file), &current);
        let json = serde_json::to_vec_pretty(&stamp)?;
        files::write_atomic(&stamp_path, &json)?;
        held = Some(stamp);
    }
    Ok(())
}

/// The suites to run, in order. Both run even when the first fails (`--keep-going` style).
/// End-to-end tests are `#[ignore = "e2e: …"]`: with `e2e` (`XTASK_E2E=1`) they run too,
/// otherwise the runner reports them as skipped. With the environment `venv` ready, its `bin`
/// is first on PATH; pytest runs only then.
fn plan(flags: &flags::Test, ctx: &Ctx, nextest: bool, e2e: bool, venv: bool) -> Vec<Cmd> {
    let on_path = |cmd: Cmd| {
        if venv {
            cmd.env("PATH", venv::path_env(&ctx.root))
        } else {
            cmd
        }
    };
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
        plan.push(on_path(rust.cwd(&ctx.root)));
    }
    if !flags.rust && ctx.root.join("pytest.ini").is_file() && venv {
        let python = venv::python(&ctx.root).display().to_string();
        plan.push(on_path(
            Cmd::new(&python)
                .args(["-m", "pytest", "-q"])
                .cwd(&ctx.root),
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_runs_rust_then_python_in_the_environment_only_when_it_is_ready() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx {
            root: dir.path().to_path_buf(),
            settings: Default::default(),
        };
        let all = flags::Test {
            rust: false,
            python: false,
            setup: false,
        };
        let lines = |flags, nextest, venv| {
            let plan = plan(flags, &ctx, nextest, false, venv);
            plan.iter().map(|c| c.argv().join(" ")).collect::<Vec<_>>()
        };
        assert_eq!(
            lines(&all, true, false),
            ["cargo nextest run --workspace --no-fail-fast"]
        );
        let e2e = |nextest| plan(&all, &ctx, nextest, true, false)[0].argv().join(" ");
        assert_eq!(
            e2e(true),
            "cargo nextest run --workspace --no-fail-fast --run-ignored all"
        );
        assert_eq!(
            e2e(false),
            "cargo test --workspace --no-fail-fast -- --include-ignored"
        );
        std::fs::write(dir.path().join("pytest.ini"), "[pytest]\n").unwrap();
        let python = format!("{}/target/xtask/venv/bin/python", dir.path().display());
        assert_eq!(
            lines(&all, false, true),
            [
                "cargo test --workspace --no-fail-fast".to_string(),
                format!("{python} -m pytest -q"),
            ]
        );
        // No environment (it could not be made): pytest does not run.
        assert_eq!(
            lines(&all, false, false),
            ["cargo test --workspace --no-fail-fast"]
        );
        let python_only = flags::Test {
            rust: false,
            python: true,
            setup: false,
        };
        let plan = plan(&python_only, &ctx, true, false, true);
        assert_eq!(plan.len(), 1);
        let path = plan[0].env.iter().find(|(k, _)| k == "PATH").unwrap();
        let bin = format!("{}/target/xtask/venv/bin:", dir.path().display());
        assert!(
            matches!(&path.1, crate::exec::EnvValue::Plain(p) if p.starts_with(&bin)),
            "{path:?}"
        );
    }
}
