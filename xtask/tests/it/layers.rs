//! The layering of `xtask/src`, drawn from the imports: every `crate::…` path in a module's
//! non-test code names the top-level module it uses. Each module sits on a declared layer and
//! uses only its own layer or the ones below; no module imports itself back through others (no
//! circle). ARCHITECTURE.md's map is this table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. `yaml` (the xtask-yaml crate) sits below them all. The crate root's `Ctx`,
/// `Status` and `dispatch` are re-exports of `tasks`.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "signals",
            "output",
            "exec",
            "files",
            "walk",
            "repo",
            "image_ref",
            "tools",
            "sarif",
            "settings",
            "build_record",
            "oci_labels",
        ],
    ),
    (
        "domain",
        &[
            "registry",
            "registry_error",
            "engine",
            "cosign",
            "trivy",
            "trivy_sarif",
            "kustomize",
            "kustomize_shapes",
            "resolve",
            "digests",
            "buildx_nodes",
            "smoke",
        ],
    ),
    ("lint", &["lint", "diff"]),
    ("cli", &["flags", "tasks"]),
    ("entry", &["lib", "main"]),
];

/// Pairs the layers allow but the design does not: (from, to, why).
const FORBIDDEN: &[(&str, &str, &str)] = &[
    (
        "flags",
        "cosign",
        "CLI types convert at the task boundary; flags names no tool module",
    ),
    (
        "exec",
        "settings",
        "the Runner is handed its timeout; it decides nothing about images or files",
    ),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, m)| m.contains(&module))
}

/// The top-level module a source file belongs to (`lint/report.rs` → `lint`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// `text` without comments and without the trailing `#[cfg(test)] mod tests` block.
fn code_of(text: &str) -> String {
    let text = text
        .find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i]);
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`.
fn uses(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the names at the group's top level.
            let (mut depth, mut name, mut names) = (0, String::new(), Vec::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => names.push(std::mem::take(&mut name)),
                    c if depth == 0 => name.push(c),
                    _ => {}
                }
            }
            names.push(name);
            out.extend(names.iter().filter_map(|n| ident(n.trim())));
        } else if let Some(name) = ident(rest) {
            out.insert(name);
        }
    }
    out.into_iter()
        .map(|n| match n.as_str() {
            "Ctx" | "Status" | "dispatch" => "tasks".to_string(),
            "run" => "lib".to_string(),
            _ => n,
        })
        .collect()
}

fn ident(s: &str) -> Option<String> {
    let name: String = s
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// Module → the modules it uses, for every file of `xtask/src`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = module_of(&src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        let to = graph.entry(from.clone()).or_default();
        to.extend(uses(&code_of(&text)).into_iter().filter(|m| *m != from));
    }
    graph
}

#[test]
fn every_module_imports_only_its_layer_or_below() {
    let mut wrong = Vec::new();
    for (from, uses) in graph() {
        let Some(mine) = layer_of(&from) else {
            wrong.push(format!(
                "{from}: on no layer; add it to LAYERS in tests/it/layers.rs"
            ));
            continue;
        };
        for to in uses.iter().filter(|m| *m != "yaml") {
            match layer_of(to) {
                None => wrong.push(format!("{from} uses {to}, which is on no layer")),
                Some(theirs) if theirs > mine => wrong.push(format!(
                    "{from} ({}) imports {to} ({}), a floor up",
                    LAYERS[mine].0, LAYERS[theirs].0
                )),
                Some(_) => {}
            }
            if let Some((_, _, why)) = FORBIDDEN.iter().find(|(f, t, _)| *f == from && t == to) {
                wrong.push(format!("{from} imports {to}: {why}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_module_imports_itself_back() {
    let graph = graph();
    // Depth-first search from each module: reaching it again is a circle.
    for start in graph.keys() {
        let mut stack: Vec<Vec<&str>> = vec![vec![start.as_str()]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = *path.last().unwrap();
            for next in graph.get(last).into_iter().flatten() {
                assert!(
                    next != start,
                    "a circle of imports: {} -> {start}",
                    path.join(" -> ")
                );
                if seen.insert(next.as_str()) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
}

#[test]
fn the_import_reader_sees_groups_paths_and_re_exports() {
    let code = "use crate::{Ctx, exec::Runner, lint::{a, b}};\nlet x = crate::repo::short(id);";
    let got: Vec<String> = uses(code).into_iter().collect();
    assert_eq!(got, ["exec", "lint", "repo", "tasks"]);
    assert_eq!(
        code_of("use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests {\nuse crate::c;\n}"),
        "use crate::a;\n"
    );
}

#[test]
fn architecture_md_draws_the_same_floors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (layer, modules) in LAYERS {
        let head = format!("- **{layer}**: ");
        let at = flat
            .find(&head)
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no `{head}` line"));
        let listed = &flat[at + head.len()..];
        let listed = &listed[..listed.find('.').unwrap()];
        let mut listed: Vec<&str> = listed.split(", ").collect();
        let mut declared = modules.to_vec();
        listed.sort();
        declared.sort();
        assert_eq!(listed, declared, "the {layer} floor in ARCHITECTURE.md");
    }
}

/// Non-test code of every source file but `owners`, as (path, code).
fn code_outside(owners: &[&str]) -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(&src).unwrap().display().to_string();
            if path.is_dir() {
                stack.push(path);
            } else if rel.ends_with(".rs")
                && !rel.ends_with("tests.rs")
                && !owners.contains(&rel.as_str())
            {
                out.push((rel, code_of(&std::fs::read_to_string(&path).unwrap())));
            }
        }
    }
    out
}

#[test]
fn only_resolve_rs_spells_tags_and_plain_http() {
    for (file, code) in code_outside(&["resolve.rs", "image_ref.rs"]) {
        for needle in ["\"-dirty\"", "\"sha-{", "is_loopback()", "[..7]"] {
            // A commit's 7 hex digits are `repo::short`'s.
            let owner = needle == "[..7]" && file == "repo.rs";
            assert!(
                owner || !code.contains(needle),
                "{file} uses `{needle}`: tags (resolve::Tag, Commit::short) and plain HTTP \
                 (resolve::plain_http) come from resolve.rs"
            );
        }
    }
}

#[test]
fn no_task_branches_on_dry_run() {
    for (file, code) in code_outside(&["exec.rs"]) {
        for line in code.lines() {
            let branch = ["if ", "match ", "&& ", "then"]
                .iter()
                .any(|b| line.contains(b));
            assert!(
                !(branch && line.contains("dry_run")),
                "{file}: `{}`: --dry-run is decided by the Runner (exec.rs); hand it to \
                 Runner::new and use run/for_real/show_or_run",
                line.trim()
            );
        }
    }
}
