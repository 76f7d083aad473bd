//! `cargo xtask trivy-scan`: run trivy on the image (vulnerabilities and secrets, one run per
//! platform of its index), the manifests (misconfigurations), the tree (secrets), and/or write
//! a CycloneDX SBOM; print a summary per scan on stderr and, with `--format json|sarif`, the
//! findings on stdout (SARIF through [`crate::trivy_sarif`]).
//!
//! Exit 1 when a finding is at or above `--severity-threshold`, 2 when trivy is missing or
//! fails (a missing vulnerability DB says so). The repo's `.trivyignore` goes to every scan.
//! The SBOM is written through a temp file and checked to be CycloneDX before it takes its name.

mod target;

use crate::exec::{Cmd, Runner};
use crate::flags::{self, ScanFormat};
use crate::tools::{self, TRIVY};
use crate::trivy::{self, Finding, ImageScan, Severity};
use crate::{Ctx, Status, trivy_sarif};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use target::{ScanImage, ignorefile, image_target, registry_access};

/// One trivy run whose JSON report becomes findings.
struct Scan {
    /// `image`, `config` or `secrets`.
    name: &'static str,
    /// What was scanned, as shown to a human.
    target: String,
    /// The platform of the image this run scans.
    platform: Option<String>,
    cmd: Cmd,
    /// Joined in front of each finding's file, so it is relative to the repo root.
    prefix: Option<PathBuf>,
}

#[derive(Serialize)]
struct ScanReport {
    scan: &'static str,
    target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct SbomReport {
    file: String,
    components: usize,
}

#[derive(Serialize)]
struct JsonReport {
    threshold: Severity,
    over_threshold: usize,
    counts: BTreeMap<Severity, usize>,
    scans: Vec<ScanReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sbom: Option<SbomReport>,
}

pub fn run(flags: &flags::TrivyScan, ctx: &Ctx) -> Result<Status> {
    let opts = trivy::Options {
        cache_dir: flags
            .cache_dir
            .as_ref()
            .map(|d| absolute(d).display().to_string()),
        offline: flags.offline,
        ignorefile: ignorefile(&ctx.root)?,
    };
    if flags.output.is_some() && flags.format == ScanFormat::Human {
        bail!("--output FILE takes the --format json or sarif report: pass --format too");
    }
    tools::require(TRIVY)?;
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    let image = match &flags.image {
        Some(given) => Some(image_target(given.as_deref(), flags, ctx, &runner)?),
        None => None,
    };
    let scans = plan(flags, ctx, image.as_ref(), &opts)?;
    let sbom = match &flags.sbom {
        Some(file) => Some(sbom_plan(file, image.as_ref(), flags, ctx, &opts)?),
        None => None,
    };
    let mut reports = Vec::new();
    for scan in scans {
        let mut findings = run_scan(&runner, &scan, flags, &opts)?;
        for f in &mut findings {
            f.platform.clone_from(&scan.platform);
        }
        reports.push(ScanReport {
            scan: scan.name,
            target: scan.target,
            platform: scan.platform,
            findings,
        });
    }
    let sbom = match sbom {
        Some((cmd, tmp, file)) => Some(write_sbom(&runner, &cmd, &tmp, &file)?),
        None => None,
    };
    report(flags, reports, sbom)
}

/// The trivy runs: the image (one per platform of its index), the manifests, the tree.
fn plan(
    flags: &flags::TrivyScan,
    ctx: &Ctx,
    image: Option<&ScanImage>,
    opts: &trivy::Options,
) -> Result<Vec<Scan>> {
    let mut scans = Vec::new();
    if let Some(image) = image {
        let reference = image.reference.to_string();
        let registry = registry_access(&ctx.settings, &image.reference, flags.insecure_registry);
        let platforms: Vec<Option<&str>> = match image.platforms.as_slice() {
            [] => vec![None],
            all => all.iter().map(|p| Some(p.as_str())).collect(),
        };
        for platform in platforms {
            let scan = ImageScan {
                reference: &reference,
                scanners: &flags.scanners,
                platform,
                ignore_unfixed: !flags.include_unfixed,
            };
            scans.push(Scan {
                name: "image",
                target: reference.clone(),
                platform: platform.map(str::to_string),
                cmd: trivy::image_scan(&scan, &registry, opts),
                prefix: None,
            });
        }
    }
    if let Some(dir) = &flags.config {
        let manifests = ctx.root.join(&ctx.settings.manifests);
        let dir = existing_dir(dir.as_deref(), &manifests, "--config")?;
        scans.push(Scan {
            name: "config",
            target: shown(&dir, &ctx.root),
            platform: None,
            cmd: trivy::config_scan(&dir, opts),
            prefix: prefix(&dir, &ctx.root),
        });
    }
    if let Some(dir) = &flags.secrets {
        let dir = existing_dir(dir.as_deref(), &ctx.root, "--secrets")?;
        scans.push(Scan {
            name: "secrets",
            target: shown(&dir, &ctx.root),
            platform: None,
            cmd: trivy::secret_scan(&dir, opts),
            prefix: prefix(&dir, &ctx.root),
        });
    }
    Ok(scans)
}

/// A summary per scan on stderr, the findings on stdout in the chosen format; `Found` when a
/// finding is at or above the threshold.
fn report(
    flags: &flags::TrivyScan,
    reports: Vec<ScanReport>,
    sbom: Option<SbomReport>,
) -> Result<Status> {
    let threshold = flags.severity_threshold;
    let all: Vec<Finding> = reports
        .iter()
        .flat_map(|r| r.findings.iter().cloned())
        .collect();
    for r in &reports {
        let platform = r
            .platform
            .as_deref()
            .map_or(String::new(), |p| format!(" ({p})"));
        let label = format!("trivy {} {}{platform}", r.scan, r.target);
        let summary = trivy::summary(&label, &r.findings, threshold, 10);
        eprint!("{}", crate::output::escape_lines(&summary));
    }
    if let Some(s) = &sbom {
        eprintln!("SBOM: {} ({} components, CycloneDX)", s.file, s.components);
    }
    let over = trivy::over(&all, threshold);
    let machine = match flags.format {
        ScanFormat::Human => None,
        ScanFormat::Sarif => {
            let runs = trivy_sarif::by_kind(reports.iter().map(|r| (r.scan, &r.findings[..])));
            Some(crate::output::json_for_log(trivy_sarif::sarif(
                &runs, threshold,
            )))
        }
        ScanFormat::Json => {
            let report = JsonReport {
                threshold,
                over_threshold: over,
                counts: trivy::counts(&all),
                scans: reports,
                sbom,
            };
            Some(crate::output::json_for_log(serde_json::to_string_pretty(&report)?) + "\n")
        }
    };
    match (machine, &flags.output) {
        (Some(text), Some(file)) => {
            crate::files::write_atomic(&absolute(file), text.as_bytes())
                .with_context(|| format!("--output {}", file.display()))?;
            let what = match flags.format {
                ScanFormat::Sarif => "SARIF",
                _ => "JSON report",
            };
            eprintln!("{what}: {}", file.display());
        }
        (Some(text), None) => print!("{text}"),
        (None, _) => {}
    }
    Ok(if over > 0 {
        Status::Found
    } else {
        Status::Clean
    })
}

/// The SBOM command writing to a temp file beside `file`, the temp file, and `file`.
fn sbom_plan(
    file: &Path,
    image: Option<&ScanImage>,
    flags: &flags::TrivyScan,
    ctx: &Ctx,
    opts: &trivy::Options,
) -> Result<(Cmd, PathBuf, PathBuf)> {
    let file = absolute(file);
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        bail!("--sbom {}: not a file path", file.display());
    };
    if !dir.is_dir() {
        bail!(
            "--sbom {}: no such directory {}",
            file.display(),
            dir.display()
        );
    }
    let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
    let cmd = match image {
        // Of the index digest, as signed; trivy describes it through its first platform.
        Some(image) => trivy::sbom_image(
            &image.reference.to_string(),
            image.platforms.first().map(String::as_str),
            &tmp,
            &registry_access(&ctx.settings, &image.reference, flags.insecure_registry),
            opts,
        ),
        None => {
            let context = ctx.root.join(&ctx.settings.images[0].context);
            let dir = existing_dir(flags.context.as_deref(), &context, "--context")?;
            trivy::sbom_dir(&dir, &tmp, opts)
        }
    };
    Ok((cmd, tmp, file))
}

fn run_scan(
    runner: &Runner,
    scan: &Scan,
    flags: &flags::TrivyScan,
    opts: &trivy::Options,
) -> Result<Vec<Finding>> {
    eprintln!("+ {}", scan.cmd);
    let out = runner.output(&scan.cmd)?;
    if !out.success() {
        let stderr = trivy::log_text(&scan.cmd.redact(out.stderr.trim_end()));
        let vuln = flags.scanners.contains(&trivy::Scanner::Vuln);
        if scan.name == "image" && vuln && trivy::db_missing(&stderr) {
            let cache = opts.cache_dir.as_deref().unwrap_or("trivy's default cache");
            bail!(
                "the image scan needs trivy's vulnerability database, which is not in {cache} and \
                 could not be downloaded{}: on a machine with network access run `trivy image \
                 --download-db-only --cache-dir DIR`, then scan with --cache-dir DIR --offline \
                 (or scan without it: --scanners secret)\ntrivy said:\n{stderr}",
                if opts.offline { " (--offline)" } else { "" }
            );
        }
        bail!("`{}` failed with {}:\n{stderr}", scan.cmd, code(out.code));
    }
    let mut findings =
        trivy::parse_report(&out.stdout).with_context(|| format!("`{}`", scan.cmd))?;
    if let Some(prefix) = &scan.prefix {
        for f in &mut findings {
            f.target = prefix.join(&f.target).display().to_string();
        }
    }
    Ok(findings)
}

fn write_sbom(runner: &Runner, cmd: &Cmd, tmp: &Path, file: &Path) -> Result<SbomReport> {
    eprintln!("+ {cmd}");
    let result = (|| {
        let out = runner.output(cmd)?;
        if !out.success() {
            bail!(
                "`{cmd}` failed with {}:\n{}",
                code(out.code),
                trivy::log_text(&cmd.redact(out.stderr.trim_end()))
            );
        }
        let text = std::fs::read_to_string(tmp)
            .with_context(|| format!("trivy wrote no SBOM to {}", tmp.display()))?;
        let components = trivy::check_cyclonedx(&text).with_context(|| format!("`{cmd}`"))?;
        std::fs::rename(tmp, file).with_context(|| format!("cannot write {}", file.display()))?;
        Ok(components)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    Ok(SbomReport {
        file: file.display().to_string(),
        components: result?,
    })
}

fn code(code: Option<i32>) -> String {
    code.map_or("a signal".into(), |c| format!("exit code {c}"))
}

/// `given` (relative to the current directory) or `default`, which must be a directory.
fn existing_dir(given: Option<&Path>, default: &Path, flag: &str) -> Result<PathBuf> {
    let dir = given.map_or_else(|| default.to_path_buf(), absolute);
    if !dir.is_dir() {
        bail!("{flag} {}: no such directory", dir.display());
    }
    Ok(dir)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What to put in front of trivy's paths (relative to the scanned `dir`): `dir` as [`shown`].
fn prefix(dir: &Path, root: &Path) -> Option<PathBuf> {
    Some(shown(dir, root))
        .filter(|s| s != ".")
        .map(PathBuf::from)
}

/// `dir` relative to the repo root when it is inside it, else as it is.
fn shown(dir: &Path, root: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match canonical.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => dir.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_paths_are_relative_to_the_root() {
        let root = std::env::temp_dir()
            .canonicalize()
            .unwrap()
            .join(format!("xtask-shown-{}", std::process::id()));
        std::fs::create_dir_all(root.join("k8s-apps")).unwrap();
        assert_eq!(shown(&root.join("k8s-apps"), &root), "k8s-apps");
        assert_eq!(shown(&root, &root), ".");
        assert_eq!(shown(Path::new("/elsewhere/x"), &root), "/elsewhere/x");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
