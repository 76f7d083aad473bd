//! Benchmark of `cargo xtask lint-manifests` on a generated corpus, measuring the binary that
//! `cargo xtask` really runs (the dev profile, built here with `cargo build -p xtask`).
//!
//! Figures: full lint of 1,000 app folders (about 5,000 documents) against reading and parsing
//! alone (`--parse-only`), peak memory (max RSS from /usr/bin/time), `trivy config` on the first
//! 100 folders against our lint of the same folders, and the process time of linting the repo's
//! own k8s-apps. `cargo bench --bench lint_manifests`; LINT_BENCH_RUNS sets the run count;
//! LINT_BENCH_CORPUS_ONLY=DIR only writes the corpus to DIR.

// The integration tests' support, for its app corpus; the bench uses nothing else of it.
#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lint_cmd(bin: &Path, root: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.arg("--root")
        .arg(root)
        .arg("lint-manifests")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_") || key.starts_with("XTASK_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Warm-up, then `runs` timed runs; (min, median).
fn time(runs: usize, mut make: impl FnMut() -> Command) -> (Duration, Duration) {
    for _ in 0..3 {
        make().status().unwrap();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let status = make().status().unwrap();
            let took = start.elapsed();
            assert!(status.code().is_some_and(|c| c < 2), "{status}");
            took
        })
        .collect();
    times.sort();
    (times[0], times[runs / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `/usr/bin/time -f FORMAT` of one command; its stderr's last line.
fn gnu_time(format: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg(format)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn corpus_size(root: &Path) -> (usize, usize, u64) {
    let (mut files, mut docs, mut bytes) = (0, 0, 0);
    let mut stack = vec![root.join("k8s-apps")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap();
                files += 1;
                docs += 1 + text.matches("\n---\n").count();
                bytes += text.len() as u64;
            }
        }
    }
    (files, docs, bytes)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Some(dir) = std::env::var_os("LINT_BENCH_CORPUS_ONLY") {
        // Write the 1,000-folder corpus to this folder and stop (for manual measurements).
        support::lint_manifests::corpus(Path::new(&dir), 1000);
        return;
    }
    let runs: usize = std::env::var("LINT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(21);
    let bin = support::dev_binary();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    support::lint_manifests::corpus(root, 1000);
    let (files, docs, bytes) = corpus_size(root);
    println!(
        "corpus: 1000 app folders, {files} YAML files, {docs} documents, {:.1} MiB of YAML, 100 Dockerfiles",
        bytes as f64 / 1048576.0
    );
    let out = lint_cmd(&bin, root, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "the corpus must lint clean");

    let (lint_min, lint_med) = time(runs, || lint_cmd(&bin, root, &[]));
    let (parse_min, parse_med) = time(runs, || lint_cmd(&bin, root, &["--parse-only"]));
    println!(
        "full lint (dev binary, {runs} runs):   min {}  median {}",
        ms(lint_min),
        ms(lint_med)
    );
    println!(
        "read + parse only:                    min {}  median {}",
        ms(parse_min),
        ms(parse_med)
    );
    println!(
        "lint / parse (medians): {:.2}x (target <= 2.5x)",
        lint_med.as_secs_f64() / parse_med.as_secs_f64()
    );
    let rss = gnu_time(
        "%M",
        &[
            bin.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
            "lint-manifests".as_ref(),
        ],
    );
    println!("peak memory (max RSS): {rss} KiB (target < 61440 KiB)");

    // The first 100 folders, for trivy and for us.
    let small = tempfile::tempdir().unwrap();
    support::lint_manifests::corpus(small.path(), 100);
    let (small_min, small_med) = time(runs, || lint_cmd(&bin, small.path(), &[]));
    println!(
        "lint of the first 100 folders:        min {}  median {}",
        ms(small_min),
        ms(small_med)
    );
    match which_trivy() {
        Some(trivy) => {
            let cache = tempfile::tempdir().unwrap();
            let trivy_run = || {
                let mut cmd = Command::new(&trivy);
                cmd.args([
                    "config",
                    "--quiet",
                    "--format",
                    "json",
                    "--skip-check-update",
                ])
                .arg("--cache-dir")
                .arg(cache.path())
                .arg(small.path().join("k8s-apps"))
                .stdout(Stdio::null())
                .stderr(Stdio::null());
                cmd
            };
            trivy_run().status().unwrap();
            let trivy_runs = 2;
            let mut best = Duration::MAX;
            for _ in 0..trivy_runs {
                let start = Instant::now();
                trivy_run().status().unwrap();
                best = best.min(start.elapsed());
            }
            println!(
                "trivy config, first 100 folders (best of {trivy_runs}): {}",
                ms(best)
            );
            println!(
                "ratio on the same 100 folders: {:.0}x faster (target >= 300x); per folder (trivy 100 vs our 1000): {:.0}x",
                best.as_secs_f64() / small_med.as_secs_f64(),
                (best.as_secs_f64() / 100.0) / (lint_med.as_secs_f64() / 1000.0)
            );
        }
        None => println!("trivy not found: no ratio"),
    }

    // The repo's own manifests: process time (user + sys) per run, over 50 runs.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    if repo.join("k8s-apps").is_dir() {
        let script = format!(
            "for i in $(seq 50); do {} --root {} lint-manifests 2>/dev/null; done",
            bin.display(),
            repo.display()
        );
        let line = gnu_time("%U %S %e", &["sh".as_ref(), "-c".as_ref(), script.as_ref()]);
        let parts: Vec<f64> = line
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if let [user, sys, wall] = parts[..] {
            println!(
                "repo k8s-apps: {:.1} ms process time (user+sys) and {:.1} ms wall per run (target < 20 ms)",
                (user + sys) * 1000.0 / 50.0,
                wall * 1000.0 / 50.0
            );
        }
    }
}

fn which_trivy() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("trivy"))
            .find(|p| p.is_file())
    })
}
