//! `trivy-scan --format sarif`: SARIF 2.1.0 for GitHub code scanning, from the normalized
//! [`Finding`]s. Pure.
//!
//! - Only findings at or above the threshold are results, the same ones that make the exit 1.
//! - One run per scan kind (image, config, secrets), each with its own
//!   `automationDetails.id` (`trivy-image/`, …): GitHub keys uploads by tool and category, so
//!   an image upload never replaces the config or secret results.
//! - A finding's location is its repo file (config, secrets) or its path in the image (image
//!   secrets, package files), never the matched text: a secret's value is not in a
//!   [`Finding`] at all.

use crate::sarif::{self, uri};
use crate::trivy::{Finding, Kind, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The findings of one scan kind: `image`, `config` or `secrets`.
pub struct KindRun<'a> {
    pub kind: &'a str,
    pub findings: Vec<&'a Finding>,
}

/// Groups scans by kind, in first-seen order (every platform of the image is one run).
pub fn by_kind<'a>(scans: impl IntoIterator<Item = (&'a str, &'a [Finding])>) -> Vec<KindRun<'a>> {
    let mut runs: Vec<KindRun> = Vec::new();
    for (kind, findings) in scans {
        match runs.iter_mut().find(|r| r.kind == kind) {
            Some(run) => run.findings.extend(findings),
            None => runs.push(KindRun {
                kind,
                findings: findings.iter().collect(),
            }),
        }
    }
    runs
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// What a result says: the title, the package and versions of a vulnerability, the platform.
fn message(f: &Finding) -> String {
    let mut text = format!("{} ({}): {}", f.id, f.severity.name(), f.title.trim());
    if let (Some(package), Some(installed)) = (&f.package, &f.installed) {
        text.push_str(&format!(" in {package} {installed}"));
        if let Some(fixed) = &f.fixed {
            text.push_str(&format!(", fixed in {fixed}"));
        }
    }
    if f.kind == Kind::Secret {
        text.push_str(&format!(" in {}", f.location()));
    }
    if let Some(platform) = &f.platform {
        text.push_str(&format!(" [{platform}]"));
    }
    text
}

fn run(kind_run: &KindRun, threshold: Severity) -> Value {
    let results: Vec<&Finding> = kind_run
        .findings
        .iter()
        .copied()
        .filter(|f| f.severity >= threshold)
        .collect();
    let mut rules: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &results {
        rules.entry(f.id.as_str()).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let descriptors: Vec<Value> = rules
        .values()
        .map(|f| {
            let title = if f.title.trim().is_empty() {
                f.id.as_str()
            } else {
                f.title.trim()
            };
            json!({
                "id": f.id,
                "name": f.id,
                "shortDescription": { "text": title },
                "defaultConfiguration": { "level": level(f.severity) },
                "properties": { "tags": [format!("{:?}", f.kind).to_lowercase(), "security"] },
            })
        })
        .collect();
    let results: Vec<Value> = results
        .iter()
        .map(|f| {
            let path = f.target.trim_start_matches('/');
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri(Path::new(path)) },
                }
            });
            if kind_run.kind != "image" {
                location["physicalLocation"]["artifactLocation"]["uriBaseId"] = json!("%SRCROOT%");
            }
            if let Some(line) = f.line {
                location["physicalLocation"]["region"] = json!({ "startLine": line });
            }
            let mut result = json!({
                "ruleId": f.id,
                "ruleIndex": index[f.id.as_str()],
                "level": level(f.severity),
                "message": { "text": message(f) },
                "locations": [location],
            });
            if let Some(platform) = &f.platform {
                result["properties"] = json!({ "platform": platform });
            }
            result
        })
        .collect();
    let extra = json!({ "automationDetails": { "id": format!("trivy-{}/", kind_run.kind) } });
    sarif::run("xtask-trivy-scan", descriptors, results, extra)
}

/// The SARIF log: one run per kind, only findings at or above `threshold`.
pub fn sarif(runs: &[KindRun], threshold: Severity) -> String {
    let log = sarif::log(runs.iter().map(|r| run(r, threshold)).collect());
    let mut text = serde_json::to_string_pretty(&log).expect("sarif serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: Kind, id: &str, severity: Severity, target: &str) -> Finding {
        Finding {
            kind,
            id: id.into(),
            severity,
            target: target.into(),
            line: Some(1),
            title: format!("{id} title"),
            package: None,
            installed: None,
            fixed: None,
            platform: None,
        }
    }

    #[test]
    fn one_run_per_kind_with_only_findings_at_or_above_the_threshold() {
        let secret = Finding {
            platform: Some("linux/arm64".into()),
            ..finding(
                Kind::Secret,
                "aws-access-key-id",
                Severity::Critical,
                "/etc/app/credentials",
            )
        };
        let vuln = Finding {
            line: None,
            package: Some("openssl".into()),
            installed: Some("3.0.15-1".into()),
            fixed: Some("3.0.16-1".into()),
            platform: Some("linux/amd64".into()),
            ..finding(
                Kind::Vulnerability,
                "CVE-2024-1",
                Severity::High,
                "python-base (debian 12.8)",
            )
        };
        let low = finding(Kind::Vulnerability, "CVE-2024-2", Severity::Low, "x");
        let config = [
            finding(
                Kind::Misconfiguration,
                "KSV017",
                Severity::High,
                "k8s-apps/a b.yaml",
            ),
            finding(
                Kind::Misconfiguration,
                "KSV011",
                Severity::Low,
                "k8s-apps/a.yaml",
            ),
        ];
        let arm = [secret];
        let amd = [vuln, low];
        let runs = by_kind([
            ("image", &amd[..]),
            ("image", &arm[..]),
            ("config", &config[..]),
        ]);
        let v: Value = serde_json::from_str(&sarif(&runs, Severity::High)).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let runs = v["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["automationDetails"]["id"], "trivy-image/");
        assert_eq!(runs[1]["automationDetails"]["id"], "trivy-config/");
        let image = runs[0]["results"].as_array().unwrap();
        let ids: Vec<&str> = image
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["CVE-2024-1", "aws-access-key-id"]);
        assert_eq!(
            image[0]["message"]["text"],
            "CVE-2024-1 (HIGH): CVE-2024-1 title in openssl 3.0.15-1, fixed in 3.0.16-1 [linux/amd64]"
        );
        assert_eq!(
            image[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "python-base%20%28debian%2012.8%29"
        );
        assert_eq!(image[1]["properties"]["platform"], "linux/arm64");
        assert_eq!(
            image[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "etc/app/credentials"
        );
        assert_eq!(image[1]["level"], "error");
        let config = runs[1]["results"].as_array().unwrap();
        assert_eq!(config.len(), 1);
        let location = &config[0]["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "k8s-apps/a%20b.yaml");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(location["region"]["startLine"], 1);
        assert_eq!(runs[1]["tool"]["driver"]["rules"][0]["id"], "KSV017");
        assert_eq!(config[0]["ruleIndex"], 0);
    }
}
