//! The one way to run a program: a [`Cmd`] is built by pure code, then the [`Runner`] executes it
//! or, with `--dry-run`, prints it. Secrets travel on stdin or in the child's environment, never
//! in argv, and every printed line or error redacts them.
//!
//! Deadlines: a command that talks to a registry ([`Cmd::talks_to`]) gets the network timeout
//! (`network-timeout`, `XTASK_NETWORK_TIMEOUT`, 60 s by default); any command can carry its own
//! ([`Cmd::deadline`]); builds carry none. A command with a deadline runs in its own process
//! group, and when the deadline passes (or SIGINT/SIGTERM arrives) the whole group is killed
//! (SIGTERM, then SIGKILL after 2 s); it also dies with this process (PR_SET_PDEATHSIG).
//!
//! One process library: duct starts every child (argv items, env, secret stdin bytes, captured
//! or streamed output, and the pre-spawn hook that makes a process group); this module adds the
//! deadline and the group kill with libc. No shell runs anything. The `Runner` holds no
//! interior state, so it is `Sync` and one Runner serves every thread of a task.

use anyhow::{Result, bail};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The network timeout when none is set: 60 s.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// A secret value with the name of the variable it came from. It prints as `<redacted NAME>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    value: String,
}

impl Secret {
    pub fn new(name: &str, value: String) -> Secret {
        Secret {
            name: name.to_string(),
            value,
        }
    }

    /// Reads the secret from the environment variable `name`.
    pub fn from_env(name: &str) -> Option<Secret> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Secret::new(name, v))
    }

    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted {}>", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Plain(String),
    Secret(Secret),
}

/// A program, its argv, extra environment, optional secret stdin and working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, EnvValue)>,
    pub stdin: Option<Secret>,
    pub cwd: Option<PathBuf>,
    /// The registry (host) this command talks to: it gets the Runner's network timeout.
    pub network: Option<String>,
    /// Its own deadline, which wins over the network timeout.
    pub deadline: Option<Duration>,
}

impl Cmd {
    pub fn new(program: &str) -> Cmd {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            cwd: None,
            network: None,
            deadline: None,
        }
    }

    /// Marks a command that talks to the registry `host`: it gets the network timeout.
    pub fn talks_to(mut self, host: &str) -> Cmd {
        self.network = Some(host.to_string());
        self
    }

    /// Kills the command (and its process group) when it runs longer than `limit`.
    pub fn deadline(mut self, limit: Duration) -> Cmd {
        self.deadline = Some(limit);
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Cmd {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Cmd {
        self.env
            .push((key.to_string(), EnvValue::Plain(value.into())));
        self
    }

    pub fn env_secret(mut self, key: &str, secret: Secret) -> Cmd {
        self.env.push((key.to_string(), EnvValue::Secret(secret)));
        self
    }

    pub fn stdin_secret(mut self, secret: Secret) -> Cmd {
        self.stdin = Some(secret);
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// The argv as plain strings, program first.
    pub fn argv(&self) -> Vec<&str> {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect()
    }

    fn secrets(&self) -> impl Iterator<Item = &Secret> {
        let env = self.env.iter().filter_map(|(_, v)| match v {
            EnvValue::Secret(s) => Some(s),
            EnvValue::Plain(_) => None,
        });
        self.stdin.iter().chain(env)
    }

    /// Replaces every secret value of this command in `text` with `<redacted NAME>`.
    pub fn redact(&self, text: &str) -> String {
        self.secrets()
            .filter(|s| !s.value.is_empty())
            .fold(text.to_string(), |text, s| {
                text.replace(&s.value, &format!("<redacted {}>", s.name))
            })
    }
}

/// A line a human can paste into a shell; secrets are shown by name only.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(dir) = &self.cwd {
            write!(f, "cd {} && ", quote(&dir.display().to_string()))?;
        }
        for (key, value) in &self.env {
            match value {
                EnvValue::Plain(v) => write!(f, "{key}={} ", quote(v))?,
                EnvValue::Secret(s) => write!(f, "{key}=\"${}\" ", s.name)?,
            }
        }
        let line: Vec<String> = self.argv().into_iter().map(quote).collect();
        f.write_str(&line.join(" "))?;
        if let Some(secret) = &self.stdin {
            write!(f, " <<< \"${}\"", secret.name)?;
        }
        Ok(())
    }
}

/// Shell-quotes one word, only when it needs it. A word with control characters, or with `##[`
/// (which GitHub Actions would read as a workflow command in a log line), is written as bash's
/// `$'…'` with escapes, so the printed line stays one line and still pastes.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%^".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_string();
    }
    if !word.contains("##[") && !word.chars().any(char::is_control) {
        return format!("'{}'", word.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for (i, c) in word.char_indices() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '[' if word[..i].ends_with("##") => out.push_str("\\x5b"),
            c if c.is_control() && c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// What a finished command printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs commands, or prints them under `--dry-run`.
pub struct Runner {
    /// `--dry-run`: private, so that no task decides anything by it.
    dry_run: bool,
    /// The deadline of commands that talk to a registry.
    pub network_timeout: Duration,
}

impl Runner {
    /// A Runner whose registry commands get `network_timeout` (the settings' `network-timeout`).
    pub fn new(dry_run: bool, network_timeout: Duration) -> Result<Runner> {
        Ok(Runner {
            dry_run,
            network_timeout,
        })
    }

    /// How long `cmd` may run, and what to blame when it runs longer.
    fn limit(&self, cmd: &Cmd) -> Option<(Duration, String)> {
        let what = |limit: Duration| match &cmd.network {
            Some(host) => format!(
                "no answer from the registry {host} within {}; to wait longer, set \
                 network-timeout in [workspace.metadata.xtask] or XTASK_NETWORK_TIMEOUT (seconds)",
                seconds(limit)
            ),
            None => format!("it ran longer than its deadline of {}", seconds(limit)),
        };
        match (cmd.deadline, &cmd.network) {
            (Some(limit), _) => Some((limit, what(limit))),
            (None, Some(_)) => Some((self.network_timeout, what(self.network_timeout))),
            (None, None) => None,
        }
    }

    /// Runs a command that changes something, streaming its output. Under `--dry-run` it prints
    /// the command and runs nothing.
    pub fn run(&self, cmd: &Cmd) -> Result<()> {
        eprintln!("+ {cmd}");
        if self.dry_run {
            return Ok(());
        }
        let out = self.exec(cmd, false)?;
        if !out.success() {
            bail!("`{cmd}` failed with {}", describe(out.code));
        }
        Ok(())
    }

    /// Like [`Runner::run`], but the child's stdout goes to stderr too, keeping stdout for
    /// machine output (builds and pushes print their progress on stdout).
    pub fn run_to_stderr(&self, cmd: &Cmd) -> Result<()> {
        eprintln!("+ {cmd}");
        if self.dry_run {
            return Ok(());
        }
        let out = self.streamed(cmd, true)?;
        if !out.success() {
            bail!("`{cmd}` failed with {}", describe(out.code));
        }
        Ok(())
    }

    /// Runs a read-only command (inspect, version) and captures its output, also under
    /// `--dry-run`. It fails when the command exits non-zero, carrying its stderr.
    pub fn read(&self, cmd: &Cmd) -> Result<String> {
        let out = self.output(cmd)?;
        if !out.success() {
            bail!(
                "`{cmd}` failed with {}:\n{}",
                describe(out.code),
                cmd.redact(out.stderr.trim_end())
            );
        }
        Ok(out.stdout)
    }

    /// Runs a read-only command and returns its output whatever its exit code.
    pub fn output(&self, cmd: &Cmd) -> Result<Output> {
        self.exec(cmd, true)
    }

    fn exec(&self, cmd: &Cmd, capture: bool) -> Result<Output> {
        if self.limit(cmd).is_some() {
            return self.timed(cmd, capture, false);
        }
        if capture {
            // Short, captured commands: stdin is the secret or nothing, never the terminal.
            let mut expression = self
                .expression(cmd, false)
                .stdout_capture()
                .stderr_capture();
            if cmd.stdin.is_none() {
                expression = expression.stdin_null();
            }
            let out = expression.run().map_err(|e| {
                anyhow::anyhow!("cannot run `{cmd}`: {}", cmd.redact(&e.to_string()))
            })?;
            return Ok(Output {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        self.streamed(cmd, false)
    }

    /// Streamed commands (builds, pushes) go through duct, which reports the exit code.
    fn streamed(&self, cmd: &Cmd, stdout_to_stderr: bool) -> Result<Output> {
        if self.limit(cmd).is_some() {
            return self.timed(cmd, false, stdout_to_stderr);
        }
        let status = self
            .expression(cmd, stdout_to_stderr)
            .run()
            .map_err(|e| anyhow::anyhow!("cannot run `{cmd}`: {}", cmd.redact(&e.to_string())))?;
        Ok(Output {
            code: status.status.code(),
            ..Output::default()
        })
    }

    /// The duct expression for `cmd`: unchecked, with its env, secret stdin and folder.
    fn expression(&self, cmd: &Cmd, stdout_to_stderr: bool) -> duct::Expression {
        let secret = |v: &EnvValue| match v {
            EnvValue::Plain(v) => v.clone(),
            EnvValue::Secret(s) => s.expose().to_string(),
        };
        let mut c = duct::cmd(&cmd.program, &cmd.args).unchecked();
        if stdout_to_stderr {
            c = c.stdout_to_stderr();
        }
        for (key, value) in &cmd.env {
            c = c.env(key, secret(value));
        }
        if let Some(stdin) = &cmd.stdin {
            c = c.stdin_bytes(stdin.expose().as_bytes().to_vec());
        }
        if let Some(dir) = &cmd.cwd {
            c = c.dir(dir);
        }
        c
    }

    /// Runs `cmd` in its own process group under its deadline (see [`Runner::limit`]),
    /// capturing or streaming its output. When the deadline passes, or SIGINT/SIGTERM/SIGHUP
    /// arrives, the whole group is killed; the signal then ends this process too.
    fn timed(&self, cmd: &Cmd, capture: bool, stdout_to_stderr: bool) -> Result<Output> {
        use std::os::unix::process::CommandExt;
        let (limit, why) = self.limit(cmd).expect("timed commands have a limit");
        let mut expression = self.expression(cmd, stdout_to_stderr).before_spawn(|c| {
            c.process_group(0);
            // If this process is killed outright (SIGKILL), the child goes with it.
            #[cfg(target_os = "linux")]
            // SAFETY: prctl(2) between fork and exec, async-signal-safe.
            unsafe {
                c.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            Ok(())
        });
        if capture {
            expression = expression.stdout_capture().stderr_capture();
        }
        if cmd.stdin.is_none() {
            // Outside the terminal's foreground group, reading the terminal would stop it.
            expression = expression.stdin_null();
        }
        let signals = crate::signals::defer();
        let started = Instant::now();
        let handle = expression
            .start()
            .map_err(|e| anyhow::anyhow!("cannot run `{cmd}`: {}", cmd.redact(&e.to_string())))?;
        let group = handle.pids()[0] as libc::pid_t;
        // SIGTERM first, so that a tool with state (podman's runtime files) can tidy up; after
        // KILL_GRACE, SIGKILL to whatever is left of the group.
        let kill_group = || {
            // SAFETY: kill(2) of the child's own process group (its pid, from process_group(0)).
            unsafe {
                libc::kill(-group, libc::SIGTERM);
            }
            let asked = Instant::now();
            while asked.elapsed() < KILL_GRACE && matches!(handle.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            // SAFETY: as above; ESRCH when the group is already empty.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
            let _ = handle.wait();
        };
        let mut pause = Duration::from_millis(1);
        loop {
            let done = handle
                .try_wait()
                .map_err(|e| anyhow::anyhow!("`{cmd}`: {}", cmd.redact(&e.to_string())))?;
            if let Some(out) = done {
                return Ok(Output {
                    code: out.status.code(),
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                });
            }
            if let Some(signal) = signals.received() {
                kill_group();
                bail!(
                    "`{cmd}` stopped by {}: it and its child processes were killed",
                    crate::signals::name(signal)
                );
            }
            if started.elapsed() >= limit {
                kill_group();
                bail!("`{cmd}` timed out: {why}; it and its child processes were killed");
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// How long a timed-out child's group gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// `2 s`, `1.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn describe(code: Option<i32>) -> String {
    match code {
        Some(code) => format!("exit code {code}"),
        None => "a signal".to_string(),
    }
}

/// The rest of `--dry-run`, so that no task checks it: steps on disk, and commands whose output
/// a task reads, happen only in a real run.
impl Runner {
    /// Runs a command that changes something and captures its output (to redact it before it is
    /// shown). Under `--dry-run` it prints the command, runs nothing, and reports a success that
    /// printed nothing.
    pub fn run_captured(&self, cmd: &Cmd) -> Result<Output> {
        eprintln!("+ {cmd}");
        if self.dry_run {
            return Ok(Output {
                code: Some(0),
                ..Output::default()
            });
        }
        self.output(cmd)
    }

    /// For a task whose whole run is a plan of other steps (release): `show` the plan under
    /// `--dry-run`, else `run` it.
    pub fn show_or_run<T>(&self, show: impl FnOnce() -> T, run: impl FnOnce() -> T) -> T {
        if self.dry_run { show() } else { run() }
    }

    /// Runs `step`, which changes files or reads what the commands before it made (a digest
    /// file, a registry after a push), except under `--dry-run`, where nothing changed and
    /// nothing ran to read.
    pub fn for_real(&self, step: impl FnOnce() -> Result<()>) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        step()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runner_serves_every_thread() {
        fn sync<T: Sync + Send>() {}
        sync::<Runner>();
    }

    fn login() -> Cmd {
        Cmd::new("docker")
            .args(["login", "ghcr.io", "-u", "dcasati", "--password-stdin"])
            .stdin_secret(Secret::new("GITHUB_TOKEN", "ghp_s3cret".into()))
            .env_secret(
                "COSIGN_PASSWORD",
                Secret::new("COSIGN_PASSWORD", "hunter2".into()),
            )
            .env("DOCKER_CLI_HINTS", "false")
    }

    #[test]
    fn display_is_a_pasteable_line_without_secrets() {
        let line = login().to_string();
        assert_eq!(
            line,
            "COSIGN_PASSWORD=\"$COSIGN_PASSWORD\" DOCKER_CLI_HINTS=false docker login ghcr.io -u dcasati --password-stdin <<< \"$GITHUB_TOKEN\""
        );
        assert!(!line.contains("s3cret") && !line.contains("hunter2"));
        assert!(!format!("{:?}", login()).contains("s3cret"));
    }

    #[test]
    fn quoting_keeps_each_argument_one_word() {
        assert_eq!(quote("plain-arg"), "plain-arg");
        assert_eq!(quote("two words"), "'two words'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("type=gha,mode=max"), "type=gha,mode=max");
        assert_eq!(quote("a\n::error::x"), r"$'a\n::error::x'");
        assert_eq!(quote("it's\t##[x]\\"), r"$'it\'s\t##\x5bx]\\'");
    }

    #[test]
    fn redact_removes_every_secret_value() {
        let text = "error: token ghp_s3cret rejected; password hunter2";
        assert_eq!(
            login().redact(text),
            "error: token <redacted GITHUB_TOKEN> rejected; password <redacted COSIGN_PASSWORD>"
        );
    }

    #[test]
    fn runner_captures_output_and_passes_secret_stdin() {
        let runner = Runner::new(false, DEFAULT_NETWORK_TIMEOUT).unwrap();
        let cmd = Cmd::new("cat").stdin_secret(Secret::new("T", "from-stdin".into()));
        assert_eq!(runner.read(&cmd).unwrap(), "from-stdin");
        let fail = Cmd::new("sh").args(["-c", "echo oops >&2; exit 3"]);
        let err = runner.read(&fail).unwrap_err().to_string();
        assert!(err.contains("exit code 3") && err.contains("oops"), "{err}");
    }

    #[test]
    fn run_to_stderr_keeps_stdout_clean_and_reports_failure() {
        let runner = Runner::new(false, DEFAULT_NETWORK_TIMEOUT).unwrap();
        runner
            .run_to_stderr(&Cmd::new("sh").args(["-c", "echo progress"]))
            .unwrap();
        let err = runner
            .run_to_stderr(&Cmd::new("sh").args(["-c", "exit 4"]))
            .unwrap_err();
        assert!(err.to_string().contains("exit code 4"), "{err}");
    }

    /// Whether `pid` still runs 1 s after a kill: SIGKILL is delivered when the process is next
    /// scheduled, which on a loaded machine is not at once. A zombie counts as gone.
    fn alive(pid: &str) -> bool {
        let running = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|s| !s.starts_with(" Z"))
            })
        };
        let asked = Instant::now();
        while running() {
            if asked.elapsed() > Duration::from_secs(1) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn a_command_past_its_deadline_is_killed_with_its_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let runner = Runner::new(false, DEFAULT_NETWORK_TIMEOUT).unwrap();
        for capture in [true, false] {
            let cmd = Cmd::new("sh")
                .args(["-c", &script])
                .deadline(Duration::from_millis(300));
            let started = Instant::now();
            let err = if capture {
                runner.read(&cmd).unwrap_err()
            } else {
                runner.run_to_stderr(&cmd).unwrap_err()
            };
            assert!(started.elapsed() < Duration::from_secs(5), "{err}");
            assert!(
                err.to_string()
                    .contains("timed out: it ran longer than its deadline of 0.3 s"),
                "{err}"
            );
            let grandchild = std::fs::read_to_string(&pid_file).unwrap();
            assert!(!alive(grandchild.trim()), "sleep {grandchild} survived");
        }
    }

    #[test]
    fn a_group_that_ignores_sigterm_gets_sigkill_after_the_grace() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("stubborn.pid");
        let script = format!(
            "trap '' TERM; sleep 30 & echo $! > {}; wait",
            pid_file.display()
        );
        let cmd = Cmd::new("sh")
            .args(["-c", &script])
            .deadline(Duration::from_millis(200));
        let started = Instant::now();
        let err = Runner::new(false, DEFAULT_NETWORK_TIMEOUT)
            .unwrap()
            .read(&cmd)
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            took >= KILL_GRACE && took < KILL_GRACE * 3,
            "{took:?}: {err}"
        );
        let stubborn = std::fs::read_to_string(&pid_file).unwrap();
        assert!(!alive(stubborn.trim()), "sleep {stubborn} survived");
    }

    #[test]
    fn a_registry_command_gets_the_network_timeout_and_names_the_registry() {
        let mut runner = Runner::new(false, DEFAULT_NETWORK_TIMEOUT).unwrap();
        runner.network_timeout = Duration::from_millis(200);
        let cmd = Cmd::new("sleep").arg("30").talks_to("127.0.0.1:5000");
        let err = runner.output(&cmd).unwrap_err().to_string();
        assert!(
            err.contains("no answer from the registry 127.0.0.1:5000 within 0.2 s")
                && err.contains("XTASK_NETWORK_TIMEOUT"),
            "{err}"
        );
        // A command that finishes in time is not affected; one without a deadline has none.
        let quick = Cmd::new("sh").args(["-c", "echo ok"]).talks_to("h");
        assert_eq!(runner.read(&quick).unwrap(), "ok\n");
        assert!(runner.limit(&Cmd::new("podman").arg("build")).is_none());
    }

    #[test]
    fn dry_run_runs_nothing() {
        let dir = std::env::temp_dir().join(format!("xtask-dry-run-{}", std::process::id()));
        let runner = Runner::new(true, DEFAULT_NETWORK_TIMEOUT).unwrap();
        runner
            .run(&Cmd::new("mkdir").arg(dir.display().to_string()))
            .unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn dry_run_skips_captured_commands_and_steps_on_disk() {
        let dir = std::env::temp_dir().join(format!("xtask-for-real-{}", std::process::id()));
        let mkdir = Cmd::new("mkdir").arg(dir.display().to_string());
        let dry = Runner::new(true, DEFAULT_NETWORK_TIMEOUT).unwrap();
        assert_eq!(
            dry.run_captured(&mkdir).unwrap(),
            Output {
                code: Some(0),
                ..Output::default()
            }
        );
        dry.for_real(|| Ok(std::fs::create_dir(&dir)?)).unwrap();
        assert!(!dir.exists());
        let real = Runner::new(false, DEFAULT_NETWORK_TIMEOUT).unwrap();
        assert!(real.run_captured(&mkdir).unwrap().success());
        assert!(dir.is_dir());
        let err = real.for_real(|| Ok(std::fs::create_dir(&dir)?));
        assert!(err.is_err(), "the step ran and found the folder made");
        std::fs::remove_dir(&dir).unwrap();
    }
}
