//! Timing of the trivy report parser and summary on a generated report the size of a large
//! image scan: 20,000 vulnerabilities, 2,000 misconfigurations and 200 secrets. Warm-up, then
//! N runs; prints min and median.

use std::time::{Duration, Instant};
use xtask::trivy::{self, Severity};

const SEVERITIES: [&str; 5] = ["LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"];

fn report(vulns: usize, misconfs: usize, secrets: usize) -> String {
    let vulns: Vec<String> = (0..vulns)
        .map(|i| {
            format!(
                r#"{{"VulnerabilityID":"CVE-2024-{i:05}","PkgName":"pkg{}","InstalledVersion":"1.{i}","FixedVersion":"1.{}","Severity":"{}","Title":"title {i}"}}"#,
                i % 300,
                i + 1,
                SEVERITIES[i % 5]
            )
        })
        .collect();
    let misconfs: Vec<String> = (0..misconfs)
        .map(|i| {
            format!(
                r#"{{"ID":"KSV{:03}","Severity":"{}","Status":"FAIL","Message":"m {i}","CauseMetadata":{{"StartLine":{}}}}}"#,
                i % 120,
                SEVERITIES[i % 4],
                i % 90 + 1
            )
        })
        .collect();
    let secrets: Vec<String> = (0..secrets)
        .map(|i| {
            format!(
                r#"{{"RuleID":"github-pat","Severity":"CRITICAL","Title":"t","StartLine":{i},"Match":"****"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"SchemaVersion":2,"Results":[{{"Target":"img (debian 12.8)","Vulnerabilities":[{}]}},{{"Target":"deploy.yaml","Misconfigurations":[{}]}},{{"Target":"app.py","Secrets":[{}]}}]}}"#,
        vulns.join(","),
        misconfs.join(","),
        secrets.join(",")
    )
}

fn time(name: &str, runs: usize, mut f: impl FnMut()) {
    for _ in 0..3 {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{name:<40} min {:>9.3} ms  median {:>9.3} ms  ({runs} runs)",
        times[0].as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3
    );
}

fn main() {
    let json = report(20_000, 2_000, 200);
    println!("report: {:.1} MiB", json.len() as f64 / (1024.0 * 1024.0));
    let findings = trivy::parse_report(&json).unwrap();
    assert_eq!(findings.len(), 22_200);
    time("parse_report (22,200 findings)", 20, || {
        std::hint::black_box(trivy::parse_report(&json).unwrap());
    });
    time("summary + JSON output", 20, || {
        let text = trivy::summary("trivy image", &findings, Severity::High, 10);
        let out = serde_json::to_string_pretty(&findings).unwrap();
        std::hint::black_box((text, out));
    });
}
