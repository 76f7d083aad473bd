//! The pure half of `release`: the six steps as `cargo xtask` argv lines, their parse with
//! the real CLI, the `--dry-run` text and the summary table. Nothing here reads the
//! environment, touches a file or starts a process.

use crate::exec::quote;
use crate::flags::{self, Command};
use anyhow::{Result, anyhow};
use clap::{Parser, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepName {
    Build,
    /// `release --merge DIR`: the per-platform digests merged into one index, instead of a build.
    Merge,
    Smoke,
    Scan,
    Sign,
    Mirror,
    Deploy,
}

impl StepName {
    pub fn label(self) -> &'static str {
        match self {
            StepName::Build => "build-base",
            StepName::Merge => "push --merge",
            StepName::Smoke => "smoke",
            StepName::Scan => "trivy-scan",
            StepName::Sign => "sign",
            StepName::Mirror => "push --mirror",
            StepName::Deploy => "update-images",
        }
    }
}

/// One step of the plan: the `cargo xtask` argv it runs, or why it does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: StepName,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Run(Vec<String>),
    Skip(&'static str),
}

/// What the scan leaves: the SBOM that sign attests, and the SARIF that build-images.yml
/// uploads to code scanning (`target/xtask/sarif/*.sarif`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    pub sbom: PathBuf,
    pub sarif: PathBuf,
}

impl Outputs {
    pub fn new(root: &Path, image: &str) -> Outputs {
        let dir = root.join("target/xtask");
        Outputs {
            sbom: dir.join("sbom").join(format!("{image}.cdx.json")),
            sarif: dir.join("sarif").join(format!("{image}.sarif")),
        }
    }
}

/// Why a run under `--skip-sign` deserves attention, in the plan and the summary.
pub const UNSIGNED: &str = "--skip-sign: the image is released UNSIGNED. Only its scan gated the \
    mirror and the deploy; Image Updater's signature check refuses it and `cargo xtask doctor` \
    reports it unsigned. Sign it with `cargo xtask sign --attest-sbom SBOM`";

/// The release of `image` as six steps. Pure: it reads and runs nothing.
pub fn plan(flags: &flags::Release, image: &str, out: &Outputs) -> Vec<Step> {
    let engine = flags
        .engine
        .to_possible_value()
        .expect("every engine has a name");
    let engine = engine.get_name();
    let scanners: Vec<&str> = flags.scanners.iter().map(|s| s.name()).collect();
    let registry: Vec<&str> = match &flags.registry {
        Some(r) => vec!["--registry", r],
        None => vec![],
    };
    let (sbom, sarif) = (
        out.sbom.display().to_string(),
        out.sarif.display().to_string(),
    );
    let run = |name, words: &[&[&str]]| Step {
        name,
        action: Action::Run(words.concat().iter().map(|w| w.to_string()).collect()),
    };
    let skip = |name, why| Step {
        name,
        action: Action::Skip(why),
    };
    let builder: Vec<&str> = match &flags.builder {
        Some(b) => vec!["--builder", b],
        None => vec![],
    };
    let build = match &flags.merge {
        Some(dir) => run(
            StepName::Merge,
            &[
                &["push", "--merge", &dir.display().to_string()],
                &["--engine", engine, "--image", image],
                &registry,
            ],
        ),
        None => run(
            StepName::Build,
            &[
                &["build-base", "--engine", engine, "--image", image],
                &builder,
                &registry,
                &["--push", "--skip-existing"],
            ],
        ),
    };
    let mut steps = vec![
        build,
        run(
            StepName::Smoke,
            &[&["smoke", "--engine", engine, "--image", image], &registry],
        ),
        run(
            StepName::Scan,
            &[
                &["trivy-scan", "--image", "--scanners", &scanners.join(",")],
                &registry,
                &["--sbom", &sbom, "--format", "sarif", "--output", &sarif],
            ],
        ),
    ];
    steps.push(match flags.skip_sign {
        true => skip(StepName::Sign, "SKIPPED (--skip-sign): NOT SIGNED"),
        false => run(
            StepName::Sign,
            &[
                &["sign", "--image", image],
                &registry,
                &["--attest-sbom", &sbom],
            ],
        ),
    });
    let to: Vec<&str> = match &flags.to {
        Some(to) => vec!["--to", to],
        None => vec![],
    };
    steps.push(match flags.mirror {
        true => run(
            StepName::Mirror,
            &[
                &["push", "--mirror", "--engine", engine, "--image", image],
                &registry,
                &to,
            ],
        ),
        false => skip(StepName::Mirror, "skipped (no --mirror)"),
    });
    let commit: &[&str] = if flags.commit { &["--commit"] } else { &[] };
    steps.push(run(
        StepName::Deploy,
        &[&["update-images", "--image", image], commit],
    ));
    steps
}

/// `cargo xtask ARGV` as a line a human can paste.
pub fn command_line(argv: &[String]) -> String {
    let words: Vec<String> = argv.iter().map(|w| quote(w)).collect();
    format!("cargo xtask {}", words.join(" "))
}

/// A planned line parsed with the real CLI, as `cargo xtask` would parse it.
pub fn parse(argv: &[String]) -> Result<Command> {
    let words = std::iter::once("cargo xtask").chain(argv.iter().map(String::as_str));
    flags::Xtask::try_parse_from(words)
        .map(|x| x.command)
        .map_err(|e| {
            anyhow!(
                "the release plan's `{}` does not parse: {e}",
                command_line(argv)
            )
        })
}

/// The environment variables the steps read secrets from, and who reads them.
pub const SECRETS: [(&str, &str); 4] = [
    (
        "COSIGN_PRIVATE_KEY",
        "sign: cosign --key env://COSIGN_PRIVATE_KEY (keyless when unset)",
    ),
    (
        "COSIGN_PASSWORD",
        "sign: the key's password, in cosign's environment",
    ),
    (
        "GITHUB_TOKEN",
        "trivy-scan: ghcr.io's password, in trivy's environment",
    ),
    (
        "REGISTRY_TOKEN",
        "trivy-scan: other registries' password, in trivy's environment",
    ),
];

/// The `--dry-run` text: every step as the line it runs, and which secret variables are set
/// (`set` holds one flag per [`SECRETS`] entry); never a secret's value.
pub fn describe(steps: &[Step], record: &Path, set: &[bool], skip_sign: bool) -> String {
    let mut text = "release plan (--dry-run: nothing runs):\n".to_string();
    for (i, step) in steps.iter().enumerate() {
        let what = match &step.action {
            Action::Run(argv) => command_line(argv),
            Action::Skip(why) => why.to_string(),
        };
        text += &format!("  {}. {:<14} {what}\n", i + 1, step.name.label());
    }
    text += &format!(
        "The steps after the build use the digest step 1 records in {} (each checks that the \
         tag still holds it); update-images sets that tag. The run stops at the first step that fails or finds \
         something.\nSecrets, read from the environment (values never shown):\n",
        record.display()
    );
    for ((name, use_), set) in SECRETS.iter().zip(set) {
        let state = if *set { "set" } else { "not set" };
        text += &format!("  {name:<18} {state:<7}  {use_}\n");
    }
    if skip_sign {
        text += &format!("WARNING: {UNSIGNED}\n");
    }
    text
}

/// How a step came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The step's check found something (exit 1).
    Found,
    /// The step failed (exit 2).
    Failed,
    /// Not part of this release (`--skip-sign`, no `--mirror`).
    Skipped(&'static str),
    /// An earlier step stopped the run.
    NotRun,
}

/// One line of the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: StepName,
    pub outcome: Outcome,
    pub time: Option<Duration>,
    /// The digest the step worked on (known once the build recorded it).
    pub digest: Option<String>,
    /// What the step says of itself in the summary: smoke's platforms.
    pub detail: Option<String>,
}

/// The summary table: step, result, time, digest.
pub fn summary(rows: &[Row]) -> String {
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            let result = match &r.outcome {
                Outcome::Ok => "ok".to_string(),
                Outcome::Found => "FOUND (exit 1)".into(),
                Outcome::Failed => "FAILED (exit 2)".into(),
                Outcome::Skipped(why) => why.to_string(),
                Outcome::NotRun => "not run".into(),
            };
            let result = match &r.detail {
                Some(detail) => format!("{result} ({detail})"),
                None => result,
            };
            let time = r
                .time
                .map_or("-".into(), |t| format!("{:.1}s", t.as_secs_f64()));
            let digest = r.digest.clone().unwrap_or_else(|| "-".into());
            [r.name.label().to_string(), result, time, digest]
        })
        .collect();
    let header = ["step", "result", "time", "digest"].map(String::from);
    let width = |i: usize| {
        std::iter::once(&header)
            .chain(&cells)
            .map(|c| c[i].len())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    std::iter::once(&header)
        .chain(&cells)
        .map(|[a, b, c, d]| format!("{a:<w0$}  {b:<w1$}  {c:>w2$}  {d}\n"))
        .collect()
}

#[cfg(test)]
mod tests;
