//! `cargo xtask build-base` and `push` against temporary git repos: bad input (no tools needed),
//! and docker through a recording stand-in (`*_recorded_*`: docker buildx cannot be installed
//! on these machines, so these tests check the argv, env and stdin it would get).

use crate::support::build_push::*;

const DOCKERFILE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nUSER 65532\n";

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn fixture(name: &str) -> (Fixture, String) {
    let f = Fixture::new(name, "", DOCKERFILE);
    let id = f.commit("base image");
    (f, id)
}

/// Runs `cargo xtask ARGS` in the fixture with an empty PATH: no docker, podman or skopeo
/// can be found.
fn no_engine(f: &Fixture, args: &[&str]) -> Outcome {
    let empty = temp_dir("empty-path");
    xtask(f.root(), args, &[], Some(empty.path().to_str().unwrap()))
}

#[test]
fn bad_platform_unknown_image_unknown_sha_exit_2() {
    let (f, _) = fixture("bad-input");
    for (args, want) in [
        (
            &["build-base", "--platform", "linux/amd64,linux"][..],
            "--platform: platform `linux`: expected os/arch[/variant]",
        ),
        (
            &["build-base", "--image", "nope"][..],
            "unknown image `nope`; configured images: python-base",
        ),
        (
            &["build-base", "--sha", "1234567"][..],
            "`1234567` names no commit",
        ),
        (&["build-base", "--sha", "xyz"][..], "not a commit id"),
        (
            &["build-base", "--cache", "s3"][..],
            "--cache: `s3` is not a cache",
        ),
        (
            &[
                "build-base",
                "--load",
                "--platform",
                "linux/amd64,linux/arm64",
            ][..],
            "--load needs exactly one platform",
        ),
        (&["push", "--image", "nope"][..], "unknown image `nope`"),
        (&["push"][..], "no build record for python-base"),
        (
            &["push", "--sha", "7654321"][..],
            "`7654321` names no commit",
        ),
    ] {
        let out = no_engine(&f, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    // A platform from XTASK_PLATFORMS is named as such, never as a flag that was not passed.
    let empty = temp_dir("empty-path");
    let out = xtask(
        f.root(),
        &["build-base"],
        &[("XTASK_PLATFORMS", "amd64")],
        Some(empty.path().to_str().unwrap()),
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has(
        "the configured platforms (XTASK_PLATFORMS, else platforms in \
         [workspace.metadata.xtask]): platform `amd64`: expected os/arch",
    );
    assert!(!out.stderr.contains("--platform"), "{}", out.stderr);
    assert!(f.record().is_none());
}

#[test]
fn dirty_context_is_refused_and_a_dirty_tag_is_never_pushed() {
    let (f, id) = fixture("dirty");
    f.write(&format!("{CONTEXT}/Dockerfile"), "FROM scratch\nUSER 1\n");
    let out = no_engine(&f, &["build-base"]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        "k8s-apps/base-images has uncommitted changes",
        "k8s-apps/base-images/Dockerfile",
        "--allow-dirty",
    ]);
    let out = no_engine(&f, &["build-base", "--allow-dirty", "--push"]);
    assert_eq!(out.code, 2, "{out:?}");
    let tag = format!("sha-{}-dirty", &id[..7]);
    out.assert_stderr_has(&format!("refusing to push {tag}"));
    // A change outside the context does not make the build dirty: it gets as far as the engine.
    f.write(&format!("{CONTEXT}/Dockerfile"), DOCKERFILE);
    f.write("README.md", "work in progress\n");
    let out = no_engine(&f, &["build-base"]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("docker or podman not found on PATH");
}

#[test]
fn missing_engine_names_both_with_install_hints() {
    let (f, _) = fixture("no-engine");
    let out = no_engine(&f, &["build-base", "--push"]);
    assert_eq!(out.code, 2, "{out:?}");
    for want in [
        "docker or podman not found on PATH",
        "docker buildx create --use",
        "apt-get install podman",
    ] {
        assert!(out.stderr.contains(want), "{want}: {}", out.stderr);
    }
    let out = no_engine(&f, &["build-base", "--engine", "podman"]);
    assert_eq!(out.code, 2);
    out.assert_stderr_has("podman not found on PATH");
    assert!(f.record().is_none());
}

#[test]
fn if_changed_skips_without_an_engine_when_the_context_did_not_change() {
    let (f, _) = fixture("if-changed");
    f.write("README.md", "docs only\n");
    let second = f.commit("docs");
    let out = no_engine(&f, &["build-base", "--if-changed", "--push"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has_all(&[
        "skipped: k8s-apps/base-images did not change between",
        "the parent commit",
        &second[..7],
    ]);
    assert!(out.stdout.is_empty());
    // An explicit BASE: the docs commit compared with itself.
    let out = no_engine(&f, &["build-base", "--if-changed", &second]);
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has("skipped");
    // A commit that touches the context builds: here it reaches the (missing) engine.
    f.write(&format!("{CONTEXT}/extra.txt"), "x\n");
    f.commit("context");
    let out = no_engine(&f, &["build-base", "--if-changed"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("changed between") && out.stderr.contains("building"));
    out.assert_stderr_has("docker or podman not found");
    let out = no_engine(&f, &["build-base", "--if-changed", "nope"]);
    assert_eq!(out.code, 2);
    out.assert_stderr_has("`nope` names no commit");
}

fn run_fake(f: &Fixture, fake: &FakeDocker, args: &[&str], extra: &[(&str, &str)]) -> Outcome {
    fake.run(f.root(), args, extra)
}

/// [`run_fake`], which must succeed.
#[track_caller]
fn run_fake_ok(f: &Fixture, fake: &FakeDocker, args: &[&str], extra: &[(&str, &str)]) -> Outcome {
    let out = run_fake(f, fake, args, extra);
    assert_eq!(out.code, 0, "{out:?}");
    out
}

/// Runs with the stand-in answering digest `d`; the run must succeed.
#[track_caller]
fn build_ok(f: &Fixture, fake: &FakeDocker, args: &[&str], d: &str) -> Outcome {
    run_fake_ok(f, fake, args, &[("FAKE_DOCKER_DIGEST", d)])
}

/// The stand-in's calls, after asserting its `login` went to `host` as `user` with the token on
/// stdin only: never in any call's argv, nor in what xtask printed.
#[track_caller]
fn assert_logged_in(
    fake: &FakeDocker,
    out: &Outcome,
    host: &str,
    user: &str,
    token: &str,
) -> Vec<Call> {
    let calls = fake.calls();
    let login = calls.iter().find(|c| c.argv[0] == "login").unwrap();
    assert_eq!(login.argv, ["login", host, "-u", user, "--password-stdin"]);
    assert_eq!(login.stdin.as_deref(), Some(token));
    for call in &calls {
        assert!(!call.argv.iter().any(|a| a.contains(token)), "{call:?}");
    }
    assert!(!out.stderr.contains(token) && !out.stdout.contains(token));
    calls
}

#[test]
fn build_base_recorded_docker_push_argv_env_and_metadata_digest() {
    let (f, id) = fixture("docker-push");
    f.set_origin("git@github.com:dcasati/homelab.git");
    let fake = FakeDocker::new();
    let d = digest('a');
    let out = build_ok(&f, &fake, &["build-base", "--push"], &d);
    let tag = format!("sha-{}", &id[..7]);
    let reference = format!("ghcr.io/dcasati/python-base:{tag}");
    assert_eq!(out.stdout, format!("{reference}@{d}\n"));

    let calls = fake.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].argv, ["buildx", "version"]);
    let root = f.root().display().to_string();
    let want: Vec<String> = [
        "buildx",
        "build",
        "--file",
        &format!("{root}/{CONTEXT}/Dockerfile"),
        "--platform",
        "linux/amd64,linux/arm64",
        "--tag",
        &reference,
        "--label",
        &format!("org.opencontainers.image.revision={id}"),
        "--label",
        "org.opencontainers.image.source=https://github.com/dcasati/homelab",
        "--label",
        "org.opencontainers.image.created=2023-11-14T22:13:20Z",
        "--label",
        "org.opencontainers.image.title=python-base",
        "--label",
        &format!("org.opencontainers.image.version={tag}"),
        "--push",
        "--metadata-file",
        &format!("{root}/target/xtask/build/python-base.docker"),
        &format!("{root}/{CONTEXT}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(calls[1].argv, want);
    assert_eq!(calls[1].env["SOURCE_DATE_EPOCH"], FIRST_TIME.to_string());
    assert_eq!(calls[1].stdin, None);

    let record = f.record().unwrap();
    assert_eq!(record["tag"], tag);
    assert_eq!(record["digest"], d);
    assert_eq!(record["commit"], id);
    assert_eq!(record["registry"], "ghcr.io/dcasati");
    assert_eq!(record["pushed"], true);
    assert_eq!(record["engine"], "docker");
    assert_eq!(
        record["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
}

#[test]
fn build_base_recorded_login_token_reaches_stdin_only() {
    let (f, id) = fixture("docker-login");
    let fake = FakeDocker::new();
    let token = "ghp_Sup3rS3cretT0ken";
    let d = digest('b');
    let out = run_fake_ok(
        &f,
        &fake,
        &["build-base", "--push", "--login", "--engine", "docker"],
        &[
            ("FAKE_DOCKER_DIGEST", &d),
            ("GITHUB_TOKEN", token),
            ("GITHUB_ACTOR", "ci-bot"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "dcasati/homelab"),
        ],
    );
    let calls = assert_logged_in(&fake, &out, "ghcr.io", "ci-bot", token);
    out.assert_stderr_has("<<< \"$GITHUB_TOKEN\"");
    let build = calls.iter().find(|c| c.argv[1] == "build").unwrap();
    let has = |want: &[&str]| build.argv.windows(want.len()).any(|w| w == want);
    assert!(has(&[
        "--cache-from",
        "type=gha,scope=python-base",
        "--cache-to",
        "type=gha,mode=max,scope=python-base"
    ]));
    assert!(has(&[
        "--label",
        "org.opencontainers.image.source=https://github.com/dcasati/homelab"
    ]));
    assert!(has(&[
        "--label",
        &format!("org.opencontainers.image.revision={id}")
    ]));

    // Without a token, --login fails before anything runs, naming the variable.
    let fake = FakeDocker::new();
    let out = run_fake(
        &f,
        &fake,
        &["build-base", "--push", "--login"],
        &[("GITHUB_ACTOR", "x")],
    );
    assert_eq!(out.code, 2);
    out.assert_stderr_has("needs the token in GITHUB_TOKEN");
    assert!(fake.calls().iter().all(|c| c.argv[1] != "build"));
}

#[test]
fn build_base_recorded_failing_build_exits_2_writes_no_record_pushes_nothing() {
    let (f, _) = fixture("docker-fail");
    let fake = FakeDocker::new();
    // A record from an earlier build must not survive a failed one.
    let d = digest('c');
    build_ok(&f, &fake, &["build-base", "--push"], &d);
    assert!(f.record().is_some());
    let fake = FakeDocker::new();
    let out = run_fake(
        &f,
        &fake,
        &["build-base", "--push"],
        &[("FAKE_DOCKER_FAIL", "build"), ("FAKE_DOCKER_DIGEST", &d)],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        "error: building or pushing ghcr.io/dcasati/python-base:sha-",
        "docker buildx build",
        "failed with exit code 1",
    ]);
    assert!(out.stdout.is_empty());
    assert!(f.record().is_none(), "no build record after a failed build");
    let calls = fake.calls();
    let argv: Vec<String> = calls.iter().map(|c| c.argv[..2].join(" ")).collect();
    assert_eq!(
        argv,
        ["buildx version", "buildx build"],
        "nothing after the failed build"
    );
}

#[test]
fn build_base_recorded_loopback_registry_is_insecure_and_load_is_single_platform() {
    let (f, id) = fixture("docker-loopback");
    let fake = FakeDocker::new();
    let d = digest('d');
    let args = [
        "build-base",
        "--push",
        "--registry",
        "127.0.0.1:5000/homelab",
        "--cache",
        "registry",
    ];
    let out = build_ok(&f, &fake, &args, &d);
    let reference = format!("127.0.0.1:5000/homelab/python-base:sha-{}", &id[..7]);
    assert_eq!(out.stdout, format!("{reference}@{d}\n"));
    let build = &fake.calls()[1];
    let has = |want: &[&str]| build.argv.windows(want.len()).any(|w| w == want);
    assert!(has(&[
        "--output",
        "type=image,push=true,registry.insecure=true"
    ]));
    assert!(has(&[
        "--cache-from",
        "type=registry,ref=127.0.0.1:5000/homelab/python-base:buildcache,registry.insecure=true"
    ]));
    assert!(!build.argv.contains(&"--push".to_string()));
    assert_eq!(f.record().unwrap()["registry"], "127.0.0.1:5000/homelab");

    // Another registry is never insecure, unless --insecure-registry says so.
    for (insecure, want) in [
        (false, "--push"),
        (true, "type=image,push=true,registry.insecure=true"),
    ] {
        let fake = FakeDocker::new();
        let mut args = vec![
            "build-base",
            "--push",
            "--registry",
            "registry.lan:5000/homelab",
        ];
        if insecure {
            args.push("--insecure-registry");
        }
        build_ok(&f, &fake, &args, &d);
        let build = &fake.calls()[1];
        assert!(build.argv.contains(&want.to_string()), "{:?}", build.argv);
        assert_eq!(
            build.argv.iter().any(|a| a.contains("insecure")),
            insecure,
            "{:?}",
            build.argv
        );
    }

    let fake = FakeDocker::new();
    let args = [
        "build-base",
        "--load",
        "--platform",
        "linux/arm64",
        "--cache",
        "local:/tmp/c",
    ];
    build_ok(&f, &fake, &args, &d);
    let build = &fake.calls()[1];
    let has = |want: &[&str]| build.argv.windows(want.len()).any(|w| w == want);
    assert!(has(&["--platform", "linux/arm64"]) && has(&["--load"]));
    assert!(has(&["--cache-to", "type=local,dest=/tmp/c,mode=max"]));
    assert_eq!(f.record().unwrap()["pushed"], false);
}

#[test]
fn build_base_recorded_skip_existing_starts_no_build() {
    let (f, id) = fixture("docker-skip");
    let fake = FakeDocker::new();
    let d = digest('e');
    let out = run_fake_ok(
        &f,
        &fake,
        &["build-base", "--push", "--skip-existing"],
        &[("FAKE_DOCKER_INSPECT", &d)],
    );
    let reference = format!("ghcr.io/dcasati/python-base:sha-{}", &id[..7]);
    assert_eq!(out.stdout, format!("{reference}@{d}\n"));
    out.assert_stderr_has("skipped");
    let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
    assert_eq!(argv.len(), 2, "{argv:?}");
    assert_eq!(
        argv[1],
        [
            "buildx",
            "imagetools",
            "inspect",
            "--format",
            "{{json .Manifest}}",
            &reference
        ]
    );
    // Not in the registry: it builds.
    let fake = FakeDocker::new();
    run_fake_ok(
        &f,
        &fake,
        &["build-base", "--push", "--skip-existing"],
        &[
            ("FAKE_DOCKER_INSPECT", "missing"),
            ("FAKE_DOCKER_DIGEST", &d),
        ],
    );
    assert!(fake.calls().iter().any(|c| c.argv[1] == "build"));
}

#[test]
fn build_base_recorded_older_sha_builds_that_commits_tree() {
    let f = Fixture::new("docker-sha", "", "FROM scratch\nUSER 1\n");
    let first = f.commit("first");
    f.write(&format!("{CONTEXT}/Dockerfile"), "FROM scratch\nUSER 2\n");
    f.commit("second");
    // Uncommitted work in the context does not matter for another commit's tree.
    f.write(&format!("{CONTEXT}/Dockerfile"), "FROM scratch\nUSER 3\n");
    let fake = FakeDocker::new();
    let d = digest('f');
    build_ok(
        &f,
        &fake,
        &["build-base", "--sha", &first[..10], "--push"],
        &d,
    );
    let build = &fake.calls()[1];
    assert_eq!(build.dockerfile.as_deref(), Some("FROM scratch\nUSER 1\n"));
    let context = build.argv.last().unwrap();
    assert!(
        !context.starts_with(&f.root().display().to_string()),
        "{context}"
    );
    assert!(
        !std::path::Path::new(context).exists(),
        "the export is removed"
    );
    assert_eq!(build.env["SOURCE_DATE_EPOCH"], FIRST_TIME.to_string());
    assert_eq!(f.record().unwrap()["tag"], format!("sha-{}", &first[..7]));
}

#[test]
fn push_recorded_mirror_copies_by_digest_and_verifies() {
    let (f, id) = fixture("docker-mirror");
    let tag = format!("sha-{}", &id[..7]);
    let d = digest('1');
    let args = [
        "push",
        "--mirror",
        "--engine",
        "docker",
        "--sha",
        &id,
        "--registry",
        "127.0.0.1:5000/homelab",
        "--to",
        "127.0.0.1:5001/homelab",
    ];
    let fake = FakeDocker::new();
    let inspect = format!("{d} {d}");
    let out = run_fake_ok(&f, &fake, &args, &[("FAKE_DOCKER_INSPECT", &inspect)]);
    assert_eq!(
        out.stdout,
        format!("127.0.0.1:5001/homelab/python-base:{tag}@{d}\n")
    );
    let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
    assert_eq!(
        argv[2],
        [
            "buildx",
            "imagetools",
            "create",
            "--tag",
            &format!("127.0.0.1:5001/homelab/python-base:{tag}"),
            &format!("127.0.0.1:5000/homelab/python-base@{d}"),
        ]
    );
    assert_eq!(
        argv[3].last().unwrap(),
        &format!("127.0.0.1:5001/homelab/python-base:{tag}")
    );

    // The destination reports another digest: the push fails.
    let fake = FakeDocker::new();
    let inspect = format!("{d} {}", digest('2'));
    let out = run_fake(&f, &fake, &args, &[("FAKE_DOCKER_INSPECT", &inspect)]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("after the push, but the source is");
    assert!(out.stdout.is_empty());

    // The source lacks the tag: nothing is copied.
    let fake = FakeDocker::new();
    let out = run_fake(&f, &fake, &args, &[("FAKE_DOCKER_INSPECT", "missing")]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("is not in the registry");
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.argv.get(2).map(String::as_str) != Some("create"))
    );
}

#[test]
fn push_recorded_login_to_destination_with_registry_token() {
    let (f, id) = fixture("docker-push-login");
    let d = digest('3');
    let fake = FakeDocker::new();
    let inspect = format!("{d} {d}");
    let out = run_fake_ok(
        &f,
        &fake,
        &[
            "push",
            "--mirror",
            "--engine",
            "docker",
            "--sha",
            &id,
            "--to",
            "registry.example.com/homelab",
            "--login",
        ],
        &[
            ("FAKE_DOCKER_INSPECT", &inspect),
            ("REGISTRY_TOKEN", "tok-9f8e7d"),
            ("XTASK_REGISTRY_USER", "homelab"),
        ],
    );
    assert_logged_in(&fake, &out, "registry.example.com", "homelab", "tok-9f8e7d");
}

const KUSTOMIZATION: &str = "k8s-apps/iot-stack/kustomization.yaml";
const KUSTOMIZATION_TEXT: &str = "resources: []\nimages:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-0000000 # deployed\n";

#[test]
fn update_images_recorded_verify_and_digest_write_nothing_when_the_tag_is_missing() {
    let (f, base) = fixture("update-verify");
    f.write(KUSTOMIZATION, KUSTOMIZATION_TEXT);
    f.commit("kustomization");
    // The tag is that of the last commit touching the context: the first one, not HEAD.
    let first = format!("sha-{}", &base[..7]);
    let reference = format!("ghcr.io/dcasati/python-base:{first}");
    let read = || std::fs::read_to_string(f.root().join(KUSTOMIZATION)).unwrap();

    for flag in ["--verify", "--digest"] {
        let fake = FakeDocker::new();
        let out = run_fake(
            &f,
            &fake,
            &["update-images", flag],
            &[("FAKE_DOCKER_INSPECT", "missing")],
        );
        assert_eq!(out.code, 2, "{flag}: {out:?}");
        out.assert_stderr_has_all(&[
            &format!("not in the registry: {reference}"),
            "no file was changed",
        ]);
        assert_eq!(read(), KUSTOMIZATION_TEXT, "{flag} changed a file");
        let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
        assert_eq!(
            argv.last().unwrap(),
            &[
                "buildx",
                "imagetools",
                "inspect",
                "--format",
                "{{json .Manifest}}",
                &reference
            ]
        );
    }
    // No registry tool at all: exit 2, nothing written.
    let out = no_engine(&f, &["update-images", "--verify"]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("skopeo or docker not found");
    assert_eq!(read(), KUSTOMIZATION_TEXT);

    let d = digest('9');
    let fake = FakeDocker::new();
    run_fake_ok(
        &f,
        &fake,
        &["update-images", "--verify"],
        &[("FAKE_DOCKER_INSPECT", &d)],
    );
    assert_eq!(read(), KUSTOMIZATION_TEXT.replace("sha-0000000", &first));
    let fake = FakeDocker::new();
    run_fake_ok(
        &f,
        &fake,
        &["update-images", "--digest"],
        &[("FAKE_DOCKER_INSPECT", &d)],
    );
    let text = read();
    assert!(text.contains(&format!("newTag: {first}")), "{text}");
    assert!(text.contains(&format!("digest: {d}")), "{text}");
}

#[test]
fn build_base_recorded_dry_run_prints_the_plan_and_runs_nothing() {
    let (f, id) = fixture("docker-dry-run");
    let fake = FakeDocker::new();
    let out = run_fake_ok(&f, &fake, &["build-base", "--push", "--dry-run"], &[]);
    out.assert_stderr_has_all(&[
        &format!("+ SOURCE_DATE_EPOCH={FIRST_TIME} docker buildx build --file"),
        &format!("--tag ghcr.io/dcasati/python-base:sha-{}", &id[..7]),
    ]);
    let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
    assert_eq!(argv, [["buildx", "version"]]);
    assert!(out.stdout.is_empty());
    assert!(f.record().is_none());
}

#[test]
fn push_recorded_docker_pushes_a_loaded_image_and_verifies_its_digest() {
    let (f, id) = fixture("docker-push-local");
    let tag = format!("sha-{}", &id[..7]);
    let d = digest('4');
    let fake = FakeDocker::new();
    let args = ["build-base", "--load", "--platform", "linux/amd64"];
    build_ok(&f, &fake, &args, &d);
    assert_eq!(f.record().unwrap()["pushed"], false);

    let fake = FakeDocker::new();
    let args = ["push", "--to", "127.0.0.1:5001/homelab"];
    let out = run_fake_ok(
        &f,
        &fake,
        &args,
        &[("FAKE_DOCKER_DIGEST", &d), ("FAKE_DOCKER_INSPECT", &d)],
    );
    let dest = format!("127.0.0.1:5001/homelab/python-base:{tag}");
    assert_eq!(out.stdout, format!("{dest}@{d}\n"));
    let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
    let source = format!("ghcr.io/dcasati/python-base:{tag}");
    assert_eq!(argv[1], ["tag", &source, &dest]);
    assert_eq!(argv[2], ["push", &dest]);
    assert_eq!(
        argv[3],
        [
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            &dest
        ]
    );
    assert_eq!(argv[4].last().unwrap(), &dest);

    // The registry holds another digest than docker pushed: exit 2.
    let fake = FakeDocker::new();
    let other = digest('5');
    let out = run_fake(
        &f,
        &fake,
        &args,
        &[("FAKE_DOCKER_DIGEST", &d), ("FAKE_DOCKER_INSPECT", &other)],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("{dest} has digest {other} after the push")),
        "{}",
        out.stderr
    );
}

// ---- the one tag rule, on repositories made by the real git ----

/// Runs the real `git` in `root` with a fixed identity, no user or system config, and commit
/// times `n` minutes after [`FIRST_TIME`]; returns its stdout, trimmed.
fn git_at(root: &std::path::Path, n: i64, args: &[&str]) -> String {
    let date = format!("@{} +0000", FIRST_TIME + 60 * n);
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .output()
        .expect("git must be installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository made with the git CLI: Cargo.toml, the context and a kustomization naming the
/// image, committed on `main`.
fn git_repo(name: &str) -> tempfile::TempDir {
    let dir = temp_dir(name);
    let root = dir.path();
    git_at(root, 0, &["init", "-q"]);
    std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
    std::fs::write(root.join(".gitignore"), "/target\n").unwrap();
    std::fs::create_dir_all(root.join(CONTEXT)).unwrap();
    std::fs::write(root.join(CONTEXT).join("Dockerfile"), DOCKERFILE).unwrap();
    std::fs::create_dir_all(root.join("k8s-apps/iot-stack")).unwrap();
    std::fs::write(
        root.join("k8s-apps/iot-stack/kustomization.yaml"),
        "resources: []\nimages:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-0000000\n",
    )
    .unwrap();
    git_at(root, 0, &["add", "-A"]);
    git_at(root, 0, &["commit", "-q", "-m", "base"]);
    dir
}

/// Changes `file` under `root` and commits it at minute `n`.
fn git_change(root: &std::path::Path, n: i64, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    git_at(root, n, &["add", "-A"]);
    git_at(root, n, &["commit", "-q", "-m", &format!("change {file}")]);
}

/// build-base (dry run, through the docker stand-in) and update-images (dry run) both tag
/// `sha-` plus the first 7 hex of `git log -1 --format=%H -- <context>`; returns that tag.
#[track_caller]
fn assert_tags_follow_git_log(root: &std::path::Path) -> String {
    let want = git_at(root, 0, &["log", "-1", "--format=%H", "--", CONTEXT]);
    let tag = format!("sha-{}", &want[..7]);
    let fake = FakeDocker::new();
    let out = fake.run(root, &["build-base", "--push", "--dry-run"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has(&format!("--tag ghcr.io/dcasati/python-base:{tag}"));
    out.assert_stderr_has(&format!("org.opencontainers.image.revision={want}"));
    let out = xtask(root, &["update-images", "--dry-run"], &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(&format!("+    newTag: {tag}")),
        "{out:?}"
    );
    tag
}

#[test]
fn tag_rule_linear_history_with_a_docs_commit_on_top_names_the_context_commit() {
    let repo = git_repo("tag-linear");
    let root = repo.path();
    git_change(
        root,
        1,
        &format!("{CONTEXT}/requirements.txt"),
        "requests==2.31.0\n",
    );
    let context_commit = git_at(root, 1, &["rev-parse", "HEAD"]);
    git_change(root, 2, "README.md", "docs\n");
    let head = git_at(root, 2, &["rev-parse", "HEAD"]);
    let tag = assert_tags_follow_git_log(root);
    assert_eq!(tag, format!("sha-{}", &context_commit[..7]));
    assert_ne!(tag, format!("sha-{}", &head[..7]));
    // The docs commit did not change the context: its tag is already pushed, so CI's
    // --skip-existing is a no-op.
    let fake = FakeDocker::new();
    let d = digest('3');
    let out = fake.run(
        root,
        &["build-base", "--push", "--skip-existing"],
        &[("FAKE_DOCKER_INSPECT", &d)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has(&format!(
        "skipped: ghcr.io/dcasati/python-base:{tag} is already in the registry"
    ));
    let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
    assert!(
        argv.iter().all(|a| a[..2] != ["buildx", "build"]),
        "{argv:?}"
    );
}

/// Branch `feature` off main with a commit that changes the context (minute 1), then a docs
/// commit on main (minute 2), leaving main checked out; returns the branch commit.
fn feature_branch_and_docs_on_main(root: &std::path::Path) -> String {
    git_at(root, 1, &["checkout", "-q", "-b", "feature"]);
    git_change(
        root,
        1,
        &format!("{CONTEXT}/requirements.txt"),
        "requests==2.31.0\n",
    );
    let branch_commit = git_at(root, 1, &["rev-parse", "HEAD"]);
    git_at(root, 2, &["checkout", "-q", "main"]);
    git_change(root, 2, "README.md", "docs on main\n");
    branch_commit
}

#[test]
fn tag_rule_no_ff_merge_after_a_docs_commit_on_main_names_the_branch_commit() {
    let repo = git_repo("tag-merge");
    let root = repo.path();
    let branch_commit = feature_branch_and_docs_on_main(root);
    git_at(
        root,
        3,
        &["merge", "-q", "--no-ff", "-m", "Merge feature", "feature"],
    );
    let merge = git_at(root, 3, &["rev-parse", "HEAD"]);
    let tag = assert_tags_follow_git_log(root);
    assert_eq!(tag, format!("sha-{}", &branch_commit[..7]));
    assert_ne!(tag, format!("sha-{}", &merge[..7]));
}

#[test]
fn tag_rule_merge_that_kept_mains_context_follows_main_as_git_log_does() {
    // The branch changed the context, but the merge kept main's (`-s ours`): git log follows
    // main only, so the branch's newer commit is not the image's commit.
    let repo = git_repo("tag-ours");
    let root = repo.path();
    let base = git_at(root, 0, &["rev-parse", "HEAD"]);
    let branch_commit = feature_branch_and_docs_on_main(root);
    git_at(
        root,
        3,
        &[
            "merge",
            "-q",
            "-s",
            "ours",
            "-m",
            "Merge, keeping main",
            "feature",
        ],
    );
    let tag = assert_tags_follow_git_log(root);
    assert_eq!(tag, format!("sha-{}", &base[..7]));
    assert_ne!(tag, format!("sha-{}", &branch_commit[..7]));
}

#[test]
fn tag_rule_squash_merge_names_the_squash_commit() {
    let repo = git_repo("tag-squash");
    let root = repo.path();
    feature_branch_and_docs_on_main(root);
    git_at(root, 3, &["merge", "-q", "--squash", "feature"]);
    git_at(root, 3, &["commit", "-q", "-m", "Squashed feature"]);
    let squash = git_at(root, 3, &["rev-parse", "HEAD"]);
    let tag = assert_tags_follow_git_log(root);
    assert_eq!(tag, format!("sha-{}", &squash[..7]));
}

#[test]
fn shallow_clone_is_refused_wherever_the_tag_comes_from_history() {
    let repo = git_repo("tag-shallow-src");
    git_change(
        repo.path(),
        1,
        &format!("{CONTEXT}/requirements.txt"),
        "x==1\n",
    );
    git_change(repo.path(), 2, "README.md", "docs\n");
    let clones = temp_dir("tag-shallow");
    let url = format!("file://{}", repo.path().display());
    git_at(
        clones.path(),
        3,
        &["clone", "-q", "--depth", "1", &url, "c"],
    );
    let root = clones.path().join("c");
    let fake = FakeDocker::new();
    for (args, docker) in [
        (vec!["update-images", "--dry-run"], false),
        (vec!["build-base", "--push", "--dry-run"], true),
    ] {
        let out = if docker {
            fake.run(&root, &args, &[])
        } else {
            xtask(&root, &args, &[], None)
        };
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        out.assert_stderr_has_all(&["shallow clone", "git fetch --unshallow"]);
        assert!(out.stdout.is_empty(), "{out:?}");
    }
    // An explicit SHA is used as given, shallow or not.
    let head = git_at(&root, 3, &["rev-parse", "HEAD"]);
    let out = xtask(&root, &["update-images", "--dry-run", &head], &[], None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!("newTag: sha-{}", &head[..7])));
}

#[test]
fn push_recorded_mirror_copies_the_recorded_digest_and_refuses_a_moved_tag() {
    let (f, id) = fixture("docker-mirror-record");
    let tag = format!("sha-{}", &id[..7]);
    let (built, moved) = (digest('1'), digest('7'));
    xtask::build_record::BuildRecord {
        image: "python-base".into(),
        registry: "127.0.0.1:5000/homelab".into(),
        tag: tag.clone(),
        digest: Some(built.clone()),
        platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
        commit: id.clone(),
        pushed: true,
        engine: "docker".into(),
    }
    .write(f.root())
    .unwrap();
    let args = [
        "push",
        "--mirror",
        "--engine",
        "docker",
        "--to",
        "127.0.0.1:5001/homelab",
    ];
    let fake = FakeDocker::new();
    let inspect = format!("{built} {built}");
    let out = run_fake_ok(&f, &fake, &args, &[("FAKE_DOCKER_INSPECT", &inspect)]);
    assert_eq!(
        out.stdout,
        format!("127.0.0.1:5001/homelab/python-base:{tag}@{built}\n")
    );
    let argv: Vec<Vec<String>> = fake.calls().into_iter().map(|c| c.argv).collect();
    assert_eq!(
        argv[2].last().unwrap(),
        &format!("127.0.0.1:5000/homelab/python-base@{built}")
    );

    // Someone pushed another image under the tag since: nothing is copied, both digests named.
    let fake = FakeDocker::new();
    let out = run_fake(&f, &fake, &args, &[("FAKE_DOCKER_INSPECT", &moved)]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!("127.0.0.1:5000/homelab/python-base:{tag} now holds {moved}"),
        &format!("the build record names {built}"),
    ]);
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.argv.get(2).map(String::as_str) != Some("create"))
    );
}

/// The recording `docker` refuses what docker buildx and the docker CLI refuse, so a
/// `*_recorded_*` test fails wherever the real tool would.
#[test]
fn docker_recorded_stand_in_refuses_what_buildx_and_the_cli_refuse() {
    let bin = tempfile::tempdir().unwrap();
    let script = bin.path().join("docker");
    std::fs::write(&script, FAKE_DOCKER).unwrap();
    let run = |args: &[&str]| {
        let record = tempfile::tempdir().unwrap();
        // In the temporary folder: `--metadata-file m` writes `m` where it runs.
        let out = std::process::Command::new("sh")
            .arg(&script)
            .args(args)
            .current_dir(record.path())
            .env("FAKE_DOCKER_RECORD", record.path())
            .env("FAKE_DOCKER_INSPECT", "sha256:aa")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (args, want) in [
        (
            &["buildx", "build", "--pussh", "."][..],
            "unknown flag: --pussh",
        ),
        (
            &["buildx", "build", "--push", "--load", "."],
            "push and load may not be set together",
        ),
        (
            &["buildx", "build", "--push"],
            "requires exactly 1 argument",
        ),
        (&["buildx", "build", "--tag"], "flag needs an argument"),
        (
            &["buildx", "build", "--output", "type=image,push=true", "."],
            "tag is needed when pushing to registry",
        ),
        (
            &["buildx", "build", "--output", "name=r,push=true", "."],
            "type is required for output",
        ),
        (
            &["buildx", "build", "--output", "type=image,oops", "."],
            "invalid value oops",
        ),
        (
            &["buildx", "imagetools", "create", "s@sha256:aa"],
            "can't push with no tags specified, please set --tag or --dry-run",
        ),
        (
            &[
                "buildx",
                "imagetools",
                "inspect",
                "--raw",
                "--format",
                "{{json .}}",
                "r",
            ],
            "format and raw cannot be used together",
        ),
        (
            &["buildx", "imagetools", "inspect", "--tls-verify=false", "r"],
            "unknown flag: --tls-verify",
        ),
        (
            &["buildx", "imagetools", "create", "--tag", "d"],
            "no sources specified",
        ),
        (
            &["login", "h", "-u", "me", "-p", "x", "--password-stdin"],
            "--password and --password-stdin are mutually exclusive",
        ),
        (
            &["login", "h", "--password-stdin"],
            "Must provide --username with --password-stdin",
        ),
        (&["tag", "a"], "requires exactly 2 arguments"),
        (
            &["push", "--tls-verify=false", "r"],
            "unknown flag: --tls-verify",
        ),
        (
            &["run", "--rm", "--tls-verify=false", "r"],
            "unknown flag: --tls-verify",
        ),
        (
            &["run", "--rm", "--read-only"],
            "requires at least 1 argument",
        ),
        (&["run", "--user"], "flag needs an argument"),
        (
            &["version", "now"],
            "\"docker version\" accepts no arguments.",
        ),
        (
            &["version", "--format", "{{.Server.Version}}"],
            "Cannot connect to the Docker daemon",
        ),
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    // What xtask sends is accepted.
    for args in [
        &[
            "buildx",
            "build",
            "--file",
            "D",
            "--platform",
            "linux/amd64",
            "--tag",
            "t",
            "--push",
            "--metadata-file",
            "m",
            ".",
        ][..],
        &[
            "buildx",
            "imagetools",
            "inspect",
            "--format",
            "{{json .Manifest}}",
            "r",
        ],
        &[
            "buildx",
            "imagetools",
            "create",
            "--tag",
            "d",
            "s@sha256:aa",
        ],
        &["login", "ghcr.io", "-u", "me", "--password-stdin"],
        &[
            "buildx",
            "build",
            "--output",
            "type=image,name=r,push-by-digest=true,name-canonical=true,push=true",
            "--metadata-file",
            "m",
            ".",
        ],
        &["buildx", "build", "--output", "out-folder", "."],
        // doctor's version line; it needs no daemon.
        &["--version"],
        // After the image, words are the container's command, never docker's flags.
        &[
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
            "r@sha256:aa",
            "-c",
            "--not-a-docker-flag",
        ],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
    }
    // docker run refuses a --pull it does not know, as docker's own error: exit 125.
    let (code, stderr) = run(&["run", "--pull", "sometimes", "r"]);
    assert_eq!(code, 125, "{stderr}");
    assert!(stderr.contains("invalid pull option"), "{stderr}");
}
