//! Unit tests of doctor's pure core, on inline facts.

use super::*;

fn found(name: &str, version: Option<&str>, usable: bool) -> Found {
    Found {
        name: name.into(),
        path: Some(format!("/usr/bin/{name}")),
        version: version.map(str::to_string),
        usable,
        platforms: vec!["linux/amd64".into()],
        ..Found::default()
    }
}

fn missing(name: &str) -> Found {
    Found {
        name: name.into(),
        ..Found::default()
    }
}

/// Every tool of [`SPECS`], found at a supported version unless listed in `absent`.
fn tools_except(absent: &[&str]) -> Vec<Found> {
    SPECS
        .iter()
        .map(|s| {
            let n = s.tool.name;
            if absent.contains(&n) {
                missing(n)
            } else {
                found(n, Some("5.1.0"), true)
            }
        })
        .collect()
}

fn subs() -> Vec<String> {
    [
        "update-images",
        "build-base",
        "push",
        "trivy-scan",
        "sign",
        "release",
        "lint-manifests",
        "doctor",
    ]
    .map(String::from)
    .to_vec()
}

fn fails(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| c.level == Level::Fail)
        .map(|c| format!("{}: {}", c.subject, c.message))
        .collect()
}

#[test]
fn versions_are_read_from_each_tools_banner() {
    assert_eq!(
        first_version("git version 2.39.5").as_deref(),
        Some("2.39.5")
    );
    assert_eq!(
        first_version("Docker version 28.2.2, build e6534b4").as_deref(),
        Some("28.2.2")
    );
    assert_eq!(
        first_version("podman version 4.3.1").as_deref(),
        Some("4.3.1")
    );
    assert_eq!(
        first_version("Version: 0.59.1\nVulnerability DB:\n  Version: 2").as_deref(),
        Some("0.59.1")
    );
    assert_eq!(
        first_version("  ____\ncosign: A tool\nGitVersion:    v3.1.2\n").as_deref(),
        Some("3.1.2")
    );
    assert_eq!(
        first_version("Client Version: v1.30.0\nKustomize Version: v5.0.4").as_deref(),
        Some("1.30.0")
    );
    assert_eq!(first_version("no digits here"), None);
    let cosign = &SPECS[4];
    assert!(supported("2.5.3", cosign) && supported("3.1.2", cosign));
    assert!(!supported("2.4.1", cosign) && !supported("4.0.0", cosign));
    assert!(supported("0.59.1", &SPECS[5]) && !supported("0.58.9", &SPECS[5]));
}

#[test]
fn a_missing_tool_fails_only_without_an_engine_or_when_for_needs_it() {
    let plat = vec!["linux/amd64".to_string()];
    let checks = tool_checks(
        &tools_except(&["cosign", "trivy", "docker"]),
        None,
        &plat,
        &subs(),
    );
    assert!(fails(&checks).is_empty(), "{:?}", fails(&checks));
    let cosign = checks.iter().find(|c| c.subject == "cosign").unwrap();
    assert_eq!(cosign.level, Level::Warn);
    assert_eq!(cosign.message, "not found (used by sign, release)");
    assert!(cosign.fix.as_deref().unwrap().contains("cosign-installer"));

    let checks = tool_checks(&tools_except(&["cosign"]), Some("sign"), &plat, &subs());
    assert_eq!(
        fails(&checks),
        ["--for sign: `cargo xtask sign` needs cosign"]
    );
    let checks = tool_checks(
        &tools_except(&["kubectl"]),
        Some("lint-manifests"),
        &plat,
        &subs(),
    );
    assert!(fails(&checks).is_empty(), "kustomize is enough");

    let mut no_engine = tools_except(&["podman"]);
    no_engine[1].usable = false; // docker without buildx
    let checks = tool_checks(&no_engine, None, &plat, &subs());
    assert_eq!(fails(&checks).len(), 1);
    assert!(fails(&checks)[0].starts_with("build engine: neither docker with buildx nor podman"));
    assert!(
        checks
            .iter()
            .any(|c| c.subject == "docker buildx" && c.level == Level::Warn)
    );
}

#[test]
fn old_versions_and_missing_builder_platforms_warn_with_a_hint() {
    let mut t = tools_except(&[]);
    t[4].version = Some("2.2.0".into());
    let plat = vec!["linux/amd64".to_string(), "linux/arm64".to_string()];
    let checks = tool_checks(&t, None, &plat, &subs());
    let cosign = checks.iter().find(|c| c.subject == "cosign").unwrap();
    assert_eq!(cosign.level, Level::Warn);
    assert!(
        cosign
            .message
            .starts_with("2.2.0 at /usr/bin/cosign (supported 2.5 to 3.x"),
        "{}",
        cosign.message
    );
    let builder = checks
        .iter()
        .find(|c| c.subject == "docker buildx")
        .unwrap();
    assert_eq!(
        builder.message,
        "the builder lacks linux/arm64 (it has linux/amd64)"
    );
    assert!(builder.fix.as_deref().unwrap().contains("binfmt"));
    assert_eq!(
        builder_platforms("Name: b\nPlatforms: linux/amd64*, linux/arm64, linux/386\n"),
        ["linux/amd64", "linux/arm64", "linux/386"]
    );
}

#[test]
fn used_by_comes_from_the_needs_table() {
    assert_eq!(used_by("trivy", &subs()), ["trivy-scan", "release"]);
    assert_eq!(
        used_by("podman", &subs()),
        ["build-base", "push", "release"]
    );
    assert_eq!(
        used_by("skopeo", &subs()),
        ["push --mirror", "update-images --verify", "doctor"]
    );
}
