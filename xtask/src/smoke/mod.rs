//! The smoke test of an image, pure: the command it runs (the settings' `smoke`, or for the
//! base image the interpreter importing every third-party module the services import), and
//! the argv that runs it once per platform with the CronJobs' hardening (non-root UID
//! 65534, read-only root filesystem, no network) under docker, podman, or buildah's chroot
//! isolation where `podman run` cannot start containers (sandboxes refuse its `setrlimit`).
//! `tasks/smoke.rs` runs these; [`platforms`] says which platforms this machine can run.

pub mod imports;
pub mod platforms;
pub mod record;
pub mod scripts;
pub mod stdlib;

use crate::exec::Cmd;
use crate::image_ref::ImageRef;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::time::Duration;

/// The UID:GID every smoke command runs as: nobody, as no image's own user is.
pub const USER: &str = "65534:65534";

/// How long one smoke command may run, pull included (emulated platforms are slow).
pub const DEADLINE: Duration = Duration::from_secs(600);

/// How long one command in the image may run, pull included: `XTASK_SMOKE_TIMEOUT` (`env`)
/// seconds, else [`DEADLINE`]. A CronJob's command must finish, so one that does not fails.
pub fn timeout(env: Option<String>) -> Result<Duration> {
    match env.filter(|v| !v.is_empty()) {
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_secs)
            .with_context(|| {
                format!("XTASK_SMOKE_TIMEOUT=`{v}`: expected a whole number of seconds above 0")
            }),
        None => Ok(DEADLINE),
    }
}

/// The program that runs the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
    /// `buildah from` + `buildah run --isolation chroot`.
    Buildah,
}

impl Engine {
    pub fn describe(self) -> &'static str {
        match self {
            Engine::Docker => "docker run",
            Engine::Podman => "podman run",
            Engine::Buildah => "buildah run --isolation chroot",
        }
    }

    /// The hardening this engine cannot apply, each with why.
    pub fn not_applied(self) -> Vec<&'static str> {
        match self {
            Engine::Docker | Engine::Podman => Vec::new(),
            Engine::Buildah => vec![
                "read-only root filesystem (buildah run has no --read-only; the non-root UID \
                 still cannot write to root-owned paths)",
                "no network (chroot isolation shares the host's network namespace)",
            ],
        }
    }
}

/// One check run in the image on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `smoke command` or `image CMD`.
    pub label: &'static str,
    /// The argv, run as a Kubernetes `command:` (it replaces the entrypoint); `None`: the
    /// image's own ENTRYPOINT and CMD.
    pub argv: Option<Vec<String>>,
}

/// The checks for an image: its smoke command (`smoke`, else `default` when given), then its
/// own CMD. `smoke = []` leaves only the CMD.
pub fn checks(smoke: Option<&[String]>, default: Option<Vec<String>>) -> Vec<Check> {
    let command = match smoke {
        Some([]) => None,
        Some(argv) => Some(argv.to_vec()),
        None => default,
    };
    let mut checks: Vec<Check> = command
        .map(|argv| Check {
            label: "smoke command",
            argv: Some(argv),
        })
        .into_iter()
        .collect();
    checks.push(Check {
        label: "image CMD",
        argv: None,
    });
    checks
}

/// The base image's default smoke command: `python -c` importing each module of `modules`
/// by the name the scripts import it under, printing each as it succeeds.
pub fn default_command(modules: &BTreeSet<String>) -> Vec<String> {
    let list: Vec<String> = modules.iter().map(|m| format!("'{m}'")).collect();
    let script = format!(
        "import importlib, sys\n\
         mods = [{}]\n\
         for m in mods: importlib.import_module(m); print('import ' + m + ': ok')\n\
         print('python ' + sys.version.split()[0] + ': ' + str(len(mods)) + ' third-party \
         modules imported')",
        list.join(", ")
    );
    vec!["python".into(), "-c".into(), script]
}

/// `docker|podman run` of one check on one platform (`None`: the image's only one).
pub fn run_cmd(
    engine: Engine,
    platform: Option<&str>,
    reference: &ImageRef,
    insecure: bool,
    argv: Option<&[String]>,
) -> Cmd {
    let program = match engine {
        Engine::Docker => "docker",
        _ => "podman",
    };
    let mut cmd = Cmd::new(program).arg("run").arg("--rm");
    if let Some(p) = platform {
        cmd = cmd.args(["--platform", p]);
    }
    cmd = cmd.args(["--user", USER, "--read-only", "--network", "none"]);
    if engine == Engine::Podman && insecure {
        cmd = cmd.arg("--tls-verify=false");
    }
    if let Some([program, ..]) = argv {
        cmd = cmd.args(["--entrypoint", program]);
    }
    cmd = cmd.arg(reference.to_string());
    if let Some([_, args @ ..]) = argv {
        cmd = cmd.args(args);
    }
    cmd.deadline(DEADLINE)
}

/// `docker version` of the server: fails when no docker daemon answers (a CLI alone cannot
/// run anything).
pub fn docker_daemon_probe() -> Cmd {
    Cmd::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .deadline(Duration::from_secs(10))
}

/// `buildah from`: a working container `name` of the image for `platform`.
pub fn buildah_from(
    platform: Option<&str>,
    reference: &ImageRef,
    insecure: bool,
    name: &str,
) -> Cmd {
    let mut cmd = Cmd::new("buildah").args(["from", "--quiet", "--name", name]);
    if let Some(p) = platform {
        cmd = cmd.args(["--platform", p]);
    }
    if insecure {
        cmd = cmd.arg("--tls-verify=false");
    }
    cmd.arg(format!("docker://{reference}")).deadline(DEADLINE)
}

/// `buildah inspect` of the working container, for its ENTRYPOINT and CMD.
pub fn buildah_inspect(name: &str) -> Cmd {
    Cmd::new("buildah").args(["inspect", "--type", "container", name])
}

/// ENTRYPOINT then CMD from `buildah inspect`'s JSON; empty when the image has neither.
pub fn parse_buildah_command(json: &str) -> Result<Vec<String>> {
    let v: serde_json::Value =
        serde_json::from_str(json).context("`buildah inspect` did not print JSON")?;
    let config = &v["OCIv1"]["config"];
    let words = |key: &str| -> Vec<String> {
        config[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|w| w.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok([words("Entrypoint"), words("Cmd")].concat())
}

/// `buildah run --isolation chroot --user 65534:65534 NAME -- ARGV`.
pub fn buildah_run(name: &str, argv: &[String]) -> Cmd {
    Cmd::new("buildah")
        .args(["run", "--isolation", "chroot", "--user", USER, name, "--"])
        .args(argv)
        .deadline(DEADLINE)
}

pub fn buildah_rm(name: &str) -> Cmd {
    Cmd::new("buildah").args(["rm", name])
}

/// True when podman refused to start any container here (a sandbox without `setrlimit` or
/// namespaces), as opposed to the command in the image failing.
pub fn is_sandbox_refusal(stderr: &str) -> bool {
    [
        "setrlimit",
        "OCI permission denied",
        "cannot set up namespace",
        "newuidmap",
    ]
    .iter()
    .any(|s| stderr.contains(s))
}

/// True when docker or podman refused to start an image that has no ENTRYPOINT or CMD.
pub fn is_no_command(stderr: &str) -> bool {
    let lower = stderr.to_lowercase();
    lower.contains("no command specified") || lower.contains("no command or entrypoint provided")
}

/// True when the engine itself failed (docker's and podman's 125: the container never ran).
pub fn is_engine_error(engine: Engine, code: Option<i32>) -> bool {
    engine != Engine::Buildah && code == Some(125)
}

/// The last `n` non-empty lines of `text`.
pub fn tail(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// A `smoke` argv from the settings must name a program.
pub fn check_argv(argv: &[String]) -> Result<()> {
    if argv.first().is_some_and(|p| p.trim().is_empty()) {
        bail!("smoke: the first word is the program to run and cannot be empty");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cmd: &Cmd) -> String {
        cmd.to_string()
    }

    fn r() -> ImageRef {
        ImageRef::parse(&format!(
            "127.0.0.1:5000/homelab/python-base@sha256:{}",
            "a".repeat(64)
        ))
        .unwrap()
    }

    #[test]
    fn docker_and_podman_run_hardened_by_digest() {
        let argv = ["/bin/busybox".to_string(), "echo".into(), "hi there".into()];
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            line(&run_cmd(
                Engine::Docker,
                Some("linux/arm64"),
                &r(),
                true,
                Some(&argv)
            )),
            format!(
                "docker run --rm --platform linux/arm64 --user 65534:65534 --read-only \
                 --network none --entrypoint /bin/busybox 127.0.0.1:5000/homelab/python-base@{d} \
                 echo 'hi there'"
            )
        );
        assert_eq!(
            line(&run_cmd(Engine::Podman, None, &r(), true, None)),
            format!(
                "podman run --rm --user 65534:65534 --read-only --network none \
                 --tls-verify=false 127.0.0.1:5000/homelab/python-base@{d}"
            )
        );
        assert!(Engine::Docker.not_applied().is_empty());
    }

    #[test]
    fn buildah_runs_in_a_named_working_container() {
        assert_eq!(
            line(&buildah_from(
                Some("linux/amd64"),
                &r(),
                true,
                "xtask-smoke-1"
            )),
            format!(
                "buildah from --quiet --name xtask-smoke-1 --platform linux/amd64 \
                 --tls-verify=false docker://{}",
                r()
            )
        );
        let argv = ["python".to_string(), "-c".into(), "import x".into()];
        assert_eq!(
            line(&buildah_run("xtask-smoke-1", &argv)),
            "buildah run --isolation chroot --user 65534:65534 xtask-smoke-1 -- python -c \
             'import x'"
        );
        let json = r#"{"OCIv1":{"config":{"Entrypoint":["/bin/tini","--"],"Cmd":["python"]}}}"#;
        assert_eq!(
            parse_buildah_command(json).unwrap(),
            ["/bin/tini", "--", "python"]
        );
        assert!(
            parse_buildah_command(r#"{"OCIv1":{"config":{}}}"#)
                .unwrap()
                .is_empty()
        );
        assert!(parse_buildah_command("nope").is_err());
        assert_eq!(Engine::Buildah.not_applied().len(), 2);
    }

    #[test]
    fn checks_are_the_smoke_command_then_the_cmd() {
        let default = || Some(vec!["python".to_string()]);
        let labels = |c: &[Check]| c.iter().map(|c| c.label).collect::<Vec<_>>();
        let with_default = checks(None, default());
        assert_eq!(labels(&with_default), ["smoke command", "image CMD"]);
        assert_eq!(
            with_default[0].argv.as_deref(),
            Some(&["python".into()][..])
        );
        let own = ["/bin/busybox".to_string(), "true".into()];
        assert_eq!(
            checks(Some(&own), default())[0].argv.as_deref(),
            Some(&own[..])
        );
        assert_eq!(labels(&checks(Some(&[]), default())), ["image CMD"]);
        assert_eq!(labels(&checks(None, None)), ["image CMD"]);
        assert!(check_argv(&["".into()]).is_err() && check_argv(&own).is_ok());
    }

    #[test]
    fn default_command_imports_each_module_by_its_import_name() {
        let modules = BTreeSet::from(["dateutil".to_string(), "requests".to_string()]);
        let argv = default_command(&modules);
        assert_eq!(argv[..2], ["python", "-c"]);
        assert!(
            argv[2].contains("mods = ['dateutil', 'requests']"),
            "{}",
            argv[2]
        );
        assert!(default_command(&BTreeSet::new())[2].contains("mods = []"));
    }

    #[test]
    fn the_timeout_is_the_env_or_ten_minutes() {
        assert_eq!(timeout(None).unwrap(), DEADLINE);
        assert_eq!(timeout(Some(String::new())).unwrap(), DEADLINE);
        assert_eq!(timeout(Some(" 5".into())).unwrap(), Duration::from_secs(5));
        for bad in ["0", "-1", "soon"] {
            let err = timeout(Some(bad.into())).unwrap_err().to_string();
            assert!(err.contains("XTASK_SMOKE_TIMEOUT"), "{err}");
        }
    }

    #[test]
    fn failures_are_told_apart() {
        assert!(is_sandbox_refusal(
            "Error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied"
        ));
        assert!(!is_sandbox_refusal(
            "ModuleNotFoundError: No module named 'x'"
        ));
        assert!(is_no_command(
            "docker: Error response from daemon: No command specified."
        ));
        assert!(is_no_command(
            "Error: no command or entrypoint provided, and no CMD or ENTRYPOINT from image"
        ));
        assert!(!is_no_command("exit status 1"));
        assert!(is_engine_error(Engine::Docker, Some(125)));
        assert!(!is_engine_error(Engine::Docker, Some(1)));
        assert!(!is_engine_error(Engine::Buildah, Some(125)));
        assert_eq!(tail("a\n\nb\nc\n", 2), ["b", "c"]);
    }
}
