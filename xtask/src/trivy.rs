//! trivy: the argv of every scan `trivy-scan` runs, the parser that turns trivy's
//! `--format json` report into our normalized [`Finding`]s, and the human summary.
//!
//! Secrets found by `--scanners secret` are kept as rule id, file and line only: the parser
//! never reads trivy's `Match` or `Code`, so a secret's value cannot reach our output.

use crate::exec::{Cmd, Secret};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// trivy's severities, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "UPPERCASE")]
#[value(rename_all = "UPPER")]
pub enum Severity {
    #[value(skip)]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// trivy's spelling; anything else is `Unknown`.
    pub fn parse(s: &str) -> Severity {
        match s {
            "LOW" => Severity::Low,
            "MEDIUM" => Severity::Medium,
            "HIGH" => Severity::High,
            "CRITICAL" => Severity::Critical,
            _ => Severity::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Highest first, as the summary lists them.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Vulnerability,
    Misconfiguration,
    Secret,
}

/// What `trivy image` looks for, with trivy's own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Scanner {
    /// Known vulnerabilities of the installed packages (needs the vulnerability DB).
    Vuln,
    /// Secrets in the image's files (no DB needed).
    Secret,
}

impl Scanner {
    pub fn name(self) -> &'static str {
        match self {
            Scanner::Vuln => "vuln",
            Scanner::Secret => "secret",
        }
    }
}

/// One finding, the same shape whatever the scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// `CVE-2024-1234`, `KSV017`, `github-pat`.
    pub id: String,
    pub severity: Severity,
    /// The file (config, secret) or trivy's target (vulnerabilities: the OS or lock file).
    pub target: String,
    /// 1-based line in `target`, when trivy gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The platform of a multi-platform image this was found in (`linux/arm64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

impl Finding {
    /// `file:line`, or the target alone.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.target),
            None => self.target.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Report {
    #[serde(default)]
    results: Option<Vec<TargetResult>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetResult {
    target: String,
    #[serde(default)]
    vulnerabilities: Option<Vec<Vulnerability>>,
    #[serde(default)]
    misconfigurations: Option<Vec<Misconfiguration>>,
    #[serde(default)]
    secrets: Option<Vec<SecretFinding>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    id: String,
    pkg_name: String,
    #[serde(default)]
    installed_version: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    severity: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Misconfiguration {
    #[serde(rename = "ID")]
    id: String,
    severity: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    cause_metadata: Option<Cause>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Cause {
    #[serde(default)]
    start_line: Option<u32>,
}

/// Only the fields that say where and what; `Match` and `Code` (the secret itself, even when
/// trivy masks it) are never read.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretFinding {
    #[serde(rename = "RuleID")]
    rule_id: String,
    severity: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    start_line: Option<u32>,
}

/// The findings of a `trivy … --format json` report, highest severity first. Misconfigurations
/// count only when they failed (`Status` FAIL, or no status).
pub fn parse_report(json: &str) -> Result<Vec<Finding>> {
    let report: Report = serde_json::from_str(json).context("trivy's JSON report")?;
    let mut findings = Vec::new();
    for result in report.results.unwrap_or_default() {
        let target = result.target;
        for v in result.vulnerabilities.unwrap_or_default() {
            findings.push(Finding {
                kind: Kind::Vulnerability,
                severity: Severity::parse(&v.severity),
                target: target.clone(),
                line: None,
                title: v.title.unwrap_or_default(),
                package: Some(v.pkg_name),
                installed: v.installed_version.filter(|s| !s.is_empty()),
                fixed: v.fixed_version.filter(|s| !s.is_empty()),
                platform: None,
                id: v.id,
            });
        }
        for m in result.misconfigurations.unwrap_or_default() {
            if m.status.as_deref().is_some_and(|s| s != "FAIL") {
                continue;
            }
            findings.push(Finding {
                kind: Kind::Misconfiguration,
                severity: Severity::parse(&m.severity),
                target: target.clone(),
                line: m
                    .cause_metadata
                    .and_then(|c| c.start_line)
                    .filter(|&l| l > 0),
                title: m.message.or(m.title).unwrap_or_default(),
                package: None,
                installed: None,
                fixed: None,
                platform: None,
                id: m.id,
            });
        }
        for s in result.secrets.unwrap_or_default() {
            findings.push(Finding {
                kind: Kind::Secret,
                severity: Severity::parse(&s.severity),
                target: target.clone(),
                line: s.start_line.filter(|&l| l > 0),
                title: s.title.unwrap_or_default(),
                package: None,
                installed: None,
                fixed: None,
                platform: None,
                id: s.rule_id,
            });
        }
    }
    findings.sort_by(|a, b| {
        (b.severity, &a.target, a.line, &a.id).cmp(&(a.severity, &b.target, b.line, &b.id))
    });
    Ok(findings)
}

/// How many findings of each severity.
pub fn counts(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut counts: BTreeMap<Severity, usize> = Severity::ALL.iter().map(|&s| (s, 0)).collect();
    for f in findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    counts
}

/// The findings at or above `threshold`.
pub fn over(findings: &[Finding], threshold: Severity) -> usize {
    findings.iter().filter(|f| f.severity >= threshold).count()
}

/// trivy's log lines (`TIME\tLEVEL\tmessage`) with their tab columns as two spaces, so that an
/// error quoting them reads as trivy printed it, not with escaped `\t`.
pub fn log_text(stderr: &str) -> String {
    stderr.replace('\t', "  ")
}

/// Does trivy's stderr say that it has no vulnerability database and could not get one?
pub fn db_missing(stderr: &str) -> bool {
    [
        "first run cannot skip downloading DB",
        "cannot be specified on the first run",
        "failed to download vulnerability DB",
        "DB error",
    ]
    .iter()
    .any(|needle| stderr.contains(needle))
}

/// What every scan shares: the cache folder, and whether trivy may touch the network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub cache_dir: Option<String>,
    /// Use the cached vulnerability DB only and make no API calls.
    pub offline: bool,
    /// The repo's `.trivyignore`, passed to every scan (`--ignorefile`), when there is one.
    pub ignorefile: Option<String>,
}

/// Registry access for image scans: plain HTTP/unverified TLS, and credentials (in the child's
/// environment, never argv).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    pub insecure: bool,
    pub login: Option<(String, Secret)>,
}

fn trivy(subcommand: &str, opts: &Options) -> Cmd {
    let mut cmd = Cmd::new("trivy").args([subcommand, "--quiet"]);
    if let Some(dir) = &opts.cache_dir {
        cmd = cmd.args(["--cache-dir", dir]);
    }
    if let Some(file) = &opts.ignorefile {
        cmd = cmd.args(["--ignorefile", file]);
    }
    cmd
}

fn offline(cmd: Cmd, opts: &Options) -> Cmd {
    if opts.offline {
        cmd.args([
            "--skip-db-update",
            "--skip-java-db-update",
            "--offline-scan",
        ])
    } else {
        cmd
    }
}

fn with_registry(mut cmd: Cmd, registry: &Registry) -> Cmd {
    if registry.insecure {
        cmd = cmd.arg("--insecure");
    }
    if let Some((user, password)) = &registry.login {
        cmd = cmd
            .env("TRIVY_USERNAME", user.as_str())
            .env_secret("TRIVY_PASSWORD", password.clone());
    }
    cmd
}

/// One `trivy image` run: which scanners, and which platform of a multi-platform image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScan<'a> {
    /// `name@sha256:…` (the index digest for a multi-platform image) or `name:tag`.
    pub reference: &'a str,
    pub scanners: &'a [Scanner],
    /// `os/arch[/variant]` of the index to scan; `None`: trivy's pick (one platform).
    pub platform: Option<&'a str>,
    /// Leave out vulnerabilities without a fixed version (`--ignore-unfixed`, vuln only).
    pub ignore_unfixed: bool,
}

/// `trivy image --format json --scanners LIST [--platform P] [--ignore-unfixed] REF`. Every
/// severity is reported; the threshold is applied by the caller so that the summary counts
/// them all.
pub fn image_scan(scan: &ImageScan, registry: &Registry, opts: &Options) -> Cmd {
    let scanners: Vec<&str> = scan.scanners.iter().map(|s| s.name()).collect();
    let mut cmd =
        trivy("image", opts).args(["--format", "json", "--scanners", &scanners.join(",")]);
    if let Some(platform) = scan.platform {
        cmd = cmd.args(["--platform", platform]);
    }
    if scan.ignore_unfixed && scan.scanners.contains(&Scanner::Vuln) {
        cmd = cmd.arg("--ignore-unfixed");
    }
    with_registry(offline(cmd, opts), registry).arg(scan.reference)
}

/// `trivy config --format json DIR` with the checks built into this trivy release
/// (`--skip-check-update`), so results depend on the pinned trivy only.
pub fn config_scan(dir: &Path, opts: &Options) -> Cmd {
    trivy("config", opts)
        .args(["--format", "json", "--skip-check-update"])
        .arg(dir.display().to_string())
}

/// `trivy fs --scanners secret DIR`, skipping build output and installed packages.
pub fn secret_scan(dir: &Path, opts: &Options) -> Cmd {
    trivy("fs", opts)
        .args(["--format", "json", "--scanners", "secret"])
        .args(["--skip-dirs", "**/target", "--skip-dirs", "**/node_modules"])
        .arg(dir.display().to_string())
}

/// A CycloneDX SBOM of a directory (the build context): `trivy fs --format cyclonedx`. It
/// lists packages from lock and requirements files and needs no vulnerability DB.
pub fn sbom_dir(dir: &Path, output: &Path, opts: &Options) -> Cmd {
    let cmd = trivy("fs", opts)
        .args(["--format", "cyclonedx", "--output"])
        .arg(output.display().to_string());
    let cmd = if opts.offline {
        cmd.arg("--offline-scan")
    } else {
        cmd
    };
    cmd.arg(dir.display().to_string())
}

/// A CycloneDX SBOM of an image: `trivy image --format cyclonedx [--platform P]`. Of an index
/// digest, trivy describes one platform's packages (`P`, else the host's) under the index's
/// name and digest.
pub fn sbom_image(
    reference: &str,
    platform: Option<&str>,
    output: &Path,
    registry: &Registry,
    opts: &Options,
) -> Cmd {
    let mut cmd = trivy("image", opts)
        .args(["--format", "cyclonedx", "--output"])
        .arg(output.display().to_string());
    if let Some(platform) = platform {
        cmd = cmd.args(["--platform", platform]);
    }
    with_registry(offline(cmd, opts), registry).arg(reference)
}

/// Checks that `json` is a CycloneDX document and returns how many components it lists.
pub fn check_cyclonedx(json: &str) -> Result<usize> {
    let doc: serde_json::Value = serde_json::from_str(json).context("the SBOM is not JSON")?;
    if doc["bomFormat"] != "CycloneDX" {
        anyhow::bail!("the SBOM has no \"bomFormat\": \"CycloneDX\"");
    }
    Ok(doc["components"].as_array().map_or(0, Vec::len))
}

/// Checks a `.trivyignore`: every ignored ID must sit under a `# reason` comment (a comment
/// line, then the IDs it explains, up to a blank line). Returns the IDs.
pub fn check_ignorefile(name: &str, text: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut reason = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            reason = false;
        } else if line.starts_with('#') {
            reason = true;
        } else if !reason {
            anyhow::bail!(
                "{name}:{}: `{line}` is ignored without a reason: put a `# why it is safe` \
                 comment on the line above it",
                n + 1
            );
        } else {
            ids.push(line.split_whitespace().next().unwrap_or(line).to_string());
        }
    }
    Ok(ids)
}

/// The human summary: one block per scan with counts per severity and the top findings.
pub fn summary(label: &str, findings: &[Finding], threshold: Severity, top: usize) -> String {
    let mut out = format!("{label}: {} finding(s)\n", findings.len());
    let counts = counts(findings);
    let line: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", s.name(), counts[s]))
        .collect();
    out.push_str(&format!("  {}\n", line.join("  ")));
    for f in findings.iter().take(top) {
        let what = match (&f.package, &f.installed, &f.fixed) {
            (Some(p), Some(i), Some(x)) => format!("{p} {i} (fixed in {x}) {}", f.title),
            (Some(p), Some(i), None) => format!("{p} {i} (no fix) {}", f.title),
            _ => f.title.clone(),
        };
        let platform = f
            .platform
            .as_deref()
            .map_or(String::new(), |p| format!(" [{p}]"));
        out.push_str(&format!(
            "  {:<8} {:<16} {}{platform}  {}\n",
            f.severity.name(),
            f.id,
            f.location(),
            what.trim_end()
        ));
    }
    if findings.len() > top {
        out.push_str(&format!("  … and {} more\n", findings.len() - top));
    }
    let n = over(findings, threshold);
    out.push_str(&format!(
        "  {n} at or above {}{}\n",
        threshold.name(),
        if n > 0 { ": FAIL" } else { "" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_turns_tab_columns_into_spaces() {
        assert_eq!(
            log_text("2026-12-07T08:00:00Z\tFATAL\tFatal error\tinit error"),
            "2026-12-07T08:00:00Z  FATAL  Fatal error  init error"
        );
    }

    const CONFIG: &str = r#"{
      "SchemaVersion": 2,
      "ArtifactName": "k8s-apps",
      "Results": [
        {"Target": "deploy.yaml", "Class": "config", "Type": "kubernetes",
         "MisconfSummary": {"Successes": 80, "Failures": 2},
         "Misconfigurations": [
           {"Type": "Kubernetes Security Check", "ID": "KSV011", "AVDID": "AVD-KSV-0011",
            "Title": "CPU not limited", "Message": "Container 'bad' should set 'resources.limits.cpu'",
            "Severity": "LOW", "Status": "FAIL",
            "CauseMetadata": {"Provider": "Kubernetes", "StartLine": 14, "EndLine": 17}},
           {"Type": "Kubernetes Security Check", "ID": "KSV017", "AVDID": "AVD-KSV-0017",
            "Title": "Privileged container",
            "Message": "Container 'bad' of Deployment 'bad' should set 'securityContext.privileged' to false",
            "Severity": "HIGH", "Status": "FAIL",
            "CauseMetadata": {"Provider": "Kubernetes", "StartLine": 14, "EndLine": 17}},
           {"ID": "KSV001", "Severity": "MEDIUM", "Status": "PASS", "Message": "ok"}
         ]},
        {"Target": "clean.yaml", "Class": "config", "Type": "kubernetes"}
      ]
    }"#;

    #[test]
    fn config_findings_keep_file_line_and_skip_passes() {
        let findings = parse_report(CONFIG).unwrap();
        let ids: Vec<(&str, Severity, String)> = findings
            .iter()
            .map(|f| (f.id.as_str(), f.severity, f.location()))
            .collect();
        assert_eq!(
            ids,
            [
                ("KSV017", Severity::High, "deploy.yaml:14".to_string()),
                ("KSV011", Severity::Low, "deploy.yaml:14".to_string()),
            ]
        );
        assert_eq!(findings[0].kind, Kind::Misconfiguration);
        assert!(findings[0].title.contains("securityContext.privileged"));
        assert_eq!(over(&findings, Severity::High), 1);
        assert_eq!(over(&findings, Severity::Critical), 0);
        assert_eq!(over(&findings, Severity::Low), 2);
    }

    #[test]
    fn vulnerabilities_carry_package_versions() {
        let json = r#"{"Results": [
          {"Target": "ghcr.io/dcasati/python-base@sha256:aa (debian 12.8)", "Class": "os-pkgs",
           "Vulnerabilities": [
             {"VulnerabilityID": "CVE-2024-0001", "PkgName": "openssl",
              "InstalledVersion": "3.0.15-1", "FixedVersion": "3.0.16-1",
              "Severity": "CRITICAL", "Title": "openssl: bad"},
             {"VulnerabilityID": "CVE-2024-0002", "PkgName": "zlib1g",
              "InstalledVersion": "1:1.2.13", "Severity": "SOMETHING"}
           ]},
          {"Target": "Python", "Class": "lang-pkgs", "Vulnerabilities": null}
        ]}"#;
        let findings = parse_report(json).unwrap();
        assert_eq!(findings.len(), 2);
        let f = &findings[0];
        assert_eq!(
            (f.id.as_str(), f.severity, f.package.as_deref()),
            ("CVE-2024-0001", Severity::Critical, Some("openssl"))
        );
        assert_eq!(
            (f.installed.as_deref(), f.fixed.as_deref()),
            (Some("3.0.15-1"), Some("3.0.16-1"))
        );
        assert_eq!(findings[1].severity, Severity::Unknown);
        assert_eq!(findings[1].fixed, None);
        let json = serde_json::to_value(f).unwrap();
        assert_eq!(json["severity"], "CRITICAL");
        assert_eq!(json["kind"], "vulnerability");
        assert!(json.get("line").is_none());
    }

    #[test]
    fn secrets_never_carry_the_match() {
        let json = r#"{"Results": [{"Target": "app/config.py", "Class": "secret",
          "Secrets": [{"RuleID": "github-pat", "Category": "GitHub", "Severity": "CRITICAL",
            "Title": "GitHub Personal Access Token", "StartLine": 3, "EndLine": 3,
            "Code": {"Lines": [{"Number": 3, "Content": "token = \"ghp_REALVALUE\""}]},
            "Match": "token = \"ghp_REALVALUE\""}]}]}"#;
        let findings = parse_report(json).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].location(), "app/config.py:3");
        assert_eq!(findings[0].id, "github-pat");
        let printed = format!(
            "{}{}",
            serde_json::to_string(&findings).unwrap(),
            summary("secrets", &findings, Severity::High, 10)
        );
        assert!(!printed.contains("REALVALUE"), "{printed}");
    }

    #[test]
    fn empty_and_bad_reports() {
        assert_eq!(parse_report(r#"{"SchemaVersion": 2}"#).unwrap(), []);
        assert_eq!(parse_report(r#"{"Results": null}"#).unwrap(), []);
        let err = parse_report("FATAL oops").unwrap_err();
        assert!(
            format!("{err:#}").contains("trivy's JSON report"),
            "{err:#}"
        );
    }

    #[test]
    fn summary_counts_every_severity_and_says_fail() {
        let findings = parse_report(CONFIG).unwrap();
        let text = summary("trivy config k8s-apps", &findings, Severity::High, 1);
        assert_eq!(
            text,
            "trivy config k8s-apps: 2 finding(s)\n\
             \x20 CRITICAL 0  HIGH 1  MEDIUM 0  LOW 1  UNKNOWN 0\n\
             \x20 HIGH     KSV017           deploy.yaml:14  Container 'bad' of Deployment 'bad' should set 'securityContext.privileged' to false\n\
             \x20 … and 1 more\n\
             \x20 1 at or above HIGH: FAIL\n"
        );
        let clean = summary("x", &[], Severity::Low, 10);
        assert!(clean.ends_with("  0 at or above LOW\n"), "{clean}");
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.name()), s);
        }
        use clap::ValueEnum;
        assert_eq!(Severity::from_str("high", true), Ok(Severity::High));
        assert!(Severity::from_str("UNKNOWN", true).is_err());
    }

    fn opts() -> Options {
        Options {
            cache_dir: Some("/tmp/c".into()),
            offline: false,
            ignorefile: None,
        }
    }

    #[test]
    fn image_scan_argv_and_credentials_in_env() {
        let registry = Registry {
            insecure: true,
            login: Some((
                "dcasati".into(),
                Secret::new("GITHUB_TOKEN", "ghp_s3cret".into()),
            )),
        };
        let offline = Options {
            offline: true,
            ..opts()
        };
        let scan = ImageScan {
            reference: "127.0.0.1:5000/x@sha256:ab",
            scanners: &[Scanner::Vuln, Scanner::Secret],
            platform: Some("linux/arm64"),
            ignore_unfixed: true,
        };
        let cmd = image_scan(&scan, &registry, &offline);
        assert_eq!(
            cmd.argv(),
            [
                "trivy",
                "image",
                "--quiet",
                "--cache-dir",
                "/tmp/c",
                "--format",
                "json",
                "--scanners",
                "vuln,secret",
                "--platform",
                "linux/arm64",
                "--ignore-unfixed",
                "--skip-db-update",
                "--skip-java-db-update",
                "--offline-scan",
                "--insecure",
                "127.0.0.1:5000/x@sha256:ab"
            ]
        );
        let line = cmd.to_string();
        assert!(
            line.starts_with("TRIVY_USERNAME=dcasati TRIVY_PASSWORD=\"$GITHUB_TOKEN\" trivy"),
            "{line}"
        );
        assert!(!format!("{line}{cmd:?}").contains("s3cret"));
        let secrets_only = ImageScan {
            reference: "ghcr.io/a/b:t",
            scanners: &[Scanner::Secret],
            platform: None,
            ignore_unfixed: true,
        };
        let ignore = Options {
            ignorefile: Some("/r/.trivyignore".into()),
            ..Options::default()
        };
        let plain = image_scan(&secrets_only, &Registry::default(), &ignore);
        assert_eq!(
            plain.argv(),
            [
                "trivy",
                "image",
                "--quiet",
                "--ignorefile",
                "/r/.trivyignore",
                "--format",
                "json",
                "--scanners",
                "secret",
                "ghcr.io/a/b:t"
            ]
        );
        assert!(plain.env.is_empty());
    }

    #[test]
    fn config_secret_and_sbom_argv() {
        assert_eq!(
            config_scan(Path::new("/r/k8s-apps"), &opts()).argv(),
            [
                "trivy",
                "config",
                "--quiet",
                "--cache-dir",
                "/tmp/c",
                "--format",
                "json",
                "--skip-check-update",
                "/r/k8s-apps"
            ]
        );
        assert_eq!(
            secret_scan(Path::new("/r"), &Options::default()).argv(),
            [
                "trivy",
                "fs",
                "--quiet",
                "--format",
                "json",
                "--scanners",
                "secret",
                "--skip-dirs",
                "**/target",
                "--skip-dirs",
                "**/node_modules",
                "/r"
            ]
        );
        let offline = Options {
            offline: true,
            ..Options::default()
        };
        assert_eq!(
            sbom_dir(Path::new("/r/ctx"), Path::new("/o/sbom.json"), &offline).argv(),
            [
                "trivy",
                "fs",
                "--quiet",
                "--format",
                "cyclonedx",
                "--output",
                "/o/sbom.json",
                "--offline-scan",
                "/r/ctx"
            ]
        );
        assert_eq!(
            sbom_image(
                "ghcr.io/a/b@sha256:ab",
                Some("linux/amd64"),
                Path::new("s.json"),
                &Registry::default(),
                &opts()
            )
            .argv(),
            [
                "trivy",
                "image",
                "--quiet",
                "--cache-dir",
                "/tmp/c",
                "--format",
                "cyclonedx",
                "--output",
                "s.json",
                "--platform",
                "linux/amd64",
                "ghcr.io/a/b@sha256:ab"
            ]
        );
    }

    #[test]
    fn db_missing_is_recognized() {
        assert!(db_missing(
            "ERROR\t[vulndb] The first run cannot skip downloading DB\nFATAL\tFatal error\tinit error: DB error: database error: --skip-update cannot be specified on the first run"
        ));
        assert!(db_missing(
            "FATAL\tinit error: DB error: failed to download vulnerability DB: OCI artifact error"
        ));
        assert!(!db_missing(
            "FATAL\tunable to find the specified image \"x\""
        ));
    }

    #[test]
    fn cyclonedx_is_checked() {
        let doc = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
          "components": [{"type": "library", "name": "requests", "version": "2.31.0"}]}"#;
        assert_eq!(check_cyclonedx(doc).unwrap(), 1);
        assert!(check_cyclonedx(r#"{"spdxVersion": "SPDX-2.3"}"#).is_err());
        assert!(check_cyclonedx("not json").is_err());
    }

    #[test]
    fn every_ignored_id_needs_a_reason_comment() {
        let ok = "# CVE-2024-1: not reachable, we never parse certificates\nCVE-2024-1\n\
                  CVE-2024-2 exp:2030-01-01\n\n# fixture, not a key\naws-access-key-id\n";
        assert_eq!(
            check_ignorefile(".trivyignore", ok).unwrap(),
            ["CVE-2024-1", "CVE-2024-2", "aws-access-key-id"]
        );
        let err = check_ignorefile(".trivyignore", "# why\nA\n\nB\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(".trivyignore:4: `B` is ignored without a reason"),
            "{err}"
        );
    }
}
