//! End to end (XTASK_E2E=1): `build-base --engine podman --push` and `push --mirror` against two
//! real `docker-registry` instances on loopback ports, checked with skopeo. One multi-platform
//! build, reused by every later step. A missing tool fails the test.

use crate::support::build_push::*;
use crate::support::{self, require};

const DOCKERFILE: &str = "FROM scratch\nCOPY busybox /bin/busybox\nUSER 65532\n";

fn run(f: &Fixture, podman: &Podman, args: &[&str]) -> Outcome {
    let env = podman.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    xtask(f.root(), args, &env, None)
}

fn skopeo(args: &[&str], reference: &str) -> String {
    let image = format!("docker://{reference}");
    let mut all = vec!["inspect", "--tls-verify=false"];
    all.extend_from_slice(args);
    all.push(&image);
    tool("skopeo", &all)
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_build_push_mirror_skip_and_if_changed() {
    for program in ["podman", "skopeo", "docker-registry", "busybox"] {
        require(program);
    }
    let mut primary = Registry::start("primary");
    let backup = Registry::start("backup");
    let podman = Podman::new();
    let settings = format!(
        "registry = \"{}/homelab\"\nbackup-registry = \"{}/homelab\"\n",
        primary.addr(),
        backup.addr()
    );
    let f = Fixture::new("e2e", &settings, DOCKERFILE);
    f.copy_in(
        &which::which("busybox").unwrap(),
        &format!("{CONTEXT}/busybox"),
    );
    let kustomization = "k8s-apps/iot-stack/kustomization.yaml";
    let deployed = format!(
        "resources: []\nimages:\n  - name: {}/homelab/python-base\n    newTag: sha-0000000\n",
        primary.addr()
    );
    f.write(kustomization, &deployed);
    let id = f.commit("base image");
    let tag = format!("sha-{}", &id[..7]);
    let reference = format!("{}/homelab/python-base:{tag}", primary.addr());

    // build-base --push: both platforms, in the primary registry, with the printed digest.
    let out = run(&f, &podman, &["build-base", "--engine", "podman", "--push"]);
    assert_eq!(out.code, 0, "{out:?}");
    eprintln!("build-base --push (2 platforms) took {:?}", out.elapsed);
    let (printed_ref, digest) = out.stdout.trim().split_once('@').expect("ref@digest");
    assert_eq!(printed_ref, reference);
    let raw: serde_json::Value = serde_json::from_str(&skopeo(&["--raw"], &reference)).unwrap();
    let mut platforms: Vec<String> = raw["manifests"]
        .as_array()
        .expect("a manifest list")
        .iter()
        .map(|m| format!("{}/{}", m["platform"]["os"], m["platform"]["architecture"]))
        .collect();
    platforms.sort();
    assert_eq!(platforms, ["\"linux\"/\"amd64\"", "\"linux\"/\"arm64\""]);
    assert_eq!(
        skopeo(&["--format", "{{.Digest}}"], &reference).trim(),
        digest
    );
    for arch in ["amd64", "arm64"] {
        let config = tool(
            "skopeo",
            &[
                "--override-arch",
                arch,
                "inspect",
                "--tls-verify=false",
                "--config",
                &format!("docker://{reference}"),
            ],
        );
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        assert_eq!(config["architecture"], arch);
        let labels = &config["config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.revision"], id.as_str());
        assert_eq!(labels["org.opencontainers.image.version"], tag.as_str());
        assert_eq!(
            labels["org.opencontainers.image.created"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(config["config"]["User"], "65532");
        assert_eq!(config["created"], "2023-11-14T22:13:20Z");
    }
    let record = f.record().unwrap();
    assert_eq!(record["digest"], digest);
    assert_eq!(record["pushed"], true);
    assert_eq!(record["commit"], id.as_str());

    // push --mirror: the backup gets the same digest.
    let out = run(
        &f,
        &podman,
        &[
            "push",
            "--mirror",
            "--registry",
            &format!("{}/homelab", primary.addr()),
            "--to",
            &format!("{}/homelab", backup.addr()),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    eprintln!("push --mirror took {:?}", out.elapsed);
    let mirrored = format!("{}/homelab/python-base:{tag}", backup.addr());
    assert_eq!(out.stdout.trim(), format!("{mirrored}@{digest}"));
    assert_eq!(
        skopeo(&["--format", "{{.Digest}}"], &mirrored).trim(),
        digest
    );

    // The backup registry is down (nothing listens on its port): the cause and the next step,
    // not skopeo's raw `level=fatal` line.
    let closed = format!("127.0.0.1:{}/homelab", crate::support::free_port());
    let env = podman.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("XTASK_BACKUP_REGISTRY", &closed));
    let primary_registry = format!("{}/homelab", primary.addr());
    let out = xtask(
        f.root(),
        &["push", "--mirror", "--registry", &primary_registry],
        &env,
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    let host = closed.split('/').next().unwrap();
    out.assert_stderr_has_all(&[
        &format!(
            "nothing listens at {host} (connection refused): the backup registry is not running"
        ),
        &format!("fix: start the MicroK8s registry that serves {host}: `microk8s enable registry`"),
        "the tool said: ",
        "connect: connection refused",
    ]);
    assert!(!out.stderr.contains("level=fatal"), "{}", out.stderr);

    // update-images --verify and --digest read the real registry.
    let read = || std::fs::read_to_string(f.root().join(kustomization)).unwrap();
    let out = run(&f, &podman, &["update-images", "--verify"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(read(), deployed.replace("sha-0000000", &tag));
    let out = run(&f, &podman, &["update-images", "--digest"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        read(),
        format!(
            "{}    digest: {digest}\n",
            deployed.replace("sha-0000000", &tag)
        )
    );
    std::fs::write(f.root().join(kustomization), &deployed).unwrap();

    // --skip-existing: the tag is there, so no build, in under a second.
    let out = run(
        &f,
        &podman,
        &[
            "build-base",
            "--engine",
            "podman",
            "--push",
            "--skip-existing",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has("skipped");
    assert!(!out.stderr.contains("podman build"), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), format!("{reference}@{digest}"));
    assert!(
        out.elapsed.as_secs_f64() < 1.0,
        "--skip-existing took {:?}",
        out.elapsed
    );
    eprintln!("--skip-existing took {:?}", out.elapsed);

    // --if-changed: a docs commit skips, a context commit builds (one platform, kept locally).
    f.write("README.md", "docs\n");
    f.commit("docs");
    let out = run(
        &f,
        &podman,
        &["build-base", "--engine", "podman", "--if-changed"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("skipped: k8s-apps/base-images did not change"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("podman build"));
    // A tag that was never pushed: exit 2 and no file changed, for --verify and --digest.
    let docs = f.commit("a commit that was never built");
    for flag in ["--verify", "--digest"] {
        let out = run(&f, &podman, &["update-images", flag, &docs]);
        assert_eq!(out.code, 2, "{out:?}");
        out.assert_stderr_has(&format!(
            "not in the registry: {}/homelab/python-base:sha-{}",
            primary.addr(),
            &docs[..7]
        ));
        assert_eq!(read(), deployed, "{flag} changed the kustomization");
    }
    f.write(&format!("{CONTEXT}/VERSION"), "2\n");
    let changed = f.commit("context");
    let args = [
        "build-base",
        "--engine",
        "podman",
        "--if-changed",
        "--platform",
        "linux/amd64",
    ];
    let out = run(&f, &podman, &args);
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has("+ SOURCE_DATE_EPOCH=");
    out.assert_stderr_has("podman build");
    assert_eq!(
        out.stdout.trim(),
        format!(
            "{}/homelab/python-base:sha-{}",
            primary.addr(),
            &changed[..7]
        )
    );
    assert_eq!(f.record().unwrap()["pushed"], false);

    // push (no --mirror): the local manifest list named by the record goes to the backup.
    let backup_registry = format!("{}/homelab", backup.addr());
    let out = run(
        &f,
        &podman,
        &["push", "--engine", "podman", "--to", &backup_registry],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let pushed = format!("{backup_registry}/python-base:sha-{}", &changed[..7]);
    let (printed, pushed_digest) = out.stdout.trim().split_once('@').unwrap();
    assert_eq!(printed, pushed);
    assert_eq!(
        skopeo(&["--format", "{{.Digest}}"], &pushed).trim(),
        pushed_digest
    );
    out.assert_stderr_has("verified:");

    // The registry is down: a clear error, exit 2, and no record claims a push.
    primary.stop();
    let args = [
        "build-base",
        "--engine",
        "podman",
        "--push",
        "--platform",
        "linux/amd64",
    ];
    let out = run(&f, &podman, &args);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!(
            "error: cannot push {}/homelab/python-base:sha-{}: is {0}/homelab up",
            primary.addr(),
            &changed[..7]
        ),
        "podman manifest push",
    ]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(f.record().is_none_or(|r| r["pushed"] == false));

    // push to a registry that accepts and never answers: killed after XTASK_NETWORK_TIMEOUT.
    // Last, as the killed podman may leave its runtime state half refreshed.
    let stall = support::FaultServer::start(support::Fault::Stall);
    let mut env = podman.env();
    env.push(("XTASK_NETWORK_TIMEOUT", "2".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let to = format!("{}/homelab", stall.host());
    let out = xtask(
        f.root(),
        &["push", "--engine", "podman", "--sha", &changed, "--to", &to],
        &env,
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has(&format!(
        "no answer from the registry {} within 2 s",
        stall.host()
    ));
    assert!(out.elapsed.as_secs() < 15, "push took {:?}", out.elapsed);
    let left = support::processes_with(&stall.port.to_string());
    assert!(left.is_empty(), "push left {left:?}");
}

/// A two-platform image whose linux/arm64 variant alone carries an AWS key
/// (`COPY creds-${TARGETARCH}`), built and pushed by podman to a real registry, then scanned by
/// the real trivy: no vulnerability DB is needed for secrets or the SBOM.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_secret_only_in_the_arm64_variant_is_found_and_named() {
    for program in ["podman", "skopeo", "docker-registry", "busybox", "trivy"] {
        require(program);
    }
    let registry = Registry::start("scan");
    let podman = Podman::new();
    let settings = format!("registry = \"{}/homelab\"\n", registry.addr());
    let dockerfile = "FROM scratch\nARG TARGETARCH\nCOPY busybox /bin/busybox\n\
                      COPY creds-${TARGETARCH} /etc/app/credentials\nUSER 65532\n";
    let f = Fixture::new("e2e-scan", &settings, dockerfile);
    f.copy_in(
        &which::which("busybox").unwrap(),
        &format!("{CONTEXT}/busybox"),
    );
    // Made at run time, so no key-shaped literal sits in the source.
    let key_id = format!("AKIA{}", "2E0A8F3B244C9986");
    f.write(&format!("{CONTEXT}/creds-amd64"), "region = eu-west-1\n");
    f.write(
        &format!("{CONTEXT}/creds-arm64"),
        format!("aws_access_key_id = {key_id}\n"),
    );
    f.commit("two-platform image with a key in arm64 only");
    let out = run(&f, &podman, &["build-base", "--engine", "podman", "--push"]);
    assert_eq!(out.code, 0, "{out:?}");
    let (_, digest) = out.stdout.trim().split_once('@').expect("ref@digest");
    let digest = digest.to_string();

    let cache = temp_dir("trivy-cache");
    let sbom = f.root().join("sbom.cdx.json");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "trivy-scan",
            "--image",
            "--scanners",
            "secret",
            "--offline",
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(&f, &podman, &args)
    };
    let out = scan(&["--format", "json", "--sbom", sbom.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !out.all().contains(&key_id),
        "the key leaked:\n{}",
        out.all()
    );
    out.assert_stderr_has("aws-access-key-id /etc/app/credentials:1 [linux/arm64]");
    out.assert_stderr_has("(linux/amd64): 0 finding(s)");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let scans = report["scans"].as_array().unwrap();
    let platforms: Vec<&str> = scans
        .iter()
        .map(|s| s["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(scans[0]["findings"], serde_json::json!([]));
    let finding = &scans[1]["findings"][0];
    assert_eq!(finding["platform"], "linux/arm64");
    assert_eq!(finding["kind"], "secret");
    assert_eq!(finding["severity"], "CRITICAL");
    assert_eq!(finding["target"], "/etc/app/credentials");
    assert!(
        scans[1]["target"].as_str().unwrap().ends_with(&digest),
        "scanned by the index digest: {}",
        scans[1]["target"]
    );
    // The SBOM is of the index digest, the one that is signed.
    let text = std::fs::read_to_string(&sbom).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    let component = doc["metadata"]["component"]["name"].as_str().unwrap();
    assert!(component.ends_with(&format!("@{digest}")), "{component}");

    // vuln (the default, with secret) needs the vulnerability DB, which this cache lacks.
    let out = run(
        &f,
        &podman,
        &[
            "trivy-scan",
            "--image",
            "--offline",
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        "needs trivy's vulnerability database",
        "--download-db-only",
        "--scanners secret",
    ]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);

    // .trivyignore, with its reason, is honoured by the real trivy.
    f.write(
        ".trivyignore",
        "# the arm64 fixture's key is the test's own, never a real credential\naws-access-key-id\n",
    );
    let out = scan(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has("(linux/arm64): 0 finding(s)");
}
