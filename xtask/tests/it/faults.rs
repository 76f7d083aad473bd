//! Faults and hostile input (issue 11): registries that stall or break mid-answer, closed pipes,
//! locked indexes, kills during a write, names from the tree that try to inject workflow
//! commands, secrets in snippets, ownership. One regression test per fault, on temporary repos
//! and loopback servers ([`support::FaultServer`]).

use crate::support::update_images::*;
use crate::support::{self, Fault, FaultServer, processes_with};
use std::time::Duration;

/// The iot-stack fixture with its registry set to `registry` (`127.0.0.1:PORT/homelab`).
fn fixture_on(registry: &str) -> (Fixture, String) {
    let f = Fixture::new();
    f.write(
        "Cargo.toml",
        format!("[workspace.metadata.xtask]\nregistry = \"{registry}\"\n"),
    );
    iot_stack(&f);
    let tagged = BASE.replace(GHCR, &format!("{registry}/python-base"));
    let head = f.commit(&[
        (BASE_PATH, &tagged),
        (OVERLAY_PATH, "resources: [../../base]\n"),
    ]);
    (f, head)
}

/// Runs the binary in `f` with `env`.
fn run_env(f: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Run {
    support::xtask(f.root(), args, env, None)
}

/// Every command that reads or writes a registry, against a registry that accepts the
/// connection and never answers: each one exits 2 within the timeout (plus slack), names the
/// registry and the timeout, leaves no child process behind and changes no file.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_registry_that_accepts_and_stalls_times_out_every_network_step() {
    for tool in ["skopeo", "podman"] {
        support::require(tool);
    }
    let server = FaultServer::start(Fault::Stall);
    let registry = format!("{}/homelab", server.host());
    let (f, head) = fixture_on(&registry);
    let mirror = FaultServer::start(Fault::Stall);
    let to = format!("{}/homelab", mirror.host());
    let before = f.snapshot();
    let cases: [&[&str]; 5] = [
        &["update-images", "--verify"],
        &["update-images", "--digest"],
        &["build-base", "--skip-existing", "--engine", "podman"],
        &["push", "--mirror", "--sha", &head, "--to", &to],
        &["sign", "--sha", &head],
    ];
    // sign reads `cosign version` before the registry; cosign cannot be installed here, so a
    // script answers that one question (and fails anything else: it is never reached).
    let bin = support::temp_dir("cosign-version");
    support::install_script(
        bin.path(),
        "cosign",
        "#!/bin/sh\n[ \"$1\" = version ] && { echo 'GitVersion:    v2.5.3' >&2; exit 0; }\nexit 99\n",
    );
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for args in cases {
        let env = [("XTASK_NETWORK_TIMEOUT", "2"), ("PATH", path.as_str())];
        let run = run_env(&f, args, &env);
        let run = run.expect(2);
        assert!(
            run.elapsed < Duration::from_secs(15),
            "{args:?} took {:?}",
            run.elapsed
        );
        run.assert_stderr_has(&format!(
            "no answer from the registry {} within 2 s",
            server.host()
        ));
        run.assert_stderr_has("XTASK_NETWORK_TIMEOUT");
        let left = processes_with(&server.port.to_string());
        assert!(left.is_empty(), "{args:?} left {left:?}");
        assert_eq!(f.snapshot(), before, "{args:?} changed a file");
    }
    // SIGKILL of the run itself, while it waits on the registry: the child goes with it.
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "--root",
            f.root().to_str().unwrap(),
            "update-images",
            "--verify",
        ])
        .env("XTASK_NETWORK_TIMEOUT", "300")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let port = server.port.to_string();
    let started = std::time::Instant::now();
    while processes_with(&port).is_empty() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!processes_with(&port).is_empty(), "skopeo never started");
    run.kill().unwrap();
    run.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let left = processes_with(&port);
    assert!(left.is_empty(), "SIGKILL of xtask left {left:?}");
}

/// A registry that answers 500, or closes the connection in the middle of a body: exit 2 fast,
/// naming the registry, and no file changed.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_registry_answering_500_or_closing_mid_body_is_an_error_not_a_hang() {
    support::require("skopeo");
    for fault in [Fault::Error500, Fault::CloseMidBody] {
        let server = FaultServer::start(fault);
        let (f, _) = fixture_on(&format!("{}/homelab", server.host()));
        let before = f.snapshot();
        let run = run_env(&f, &["update-images", "--verify"], &[]).expect(2);
        assert!(
            run.elapsed < Duration::from_secs(30),
            "{fault:?}: {:?}",
            run.elapsed
        );
        run.assert_stderr_has_all(&[&server.host(), "no file was changed"]);
        assert_eq!(f.snapshot(), before);
    }
}

/// Runs the binary with `--root` and its stdout (or stderr) on a pipe whose reading end is
/// already closed; returns the exit status and what it wrote on the other stream.
fn with_closed_pipe(
    f: &Fixture,
    args: &[&str],
    close_stderr: bool,
) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root").arg(f.root()).args(args);
    cmd.env_remove("GITHUB_ACTIONS").env_remove("NO_COLOR");
    let other = if close_stderr {
        cmd.stderr(writer).stdout(std::process::Stdio::piped())
    } else {
        cmd.stdout(writer).stderr(std::process::Stdio::piped())
    };
    let out = other.output().unwrap();
    let text = if close_stderr { out.stdout } else { out.stderr };
    (out.status, String::from_utf8_lossy(&text).into_owned())
}

/// `| head` closes the pipe: every printing path ends quietly (no panic, no error message),
/// the way git does: by SIGPIPE, or exit 0.
#[test]
fn closed_pipe_ends_every_printing_path_quietly_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let f = Fixture::new();
    iot_stack(&f);
    f.write(
        "k8s-apps/iot-stack/base/bad.yaml",
        "kind: Pod\nspec:\n  hostNetwork: true\n",
    );
    let cases: [(&[&str], bool); 7] = [
        (&["lint-manifests", "--format", "sarif"], false),
        (&["lint-manifests", "--format", "json"], false),
        (&["lint-manifests", "--format", "github"], false),
        (&["lint-manifests"], true),
        (&["update-images", "--dry-run"], false),
        (&["update-images", "--check"], false),
        (&["update-images", "--dry-run"], true),
    ];
    for (args, close_stderr) in cases {
        let (status, other) = with_closed_pipe(&f, args, close_stderr);
        let quiet = status.signal() == Some(libc_sigpipe()) || status.code() == Some(0);
        assert!(
            quiet && !other.contains("panicked") && !other.contains("Broken pipe"),
            "{args:?} (closed {}): {status:?}\n{other}",
            if close_stderr { "stderr" } else { "stdout" }
        );
    }
}

/// SIGPIPE's number on Linux.
fn libc_sigpipe() -> i32 {
    13
}

/// Temporary files (`.NAME.PID.N.tmp`) and journals anywhere under `root` (not `.git`).
fn leftovers(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                if name != ".git" {
                    dirs.push(path);
                }
            } else if name.ends_with(".tmp") || path.parent().unwrap().ends_with("xtask/writing") {
                found.push(path);
            }
        }
    }
    found
}

/// A small linear congruential generator: the kill test's moments, reproducible from the seed.
struct Moments(u64);

impl Moments {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

/// SIGKILL and SIGTERM at random moments of an update of 2,000 kustomizations, 20 rounds:
/// every file is intact, in its old or its new state; after SIGTERM the whole batch is old or
/// new (it rolls back), and nothing is left; after the next run no temp file remains anywhere.
#[test]
fn kill_and_term_at_random_moments_leave_every_file_old_or_new_and_no_temp_file() {
    const FILES: usize = 2_000;
    const ROUNDS: usize = 20;
    let f = Fixture::new();
    let kustomization = |tag: &str| format!("images:\n- name: {GHCR}\n  newTag: {tag}\n");
    let paths: Vec<String> = (0..FILES)
        .map(|i| format!("k8s-apps/app-{i:04}/kustomization.yaml"))
        .collect();
    for path in &paths {
        f.write(path, kustomization("sha-0000000"));
    }
    f.write("k8s-apps/base-images/Dockerfile", "FROM scratch\n");
    let first = f.commit(&[]);
    let second = f.commit(&[("README.md", "x\n")]);
    let shas = [first.clone(), second.clone()];
    let valid: Vec<String> = ["sha-0000000".to_string(), tag(&first), tag(&second)]
        .iter()
        .map(|t| kustomization(t))
        .collect();
    let read_all = || -> Vec<String> { paths.iter().map(|p| f.read(p)).collect() };

    // One uninterrupted run measures how long an update takes here.
    let started = std::time::Instant::now();
    f.run(&["update-images", &first]).expect(0);
    let full = started.elapsed().as_micros() as u64;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}, an uninterrupted update takes {full} us");
    let mut moments = Moments(seed);
    for round in 0..ROUNDS {
        let before = read_all();
        // The tag the first file is not on, so that every round has work to do.
        let sha = shas
            .iter()
            .find(|sha| before[0] != kustomization(&tag(sha)))
            .unwrap();
        let signal = if round % 2 == 0 {
            libc::SIGKILL
        } else {
            libc::SIGTERM
        };
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["--root", f.root().to_str().unwrap(), "update-images", sha])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // From a third of an uninterrupted run (planning is done by then) to just past its end.
        let wait = full / 3 + moments.next(full * 8 / 10);
        std::thread::sleep(Duration::from_micros(wait));
        // SAFETY: kill(2) of the child this test started and has not reaped.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let after = read_all();
        let changed = after.iter().zip(&before).filter(|(a, b)| a != b).count();
        let rolled_back = stderr.contains("every file is back to its old content");
        eprintln!(
            "round {round}: signal {signal} after {wait} us: {changed} file(s) changed, \
             rolled back: {rolled_back}, {:?}",
            out.status
        );
        for (path, text) in paths.iter().zip(&after) {
            assert!(
                valid.contains(text),
                "round {round} (seed {seed}): {path} is neither old nor new:\n{text}"
            );
        }
        if signal == libc::SIGTERM {
            let new = kustomization(&tag(sha));
            let all_old = after == before;
            let all_new = after.iter().all(|t| *t == new);
            assert!(
                all_old || all_new,
                "round {round} (seed {seed}): SIGTERM after {wait} us left a half-done batch\n{stderr}"
            );
            let left = leftovers(f.root());
            assert!(left.is_empty(), "round {round}: SIGTERM left {left:?}");
        }
    }
    f.run(&["update-images", &first]).expect(0);
    let left = leftovers(f.root());
    assert!(
        left.is_empty(),
        "after the next run (seed {seed}): {left:?}"
    );
    assert!(read_all().iter().all(|t| *t == valid[1]));
}

/// Run as root, a rewritten kustomization keeps its owner and group (not root's), and its mode.
#[test]
fn rewritten_file_keeps_its_owner_and_group_when_run_as_root() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root can give a file to another owner");
        return;
    }
    let f = Fixture::new();
    iot_stack(&f);
    let path = f.root().join(BASE_PATH);
    std::os::unix::fs::chown(&path, Some(1234), Some(5678)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    f.run(&["update-images"]).expect(0);
    let meta = std::fs::metadata(&path).unwrap();
    assert_ne!(f.read(BASE_PATH), BASE, "the file was rewritten");
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (1234, 5678, 0o640)
    );
}

/// `.git/index.lock` present: `--commit` refuses before writing anything (exit 2, naming the
/// lock); HEAD, the index and every file are as they were. Today the commit was made, HEAD
/// moved, the run exited 2 and the index kept the old content.
#[test]
fn commit_with_index_lock_present_makes_no_commit_and_writes_nothing() {
    let f = Fixture::new();
    iot_stack(&f);
    let head = f.head();
    let index = std::fs::read(f.root().join(".git/index")).unwrap();
    std::fs::write(f.root().join(".git/index.lock"), "").unwrap();
    let before = f.snapshot();
    let run = f.run(&["update-images", "--commit"]).expect(2);
    run.assert_stderr_has_all(&["index.lock", "another git command", "no file was changed"]);
    assert_eq!(f.head(), head);
    assert_eq!(f.snapshot(), before);
    assert_eq!(std::fs::read(f.root().join(".git/index")).unwrap(), index);
    std::fs::remove_file(f.root().join(".git/index.lock")).unwrap();
    f.run(&["update-images", "--commit"]).expect(0);
    assert_ne!(f.head(), head);
    let status = f.git.statuses(None).unwrap();
    assert!(status.is_empty(), "the index matches the new commit");
}

/// Lines GitHub Actions would run as workflow commands: `::` at the start after blanks, or
/// the legacy `##[` anywhere.
fn command_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.trim_start().starts_with("::") || l.contains("##["))
        .collect()
}

/// Folders named to inject workflow commands (`x\n::error::…`, `::warning::…`, `##[error]…`)
/// hold stale kustomizations and manifests: `update-images --check` (which CI runs on pull
/// requests) and every lint format print them escaped, never as a command line.
#[test]
fn folder_names_from_the_tree_cannot_inject_workflow_commands() {
    let f = Fixture::new();
    iot_stack(&f);
    let evil = [
        "k8s-apps/x\n::error::pwned",
        "k8s-apps/::warning::pwned",
        "k8s-apps/##[error]pwned",
        "k8s-apps/x\r::notice::pwned\u{1b}[2K",
    ];
    for dir in evil {
        f.write(&format!("{dir}/kustomization.yaml"), BASE);
        f.write(&format!("{dir}/cronjob.yaml"), CRONJOB);
        f.write(
            &format!("{dir}/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\\n::error::pwned ##[error]y\"\ndata:\n  note: \"a\\n::error::pwned\"\n",
        );
    }
    f.commit(&[]);
    let check = f.run(&["update-images", "--check"]).expect(1);
    assert!(check.stderr.contains("pwned"), "{}", check.stderr);
    let all = check.all();
    assert!(command_lines(&all).is_empty(), "{:?}", command_lines(&all));
    for format in ["human", "github", "json", "sarif"] {
        let lint = f.run(&["lint-manifests", "--format", format]);
        let all = lint.all();
        assert!(all.contains("pwned"), "{format}: {all}");
        let commands: Vec<&str> = command_lines(&all)
            .into_iter()
            .filter(|l| !(format == "github" && l.starts_with("::error file=k8s-apps/")))
            .filter(|l| !(format == "github" && l.starts_with("::warning file=k8s-apps/")))
            .collect();
        assert!(commands.is_empty(), "{format}: {commands:?}");
    }
}

/// A secret in a ConfigMap, an env literal or a configMapGenerator literal: the human report's
/// snippet shows the line cut at the value, masked; no format prints the value.
#[test]
fn secret_value_never_reaches_the_human_snippet_or_any_format() {
    let f = Fixture::new();
    iot_stack(&f);
    let value = "Zq8vN3xR7tLp2Wm9Kd4Hs6Yb";
    f.write(
        "k8s-apps/iot-stack/base/cm.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  db_password: \"{value}\" # rotate\n"
        ),
    );
    f.write(
        "k8s-apps/iot-stack/base/kustomization.yaml",
        format!("{BASE}configMapGenerator:\n- name: gen\n  literals:\n  - api_token={value}\n")
            .replace("  - cronjob.yaml\n", "  - cronjob.yaml\n  - cm.yaml\n"),
    );
    let cronjob = CRONJOB.replace(
        "              command:",
        &format!("              env:\n                - name: API_KEY\n                  value: {value}\n              command:"),
    );
    f.write("k8s-apps/iot-stack/base/cronjob.yaml", cronjob);
    f.commit(&[]);
    let human = f.run(&["lint-manifests"]);
    assert_eq!(
        human.stderr.matches("error[SEC-SECRET-IN-CONFIG]").count(),
        3,
        "{}",
        human.stderr
    );
    assert!(
        human.stderr.contains("  db_password: ********"),
        "{}",
        human.stderr
    );
    for format in ["human", "json", "github", "sarif"] {
        let run = f.run(&["lint-manifests", "--format", format]);
        assert!(run.all().contains("SEC-SECRET-IN-CONFIG"), "{format}");
        assert!(
            !run.all().contains(value),
            "{format} printed the secret:\n{}",
            run.all()
        );
    }
}

/// The image kustomize renders for the base of `f` (`kubectl kustomize`).
fn rendered_image(f: &Fixture) -> String {
    let dir = f.root().join("k8s-apps/iot-stack/base");
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find_map(|l| l.trim().strip_prefix("image: "))
        .unwrap_or_default()
        .to_string()
}

/// Kustomizations that kustomize reads differently from a first glance: a duplicate key (it
/// takes the last), an images entry through an alias or a merge key, a `newTag` anchor shared
/// with another entry, a second entry whose name is an alias. update-images refuses them
/// (exit 2, nothing written) or updates them so that kustomize renders the new tag; `--check`
/// never calls them up to date. A `newName` in another registry is reported. With
/// `XTASK_E2E=1`, `kubectl kustomize` shows what kustomize renders before and after.
#[test]
fn kustomizations_kustomize_reads_differently_are_refused_or_updated_never_up_to_date() {
    let render = support::e2e_enabled();
    if render {
        support::require("kubectl");
    }
    let head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cronjob.yaml\n";
    // (name, images part with NEW/OLD for the tags, refused?, what kustomize renders before)
    let cases: [(&str, &str, bool, &str); 6] = [
        (
            "duplicate newTag",
            "images:\n- name: ghcr.io/dcasati/python-base\n  newTag: NEW\n  newTag: OLD\n",
            true,
            "OLD",
        ),
        (
            "entry through an alias",
            "commonAnnotations: &img {name: ghcr.io/dcasati/python-base, newTag: OLD}\nimages:\n- *img\n",
            true,
            "OLD",
        ),
        (
            "name through a merge key",
            "images:\n- <<: {name: ghcr.io/dcasati/python-base}\n  newTag: OLD\n",
            true,
            "OLD",
        ),
        (
            "newTag anchor shared",
            "images:\n- name: ghcr.io/dcasati/python-base\n  newTag: &t OLD\n- name: other\n  newTag: *t\n",
            true,
            "OLD",
        ),
        (
            "second entry named by an alias",
            "images:\n- name: &n ghcr.io/dcasati/python-base\n  newTag: NEW\n- name: *n\n  newTag: OLD\n",
            false,
            "OLD",
        ),
        (
            "newName in another registry",
            "images:\n- name: ghcr.io/dcasati/python-base\n  newName: quay.io/else/python-base\n  newTag: OLD\n",
            false,
            "OLD",
        ),
    ];
    for (case, images, refuse, before) in cases {
        let f = Fixture::new();
        let (built, _) = iot_stack(&f);
        let new = tag(&built);
        let text = format!(
            "{head}{}",
            images.replace("NEW", &new).replace("OLD", "sha-0000000")
        );
        f.commit(&[(BASE_PATH, &text)]);
        if render {
            let image = rendered_image(&f);
            let want = before.replace("OLD", "sha-0000000");
            assert!(
                image.ends_with(&format!(":{want}")),
                "{case}: kustomize renders {image}"
            );
        }
        let check = f.run(&["update-images", "--check"]);
        assert_ne!(
            check.code, 0,
            "{case}: --check called it up to date\n{}",
            check.stderr
        );
        let snapshot = f.snapshot();
        let run = f.run(&["update-images"]);
        if refuse {
            let run = run.expect(2);
            run.assert_stderr_has(BASE_PATH);
            assert_eq!(f.snapshot(), snapshot, "{case}: a refused run wrote");
            continue;
        }
        let run = run.expect(0);
        f.run(&["update-images", "--check"]).expect(0);
        if case.starts_with("newName") {
            run.assert_stderr_has("warning: k8s-apps/iot-stack/base/kustomization.yaml:7:12: newName `quay.io/else/python-base` sends ghcr.io/dcasati/python-base to another registry");
        }
        if render {
            let image = rendered_image(&f);
            assert!(
                image.ends_with(&format!(":{new}")),
                "{case}: kustomize renders {image}"
            );
        }
    }
}
