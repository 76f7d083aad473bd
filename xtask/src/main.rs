//! `cargo xtask`: the homelab repo's automation. See `cargo xtask --help`.
//!
//! Parses the flags, runs the task and maps the outcome to an exit code: 0 success, 1 the check
//! found something, 2 bad input, a missing tool or a tool failure.

use clap::Parser;
use std::process::ExitCode;
use xtask::{Status, flags};

fn main() -> ExitCode {
    xtask::signals::end_quietly_on_closed_pipe();
    xtask::signals::fail_writes_over_the_size_limit();
    let code = run();
    // A message that could not be written (stderr on a full disk) is a failure of the run.
    if xtask::output::stderr_failed() {
        return ExitCode::from(2);
    }
    code
}

fn run() -> ExitCode {
    let flags = match flags::Xtask::try_parse() {
        Ok(flags) => flags,
        Err(e) => {
            // --help to a full disk is a failure too.
            let printed = e.print().is_ok();
            return ExitCode::from(if e.use_stderr() || !printed { 2 } else { 0 });
        }
    };
    match xtask::run(flags) {
        Ok(Status::Clean) => ExitCode::SUCCESS,
        Ok(Status::Found) => ExitCode::from(1),
        Err(e) => {
            // Names from the tree in the message cannot start a workflow command.
            xtask::output::sayln!("error: {}", xtask::output::escape_lines(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
