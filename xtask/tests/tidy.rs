//! Repo conventions, enforced from `cargo test` (after rust-analyzer's tidy test).

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_sources(&repo_root().join("xtask/src"), &mut files);
    rust_sources(&repo_root().join("xtask/yaml/src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

#[test]
fn the_old_scripts_never_come_back() {
    for old in ["build.sh", "update-images.sh"] {
        let mut found = Vec::new();
        find_named(&repo_root(), old, &mut found);
        assert!(
            found.is_empty(),
            "{old} is replaced by cargo xtask: {found:?}"
        );
    }
}

fn find_named(dir: &Path, name: &str, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let file_name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && !matches!(file_name.as_ref(), ".git" | "target" | "node_modules") {
            find_named(&path, name, found);
        } else if file_name == name {
            found.push(path);
        }
    }
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    for (path, text) in src_files() {
        assert!(
            text.starts_with("//!"),
            "{} must start with a `//!` module doc",
            path.display()
        );
    }
}

/// Asserts that no source file other than `owner` (a path ending) contains any of `needles`.
fn only_in(owner: Option<&str>, needles: &[&str], fix: &str) {
    for (path, text) in src_files() {
        if owner.is_some_and(|owner| path.ends_with(owner)) {
            continue;
        }
        for needle in needles {
            assert!(
                !text.contains(needle),
                "{} uses `{needle}`: {fix}",
                path.display()
            );
        }
    }
}

#[test]
fn only_exec_rs_starts_processes() {
    let spawning = [
        "std::process::Command",
        "Command::new(",
        "duct::cmd",
        ".cmd(",
    ];
    only_in(
        Some("xtask/src/exec.rs"),
        &spawning,
        "go through exec::Runner",
    );
}

#[test]
fn only_repo_rs_touches_git2() {
    only_in(
        Some("xtask/src/repo.rs"),
        &["git2"],
        "go through repo::Repo",
    );
}

/// The hot-helper and path-key layer (issue 12) was opt-level-0 tuning that made the code read
/// as the benchmark: plain std (`HashMap`, plain indices, `str::contains`) says the same.
#[test]
fn no_hot_helpers_or_path_key_layer() {
    assert!(!repo_root().join("xtask/yaml/src/hot.rs").exists());
    let layer = [
        "hot::",
        "PathKey",
        "PathBufKey",
        "KeyPath",
        "FastMap",
        "FastSet",
        "FxHasher",
        "hash_path",
    ];
    only_in(
        None,
        &layer,
        "use plain std maps, indices and string search",
    );
}

#[test]
fn main_rs_stays_thin() {
    let main = std::fs::read_to_string(repo_root().join("xtask/src/main.rs")).unwrap();
    assert!(main.lines().count() < 100, "main.rs is over 100 lines");
}

#[test]
fn every_dependency_says_why() {
    for manifest in ["xtask/Cargo.toml", "xtask/yaml/Cargo.toml"] {
        dependencies_say_why(&std::fs::read_to_string(repo_root().join(manifest)).unwrap());
    }
}

fn dependencies_say_why(manifest: &str) {
    let mut section = "";
    let mut previous = "";
    for line in manifest.lines() {
        if line.starts_with('[') {
            section = line;
        } else if section.ends_with("dependencies]")
            && !line.trim().is_empty()
            && !line.starts_with('#')
        {
            assert!(
                previous.starts_with('#'),
                "{section} `{line}` needs a `# why` comment above it"
            );
        }
        previous = line;
    }
}
