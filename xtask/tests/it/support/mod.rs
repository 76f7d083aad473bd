//! Shared by the integration tests (and the lint-manifests bench): files and commits in a
//! temporary git repo, the built binary run with a clean environment, the `XTASK_E2E=1` gate,
//! recording stand-in scripts on PATH, free loopback ports and the property-test config; and,
//! one module per area, that area's fixtures and stand-ins.

pub mod build_push;
pub mod diff;
pub mod lint_manifests;
pub mod scan_sign;
pub mod update_images;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Writes `rel` under `root`, creating folders.
pub fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Makes a FIFO at `root/rel` (with `mkfifo`), creating folders.
pub fn fifo(root: &Path, rel: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

/// Runs `f` while a watchdog keeps the FIFO `path` from blocking a reader for more than 5 s: it
/// then opens the FIFO for writing (non-blocking) and closes it again, so that a reader stuck in
/// `open` sees an empty file instead of hanging the test forever. A reader that never opens the
/// FIFO never meets the watchdog.
pub fn unblocking_fifo<T>(path: &Path, f: impl FnOnce() -> T) -> T {
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::atomic::{AtomicBool, Ordering};
    const O_NONBLOCK: i32 = 0o4000; // Linux
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if start.elapsed() > Duration::from_secs(5) {
                    let _ = std::fs::OpenOptions::new()
                        .write(true)
                        .custom_flags(O_NONBLOCK)
                        .open(path);
                }
            }
        });
        let out = f();
        done.store(true, Ordering::Relaxed);
        out
    })
}

/// A temporary folder named `xtask-NAME-…`, removed on drop.
pub fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("xtask-{name}-"))
        .tempdir()
        .unwrap()
}

/// The time of the first commit a [`GitRepo`] makes on its own clock.
pub const FIRST_TIME: i64 = 1_700_000_000;

/// A git repo in a temporary folder (removed on drop), committing every file of its work tree.
pub struct GitRepo {
    pub dir: tempfile::TempDir,
    pub git: git2::Repository,
    time: Cell<i64>,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        GitRepo::named("repo")
    }

    /// A repo whose folder name starts with `xtask-NAME-`, to tell a failing test's files apart.
    pub fn named(name: &str) -> GitRepo {
        let dir = temp_dir(name);
        let git = git2::Repository::init(dir.path()).unwrap();
        GitRepo {
            dir,
            git,
            time: Cell::new(FIRST_TIME),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        write(self.root(), rel, text);
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// Commits every file of the work tree on a fixed clock: the first commit at
    /// [`FIRST_TIME`], each later one 60 s after the previous one. Returns the full id.
    pub fn commit(&self, message: &str) -> String {
        let time = self.time.get();
        self.time.set(time + 60);
        let sig =
            git2::Signature::new("Test", "test@example.com", &git2::Time::new(time, 0)).unwrap();
        self.commit_as(&sig, message)
    }

    /// Commits every file of the work tree as `sig`, on top of HEAD if there is one.
    pub fn commit_as(&self, sig: &git2::Signature, message: &str) -> String {
        let mut index = self.git.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = self.git.find_tree(index.write_tree().unwrap()).unwrap();
        let parent = self.head_commit();
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.git
            .commit(Some("HEAD"), sig, sig, message, &tree, &parents)
            .unwrap()
            .to_string()
    }

    pub fn head_commit(&self) -> Option<git2::Commit<'_>> {
        self.git.head().ok().and_then(|h| h.peel_to_commit().ok())
    }
}

/// What the binary did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    /// stdout then stderr.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts that stderr contains `text`, showing stderr when it does not.
    #[track_caller]
    pub fn assert_stderr_has(&self, text: &str) {
        assert!(self.stderr.contains(text), "{}", self.stderr);
    }

    /// Asserts that stderr contains every one of `texts`, showing stderr when it does not.
    #[track_caller]
    pub fn assert_stderr_has_all(&self, texts: &[&str]) {
        assert!(
            texts.iter().all(|text| self.stderr.contains(text)),
            "{}",
            self.stderr
        );
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(self, code: i32) -> Outcome {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Whether the test's own environment variable `key` is kept from the binary: GITHUB_*,
/// XTASK_*, the tools' credentials and settings (COSIGN_*, TRIVY_*, REGISTRY_TOKEN), the
/// stand-ins' controls (FAKE_*) and NO_COLOR are not.
fn removed(key: &str) -> bool {
    ["GITHUB_", "XTASK_", "COSIGN_", "TRIVY_", "FAKE_"]
        .iter()
        .any(|p| key.starts_with(p))
        || key == "REGISTRY_TOKEN"
        || key == "NO_COLOR"
}

/// Runs the built `xtask ARGS` in `cwd` with stdin empty and the variables [`removed`] names
/// taken out, then `env` applied; `path` replaces PATH when given.
pub fn xtask_in(cwd: &Path, args: &[&str], env: &[(&str, &str)], path: Option<&str>) -> Outcome {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(removed) {
            cmd.env_remove(key);
        }
    }
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    cmd.envs(env.iter().copied());
    let start = Instant::now();
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// [`xtask_in`] with `--root ROOT` first and ROOT as the working directory.
pub fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)], path: Option<&str>) -> Outcome {
    let root_str = root.to_str().unwrap();
    let mut all = vec!["--root", root_str];
    all.extend_from_slice(args);
    xtask_in(root, &all, env, path)
}

/// True when `XTASK_E2E=1`. End-to-end tests are `#[ignore = "e2e: …"]` and run only with
/// `--run-ignored` (which `cargo xtask test` passes under `XTASK_E2E=1`), so the runner reports
/// them as skipped otherwise; this is for the few CLI tests that add a real-tool check on top.
pub fn e2e_enabled() -> bool {
    std::env::var_os("XTASK_E2E").is_some_and(|v| v == "1")
}

/// Under `XTASK_E2E=1` a missing tool is a failure, never a skip.
pub fn require(tool: &str) {
    assert!(
        which::which(tool).is_ok(),
        "XTASK_E2E=1 but `{tool}` is not on PATH; install it (.ci/run installs every tool the \
         end-to-end tests use)"
    );
}

/// Writes the executable script `bin/name`.
pub fn install_script(bin: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The folders `record/1`, `record/2`, … a recording stand-in made, one a call, in order.
pub fn recorded_calls(record: &Path) -> Vec<PathBuf> {
    (1..)
        .map(|n: usize| record.join(n.to_string()))
        .take_while(|dir| dir.is_dir())
        .collect()
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Property-test cases: `XTASK_FUZZ_CASES` if set; else 10,000 under `XTASK_E2E=1` and 1,000
/// otherwise. No failure persistence files.
pub fn fuzz_config() -> proptest::test_runner::Config {
    let cases = std::env::var("XTASK_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if std::env::var_os("XTASK_E2E").is_some_and(|v| v == "1") {
            10_000
        } else {
            1_000
        });
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// How a [`FaultServer`] misbehaves on every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Accepts the connection, reads, and never answers.
    Stall,
    /// Answers every request `500 Internal Server Error`.
    Error500,
    /// Answers `200` with a JSON body one byte in, then closes the connection.
    CloseMidBody,
}

/// A plain-HTTP server on 127.0.0.1 that fails in one way ([`Fault`]), for the timeouts and
/// error paths of everything that talks to a registry. Stopped (and every connection closed)
/// on drop.
pub struct FaultServer {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    pub fn start(fault: Fault) -> FaultServer {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut stalled = Vec::new();
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request);
                let reply: &[u8] = match fault {
                    Fault::Stall => {
                        stalled.push(stream);
                        continue;
                    }
                    Fault::Error500 => {
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nfault\n"
                    }
                    Fault::CloseMidBody => {
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\nDocker-Content-Digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n{\"sc"
                    }
                };
                let _ = stream.write_all(reply);
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        FaultServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop, which then stops (and drops the stalled connections).
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Processes (other than zombies) whose command line contains `needle`: what a test's run
/// left behind.
pub fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let zombie = std::fs::read_to_string(entry.path().join("stat"))
            .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|s| s.starts_with(" Z")));
        if cmdline.contains(needle) && !zombie && pid != std::process::id().to_string() {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

/// The binary `cargo xtask` runs (the dev profile), built first: what the benches time.
/// `XTASK_BIN=PATH` times another binary instead (an older build, for a before/after).
#[allow(dead_code)] // the benches' only
pub fn dev_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("XTASK_BIN") {
        return PathBuf::from(bin);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "--package", "xtask"])
        .current_dir(manifest)
        .status()
        .expect("cargo build");
    assert!(status.success(), "cargo build -p xtask failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.parent().unwrap().join("target"));
    target.join("debug/xtask")
}
