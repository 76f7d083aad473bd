//! End to end (XTASK_E2E=1): a build spread over three "machines", each a clone of the repo
//! with its own empty podman store. Two runners each build one platform (`build-base
//! --platform P --push-by-digest`) into a real `docker-registry` on loopback; no tag exists
//! after them. The merger, which built nothing, refuses a folder missing a platform, naming one
//! twice, or naming a digest the registry lacks or of another platform (exit 2, no tag); then
//! `push --merge DIR` alone pushes one index of exactly the two digests, pulling nothing; then
//! `release --merge DIR` makes the same index again, smokes it (amd64 here), scans it with the
//! real trivy (secret scanner, offline), signs it with the recording cosign stand-in and
//! mirrors it, all on the index digest.

use crate::support::build_push::*;
use crate::support::scan_sign::{StandIn, cosign_stand_in};
use crate::support::{self, require};
use std::path::Path;

const DOCKERFILE: &str =
    "FROM scratch\nCOPY busybox /bin/busybox\nUSER 65532\nCMD [\"/bin/busybox\", \"true\"]\n";
const KEY: &str = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nMERGEKEYMATERIAL7\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";

/// One machine: a clone of the repo, and a podman store of its own.
struct Machine {
    dir: tempfile::TempDir,
    podman: Podman,
}

impl Machine {
    fn clone_of(f: &Fixture, name: &str) -> Machine {
        let dir = support::temp_dir(name);
        git2::Repository::clone(f.root().to_str().unwrap(), dir.path()).unwrap();
        Machine {
            dir,
            podman: Podman::new(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str], extra: &[(&str, &str)], path: Option<&str>) -> Outcome {
        let env = self.podman.env();
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend_from_slice(extra);
        xtask(self.root(), args, &env, path)
    }

    /// The image IDs in this machine's own store.
    fn images(&self) -> Vec<String> {
        let out = std::process::Command::new("podman")
            .args(["images", "--all", "--quiet"])
            .envs(self.podman.env())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn inspect(args: &[&str], reference: &str) -> String {
    let image = format!("docker://{reference}");
    let all = [&["inspect", "--tls-verify=false"][..], args, &[&image]].concat();
    tool("skopeo", &all)
}

/// The digest under `reference`'s tag, or `None` when the registry has no such tag.
fn tag_digest(reference: &str) -> Option<String> {
    let out = std::process::Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A folder holding `files` (relative path, content).
fn digest_dir(name: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = support::temp_dir(name);
    for (rel, content) in files {
        support::write(dir.path(), rel, format!("{content}\n"));
    }
    dir
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_two_runners_push_by_digest_and_a_third_machine_merges_scans_signs_and_mirrors() {
    for program in [
        "podman",
        "buildah",
        "skopeo",
        "docker-registry",
        "busybox",
        "trivy",
    ] {
        require(program);
    }
    let (primary, backup, settings) = registry_pair("merge");
    // release smokes the index: `busybox true` on amd64 here; arm64 has no emulator
    // (XTASK_BINFMT_DIR is an empty folder), so it is NOT RUN, as in release.rs.
    let settings = format!(
        "{settings}[[workspace.metadata.xtask.images]]\nname = \"python-base\"\n\
         context = \"{CONTEXT}\"\nsmoke = [\"/bin/busybox\", \"true\"]\n"
    );
    let binfmt = support::temp_dir("binfmt");
    let f = Fixture::new("merge", &settings, DOCKERFILE);
    f.copy_in(
        &which::which("busybox").unwrap(),
        &format!("{CONTEXT}/busybox"),
    );
    f.write(
        "k8s-apps/iot-stack/kustomization.yaml",
        format!(
            "resources: []\nimages:\n  - name: {}/homelab/python-base\n    newTag: sha-0000000\n",
            primary.addr()
        ),
    );
    let id = f.commit("base image");
    let tag = format!("sha-{}", &id[..7]);
    let name = format!("{}/homelab/python-base", primary.addr());
    let tagged = format!("{name}:{tag}");

    // Each runner builds its own platform, by digest; its store held nothing before.
    let mut pushed: Vec<(String, String, tempfile::TempDir)> = Vec::new();
    for (platform, arch) in [("linux/amd64", "amd64"), ("linux/arm64", "arm64")] {
        let runner = Machine::clone_of(&f, &format!("runner-{arch}"));
        assert!(runner.images().is_empty(), "a fresh store");
        let out = runner.run(
            &[
                "build-base",
                "--engine",
                "podman",
                "--platform",
                platform,
                "--push-by-digest",
            ],
            &[],
            None,
        );
        assert_eq!(out.code, 0, "{out:?}");
        eprintln!(
            "build-base --push-by-digest {platform} took {:?}",
            out.elapsed
        );
        let (printed, digest) = out.stdout.trim().split_once('@').expect("name@digest");
        assert_eq!(printed, name);
        let file = runner
            .root()
            .join(format!("target/xtask/digests/linux-{arch}"));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("{digest}\n")
        );
        // One image of that platform, by digest.
        let raw: serde_json::Value =
            serde_json::from_str(&inspect(&["--raw"], &format!("{name}@{digest}"))).unwrap();
        assert!(raw.get("manifests").is_none() && raw.get("config").is_some());
        let config: serde_json::Value =
            serde_json::from_str(&inspect(&["--config"], &format!("{name}@{digest}"))).unwrap();
        assert_eq!(config["architecture"], arch);
        let labels = &config["config"]["Labels"];
        assert_eq!(labels["org.opencontainers.image.revision"], id.as_str());
        assert_eq!(labels["org.opencontainers.image.version"], tag.as_str());
        assert!(
            !runner
                .root()
                .join("target/xtask/images/python-base.json")
                .exists(),
            "no build record before the merge"
        );
        // The runner smoke-tests its own digest, as build-images.yml does: amd64 runs here;
        // arm64 has no emulator, so nothing could be tested and that is no pass (exit 2).
        let binfmt_dir = binfmt.path().to_str().unwrap();
        let smoke = runner.run(
            &[
                "smoke",
                "--engine",
                "podman",
                "--digests",
                "target/xtask/digests",
            ],
            &[
                ("XTASK_PLATFORMS", platform),
                ("XTASK_BINFMT_DIR", binfmt_dir),
            ],
            None,
        );
        smoke.assert_stderr_has(&format!("smoke test of {name}@{digest}"));
        assert_eq!(smoke.code, if arch == "amd64" { 0 } else { 2 }, "{smoke:?}");
        // The runner's digest file, as its CI artifact; the runner itself goes away.
        let artifact = support::temp_dir(&format!("digest-{arch}"));
        std::fs::copy(&file, artifact.path().join(format!("linux-{arch}"))).unwrap();
        pushed.push((digest.to_string(), arch.to_string(), artifact));
    }
    assert_ne!(pushed[0].0, pushed[1].0);
    // No tag exists until the merge.
    assert_eq!(tag_digest(&tagged), None, "a tag before the merge");

    let merger = Machine::clone_of(&f, "merger");
    assert!(
        merger.images().is_empty(),
        "the merger's store starts empty"
    );
    let (amd, arm) = (pushed[0].0.as_str(), pushed[1].0.as_str());
    let missing = format!("sha256:{}", "0".repeat(64));
    let merge = |dir: &Path| {
        merger.run(
            &[
                "push",
                "--merge",
                dir.to_str().unwrap(),
                "--engine",
                "podman",
            ],
            &[],
            None,
        )
    };
    for (why, files, want) in [
        (
            "a platform missing",
            vec![("linux-amd64", amd)],
            "linux/arm64 is missing (no file linux-arm64)",
        ),
        (
            "a platform twice",
            vec![
                ("a/linux-amd64", amd),
                ("b/linux-amd64", amd),
                ("c/linux-arm64", arm),
            ],
            "linux/amd64 is there more than once",
        ),
        (
            "a digest the registry lacks",
            vec![("linux-amd64", amd), ("linux-arm64", missing.as_str())],
            "the registry has no such digest",
        ),
        (
            "a digest of another platform",
            vec![("linux-amd64", arm), ("linux-arm64", amd)],
            "the image is linux/arm64, but the file names linux/amd64",
        ),
    ] {
        let dir = digest_dir("bad-digests", &files);
        let out = merge(dir.path());
        assert_eq!(out.code, 2, "{why}: {out:?}");
        out.assert_stderr_has(want);
        assert_eq!(tag_digest(&tagged), None, "{why}: a tag was pushed");
    }

    // The merge, from the digest files alone, then scan, sign and mirror on the index digest.
    let dir = support::temp_dir("digests");
    for (_, arch, artifact) in &pushed {
        let sub = dir.path().join(format!("digests-linux-{arch}"));
        std::fs::create_dir(&sub).unwrap();
        let file = format!("linux-{arch}");
        std::fs::copy(artifact.path().join(&file), sub.join(&file)).unwrap();
    }
    // The merge alone: one index, and the merger pulled and built nothing.
    let out = merge(dir.path());
    assert_eq!(out.code, 0, "{out:?}");
    let merged = tag_digest(&tagged).expect("the tag after the merge");
    assert_eq!(out.stdout, format!("{tagged}@{merged}\n"));
    assert!(merger.images().is_empty(), "{:?}", merger.images());

    let cosign = StandIn::new(&[]);
    support::install_script(cosign.bin.path(), "cosign", &cosign_stand_in(3));
    let path = format!(
        "{}:{}",
        cosign.bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let cache = support::temp_dir("trivy-cache");
    let env = cosign.env(&[
        ("COSIGN_PRIVATE_KEY", KEY),
        ("COSIGN_PASSWORD", "merge-pw"),
        ("TRIVY_CACHE_DIR", cache.path().to_str().unwrap()),
        ("XTASK_BINFMT_DIR", binfmt.path().to_str().unwrap()),
    ]);
    let out = merger.run(
        &[
            "release",
            "--engine",
            "podman",
            "--scanners",
            "secret",
            "--mirror",
            "--merge",
            dir.path().to_str().unwrap(),
        ],
        &env,
        Some(&path),
    );
    assert_eq!(out.code, 0, "{out:?}");
    eprintln!("release --merge took {:?}", out.elapsed);
    let index = tag_digest(&tagged).expect("the tag after the merge");
    assert_eq!(
        index, merged,
        "merging the same digests again makes the same index"
    );
    let raw: serde_json::Value = serde_json::from_str(&inspect(&["--raw"], &tagged)).unwrap();
    let mut in_index: Vec<(String, String)> = raw["manifests"]
        .as_array()
        .expect("an index")
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().unwrap().to_string(),
                m["platform"]["architecture"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    in_index.sort();
    let mut want: Vec<(String, String)> = pushed
        .iter()
        .map(|(d, arch, _)| (d.clone(), arch.clone()))
        .collect();
    want.sort();
    assert_eq!(in_index, want, "exactly the two pushed digests");

    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(merger.root().join("target/xtask/images/python-base.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(record["digest"], index.as_str());
    assert_eq!(record["tag"], tag.as_str());
    assert_eq!(record["pushed"], true);
    out.assert_stderr_has(&format!("released: {tagged}@{index}"));
    // Signed and attested by the index digest.
    assert_eq!(cosign.calls(), 2);
    for call in [1, 2] {
        assert_eq!(
            cosign.argv(call).last().unwrap(),
            &format!("{name}@{index}")
        );
    }
    // Scanned: the SBOM describes the index digest.
    let sbom: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(merger.root().join("target/xtask/sbom/python-base.cdx.json"))
            .unwrap(),
    )
    .unwrap();
    let component = sbom["metadata"]["component"]["name"].as_str().unwrap();
    assert!(component.ends_with(&index), "{component}");
    // Mirrored: the backup has the same index under the tag.
    let mirrored = format!("{}/homelab/python-base:{tag}", backup.addr());
    assert_eq!(tag_digest(&mirrored).as_deref(), Some(index.as_str()));
    out.assert_stderr_has("linux/amd64 passed, linux/arm64 NOT RUN");
    drop(primary);
}
