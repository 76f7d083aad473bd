//! Benchmark: lint-manifests' cost per app folder stays flat as the tree grows (issue 20, class
//! 7). The generated corpus of the lint_manifests bench at 1,000, 10,000 and 100,000 app folders
//! (LINT_SCALING_SIZES=1000,10000 for others), each linted by the dev binary that `cargo xtask`
//! runs, in two shapes (one root kustomization listing every app, and a root per app); for
//! each: wall time and peak memory (max RSS, from /usr/bin/time), per app. LINT_SCALING_RUNS
//! sets the timed runs per size (3; the best is shown).
//! `cargo bench --bench lint_scaling`; XTASK_BIN=PATH measures another binary (an older build).

// The integration tests' support, for its app corpus; the bench uses nothing else of it.
#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::{Command, Stdio};

/// One lint of `root`: (wall seconds, max RSS in KiB), from GNU time.
fn lint(bin: &Path, root: &Path) -> (f64, f64) {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%e %M"])
        .arg(bin)
        .arg("--root")
        .arg(root)
        .arg("lint-manifests")
        .stdout(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_") || key.starts_with("XTASK_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.output().expect("/usr/bin/time");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let parts: Vec<f64> = last
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    assert!(out.status.code().is_some_and(|c| c < 2), "{stderr}");
    match parts[..] {
        [wall, rss] => (wall, rss),
        _ => panic!("no time line in {stderr}"),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<usize> = std::env::var("LINT_SCALING_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let bin = support::dev_binary();
    println!("binary: {}", bin.display());
    let runs: usize = std::env::var("LINT_SCALING_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    // One root: k8s-apps/apps/kustomization.yaml lists every app. A root per app: no such list,
    // as with one Argo CD Application per folder.
    for one_root in [true, false] {
        let shape = if one_root {
            "one root"
        } else {
            "a root per app"
        };
        let mut first: Option<(f64, f64)> = None;
        for &n in &sizes {
            let dir = tempfile::tempdir().unwrap();
            support::lint_manifests::corpus(dir.path(), n);
            if !one_root {
                std::fs::remove_file(dir.path().join("k8s-apps/apps/kustomization.yaml")).unwrap();
            }
            lint(&bin, dir.path()); // warm the page cache
            let all: Vec<(f64, f64)> = (0..runs).map(|_| lint(&bin, dir.path())).collect();
            let wall = all.iter().map(|r| r.0).fold(f64::MAX, f64::min);
            let rss = all.iter().map(|r| r.1).fold(0.0, f64::max);
            let (per_app_ms, per_app_kib) = (wall * 1000.0 / n as f64, rss / n as f64);
            let base = *first.get_or_insert((per_app_ms, per_app_kib));
            println!(
                "{shape:>14}, {n:>7} apps: {wall:>8.2} s (best of {runs}), {per_app_ms:.3} ms/app ({:.2}x of the first size); peak {:.1} MiB, {per_app_kib:.2} KiB/app ({:.2}x)",
                per_app_ms / base.0,
                rss / 1024.0,
                per_app_kib / base.1
            );
        }
    }
}
