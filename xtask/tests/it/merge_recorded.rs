//! The docker path of a build spread over machines, against the recording `docker` stand-in
//! (whose `--output`, `imagetools create` and metadata rules come from buildx v0.19.0):
//! `build-base --platform P --push-by-digest --builder NAME` for each platform, then
//! `push --merge DIR` with `buildx imagetools create`, and its refusals.

use crate::support::build_push::*;

const DOCKERFILE: &str = "FROM scratch\nCOPY busybox /bin/busybox\n";
const NAME: &str = "ghcr.io/dcasati/python-base";

fn d(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn fixture(name: &str) -> (Fixture, String) {
    let f = Fixture::new(name, "", DOCKERFILE);
    let id = f.commit("base image");
    (f, format!("sha-{}", &id[..7]))
}

#[test]
fn build_base_recorded_push_by_digest_builds_one_platform_with_no_tag_on_the_builder() {
    let (f, tag) = fixture("by-digest");
    for (platform, digest) in [("linux/amd64", d('a')), ("linux/arm64", d('b'))] {
        let docker = FakeDocker::new();
        let out = docker.run(
            f.root(),
            &[
                "build-base",
                "--engine",
                "docker",
                "--platform",
                platform,
                "--push-by-digest",
                "--builder",
                "homelab",
                "--cache",
                "gha",
            ],
            &[
                ("FAKE_DOCKER_DIGEST", &digest),
                ("FAKE_DOCKER_INSPECT", &digest),
            ],
        );
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(out.stdout, format!("{NAME}@{digest}\n"));
        let calls = docker.calls();
        let argv: Vec<Vec<String>> = calls.iter().map(|c| c.argv.clone()).collect();
        assert_eq!(argv[0], ["buildx", "version"]);
        let build = &argv[1];
        let file = platform.replace('/', "-");
        let root = f.root().display().to_string();
        assert_eq!(
            build[..8],
            [
                "buildx",
                "build",
                "--builder",
                "homelab",
                "--file",
                &format!("{root}/{CONTEXT}/Dockerfile"),
                "--platform",
                platform
            ]
        );
        assert!(!build.contains(&"--tag".to_string()), "{build:?}");
        let tail = &build[build.len() - 9..];
        assert_eq!(
            tail,
            [
                "--cache-from",
                &format!("type=gha,scope=python-base-{file}"),
                "--cache-to",
                &format!("type=gha,mode=max,scope=python-base-{file}"),
                "--output",
                &format!(
                    "type=image,name={NAME},push-by-digest=true,name-canonical=true,push=true"
                ),
                "--metadata-file",
                &format!("{root}/target/xtask/build/python-base-{file}.docker"),
                &format!("{root}/{CONTEXT}"),
            ]
        );
        assert!(build.contains(&format!("org.opencontainers.image.version={tag}")));
        // The pushed digest is read back by digest, never by a tag.
        assert_eq!(
            argv[2],
            [
                "buildx",
                "imagetools",
                "inspect",
                "--format",
                "{{json .Manifest}}",
                &format!("{NAME}@{digest}")
            ]
        );
        assert_eq!(argv.len(), 3);
        assert_eq!(
            std::fs::read_to_string(f.root().join(format!("target/xtask/digests/{file}"))).unwrap(),
            format!("{digest}\n")
        );
        assert!(f.record().is_none(), "no build record before the merge");
    }
    // Two platforms at once is refused before anything runs.
    let docker = FakeDocker::new();
    let out = docker.run(
        f.root(),
        &["build-base", "--engine", "docker", "--push-by-digest"],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has(
        "--push-by-digest needs exactly one platform (got linux/amd64,linux/arm64)",
    );
    assert!(docker.calls().iter().all(|c| c.argv[1] != "build"));
}

#[test]
fn push_recorded_merge_makes_one_index_with_imagetools_create_and_records_it() {
    let (f, tag) = fixture("merge");
    let dir = f.root().join("digests");
    support_write(&dir, "linux-amd64", &d('a'));
    support_write(&dir, "linux-arm64", &d('b'));
    let images = format!("{}=linux/amd64 {}=linux/arm64", d('a'), d('b'));
    let docker = FakeDocker::new();
    let out = docker.run(
        f.root(),
        &[
            "push",
            "--merge",
            dir.to_str().unwrap(),
            "--engine",
            "docker",
        ],
        &[
            ("FAKE_DOCKER_IMAGES", &images),
            ("FAKE_DOCKER_INSPECT", &d('f')),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let tagged = format!("{NAME}:{tag}");
    assert_eq!(out.stdout, format!("{tagged}@{}\n", d('f')));
    let argv: Vec<String> = docker.calls().iter().map(|c| c.argv.join(" ")).collect();
    let (a, b) = (format!("{NAME}@{}", d('a')), format!("{NAME}@{}", d('b')));
    assert_eq!(
        argv,
        [
            "buildx version".to_string(),
            format!("buildx imagetools inspect --raw {a}"),
            format!("buildx imagetools inspect --format {{{{json .Image}}}} {a}"),
            format!("buildx imagetools inspect --raw {b}"),
            format!("buildx imagetools inspect --format {{{{json .Image}}}} {b}"),
            format!("buildx imagetools create --tag {tagged} {a} {b}"),
            format!("buildx imagetools inspect --format {{{{json .Manifest}}}} {tagged}"),
            format!("buildx imagetools inspect --raw {tagged}"),
        ]
    );
    let record = f.record().unwrap();
    assert_eq!(record["digest"], d('f'));
    assert_eq!(record["tag"], tag);
    assert_eq!(record["pushed"], true);
    assert_eq!(record["engine"], "docker");
    assert_eq!(
        record["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
}

#[test]
fn push_recorded_merge_refuses_an_absent_or_wrong_platform_digest_and_creates_nothing() {
    let (f, _) = fixture("merge-refuse");
    let dir = f.root().join("digests");
    support_write(&dir, "linux-amd64", &d('a'));
    support_write(&dir, "linux-arm64", &d('b'));
    for (images, want) in [
        (
            format!("{}=linux/amd64", d('a')),
            "linux-arm64 (ghcr.io/dcasati/python-base@sha256:bbbb",
        ),
        (
            format!("{}=linux/amd64 {}=linux/amd64", d('a'), d('b')),
            "the image is linux/amd64, but the file names linux/arm64",
        ),
    ] {
        let docker = FakeDocker::new();
        let out = docker.run(
            f.root(),
            &[
                "push",
                "--merge",
                dir.to_str().unwrap(),
                "--engine",
                "docker",
            ],
            &[("FAKE_DOCKER_IMAGES", &images)],
        );
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has_all(&[want, "refusing to merge; nothing was pushed"]);
        assert!(
            docker
                .calls()
                .iter()
                .all(|c| c.argv.get(2).map(String::as_str) != Some("create")),
            "imagetools create ran"
        );
        assert!(f.record().is_none());
    }
}

fn support_write(dir: &std::path::Path, name: &str, digest: &str) {
    crate::support::write(dir, name, format!("{digest}\n"));
}

/// `doctor --builder NAME` reads `docker buildx inspect NAME` and names the node that builds
/// each configured platform natively, or warns that one would be emulated.
#[test]
fn doctor_recorded_names_the_native_node_of_each_platform_and_warns_of_emulation() {
    let (f, _) = fixture("doctor-builder");
    let two_nodes = "Name:          homelab\nDriver:        docker-container\n\nNodes:\n\
        Name:             homelab0\nEndpoint:         unix:///var/run/docker.sock\n\
        Status:           running\nBuildKit version: v0.18.1\n\
        Platforms:        linux/amd64, linux/amd64/v2, linux/386, linux/arm64\n\n\
        Name:             homelab1\nEndpoint:         ssh://pi@pi.lan\nStatus:           running\n\
        BuildKit version: v0.18.1\nPlatforms:        linux/arm64*, linux/arm/v7\n";
    let one_node = two_nodes
        .split("\n\nName:             homelab1")
        .next()
        .unwrap();
    let docker = FakeDocker::new();
    let run = |inspect: &str| {
        docker.run(
            f.root(),
            &["doctor", "--offline", "--builder", "homelab"],
            &[("FAKE_DOCKER_BUILDX_INSPECT", inspect)],
        )
    };
    let out = run(two_nodes);
    out.assert_stderr_has_all(&[
        "linux/amd64: native on node homelab0 (unix:///var/run/docker.sock)",
        "linux/arm64: native on node homelab1 (ssh://pi@pi.lan)",
    ]);
    assert!(!out.stderr.contains("EMULATED"), "{}", out.stderr);
    assert!(
        docker
            .calls()
            .iter()
            .any(|c| c.argv == ["buildx", "inspect", "homelab"]),
        "{:?}",
        docker.calls()
    );
    let out = run(one_node);
    out.assert_stderr_has_all(&[
        "linux/amd64: native on node homelab0",
        "linux/arm64: EMULATED (QEMU) on node homelab0",
        "docker buildx create --append --name homelab --platform linux/arm64 ssh://USER@HOST",
    ]);
}
