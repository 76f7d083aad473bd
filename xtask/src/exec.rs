//! The one way to run a program: a [`Cmd`] is built by pure code, then the [`Runner`] executes it
//! or, with `--dry-run`, prints it. Secrets travel on stdin or in the child's environment, never
//! in argv, and every printed line or error redacts them.

use anyhow::{Context, Result, bail};
use std::fmt;
use std::path::PathBuf;

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
}

impl Cmd {
    pub fn new(program: &str) -> Cmd {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            cwd: None,
        }
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

/// Shell-quotes one word, only when it needs it.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%^".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
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
    pub dry_run: bool,
    sh: xshell::Shell,
}

impl Runner {
    pub fn new(dry_run: bool) -> Result<Runner> {
        Ok(Runner {
            dry_run,
            sh: xshell::Shell::new().context("cannot read the current directory")?,
        })
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
        let secret = |v: &EnvValue| match v {
            EnvValue::Plain(v) => v.clone(),
            EnvValue::Secret(s) => s.expose().to_string(),
        };
        if capture {
            // Short, captured commands go through xshell.
            let _dir = cmd.cwd.as_ref().map(|dir| self.sh.push_dir(dir));
            let mut c = self
                .sh
                .cmd(&cmd.program)
                .args(&cmd.args)
                .quiet()
                .ignore_status();
            for (key, value) in &cmd.env {
                c = c.env(key, secret(value));
            }
            if let Some(stdin) = &cmd.stdin {
                c = c.stdin(stdin.expose());
            }
            let out = c.output().map_err(|e| {
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
        let status = c
            .run()
            .map_err(|e| anyhow::anyhow!("cannot run `{cmd}`: {}", cmd.redact(&e.to_string())))?;
        Ok(Output {
            code: status.status.code(),
            ..Output::default()
        })
    }
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
        let runner = Runner::new(false).unwrap();
        let cmd = Cmd::new("cat").stdin_secret(Secret::new("T", "from-stdin".into()));
        assert_eq!(runner.read(&cmd).unwrap(), "from-stdin");
        let fail = Cmd::new("sh").args(["-c", "echo oops >&2; exit 3"]);
        let err = runner.read(&fail).unwrap_err().to_string();
        assert!(err.contains("exit code 3") && err.contains("oops"), "{err}");
    }

    #[test]
    fn run_to_stderr_keeps_stdout_clean_and_reports_failure() {
        let runner = Runner::new(false).unwrap();
        runner
            .run_to_stderr(&Cmd::new("sh").args(["-c", "echo progress"]))
            .unwrap();
        let err = runner
            .run_to_stderr(&Cmd::new("sh").args(["-c", "exit 4"]))
            .unwrap_err();
        assert!(err.to_string().contains("exit code 4"), "{err}");
    }

    #[test]
    fn dry_run_runs_nothing() {
        let dir = std::env::temp_dir().join(format!("xtask-dry-run-{}", std::process::id()));
        let runner = Runner::new(true).unwrap();
        runner
            .run(&Cmd::new("mkdir").arg(dir.display().to_string()))
            .unwrap();
        assert!(!dir.exists());
    }

    #[test]
    fn dry_run_skips_captured_commands_and_steps_on_disk() {
        let dir = std::env::temp_dir().join(format!("xtask-for-real-{}", std::process::id()));
        let mkdir = Cmd::new("mkdir").arg(dir.display().to_string());
        let dry = Runner::new(true).unwrap();
        assert_eq!(
            dry.run_captured(&mkdir).unwrap(),
            Output {
                code: Some(0),
                ..Output::default()
            }
        );
        dry.for_real(|| Ok(std::fs::create_dir(&dir)?)).unwrap();
        assert!(!dir.exists());
        let real = Runner::new(false).unwrap();
        assert!(real.run_captured(&mkdir).unwrap().success());
        assert!(dir.is_dir());
        let err = real.for_real(|| Ok(std::fs::create_dir(&dir)?));
        assert!(err.is_err(), "the step ran and found the folder made");
        std::fs::remove_dir(&dir).unwrap();
    }
}
