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

/// Every file xtask reads goes through `files` (`read_text`, `read_limited`, `read_in_repo`):
/// no symlink followed out of the repo, no FIFO waited on, a size limit. `repo.rs` reads git's
/// own index and the files it commits; test modules may read what they like.
#[test]
fn every_file_is_read_through_files_rs() {
    let reading = ["std::fs::read_to_string(", "std::fs::read(", "File::open("];
    for (path, text) in src_files() {
        let test_module = path.file_name().is_some_and(|n| n == "tests.rs");
        if test_module
            || path.ends_with("xtask/src/files.rs")
            || path.ends_with("xtask/src/repo.rs")
        {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for needle in reading {
            assert!(
                !code.contains(needle),
                "{} uses `{needle}`: read through crate::files (read_text, read_limited, \
                 read_in_repo)",
                path.display()
            );
        }
    }
}

/// std's print macros panic when the write fails (stdout on a full disk: exit 101). Machine
/// output goes through `output::stdout` (an error, exit 2) and human text through `say!`/`sayln!`.
#[test]
fn no_print_macro_can_panic() {
    only_in(
        None,
        &["print!(", "println!("],
        "use crate::output::stdout (machine output) or crate::output::sayln! (human text)",
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

/// The integration tests are one binary, `tests/it/main.rs`, with a module per area: a `.rs`
/// file or a `NAME/main.rs` directly under `xtask/tests/` would be a test binary of its own,
/// linking xtask and libgit2 again; and a file under `it/` that no `mod` names never runs.
#[test]
fn integration_tests_are_one_binary() {
    let tests = repo_root().join("xtask/tests");
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        let own_binary = path.extension().is_some_and(|e| e == "rs")
            || (path.join("main.rs").is_file() && !path.ends_with("it"));
        assert!(
            !own_binary,
            "{} is a test binary of its own: make it a module of tests/it/main.rs",
            path.display()
        );
    }
    for (dir, parent) in [("it", "main.rs"), ("it/support", "mod.rs")] {
        let dir = tests.join(dir);
        let parent_text = std::fs::read_to_string(dir.join(parent)).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "rs") && path.file_name().unwrap() != parent {
                assert!(
                    parent_text.contains(&format!("mod {name};")),
                    "{} is not declared in {}: add `mod {name};` or it never runs",
                    path.display(),
                    dir.join(parent).display()
                );
            }
        }
    }
}

/// One small file per subcommand: its `run` reads resolve, plan, execute; the pure planning
/// that grows goes to a module of its own (`resolve.rs`, `engine.rs`, ...).
#[test]
fn task_files_stay_under_400_lines() {
    let mut files = Vec::new();
    rust_sources(&repo_root().join("xtask/src/tasks"), &mut files);
    assert!(files.len() > 8, "{files:?}");
    for path in files {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(
            lines < 400,
            "{} has {lines} lines: move its pure planning out of the task (see resolve.rs)",
            path.display()
        );
    }
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

/// The repo's workflows and the pre-commit config, each with its text.
fn automation_files() -> Vec<(PathBuf, String)> {
    let dir = repo_root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files.push(repo_root().join(".pre-commit-config.yaml"));
    files
        .into_iter()
        .map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// Every mapping value under `key`, anywhere in `node`.
fn values_of<'a>(node: &'a xtask::yaml::Node, key: &str, out: &mut Vec<&'a xtask::yaml::Node>) {
    if let Some(map) = node.as_map() {
        for entry in map {
            if entry.key.as_str() == Some(key) {
                out.push(&entry.value);
            }
            values_of(&entry.value, key, out);
        }
    } else if let Some(items) = node.as_seq() {
        for item in items {
            values_of(item, key, out);
        }
    }
}

/// The argv after `cargo xtask` of each shell line that runs it: the line is cut at the first
/// redirection, pipe or list operator, and split into words (quotes kept together).
fn xtask_lines(script: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in script.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("cargo xtask") else {
            assert!(
                !line.contains("cargo xtask"),
                "`cargo xtask` must start its line: {line}"
            );
            continue;
        };
        assert!(
            !rest.contains("${{") && !rest.contains('$'),
            "a `cargo xtask` line takes no expressions or variables: {line}"
        );
        let mut words = Vec::new();
        let (mut word, mut quote, mut started) = (String::new(), None, false);
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.push(c),
                (None, '\'' | '"') => (quote, started) = (Some(c), true),
                (None, '>' | '<' | '|' | '&' | ';' | '#') => break,
                (None, c) if c.is_whitespace() => {
                    if started || !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                    started = false;
                }
                (None, c) => word.push(c),
            }
        }
        if started || !word.is_empty() {
            words.push(word);
        }
        found.push(words);
    }
    found
}

#[test]
fn every_cargo_xtask_line_parses_with_the_real_cli() {
    use clap::Parser;
    let mut checked = 0;
    for (path, text) in automation_files() {
        let docs = xtask::yaml::load(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let root = &docs[0].root;
        let mut commands = Vec::new();
        let mut runs = Vec::new();
        values_of(root, "run", &mut runs);
        for run in runs {
            for words in xtask_lines(run.as_str().unwrap()) {
                commands.push((run.start.line, words));
            }
        }
        // pre-commit hooks: `entry`, plus the file names pre-commit appends unless told not to.
        let mut hooks = Vec::new();
        values_of(root, "hooks", &mut hooks);
        for hook in hooks.iter().flat_map(|h| h.as_seq().unwrap()) {
            let entry = hook.get("entry").unwrap();
            for mut words in xtask_lines(entry.as_str().unwrap()) {
                if hook.get("pass_filenames").and_then(|v| v.as_str()) != Some("false") {
                    words.push("k8s-apps/iot-stack/kustomization.yaml".into());
                }
                commands.push((entry.start.line, words));
            }
        }
        for (line, words) in commands {
            let argv = std::iter::once("cargo xtask".to_string()).chain(words.iter().cloned());
            if let Err(e) = xtask::flags::Xtask::try_parse_from(argv) {
                panic!(
                    "{}:{line}: `cargo xtask {}` does not parse:\n{e}",
                    path.display(),
                    words.join(" ")
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} `cargo xtask` lines found");
}

#[test]
fn the_line_splitter_keeps_quotes_and_drops_redirections() {
    assert_eq!(
        xtask_lines("  cargo xtask lint-manifests --format sarif > lint.sarif || true\necho x"),
        [["lint-manifests", "--format", "sarif"]]
    );
    assert_eq!(
        xtask_lines("cargo xtask update-images 'a b' \"\"  # why"),
        [vec!["update-images", "a b", ""]]
    );
}

/// `owner/repo[/path]@<40 lowercase hex>`, followed on its line by `# vX…` naming the version.
fn pinned(value: &str, line: &str) -> bool {
    let Some((action, reference)) = value.split_once('@') else {
        return false;
    };
    let comment = line.split_once(" # ").map(|(_, c)| c.trim());
    action.split('/').count() >= 2
        && reference.len() == 40
        && reference
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && comment
            .is_some_and(|c| c.starts_with('v') && c[1..].starts_with(|d: char| d.is_ascii_digit()))
}

#[test]
fn every_action_is_pinned_to_a_commit_with_its_version() {
    assert!(pinned(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
    ));
    assert!(!pinned(
        "actions/checkout@v4",
        "      - uses: actions/checkout@v4 # v4"
    ));
    assert!(!pinned(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
    ));
    let mut checked = 0;
    for (path, text) in automation_files() {
        let docs = xtask::yaml::load(&text).unwrap();
        let mut uses = Vec::new();
        values_of(&docs[0].root, "uses", &mut uses);
        for node in uses {
            let value = node.as_str().unwrap();
            if value.starts_with("./") {
                continue;
            }
            let line = text.lines().nth(node.start.line - 1).unwrap();
            assert!(
                pinned(value, line),
                "{}:{}: `uses: {value}` must be pinned to a full commit SHA with the version in a \
                 comment (`owner/repo@<40 hex> # vX.Y.Z`), looked up in the action's own tags",
                path.display(),
                node.start.line
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} `uses:` found");
}

#[test]
fn no_workflow_grants_write_at_the_top() {
    for (path, text) in automation_files() {
        if path.ends_with(".pre-commit-config.yaml") {
            continue;
        }
        let docs = xtask::yaml::load(&text).unwrap();
        let permissions = docs[0].root.get("permissions").unwrap_or_else(|| {
            panic!(
                "{}: set `permissions: contents: read` at the top",
                path.display()
            )
        });
        let granted: Vec<(&str, &str)> = match permissions.as_map() {
            Some(map) => map
                .iter()
                .map(|e| (e.key.as_str().unwrap(), e.value.as_str().unwrap()))
                .collect(),
            None => vec![("*", permissions.as_str().unwrap())],
        };
        for (scope, level) in granted {
            assert!(
                matches!(level, "read" | "none" | "read-all"),
                "{}:{}: top-level permission `{scope}: {level}`: grant write only on the job \
                 that needs it",
                path.display(),
                permissions.start.line
            );
        }
    }
}

/// The `#[test]` functions of a test source: (name, attribute lines, body), the body running
/// from the `fn` line to the closing brace at the `fn`'s own indentation.
fn test_functions(text: &str) -> Vec<(String, Vec<String>, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed.strip_prefix("fn ") else {
            continue;
        };
        let attrs: Vec<String> = lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .take_while(|l| l.starts_with("#[") || l.starts_with("///"))
            .filter(|l| l.starts_with("#["))
            .map(str::to_string)
            .collect();
        if !attrs.iter().any(|a| a == "#[test]") {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", &line[..line.len() - trimmed.len()]);
        let end = lines[i..]
            .iter()
            .position(|l| *l == close)
            .map_or(lines.len(), |n| i + n + 1);
        found.push((name, attrs, lines[i..end].join("\n")));
    }
    found
}

/// End-to-end tests are reported by the runner as ignored (skipped) without `XTASK_E2E=1`, never
/// as passed: every test named `e2e_*` or that calls `require(` (a real tool) carries
/// `#[ignore = "e2e: …"]`, and no test reads `XTASK_E2E` itself to return early. A CLI test
/// may add a real-tool check on top under `support::e2e_enabled()`.
#[test]
fn every_e2e_test_is_ignored_with_an_e2e_reason() {
    let mut files = Vec::new();
    rust_sources(&repo_root().join("xtask/tests"), &mut files);
    rust_sources(&repo_root().join("xtask/src"), &mut files);
    // Spelt in two halves, so that this test does not find itself.
    let reads_gate = ["XTASK", "_E2E\")"].concat();
    let returns_early = ["!support::", "e2e_enabled()"].concat();
    let mut wrong = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (name, attrs, body) in test_functions(&text) {
            let ignored = attrs.iter().any(|a| a.starts_with("#[ignore = \"e2e: "));
            let hybrid = body.contains("e2e_enabled()");
            let real_tool = body.contains("require(\"") || body.contains("require(tool)");
            let needs = name.starts_with("e2e_") || (real_tool && !hybrid);
            if needs && !ignored {
                wrong.push(format!(
                    "{}: {name} lacks #[ignore = \"e2e: …\"]",
                    path.display()
                ));
            }
            if body.contains(&reads_gate) || body.contains(&returns_early) {
                wrong.push(format!(
                    "{}: {name} reads XTASK_E2E to return early: mark it #[ignore = \"e2e: …\"]",
                    path.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn test_functions_finds_attributes_and_bodies() {
    let text = "#[test]\n#[ignore = \"e2e: x\"]\nfn e2e_a() {\n    require(\"podman\");\n}\n\nfn helper() {}\n\n    /// doc\n    #[test]\n    fn b() {\n        let x = 1;\n    }\n";
    let found = test_functions(text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "e2e_a");
    assert_eq!(found[0].1, ["#[ignore = \"e2e: x\"]", "#[test]"]);
    assert!(found[0].2.contains("require(\"podman\")") && found[0].2.ends_with('}'));
    assert_eq!(found[1].0, "b");
    assert!(found[1].2.contains("let x = 1;") && !found[1].2.contains("helper"));
}
