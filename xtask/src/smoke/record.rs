//! What `smoke` found, as `target/xtask/smoke/<image>.json` holds it, and the verdict it
//! makes: failed (exit 1), nothing ran (exit 2), or passed. Pure; release reads the record for
//! its summary row.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmokeRecord {
    /// `REGISTRY/PATH@sha256:…`.
    pub reference: String,
    /// The engine that ran it: `docker run`, `podman run`, `buildah run --isolation chroot`.
    pub engine: String,
    /// The hardening that engine could not apply.
    pub not_applied: Vec<String>,
    pub platforms: Vec<PlatformResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformResult {
    /// `linux/amd64` (a single-platform image: the platform its config names).
    pub platform: String,
    /// `native`, `emulated (qemu-aarch64)` or `not at all`.
    pub how: String,
    pub result: Outcome,
    /// Why it failed or did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How one platform came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    #[serde(rename = "passed")]
    Passed,
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "NOT RUN")]
    NotRun,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "FAILED",
            Outcome::NotRun => "NOT RUN",
        }
    }
}

/// The verdict over every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every platform that ran passed (some may not have run).
    Passed,
    /// This platform (the first to fail) failed: exit 1.
    Failed(PlatformResult),
    /// No platform could run here: nothing was tested, exit 2.
    NothingRan,
}

impl SmokeRecord {
    pub fn path(root: &Path, image: &str) -> PathBuf {
        root.join("target/xtask/smoke")
            .join(format!("{image}.json"))
    }

    /// `linux/amd64 passed, linux/arm64 NOT RUN`: the release summary's note.
    pub fn platforms_line(&self) -> String {
        let each: Vec<String> = self
            .platforms
            .iter()
            .map(|p| format!("{} {}", p.platform, p.result.label()))
            .collect();
        each.join(", ")
    }

    pub fn verdict(&self) -> Verdict {
        if let Some(failed) = self.platforms.iter().find(|p| p.result == Outcome::Failed) {
            return Verdict::Failed(failed.clone());
        }
        if self.platforms.iter().all(|p| p.result == Outcome::NotRun) {
            return Verdict::NothingRan;
        }
        Verdict::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(name: &str, result: Outcome) -> PlatformResult {
        PlatformResult {
            platform: name.into(),
            how: "native".into(),
            result,
            reason: None,
        }
    }

    #[test]
    fn a_failure_wins_and_not_run_never_counts_as_passed() {
        let record = |results: &[(&str, Outcome)]| SmokeRecord {
            reference: "r@sha256:x".into(),
            engine: "docker run".into(),
            not_applied: Vec::new(),
            platforms: results.iter().map(|(p, o)| platform(p, *o)).collect(),
        };
        let amd = ("linux/amd64", Outcome::Passed);
        let arm_not = ("linux/arm64", Outcome::NotRun);
        assert_eq!(record(&[amd, arm_not]).verdict(), Verdict::Passed);
        assert_eq!(
            record(&[amd, arm_not]).platforms_line(),
            "linux/amd64 passed, linux/arm64 NOT RUN"
        );
        let failed = record(&[amd, ("linux/arm64", Outcome::Failed)]);
        assert!(matches!(failed.verdict(), Verdict::Failed(p) if p.platform == "linux/arm64"));
        assert_eq!(record(&[arm_not]).verdict(), Verdict::NothingRan);
        let json = serde_json::to_string(&record(&[arm_not])).unwrap();
        assert!(json.contains(r#""result":"NOT RUN""#), "{json}");
        let back: SmokeRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record(&[arm_not]));
    }
}
