//! Benchmark of `cargo xtask diff` on a generated repo of 100 apps (each an Argo CD Application
//! with a kustomization: a CronJob on the base image and a generated script ConfigMap), two
//! commits apart: every tag bumped and every tenth script changed. It measures the binary that
//! `cargo xtask` really runs (the dev profile, built here with `cargo build -p xtask`) against
//! the floor: `kubectl kustomize` on the same 101 folders (100 apps and the app-of-apps) at both
//! commits, one after the other, and two at a time as diff runs them.
//!
//! `cargo bench --bench diff`; DIFF_BENCH_RUNS sets the run count (default 5).

// The integration tests' support, for GitRepo and the diff fixture's manifests.
#[path = "../tests/it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::dev_binary;
use support::diff::{REPO_URL, application, cronjob};

const APPS: usize = 100;

/// Writes the 100 apps at `tag`, with `version` in every tenth script.
fn write_apps(repo: &support::GitRepo, tag: &str, version: usize) {
    let mut argocd = String::from("resources:\n");
    for i in 0..APPS {
        let name = format!("app{i:03}");
        argocd.push_str(&format!("  - {name}.yaml\n"));
        repo.write(
            &format!("k8s-apps/argocd/{name}.yaml"),
            application(&name, &format!("k8s-apps/apps/{name}")),
        );
        repo.write(
            &format!("k8s-apps/apps/{name}/kustomization.yaml"),
            format!(
                "namespace: {name}\nresources:\n  - cronjob.yaml\nconfigMapGenerator:\n  - name: forecast-script\n    files:\n      - forecast.py\nimages:\n  - name: ghcr.io/dcasati/python-base\n    newTag: {tag}\n"
            ),
        );
        repo.write(
            &format!("k8s-apps/apps/{name}/cronjob.yaml"),
            cronjob(&name, "0 * * * *"),
        );
        let v = if i % 10 == 0 { version } else { 0 };
        repo.write(
            &format!("k8s-apps/apps/{name}/forecast.py"),
            format!("import os\n\nprint('{name} v{v}')\n"),
        );
    }
    repo.write("k8s-apps/argocd/kustomization.yaml", argocd);
}

/// The 101 rendered folders.
fn folders(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.join("k8s-apps/argocd")];
    out.extend((0..APPS).map(|i| root.join(format!("k8s-apps/apps/app{i:03}"))));
    out
}

/// `cargo xtask diff BASE --head HEAD --format json` in `root`, parsed; exit 0 required.
fn diff(bin: &Path, root: &Path, base: &str, head: &str) -> serde_json::Value {
    let out = Command::new(bin)
        .args([
            "--root",
            root.to_str().unwrap(),
            "diff",
            base,
            "--head",
            head,
        ])
        .args(["--format", "json"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn kustomize(dir: &Path) {
    let status = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .expect("kubectl");
    assert!(status.success(), "kubectl kustomize {}", dir.display());
}

/// Each of `fs` timed `runs` times after one warm-up, interleaved (one run of each in turn, so
/// that a machine shared with other work slows them alike); (min, median) of each.
fn time_interleaved(runs: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<(Duration, Duration)> {
    fs.iter_mut().for_each(|f| f());
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); fs.len()];
    for _ in 0..runs {
        for (i, f) in fs.iter_mut().enumerate() {
            let start = Instant::now();
            f();
            times[i].push(start.elapsed());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            (t[0], t[runs / 2])
        })
        .collect()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("DIFF_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let bin = dev_binary();
    let repo = support::GitRepo::named("diff-bench");
    repo.write(".gitignore", "target/\n");
    repo.write("Cargo.toml", "[workspace]\n");
    repo.git.remote("origin", REPO_URL).unwrap();
    write_apps(&repo, "sha-aaaaaaa", 1);
    let base = repo.commit("base");
    // The floor's trees: plain copies of each commit's files.
    let trees = tempfile::tempdir().unwrap();
    let copy = |dest: &Path| {
        let status = Command::new("cp")
            .arg("-r")
            .arg(repo.root().join("k8s-apps"))
            .arg(dest)
            .status()
            .unwrap();
        assert!(status.success());
    };
    std::fs::create_dir_all(trees.path().join("base")).unwrap();
    copy(&trees.path().join("base/k8s-apps"));
    write_apps(&repo, "sha-bbbbbbb", 2);
    let head = repo.commit("head");
    std::fs::create_dir_all(trees.path().join("head")).unwrap();
    copy(&trees.path().join("head/k8s-apps"));

    let report = diff(&bin, repo.root(), &base, &head);
    let units = report["apps"].as_array().unwrap().len();
    let changes: usize = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["changes"].as_array().unwrap().len())
        .sum();
    println!(
        "repo: {APPS} Applications + the app-of-apps ({units} units), {changes} changed objects; images: {}",
        report["images"]
    );
    let all: Vec<PathBuf> = ["base", "head"]
        .iter()
        .flat_map(|side| folders(&trees.path().join(side)))
        .collect();
    let mut run_diff = || {
        diff(&bin, repo.root(), &base, &head);
    };
    let mut serial = || all.iter().for_each(|d| kustomize(d));
    let mut parallel = || {
        std::thread::scope(|s| {
            for half in all.chunks(all.len().div_ceil(2)) {
                s.spawn(move || half.iter().for_each(|d| kustomize(d)));
            }
        });
    };
    let t = time_interleaved(runs, &mut [&mut run_diff, &mut serial, &mut parallel]);
    let [
        (diff_min, diff_med),
        (serial_min, serial_med),
        (par_min, par_med),
    ] = [t[0], t[1], t[2]];
    println!(
        "cargo xtask diff (dev binary, {runs} runs):         min {}  median {}",
        ms(diff_min),
        ms(diff_med)
    );
    println!(
        "floor: kubectl kustomize x{}, one at a time:    min {}  median {}",
        all.len(),
        ms(serial_min),
        ms(serial_med)
    );
    println!(
        "floor: kubectl kustomize x{}, two at a time:    min {}  median {}",
        all.len(),
        ms(par_min),
        ms(par_med)
    );
    // A typical pull request: one app's script changes; the other 100 units are not rendered.
    repo.write("k8s-apps/apps/app042/forecast.py", "print('one change')\n");
    let one = repo.commit("one app");
    let mut one_app = || {
        diff(&bin, repo.root(), &head, &one);
    };
    let (one_min, one_med) = time_interleaved(runs, &mut [&mut one_app])[0];
    println!(
        "cargo xtask diff, one app changed:               min {}  median {}",
        ms(one_min),
        ms(one_med)
    );
    println!(
        "diff / serial floor (medians): {:.2}x (target <= 1.5x); diff / two-at-a-time floor: {:.2}x",
        diff_med.as_secs_f64() / serial_med.as_secs_f64(),
        diff_med.as_secs_f64() / par_med.as_secs_f64()
    );
}
