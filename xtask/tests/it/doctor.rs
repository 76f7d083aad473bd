//! `cargo xtask doctor` on fixture repos: bad input and the tool verdicts with a controlled
//! PATH, then end to end (XTASK_E2E=1) against two real `docker-registry` instances on 127.0.0.1
//! holding a podman-built FROM scratch image: a healthy pair, the backup down, and a deployed
//! tag that the primary lacks. A missing tool fails the e2e test.

use crate::support::build_push::*;
use crate::support::{self, require};

const DOCKERFILE: &str = "FROM scratch\nCOPY hello.txt /hello.txt\nUSER 65532\n";
const KUSTOMIZATION: &str = "k8s-apps/iot-stack/kustomization.yaml";

fn json(out: &Outcome) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

/// (level, area, subject, message) of every check.
fn checks(out: &Outcome) -> Vec<(String, String, String, String)> {
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_string();
    json(out)["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                s(&c["level"]),
                s(&c["area"]),
                s(&c["subject"]),
                s(&c["message"]),
            )
        })
        .collect()
}

#[test]
fn doctor_refuses_an_unknown_for() {
    let f = Fixture::new("doctor-for", "", DOCKERFILE);
    let out = xtask(
        f.root(),
        &["doctor", "--offline", "--for", "deploy"],
        &[],
        None,
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("--for deploy: not a subcommand; one of update-images, test,");
}

#[test]
fn doctor_without_any_engine_fails_and_names_every_missing_tool() {
    let f = Fixture::new("doctor-tools", "", DOCKERFILE);
    f.write(
        KUSTOMIZATION,
        "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-522a89c\n",
    );
    let empty = temp_dir("empty-path");
    let path = empty.path().to_str().unwrap();
    let out = xtask(
        f.root(),
        &["doctor", "--offline", "--format", "json"],
        &[],
        Some(path),
    );
    assert_eq!(out.code, 1, "{out:?}");
    let all = checks(&out);
    let fails: Vec<_> = all.iter().filter(|c| c.0 == "fail").collect();
    assert_eq!(fails.len(), 1, "{all:?}");
    assert_eq!(fails[0].2, "build engine");
    for tool in [
        "git",
        "docker",
        "podman",
        "skopeo",
        "cosign",
        "trivy",
        "kubectl",
        "kustomize",
    ] {
        assert!(
            all.iter()
                .any(|c| c.0 == "warn" && c.2 == tool && c.3.starts_with("not found (used by")),
            "{tool}: {all:?}"
        );
    }
    assert!(
        all.iter().any(|c| c.1 == "registry" && c.0 == "skip"),
        "--offline skips the network"
    );
    assert_eq!(json(&out)["deployed"][0]["tag"], "sha-522a89c");
    assert_eq!(json(&out)["ok"], false);
    out.assert_stderr_has("doctor: 1 problem(s)");
}

/// A folder without Cargo.toml: doctor says the defaults are used (never that Cargo.toml
/// "parses"), and Argo CD deploying nothing of ours is a problem (exit 1), with the fix.
#[test]
fn doctor_without_cargo_toml_or_deployed_tag_says_so_and_fails() {
    let dir = temp_dir("doctor-bare");
    // Outside a git repository: a sentence, not libgit2's class and code.
    let outside = xtask(dir.path(), &["doctor", "--offline"], &[], None);
    assert_eq!(outside.code, 2, "{outside:?}");
    outside.assert_stderr_has("is not inside a git repository; pass --root DIR");
    assert!(!outside.stderr.contains("class="), "{}", outside.stderr);
    let root = dir.path().to_str().unwrap();
    let out = xtask(
        dir.path(),
        &["--root", root, "doctor", "--offline", "--format", "json"],
        &[],
        None,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let all = checks(&out);
    assert!(!all.iter().any(|c| c.3 == "parses"), "{all:?}");
    assert!(
        all.iter().any(|c| c.0 == "warn"
            && c.2 == "Cargo.toml"
            && c.3.starts_with("no Cargo.toml in ")
            && c.3.ends_with(": the built-in defaults are used")),
        "{all:?}"
    );
    assert!(
        all.iter().any(|c| c.0 == "fail"
            && c.1 == "deploy"
            && c.3.ends_with("Argo CD deploys nothing of ours")),
        "{all:?}"
    );
    let human = xtask(
        dir.path(),
        &["--root", root, "doctor", "--offline"],
        &[],
        None,
    );
    assert_eq!(human.code, 1, "{human:?}");
    human.assert_stderr_has_all(&[
        "run from the repo's root (or pass --root DIR)",
        "fix: add an images: entry naming ghcr.io/dcasati/python-base with its newTag",
    ]);
    assert!(
        !human
            .stderr
            .contains("fix the path in [workspace.metadata.xtask] of Cargo.toml")
    );
}

#[test]
fn doctor_says_per_platform_whether_smoke_can_run_it_here() {
    let f = Fixture::new("doctor-smoke", "", DOCKERFILE);
    let smoke = |binfmt: &std::path::Path| {
        let env = [("XTASK_BINFMT_DIR", binfmt.to_str().unwrap())];
        let out = xtask(
            f.root(),
            &["doctor", "--offline", "--format", "json"],
            &env,
            None,
        );
        checks(&out)
            .into_iter()
            .filter(|(_, area, _, _)| area == "smoke")
            .map(|(level, _, subject, message)| (level, subject, message))
            .collect::<Vec<_>>()
    };
    // This machine's own platform is native; the other has no emulator in an empty folder.
    let host = match std::env::consts::ARCH {
        "aarch64" => ("linux/arm64", "linux/amd64", "qemu-x86_64"),
        _ => ("linux/amd64", "linux/arm64", "qemu-aarch64"),
    };
    let (native, other, handler) = host;
    let none = support::temp_dir("binfmt-none");
    let found = smoke(none.path());
    assert_eq!(found.len(), 2, "{found:?}");
    let line = |p: &str| found.iter().find(|(_, s, _)| s == p).unwrap().clone();
    assert_eq!(
        line(native),
        (
            "ok".into(),
            native.into(),
            "`cargo xtask smoke` runs it here: native".into()
        )
    );
    let (level, _, message) = line(other);
    assert_eq!(level, "warn");
    assert!(
        message.contains(&format!("no binfmt_misc handler {handler}")),
        "{message}"
    );
    let qemu = support::temp_dir("binfmt-qemu");
    std::fs::write(qemu.path().join(handler), "enabled\nflags: OCF\n").unwrap();
    let found = smoke(qemu.path());
    assert!(
        found.contains(&(
            "ok".into(),
            other.into(),
            format!("`cargo xtask smoke` runs it here: emulated ({handler})")
        )),
        "{found:?}"
    );
}

#[test]
fn doctor_refuses_a_settings_path_outside_the_repo_naming_it() {
    let f = Fixture::new(
        "doctor-settings",
        "manifests = \"../elsewhere\"\n",
        DOCKERFILE,
    );
    std::fs::create_dir_all(f.root().join("../elsewhere")).unwrap();
    let out = xtask(
        f.root(),
        &["doctor", "--offline", "--format", "json"],
        &[],
        None,
    );
    // Settings are loaded before any subcommand runs: a path outside the repo is bad input
    // (exit 2) for doctor as for every other subcommand, and the message names the setting.
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    out.assert_stderr_has("manifests `../elsewhere` resolves outside the repository");
}

/// Two real registries on 127.0.0.1, and a podman-built FROM scratch image (both platforms)
/// pushed to the primary and mirrored to the backup; the kustomization deploys its tag.
struct Pair {
    primary: Registry,
    backup: Registry,
    podman: Podman,
    f: Fixture,
    tag: String,
    digest: String,
}

impl Pair {
    fn pushed(name: &str) -> Pair {
        for program in ["podman", "skopeo", "docker-registry"] {
            require(program);
        }
        let (primary, backup, settings) = registry_pair(name);
        let f = Fixture::new(name, &settings, DOCKERFILE);
        f.write(&format!("{CONTEXT}/hello.txt"), "hello\n");
        let id = f.commit("base image");
        let mut pair = Pair {
            primary,
            backup,
            podman: Podman::new(),
            f,
            tag: format!("sha-{}", &id[..7]),
            digest: String::new(),
        };
        pair.deploy(&pair.tag.clone());
        let out = pair.run(&["build-base", "--engine", "podman", "--push"]);
        assert_eq!(out.code, 0, "{out:?}");
        pair.digest = out.stdout.trim().split_once('@').unwrap().1.to_string();
        let out = pair.run(&["push", "--mirror"]);
        assert_eq!(out.code, 0, "{out:?}");
        pair
    }

    fn deploy(&self, tag: &str) {
        self.f.write(
            KUSTOMIZATION,
            format!(
                "resources: []\nimages:\n  - name: {}/homelab/python-base\n    newTag: {tag}\n",
                self.primary.addr()
            ),
        );
    }

    /// `cargo xtask ARGS` with this pair's podman storage.
    fn run(&self, args: &[&str]) -> Outcome {
        let env = self.podman.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        xtask(self.f.root(), args, &env, None)
    }
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_doctor_healthy_backup_down_and_tag_missing() {
    let mut pair = Pair::pushed("doctor-e2e");
    let (tag, digest) = (pair.tag.clone(), pair.digest.clone());

    // Healthy: both registries answer, the tag is in both under one digest, both platforms.
    let out = pair.run(&["doctor", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let all = checks(&out);
    let primary_ref = format!("{}/homelab/python-base:{tag}", pair.primary.addr());
    let backup_ref = format!("{}/homelab/python-base:{tag}", pair.backup.addr());
    for (subject, message) in [
        (
            format!("{}/homelab", pair.primary.addr()),
            "the primary registry answers".to_string(),
        ),
        (
            format!("{}/homelab", pair.backup.addr()),
            "the backup registry answers".to_string(),
        ),
        (
            primary_ref.clone(),
            format!("in the primary as {digest} (deployed by {KUSTOMIZATION}:4)"),
        ),
        (backup_ref.clone(), format!("in the backup as {digest}")),
        (
            primary_ref.clone(),
            "carries linux/amd64, linux/arm64".to_string(),
        ),
    ] {
        assert!(
            all.iter()
                .any(|c| c.0 == "ok" && c.2 == subject && c.3 == message),
            "no ok `{subject}: {message}` in {all:#?}"
        );
    }
    assert_eq!(json(&out)["ok"], true);

    // The deployed tag is missing from the primary (and so from the backup).
    pair.deploy("sha-1234567");
    let out = pair.run(&["doctor"]);
    assert_eq!(out.code, 1, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!("{KUSTOMIZATION}:4 deploys {}/homelab/python-base:sha-1234567, which is not in the primary registry", pair.primary.addr()),
        "fix: cargo xtask release (builds the context's latest commit), or cargo xtask build-base --sha 1234567 --push",
        "is not in the backup registry",
        "fix: cargo xtask push --mirror --sha 1234567",
    ]);

    // The backup is down: named with its address, and how to start it.
    pair.deploy(&tag);
    pair.backup.stop();
    let out = pair.run(&["doctor"]);
    assert_eq!(out.code, 1, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!(
            "the backup registry: nothing listens at {} (connection refused): the backup \
             registry is not running: ",
            pair.backup.addr()
        ),
        &format!(
            "fix: start the MicroK8s registry that serves {}",
            pair.backup.addr()
        ),
        "`microk8s enable registry`",
        &format!("in the primary as {digest}"),
    ]);

    // --offline: no network check, and nothing wrong.
    let out = pair.run(&["doctor", "--offline"]);
    assert_eq!(out.code, 0, "{out:?}");
}

/// A recording stand-in for `cosign` (it cannot be installed here), as strict as cosign v2.5.3's
/// `tree` (cmd/cosign/cli/tree.go, options/tree.go, options/registry.go): only its flags, exactly
/// one image argument; `version` answers v2.5.3. Its argv goes to `$FAKE_COSIGN_RECORD`; `tree`
/// prints a legacy signature tag when `FAKE_COSIGN_SIGNED=1`, else cosign's "nothing found".
const FAKE_COSIGN: &str = r#"#!/bin/sh
printf '%s\n' "$@" >> "$FAKE_COSIGN_RECORD"
echo -- >> "$FAKE_COSIGN_RECORD"
case "$1" in
version) printf 'GitVersion:    v2.5.3\nGitCommit:     fake\n'; exit 0 ;;
tree) shift ;;
*) echo "Error: unknown command \"$1\" for \"cosign\"" >&2; exit 1 ;;
esac
image=""; n=0
while [ $# -gt 0 ]; do
  case "$1" in
  --experimental-oci11|--allow-insecure-registry|--allow-http-registry|--k8s-keychain) ;;
  --experimental-oci11=*|--allow-insecure-registry=*|--allow-http-registry=*) ;;
  --registry-username|--registry-password|--registry-token|--registry-cacert|--registry-client-cert|--registry-client-key|--registry-server-name|--registry-referrers-mode|--attachment-tag-prefix) shift ;;
  -*) echo "Error: unknown flag: $1" >&2; exit 1 ;;
  *) image="$1"; n=$((n + 1)) ;;
  esac
  shift
done
if [ "$n" -ne 1 ]; then echo "Error: accepts 1 arg(s), received $n" >&2; exit 1; fi
echo "📦 Supply Chain Security Related artifacts for an image: $image"
if [ "$FAKE_COSIGN_SIGNED" = 1 ]; then
  echo "└── 🔐 Signatures for an image tag: ${image%@*}:sha256-0000.sig"
  echo "   └── 🍒 sha256:1111"
else
  printf 'No Supply Chain Security Related Artifacts found for image %s,\n start creating one with simply running$ cosign sign <img>' "$image"
fi
"#;

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_doctor_recorded_cosign_tree_signed_and_unsigned() {
    let pair = Pair::pushed("doctor-cosign");
    let bin = temp_dir("cosign-bin");
    support::install_script(bin.path(), "cosign", FAKE_COSIGN);
    let record = bin.path().join("record");
    let with = |signed: &str| {
        let mut env = pair.podman.env();
        let path = std::env::var("PATH").unwrap_or_default();
        env.push(("PATH", format!("{}:{path}", bin.path().display())));
        env.push(("FAKE_COSIGN_RECORD", record.display().to_string()));
        env.push(("FAKE_COSIGN_SIGNED", signed.to_string()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        xtask(pair.f.root(), &["doctor"], &env, None)
    };
    let primary_ref = format!("{}/homelab/python-base", pair.primary.addr());

    let out = with("1");
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has_all(&[
        "ok    tools     cosign: 2.5.3 at ",
        &format!(
            "ok    deploy    {primary_ref}:{}: has a cosign signature",
            pair.tag
        ),
    ]);
    let calls = std::fs::read_to_string(&record).unwrap();
    let tree = format!(
        "tree\n--experimental-oci11\n--allow-insecure-registry\n{primary_ref}@{}\n--\n",
        pair.digest
    );
    assert!(
        calls.starts_with("version\n--\n") && calls.ends_with(&tree),
        "{calls}"
    );

    let out = with("0");
    assert_eq!(out.code, 1, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!(
            "FAIL  deploy    {primary_ref}:{}: has no cosign signature: Image Updater (imagesVerification) will not move to it",
            pair.tag
        ),
        &format!("fix: cargo xtask sign --sha {}", &pair.tag[4..]),
    ]);
}

/// `ci` with the password `s3cret` (bcrypt, cost 4): a throwaway test credential.
const HTPASSWD: &str = "ci:$2b$04$okwS3mULBihJxt2OR7CR6uyT5faqjYTZtUiR2..nVGX7eik/A14b2";

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_doctor_names_how_to_log_in_when_the_registry_refuses() {
    for program in ["skopeo", "docker-registry"] {
        require(program);
    }
    let primary = Registry::start_with_auth("doctor-auth-primary", HTPASSWD);
    let backup = Registry::start("doctor-auth-backup");
    let settings = format!(
        "registry = \"{}/homelab\"\nbackup-registry = \"{}/homelab\"\n",
        primary.addr(),
        backup.addr()
    );
    let f = Fixture::new("doctor-auth", &settings, DOCKERFILE);
    f.write(
        KUSTOMIZATION,
        format!(
            "images:\n  - name: {}/homelab/python-base\n    newTag: sha-1234567\n",
            primary.addr()
        ),
    );
    let out = xtask(f.root(), &["doctor"], &[], None);
    assert_eq!(out.code, 1, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!(
            "FAIL  registry  {0}/homelab: the primary registry: {0} refused us (401/403: not \
             logged in, or the token lacks access): ",
            primary.addr()
        ),
        "unauthorized: authentication required",
        &format!(
            "fix: log in: pass --login (token from REGISTRY_TOKEN on stdin), or `echo \"$REGISTRY_TOKEN\" | docker login {} -u USER --password-stdin`",
            primary.addr()
        ),
        &format!(
            "ok    registry  {}/homelab: the backup registry answers",
            backup.addr()
        ),
    ]);
    assert!(
        !out.stderr.contains("not in the primary registry"),
        "a refused read is not a missing tag: {}",
        out.stderr
    );
}
