//! `cargo xtask release`: the plan under `--dry-run` (secrets by name only) and bad input
//! without tools; `*_recorded_*` runs that stop at the first failing step (the docker stand-in,
//! with recording `trivy` and the strict `cosign` beside it); and, with `XTASK_E2E=1`, the
//! whole path with podman, two real docker-registry instances, the real trivy (`--scanners
//! secret`: no vulnerability DB can be had here) and the strict cosign 3 stand-in.

use crate::support::build_push::{
    CONTEXT, FakeDocker, Fixture, Outcome, Podman, Registry, registry_pair, xtask,
};
use crate::support::scan_sign::{STAND_IN, StandIn, cosign_stand_in};
use crate::support::{self, require};
use std::path::Path;

const KEY: &str = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nRELEASEKEYMATERIAL42\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const PASSWORD: &str = "release-pw-never-shown";
const TOKEN: &str = "ghp_releasetokenneverinoutput000000000";
const KUSTOMIZATION: &str = "k8s-apps/iot-stack/kustomization.yaml";

/// The smoke row of an e2e release: amd64 runs here, arm64 has no emulator (`XTASK_BINFMT_DIR`
/// is an empty folder).
const SMOKE_OK: &str = "ok (linux/amd64 passed, linux/arm64 NOT RUN)";

fn deployed(name: &str) -> String {
    format!("resources: []\nimages:\n  - name: {name}/python-base\n    newTag: sha-0000000\n")
}

/// The six summary rows, each `(label, result)`, read back from stderr.
fn summary_rows(stderr: &str) -> Vec<(String, String)> {
    let table = stderr
        .split("release summary: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary in:\n{stderr}"));
    table
        .lines()
        .skip(2)
        .take(6)
        .map(|line| {
            let label = [
                "build-base",
                "smoke",
                "trivy-scan",
                "sign",
                "push --mirror",
                "update-images",
            ]
            .into_iter()
            .find(|l| line.starts_with(l))
            .unwrap_or_else(|| panic!("not a summary row: {line}"));
            let rest = line[label.len()..].trim_start();
            let result = rest.split("  ").next().unwrap().to_string();
            (label.to_string(), result)
        })
        .collect()
}

fn results(out: &Outcome) -> Vec<String> {
    summary_rows(&out.stderr)
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

fn head(f: &Fixture) -> String {
    f.head_commit().unwrap().id().to_string()
}

#[test]
fn release_dry_run_prints_the_whole_plan_with_secrets_by_name_only() {
    let f = Fixture::new("release-dry", "", "FROM scratch\n");
    f.write(KUSTOMIZATION, deployed("ghcr.io/dcasati"));
    let id = f.commit("base");
    let no_tools = support::temp_dir("no-tools");
    let root = f.root().to_str().unwrap();
    let args = [
        "--root",
        root,
        "release",
        "--dry-run",
        "--engine",
        "podman",
        "--scanners",
        "secret",
        "--mirror",
        "--to",
        "127.0.0.1:5000/homelab",
        "--commit",
    ];
    let env = [
        ("COSIGN_PRIVATE_KEY", KEY),
        ("COSIGN_PASSWORD", PASSWORD),
        ("GITHUB_TOKEN", TOKEN),
    ];
    let out = xtask(
        f.root(),
        &args,
        &env,
        Some(no_tools.path().to_str().unwrap()),
    )
    .expect(0);
    let sbom = format!("{root}/target/xtask/sbom/python-base.cdx.json");
    let sarif = format!("{root}/target/xtask/sarif/python-base.sarif");
    out.assert_stderr_has_all(&[
        "release of ghcr.io/dcasati/python-base, mirrored to 127.0.0.1:5000/homelab/python-base",
        "1. build-base     cargo xtask build-base --engine podman --image python-base --push --skip-existing\n",
        "2. smoke          cargo xtask smoke --engine podman --image python-base\n",
        &format!("3. trivy-scan     cargo xtask trivy-scan --image --scanners secret --sbom {sbom} --format sarif --output {sarif}\n"),
        &format!("4. sign           cargo xtask sign --image python-base --attest-sbom {sbom}\n"),
        "5. push --mirror  cargo xtask push --mirror --engine podman --image python-base --to 127.0.0.1:5000/homelab\n",
        "6. update-images  cargo xtask update-images --image python-base --commit\n",
        "COSIGN_PRIVATE_KEY set      sign: cosign --key env://COSIGN_PRIVATE_KEY",
        "COSIGN_PASSWORD    set ",
        "GITHUB_TOKEN       set ",
        "REGISTRY_TOKEN     not set ",
    ]);
    for secret in ["RELEASEKEYMATERIAL42", PASSWORD, TOKEN] {
        assert!(
            !out.all().contains(secret),
            "{secret} leaked:\n{}",
            out.all()
        );
    }
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    out.assert_stderr_has_all(&[
        "WARNING: release needs these tools, which are not on PATH",
        "  docker or podman (docker: install Docker",
        "  trivy (trivy: install trivy",
        "  cosign (cosign: install cosign",
    ]);
    // Nothing ran: no tool was on PATH, nothing was written or committed.
    assert!(!f.root().join("target").exists());
    assert_eq!(f.read(KUSTOMIZATION), deployed("ghcr.io/dcasati"));
    assert_eq!(head(&f), id);

    // --skip-sign: the sign line is replaced by a loud warning.
    let out = xtask(
        f.root(),
        &["--root", root, "release", "--dry-run", "--skip-sign"],
        &[],
        None,
    )
    .expect(0);
    out.assert_stderr_has_all(&[
        "4. sign           SKIPPED (--skip-sign): NOT SIGNED",
        "WARNING: --skip-sign: the image is released UNSIGNED",
        "5. push --mirror  skipped (no --mirror)",
    ]);
}

#[test]
fn release_bad_input_exits_2_before_anything_runs() {
    let f = Fixture::new("release-bad", "", "FROM scratch\n");
    f.commit("base");
    let docker = FakeDocker::new();
    for (args, want) in [
        (vec!["release", "--to", "backup"], "--mirror"),
        (
            vec!["release", "--registry", "not a registry"],
            "--registry",
        ),
        (vec!["release", "--mirror", "--to", "Bad Host!"], "--to"),
        (vec!["release", "--scanners", "license"], "license"),
        (
            vec!["release", "--registry", "backup", "--mirror"],
            "--mirror from localhost:32000/homelab to itself",
        ),
    ] {
        let out = docker.run(f.root(), &args, &[]);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("==> [1/6]"), "{}", out.stderr);
    }
    assert!(docker.calls().is_empty(), "{:?}", docker.calls());
}

/// A missing cosign is found before step 1: exit 2 naming it and how to install it, nothing
/// built or pushed; `--dry-run` prints the same warning; `--skip-sign` needs no cosign.
#[test]
fn release_recorded_without_cosign_stops_before_the_build_and_names_it() {
    let f = Fixture::new("release-no-cosign", "", "FROM scratch\n");
    f.write(KUSTOMIZATION, deployed("ghcr.io/dcasati"));
    let id = f.commit("base");
    let docker = FakeDocker::new();
    support::install_script(docker.bin.path(), "trivy", STAND_IN);
    let args = ["release", "--engine", "docker", "--mirror", "--commit"];
    let out = docker.run(f.root(), &args, &[]).expect(2);
    out.assert_stderr_has_all(&[
        "release needs these tools, which are not on PATH (see `cargo xtask doctor --for release`):\n  cosign (cosign: install cosign (https://docs.sigstore.dev/",
        "nothing was built, pushed or changed",
    ]);
    assert!(!out.stderr.contains("==> [1/"), "{}", out.stderr);
    assert!(docker.calls().is_empty(), "{:?}", docker.calls());
    assert!(!f.root().join("target").exists());
    assert_eq!(head(&f), id);

    let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
    let out = docker.run(f.root(), &dry, &[]).expect(0);
    out.assert_stderr_has_all(&[
        "WARNING: release needs these tools, which are not on PATH",
        "  cosign (cosign: install cosign",
        "1. build-base",
    ]);
    let skip: Vec<&str> = dry.iter().copied().chain(["--skip-sign"]).collect();
    let out = docker.run(f.root(), &skip, &[]).expect(0);
    assert!(!out.stderr.contains("not on PATH"), "{}", out.stderr);
}

/// The docker stand-in's bin folder with a recording `trivy` and the strict cosign 3 beside it
/// (recording into `FAKE_RECORD`), and a repo whose kustomization names ghcr.io.
fn stand_ins() -> (Fixture, FakeDocker, StandIn) {
    let f = Fixture::new("release-stop", "", "FROM scratch\n");
    f.write(KUSTOMIZATION, deployed("ghcr.io/dcasati"));
    f.commit("base");
    let docker = FakeDocker::new();
    let tools = StandIn::new(&[]);
    let bin = docker.bin.path();
    support::install_script(bin, "trivy", STAND_IN);
    support::install_script(bin, "cosign", &cosign_stand_in(3));
    (f, docker, tools)
}

/// Neither trivy nor cosign ran, and nothing was written or committed.
fn nothing_after(tools: &StandIn, f: &Fixture, id: &str) {
    assert_eq!(tools.calls(), 0, "trivy or cosign ran");
    assert_eq!(f.read(KUSTOMIZATION), deployed("ghcr.io/dcasati"));
    assert_eq!(head(f), id);
}

fn run_with(docker: &FakeDocker, tools: &StandIn, f: &Fixture, env: &[(&str, &str)]) -> Outcome {
    let args = ["release", "--engine", "docker", "--mirror", "--commit"];
    let mut all = tools.env(&[("COSIGN_PRIVATE_KEY", KEY), ("COSIGN_PASSWORD", PASSWORD)]);
    all.extend_from_slice(env);
    docker.run(f.root(), &args, &all)
}

#[test]
fn release_recorded_failed_build_stops_before_the_scan() {
    let (f, docker, tools) = stand_ins();
    let id = head(&f);
    let env = [
        ("FAKE_DOCKER_FAIL", "build"),
        ("FAKE_DOCKER_INSPECT", "missing"),
    ];
    let out = run_with(&docker, &tools, &f, &env).expect(2);
    assert_eq!(
        results(&out),
        [
            "FAILED (exit 2)",
            "not run",
            "not run",
            "not run",
            "not run",
            "not run"
        ]
    );
    out.assert_stderr_has_all(&[
        "==> [1/6] cargo xtask build-base --engine docker",
        "error: release stopped at build-base: nothing after it ran",
        "building or pushing ghcr.io/dcasati/python-base:sha-",
    ]);
    assert!(!out.stderr.contains("==> [2/6]"), "{}", out.stderr);
    nothing_after(&tools, &f, &id);
}

#[test]
fn release_recorded_failed_smoke_stops_before_scanning_signing_and_deploying() {
    let (f, docker, tools) = stand_ins();
    let id = head(&f);
    let digest = format!("sha256:{}", "f".repeat(64));
    // The tag is not there (build), then holds the pushed digest (smoke's record check and
    // platform read); the image's interpreter cannot import a module.
    let inspect = format!("missing {digest} {digest}");
    let env = [
        ("FAKE_DOCKER_DIGEST", digest.as_str()),
        ("FAKE_DOCKER_INSPECT", inspect.as_str()),
        (
            "FAKE_DOCKER_RUN_OUTPUT",
            "ModuleNotFoundError: No module named 'dateutil'",
        ),
        ("FAKE_DOCKER_RUN_EXIT", "1"),
    ];
    let out = run_with(&docker, &tools, &f, &env).expect(1);
    assert_eq!(
        results(&out),
        [
            "ok",
            "FOUND (exit 1) (linux/amd64 FAILED)",
            "not run",
            "not run",
            "not run",
            "not run"
        ]
    );
    out.assert_stderr_has_all(&[
        "==> [2/6] cargo xtask smoke --engine docker --image python-base",
        "smoke command FAILED on linux/amd64 with exit code 1",
        "| ModuleNotFoundError: No module named 'dateutil'",
        "STOPPED at smoke",
    ]);
    assert!(!out.stderr.contains("==> [3/6]"), "{}", out.stderr);
    // docker ran the pushed digest, hardened, with the default python command as the
    // container's command (it replaces the entrypoint, as a CronJob's `command:` does).
    let run = docker
        .calls()
        .into_iter()
        .find(|c| c.argv[0] == "run")
        .expect("docker run");
    assert_eq!(
        run.argv[..12],
        [
            "run",
            "--rm",
            "--platform",
            "linux/amd64",
            "--user",
            "65534:65534",
            "--read-only",
            "--network",
            "none",
            "--entrypoint",
            "python",
            &format!("ghcr.io/dcasati/python-base@{digest}"),
        ]
    );
    assert_eq!(run.argv[12], "-c");
    nothing_after(&tools, &f, &id);
}

#[test]
fn release_recorded_failed_scan_stops_before_signing_mirroring_and_deploying() {
    let (f, docker, tools) = stand_ins();
    let id = head(&f);
    let digest = format!("sha256:{}", "e".repeat(64));
    // The tag is not there (build), then holds the pushed digest (smoke's and the scan's
    // record checks, each followed by a platform read); the smoke passes; trivy fails.
    let inspect = format!("missing {digest} {digest} {digest} {digest}");
    let env = [
        ("FAKE_DOCKER_DIGEST", digest.as_str()),
        ("FAKE_DOCKER_INSPECT", inspect.as_str()),
        (
            "FAKE_FAIL",
            "FATAL: scan error: unable to initialize the scanner",
        ),
    ];
    let out = run_with(&docker, &tools, &f, &env).expect(2);
    assert_eq!(
        results(&out),
        [
            "ok",
            "ok (linux/amd64 passed)",
            "FAILED (exit 2)",
            "not run",
            "not run",
            "not run"
        ]
    );
    out.assert_stderr_has_all(&[
        &format!("ghcr.io/dcasati/python-base:sha-{}@{digest}", &id[..7]),
        "error: release stopped at trivy-scan: nothing after it ran",
        "unable to initialize the scanner",
    ]);
    assert!(!out.stderr.contains("==> [4/6]"), "{}", out.stderr);
    // trivy ran once; cosign never did (not even `cosign version`).
    assert_eq!(tools.calls(), 1);
    assert_eq!(tools.argv(1)[0], "image");
    assert_eq!(tools.version_calls(), 0);
    assert_eq!(f.read(KUSTOMIZATION), deployed("ghcr.io/dcasati"));
    assert_eq!(head(&f), id);
    assert!(!out.all().contains("RELEASEKEYMATERIAL42") && !out.all().contains(PASSWORD));
}

/// What an e2e release needs: two registries, podman storage, the repo, and the strict cosign 3
/// stand-in (recording) in front of the real tools on PATH.
struct E2e {
    /// An empty binfmt_misc folder: no emulator, so linux/arm64 is NOT RUN on any machine.
    binfmt: tempfile::TempDir,
    primary: Registry,
    backup: Registry,
    podman: Podman,
    f: Fixture,
    cosign: StandIn,
    cache: tempfile::TempDir,
}

impl E2e {
    fn new(name: &str, files: &[(&str, String)]) -> E2e {
        E2e::with_smoke(name, files, r#"["/bin/busybox", "true"]"#)
    }

    /// The image holds busybox, with `smoke` (a TOML array) as its smoke command and
    /// `busybox true` as its CMD.
    fn with_smoke(name: &str, files: &[(&str, String)], smoke: &str) -> E2e {
        for program in [
            "podman",
            "buildah",
            "skopeo",
            "docker-registry",
            "trivy",
            "busybox",
        ] {
            require(program);
        }
        let (primary, backup, settings) = registry_pair(name);
        let settings = format!(
            "{settings}[[workspace.metadata.xtask.images]]\nname = \"python-base\"\n\
             context = \"{CONTEXT}\"\nsmoke = {smoke}\n"
        );
        let dockerfile: String = ["FROM scratch\nCOPY busybox /bin/busybox\n".to_string()]
            .into_iter()
            .chain(
                files
                    .iter()
                    .map(|(to, _)| format!("COPY {to} /etc/app/{to}\n")),
            )
            .chain(["USER 65532\nCMD [\"/bin/busybox\", \"true\"]\n".to_string()])
            .collect();
        let f = Fixture::new(name, &settings, &dockerfile);
        f.copy_in(
            &which::which("busybox").unwrap(),
            &format!("{CONTEXT}/busybox"),
        );
        for (to, text) in files {
            f.write(&format!("{CONTEXT}/{to}"), text);
        }
        f.write(
            KUSTOMIZATION,
            deployed(&format!("{}/homelab", primary.addr())),
        );
        f.commit("base image");
        let cosign = StandIn::new(&[]);
        support::install_script(cosign.bin.path(), "cosign", &cosign_stand_in(3));
        E2e {
            binfmt: support::temp_dir("binfmt"),
            primary,
            backup,
            podman: Podman::new(),
            f,
            cosign,
            cache: support::temp_dir("trivy-cache"),
        }
    }

    /// `release --engine podman --scanners secret --mirror --commit` and `extra`.
    fn release(&self, extra: &[&str]) -> Outcome {
        let path = format!(
            "{}:{}",
            self.cosign.bin.path().display(),
            std::env::var("PATH").unwrap()
        );
        let podman = self.podman.env();
        let mut env: Vec<(&str, &str)> = podman.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend(self.cosign.env(&[
            ("COSIGN_PRIVATE_KEY", KEY),
            ("COSIGN_PASSWORD", PASSWORD),
            ("TRIVY_CACHE_DIR", self.cache.path().to_str().unwrap()),
            ("XTASK_BINFMT_DIR", self.binfmt.path().to_str().unwrap()),
        ]));
        let mut args = vec![
            "release",
            "--engine",
            "podman",
            "--scanners",
            "secret",
            "--mirror",
            "--commit",
        ];
        args.extend_from_slice(extra);
        xtask(self.f.root(), &args, &env, Some(&path))
    }

    fn name(&self, registry: &Registry) -> String {
        format!("{}/homelab/python-base", registry.addr())
    }

    fn kustomization(&self) -> String {
        self.f.read(KUSTOMIZATION)
    }
}

/// The digest of `reference` in its registry, or `None` when the tag is not there.
fn registry_digest(reference: &str) -> Option<String> {
    let image = format!("docker://{reference}");
    let out = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            &image,
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_release_lands_in_both_registries_signed_attested_deployed_and_committed() {
    let t = E2e::new(
        "release-clean",
        &[("app.conf", "region = eu-west-1\n".into())],
    );
    let built = head(&t.f);
    let tag = format!("sha-{}", &built[..7]);
    let out = t.release(&[]).expect(0);
    eprintln!("release took {:?}", out.elapsed);
    assert_eq!(results(&out), ["ok", SMOKE_OK, "ok", "ok", "ok", "ok"]);

    // One digest: the record's, in both registries, on every row of the summary.
    let digest = t.f.record().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let primary = format!("{}:{tag}", t.name(&t.primary));
    let backup = format!("{}:{tag}", t.name(&t.backup));
    assert_eq!(registry_digest(&primary).as_deref(), Some(digest.as_str()));
    assert_eq!(registry_digest(&backup).as_deref(), Some(digest.as_str()));
    let table = out.stderr.split("release summary: ").nth(1).unwrap();
    for (label, _) in summary_rows(&out.stderr) {
        let row = table.lines().find(|l| l.starts_with(&label)).unwrap();
        assert!(row.ends_with(&digest), "{row}");
    }
    out.assert_stderr_has(&format!("released: {primary}@{digest}"));
    assert!(
        out.stdout.contains(&format!("{backup}@{digest}")),
        "{}",
        out.stdout
    );

    // Signed, then the SBOM attested, by digest, with the key only in cosign's environment.
    let by_digest = format!("{}@{digest}", t.name(&t.primary));
    let sbom = t.f.root().join("target/xtask/sbom/python-base.cdx.json");
    let no_tlog = [
        "--use-signing-config=false",
        "--tlog-upload=false",
        "--allow-insecure-registry",
        by_digest.as_str(),
    ];
    let key = ["--yes", "--key", "env://COSIGN_PRIVATE_KEY"];
    let sbom_arg = sbom.to_str().unwrap();
    let attest = ["--type", "cyclonedx", "--predicate", sbom_arg];
    assert_eq!(t.cosign.calls(), 2);
    assert_eq!(t.cosign.argv(1), [&["sign"][..], &key, &no_tlog].concat());
    assert_eq!(
        t.cosign.argv(2),
        [&["attest"][..], &key, &attest, &no_tlog].concat()
    );
    for call in [1, 2] {
        assert_eq!(
            t.cosign.env_of(call, "COSIGN_PRIVATE_KEY").as_deref(),
            Some(KEY)
        );
        assert_eq!(
            t.cosign.env_of(call, "COSIGN_PASSWORD").as_deref(),
            Some(PASSWORD)
        );
    }
    assert!(!out.all().contains("RELEASEKEYMATERIAL42") && !out.all().contains(PASSWORD));
    // The attested SBOM describes the index digest; the SARIF (for code scanning) is clean.
    let component = &read_json(&sbom)["metadata"]["component"]["name"];
    assert!(
        component.as_str().unwrap().ends_with(&digest),
        "{component}"
    );
    let sarif = read_json(&t.f.root().join("target/xtask/sarif/python-base.sarif"));
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));

    // Deployed: the kustomization is on the tag, in one commit that changes only it.
    let primary_name = format!("{}/homelab", t.primary.addr());
    assert_eq!(
        t.kustomization(),
        deployed(&primary_name).replace("sha-0000000", &tag)
    );
    let commit = t.f.head_commit().unwrap();
    assert_eq!(
        String::from_utf8_lossy(commit.message_bytes()).trim_end(),
        format!("Update images to {tag}")
    );
    assert_eq!(commit.parent_id(0).unwrap().to_string(), built);
    let diff =
        t.f.git
            .diff_tree_to_tree(
                Some(&commit.parent(0).unwrap().tree().unwrap()),
                Some(&commit.tree().unwrap()),
                None,
            )
            .unwrap();
    let changed: Vec<_> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().display().to_string())
        .collect();
    assert_eq!(changed, [KUSTOMIZATION]);

    // Again: the tag exists, so the build is skipped and the same digest is released.
    let again = t.release(&[]).expect(0);
    again.assert_stderr_has(&format!("skipped: {primary} is already in the registry"));
    assert!(!again.stderr.contains("podman build"), "{}", again.stderr);
    again.assert_stderr_has(&format!("released: {primary}@{digest}"));

    // --skip-sign: cosign is not run, and the run says so loudly, before and after.
    let unsigned = t.release(&["--skip-sign"]).expect(0);
    assert_eq!(
        results(&unsigned),
        [
            "ok",
            SMOKE_OK,
            "ok",
            "SKIPPED (--skip-sign): NOT SIGNED",
            "ok",
            "ok"
        ]
    );
    assert_eq!(
        t.cosign.calls(),
        4,
        "the second run signed, the --skip-sign run did not"
    );
    unsigned.assert_stderr_has_all(&[
        "WARNING: --skip-sign: the image is released UNSIGNED",
        &format!("WARNING: released {primary}@{digest} UNSIGNED"),
    ]);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_release_of_an_image_with_a_planted_secret_exits_1_and_signs_writes_and_commits_nothing() {
    // Made at run time, so no key-shaped literal sits in the source.
    let key_id = format!("AKIA{}", "7QH2M4XK9B3C5D1F");
    let creds = format!("[default]\naws_access_key_id = {key_id}\n");
    let t = E2e::new("release-secret", &[("credentials", creds)]);
    let built = head(&t.f);
    let tag = format!("sha-{}", &built[..7]);
    let out = t.release(&[]).expect(1);
    assert_eq!(
        results(&out),
        [
            "ok",
            SMOKE_OK,
            "FOUND (exit 1)",
            "not run",
            "not run",
            "not run"
        ]
    );
    assert!(
        !out.all().contains(&key_id),
        "the key leaked:\n{}",
        out.all()
    );
    out.assert_stderr_has_all(&[
        "aws-access-key-id /etc/app/credentials:2",
        "STOPPED at trivy-scan",
        "it was not signed, mirrored or deployed",
    ]);
    assert!(!out.stderr.contains("==> [4/6]"), "{}", out.stderr);
    // Pushed to the primary, but never signed (cosign not even asked its version), mirrored,
    // written or committed.
    let digest = t.f.record().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let primary = format!("{}:{tag}", t.name(&t.primary));
    assert_eq!(registry_digest(&primary).as_deref(), Some(digest.as_str()));
    assert_eq!(
        registry_digest(&format!("{}:{tag}", t.name(&t.backup))),
        None
    );
    assert_eq!((t.cosign.calls(), t.cosign.version_calls()), (0, 0));
    let primary_name = format!("{}/homelab", t.primary.addr());
    assert_eq!(t.kustomization(), deployed(&primary_name));
    assert_eq!(head(&t.f), built);
    // The finding is in the SARIF for code scanning, by rule and path, never by value.
    let sarif_path = t.f.root().join("target/xtask/sarif/python-base.sarif");
    let text = std::fs::read_to_string(&sarif_path).unwrap();
    assert!(!text.contains(&key_id), "the key is in the SARIF");
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "aws-access-key-id"
    );

    // --skip-sign removes the signature, not the gate: the scan still stops the run.
    let out = t.release(&["--skip-sign"]).expect(1);
    assert_eq!(
        results(&out),
        [
            "ok",
            SMOKE_OK,
            "FOUND (exit 1)",
            "not run",
            "not run",
            "not run"
        ]
    );
    assert_eq!(
        registry_digest(&format!("{}:{tag}", t.name(&t.backup))),
        None
    );
    assert_eq!(t.kustomization(), deployed(&primary_name));
    assert_eq!(head(&t.f), built);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_release_with_a_failing_smoke_exits_1_and_scans_signs_mirrors_and_deploys_nothing() {
    let t = E2e::with_smoke(
        "release-smoke",
        &[],
        r#"["/bin/busybox", "sh", "-c", "echo 'ImportError: wheel for arm64 missing' >&2; exit 3"]"#,
    );
    let built = head(&t.f);
    let tag = format!("sha-{}", &built[..7]);
    let out = t.release(&[]).expect(1);
    assert_eq!(
        results(&out),
        [
            "ok",
            "FOUND (exit 1) (linux/amd64 FAILED, linux/arm64 NOT RUN)",
            "not run",
            "not run",
            "not run",
            "not run"
        ]
    );
    out.assert_stderr_has_all(&[
        "==> [2/6] cargo xtask smoke --engine podman --image python-base",
        "smoke command FAILED on linux/amd64 with exit code 3",
        "ImportError: wheel for arm64 missing",
        "STOPPED at smoke",
        "it was not scanned, signed, mirrored or deployed",
    ]);
    assert!(!out.stderr.contains("==> [3/6]"), "{}", out.stderr);
    // Pushed to the primary (that is what smoke tests), but never scanned (no SARIF), signed
    // (cosign not even asked its version), mirrored, written or committed.
    let primary = format!("{}:{tag}", t.name(&t.primary));
    assert!(registry_digest(&primary).is_some());
    assert_eq!(
        registry_digest(&format!("{}:{tag}", t.name(&t.backup))),
        None
    );
    assert_eq!((t.cosign.calls(), t.cosign.version_calls()), (0, 0));
    assert!(
        !t.f.root()
            .join("target/xtask/sarif/python-base.sarif")
            .exists()
    );
    assert_eq!(
        t.kustomization(),
        deployed(&format!("{}/homelab", t.primary.addr()))
    );
    assert_eq!(head(&t.f), built);
}
