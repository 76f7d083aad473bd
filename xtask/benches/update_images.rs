//! Benchmark of `update-images` on generated trees of 1,000 kustomizations in a temporary git
//! repo: one where every file names the base image, and one where every 10th does. Every timed
//! run rewrites each file that names the image (the SHA alternates between two commits).
//!
//! Reports min, median and CPU time (user + system) of: the baseline (read + `yaml::load` of the
//! same files, in process); the floor of the writes (temp file + rename of as many files, no
//! YAML); the library call (`tasks::update_images::update`, in process), writing and `--check`
//! on an up-to-date tree; and the whole process: the dev-profile binary as `cargo xtask` runs
//! it, and the bench-profile binary.
//!
//! Run: `cargo bench --bench update_images`. Target: with every file changed, the dev-profile
//! process within 2x of the write floor.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xtask::{Ctx, flags, settings::Settings, tasks::update_images};

const FILES: usize = 1000;
const WARMUP: usize = 3;
const RUNS: usize = 21;
/// The dev-profile process may take this many times the write floor when every file changes.
const TARGET: f64 = 2.0;

/// The `i`th kustomization; it names the base image when `refers`.
fn kustomization(i: usize, refers: bool) -> String {
    let base = if refers {
        "  - name: ghcr.io/dcasati/python-base # the shared base image\n    newTag: \"sha-0000000\"\n"
    } else {
        "  - name: ghcr.io/dcasati/other-image\n    newTag: \"sha-0000000\"\n"
    };
    let overlay = i % 2 == 1;
    let resources = if overlay {
        "resources:\n  - ../base\n".to_string()
    } else {
        format!("resources:\n  - cronjob-{i}.yaml\n  - configmap.yaml\n")
    };
    format!(
        "# app {i}: generated for the benchmark\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{resources}namespace: iot\nlabels:\n  - pairs:\n      app.kubernetes.io/part-of: iot-stack\nimages:\n  - name: python\n    newTag: 3.11-slim\n{base}  - {{name: influxdb, newTag: '1.8'}}\n"
    )
}

/// A git repo with 1,000 kustomizations (500 apps, each a base and an overlay), every `every`th
/// of which names the base image, and two commits.
fn tree(every: usize) -> (tempfile::TempDir, [String; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let git = git2::Repository::init(dir.path()).unwrap();
    let mut cfg = git.config().unwrap();
    cfg.set_str("user.name", "Bench").unwrap();
    cfg.set_str("user.email", "bench@example.com").unwrap();
    for i in 0..FILES {
        let kind = if i % 2 == 1 { "overlays/dev" } else { "base" };
        let path = dir.path().join(format!(
            "k8s-apps/apps/app-{:03}/{kind}/kustomization.yaml",
            i / 2
        ));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, kustomization(i, i % every == 0)).unwrap();
    }
    let mut ids = Vec::new();
    for round in 0..2 {
        let ctx = dir.path().join("k8s-apps/base-images");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(
            ctx.join("Dockerfile"),
            format!("FROM python:3.11-slim\n# {round}\n"),
        )
        .unwrap();
        let mut index = git.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = git.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git.signature().unwrap();
        let parent = git.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let id = git
            .commit(Some("HEAD"), &sig, &sig, "bench", &tree, &parents)
            .unwrap();
        ids.push(id.to_string());
    }
    (dir, [ids[0].clone(), ids[1].clone()])
}

struct Stats {
    min: Duration,
    median: Duration,
    /// Mean user + system CPU time per run (this process and its waited-for children).
    cpu: Duration,
}

/// User + system CPU time so far of this process and its waited-for children, from
/// /proc/self/stat (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    // After the command name: state is field 3; utime, stime, cutime, cstime are 14 to 17.
    let ticks: u64 = (11..15)
        .filter_map(|i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Warm-up, then `RUNS` timed runs of `f(i)`.
fn measure(mut f: impl FnMut(usize)) -> Stats {
    for i in 0..WARMUP {
        f(i);
    }
    let cpu_start = cpu_time();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|i| {
            let start = Instant::now();
            f(WARMUP + i);
            start.elapsed()
        })
        .collect();
    let cpu = (cpu_time() - cpu_start) / RUNS as u32;
    times.sort();
    Stats {
        min: times[0],
        median: times[RUNS / 2],
        cpu,
    }
}

/// One line of figures; with `vs`, the ratio of the medians to the one of `vs` (named).
fn report(what: &str, s: &Stats, vs: Option<(&str, &Stats)>) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = vs
        .map(|(name, b)| format!("  {:>5.2}x {name}", ms(s.median) / ms(b.median)))
        .unwrap_or_default();
    println!(
        "{what:<52} min {:>8.2} ms  median {:>8.2} ms  cpu {:>7.1} ms{ratio}",
        ms(s.min),
        ms(s.median),
        ms(s.cpu)
    );
}

/// The dev-profile binary `cargo xtask` runs, built now if needed.
fn dev_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let target = exe.ancestors().nth(3)?.to_path_buf(); // target/release/deps/<bench>
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--quiet", "--package", "xtask", "--bin", "xtask"])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .ok()?;
    let bin = target.join("debug/xtask");
    (status.success() && bin.is_file()).then_some(bin)
}

fn run_process(bin: &Path, root: &Path, args: &[&str]) {
    let status = Command::new(bin)
        .args(["--root"])
        .arg(root)
        .arg("update-images")
        .args(args)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn flags(sha: &str, check: bool) -> flags::UpdateImages {
    flags::UpdateImages {
        sha: Some(sha.to_string()),
        path: Vec::new(),
        image: Vec::new(),
        dry_run: false,
        check,
        commit: false,
        verify: false,
        digest: false,
    }
}

fn main() {
    let dev = dev_binary();
    let mut verdict = String::from("no dev-profile binary: no verdict");
    for every in [1, 10] {
        let (dir, ids) = tree(every);
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let files = xtask::kustomize::discover(&root, &[PathBuf::from("k8s-apps")])
            .unwrap()
            .files;
        assert_eq!(files.len(), FILES);
        let changing = FILES.div_ceil(every);
        println!(
            "\n{FILES} kustomizations, {changing} of which name the image (each run rewrites them)"
        );

        let baseline = measure(|_| {
            for f in &files {
                let text = std::fs::read_to_string(root.join(f)).unwrap();
                std::hint::black_box(xtask::yaml::load(&text).unwrap());
            }
        });
        report("baseline: read + yaml::load (in process)", &baseline, None);
        let contents: Vec<(PathBuf, String)> = files
            .iter()
            .take(changing)
            .map(|f| (root.join(f), std::fs::read_to_string(root.join(f)).unwrap()))
            .collect();
        let floor = measure(|_| {
            for (path, text) in &contents {
                xtask::files::write_atomic(path, text.as_bytes()).unwrap();
            }
        });
        report(
            &format!("floor: write_atomic of {changing} files, no YAML"),
            &floor,
            Some(("baseline", &baseline)),
        );
        let ctx = Ctx {
            root: root.clone(),
            settings: Settings::default(),
        };
        let library = measure(|i| {
            let outcome = update_images::update(&flags(&ids[i % 2], false), &ctx).unwrap();
            assert_eq!((outcome.changes.len(), outcome.written), (changing, true));
        });
        report(
            "library call: update",
            &library,
            Some(("baseline", &baseline)),
        );
        report("library call: update", &library, Some(("floor", &floor)));
        // The last timed run used ids[1]: the tree is up to date with it.
        let check = measure(|_| {
            let outcome = update_images::update(&flags(&ids[1], true), &ctx).unwrap();
            assert!(outcome.changes.is_empty());
        });
        report(
            "library call: --check, up to date (no write)",
            &check,
            Some(("baseline", &baseline)),
        );

        match &dev {
            Some(bin) => {
                let run = measure(|i| run_process(bin, &root, &[&ids[i % 2]]));
                report(
                    "process, dev profile (as cargo xtask)",
                    &run,
                    Some(("baseline", &baseline)),
                );
                report("process, dev profile", &run, Some(("floor", &floor)));
                if every == 1 {
                    let ratio = run.median.as_secs_f64() / floor.median.as_secs_f64();
                    let within = if ratio <= TARGET { "within" } else { "OVER" };
                    verdict = format!(
                        "all {FILES} changed: dev-profile process {ratio:.2}x the write floor (medians): {within} the {TARGET}x target"
                    );
                }
                let check = measure(|_| run_process(bin, &root, &["--check", &ids[1]]));
                report(
                    "process, dev profile: --check, up to date",
                    &check,
                    Some(("baseline", &baseline)),
                );
            }
            None => println!("process, dev profile: could not build target/debug/xtask"),
        }
        let bench_bin = PathBuf::from(env!("CARGO_BIN_EXE_xtask"));
        let optimized = measure(|i| run_process(&bench_bin, &root, &[&ids[i % 2]]));
        report(
            "process, bench profile (optimized)",
            &optimized,
            Some(("baseline", &baseline)),
        );
    }
    println!("\n{verdict}");
}
