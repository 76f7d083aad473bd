//! Kustomize's plugin model: the files a kustomization lists under `generators:`,
//! `transformers:` and `validators:` are plugin configurations (KSOPS, other exec or container
//! plugins, the built-in generators as configs), not manifests; and the files those configs
//! name (`files:`, `envs:`, KSOPS' `secretFrom[].files`) are the plugin's inputs. Both are
//! inputs of the build: never orphans, never checked as whole objects.
//!
//! A generator source that is a URL is fetched by kustomize at build time: KUS-REMOTE-INPUT
//! unless the URL pins a commit, and never a missing file.

use super::kustomize_rules::{GENERATOR_FILE_MISSING, RESOURCE_OUTSIDE, Ref, Tree};
use super::{Doc, Finding, Rule, Severity};
use crate::walk::{self, normalize};
use crate::yaml::Node;
use std::path::{Path, PathBuf};

pub const REMOTE_INPUT: Rule = Rule {
    id: "KUS-REMOTE-INPUT",
    severity: Severity::Warning,
    summary: "generator reads a URL that pins no commit",
    explain: "A configMapGenerator or secretGenerator source (or a file a generator plugin \
names) is a URL, which kustomize fetches at every build. Unless the URL pins a commit (40 hex \
digits in it, as in raw.githubusercontent.com/owner/repo/<sha>/file), what deploys changes when \
the remote file does, and the build fails when it is unreachable. Pin the commit, or vendor the \
file into the repository.",
};

pub const RULES: &[Rule] = &[REMOTE_INPUT];

/// True for a source kustomize fetches rather than reads from disk.
pub fn is_url(value: &str) -> bool {
    value.starts_with("https://") || value.starts_with("http://")
}

/// KUS-REMOTE-INPUT for a URL source `r` of `what`, unless it pins a commit. Returns whether
/// `r` is a URL (then it is not a file to look for).
pub fn remote(kfile: &Path, what: &str, r: &Ref, out: &mut Vec<Finding>) -> bool {
    if !is_url(&r.value) {
        return false;
    }
    let pinned = r
        .value
        .split(|c: char| !c.is_ascii_hexdigit())
        .any(|w| w.len() == 40);
    if !pinned {
        out.push(Finding::new(
            &REMOTE_INPUT,
            kfile,
            r.pos,
            format!(
                "{what}: `{}` is fetched at every build and pins no commit: pin a commit in the URL, or vendor the file",
                r.value
            ),
        ));
    }
    true
}

/// The files a plugin configuration names: `files:` and `envs:` at the top, and in each
/// `secretFrom:` entry (KSOPS); `key=path` entries give their path.
pub fn plugin_files(doc: &Doc) -> Vec<Ref> {
    let mut out = Vec::new();
    let mut take = |node: &Node| {
        for key in ["files", "envs"] {
            for n in doc.seq(node, key) {
                let n = doc.resolve(n);
                if let Some(s) = n.as_str().filter(|s| !s.is_empty() && !s.contains('\n')) {
                    let path = s.split_once('=').map_or(s, |(_, p)| p);
                    out.push(Ref {
                        value: path.to_string(),
                        pos: n.start,
                    });
                }
            }
        }
    };
    take(doc.root);
    for s in doc.seq(doc.root, "secretFrom") {
        take(doc.resolve(s));
    }
    out
}

/// The plugin configurations of the tree: the files kustomizations list under
/// `generators:`/`transformers:`/`validators:`, and the manifests of a kustomization folder
/// listed there.
pub fn configs(tree: &Tree) -> Vec<PathBuf> {
    let mut configs = Vec::new();
    for (_, facts) in &tree.files {
        let Some(k) = &facts.kustomization else {
            continue;
        };
        for p in &k.links.plugins {
            match tree.kustomization(p) {
                Some(inner) => configs.extend(inner.links.files.iter().cloned()),
                None => configs.push(p.clone()),
            }
        }
    }
    configs
}

/// The files that the plugin configuration `config` names, resolved from its folder.
pub fn named_files<'t>(tree: &'t Tree, config: &Path) -> impl Iterator<Item = (PathBuf, &'t Ref)> {
    let dir = config.parent().unwrap_or(Path::new("")).to_path_buf();
    let refs = tree.facts(config).map_or(&[][..], |f| &f.plugin_files[..]);
    refs.iter()
        .filter(|r| !is_url(&r.value))
        .filter_map(move |r| Some((normalize(&dir.join(&r.value))?, r)))
}

/// The files a plugin names that do not exist or lead outside, and its URL sources.
pub fn check(tree: &Tree, out: &mut Vec<Finding>) {
    let mut configs = configs(tree);
    configs.sort();
    configs.dedup();
    for config in &configs {
        let refs = tree.facts(config).map_or(&[][..], |f| &f.plugin_files[..]);
        for r in refs {
            if remote(config, "generator plugin", r, out) {
                continue;
            }
            let dir = config.parent().unwrap_or(Path::new(""));
            let problem = match normalize(&dir.join(&r.value)) {
                None => Some((&RESOURCE_OUTSIDE, "points outside the repository")),
                Some(p) => match walk::resolve(&tree.root, &p) {
                    walk::Resolved::File(_) => None,
                    walk::Resolved::Outside => Some((
                        &RESOURCE_OUTSIDE,
                        "resolves outside the repository through a symlink",
                    )),
                    walk::Resolved::Dir(_) => Some((&GENERATOR_FILE_MISSING, "is a folder")),
                    _ => Some((&GENERATOR_FILE_MISSING, "does not exist")),
                },
            };
            if let Some((rule, why)) = problem {
                out.push(Finding::new(
                    rule,
                    config,
                    r.pos,
                    format!("generator plugin: file `{}` {why}", r.value),
                ));
            }
        }
    }
}
