//! Which folders `diff` renders, found in one commit's tree:
//! - every Argo CD `Application` whose source (`spec.source`, or the first matching entry of
//!   `spec.sources`) is this repository (its `repoURL` matches the origin remote or
//!   `GITHUB_REPOSITORY`) with a `path` inside the tree, named by the Application;
//! - every top-level kustomization (one no other kustomization includes) that no Application
//!   renders, named by its folder: the app-of-apps folder itself, for one.
//!
//! A unit lists the remote resources its kustomizations reach (`https://…`, `git@…`,
//! `github.com/…`, Helm chart repos), which the task refuses unless remote bases are allowed.

use crate::kustomize::FILE_NAMES;
use crate::walk::normalize;
use crate::yaml::{self, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One commit's files under the manifests root, relative to the repo root.
#[derive(Debug, Default)]
pub struct TreeFiles {
    /// Text of every YAML file and kustomization.
    pub texts: BTreeMap<PathBuf, String>,
    /// Every file (of any kind) and folder.
    pub files: BTreeSet<PathBuf>,
    pub dirs: BTreeSet<PathBuf>,
    /// Symlinks (each leads inside the tree; the task refuses any other).
    pub links: BTreeSet<PathBuf>,
}

/// How a unit's folder is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `kustomize build` of the folder.
    Kustomize,
    /// The folder's own YAML files, as Argo CD reads a plain directory.
    Directory,
    /// A Helm chart, which `diff` does not render.
    Helm,
    /// The Application's path is not a folder of this commit.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    /// Folder, relative to the repo root.
    pub path: PathBuf,
    pub source: Source,
    /// `(kustomization file, entry)` for each remote resource its kustomizations reach.
    pub remote: Vec<(PathBuf, String)>,
    /// The folders whose files the render can read, sorted: the unit's folder and every folder
    /// its kustomizations include, transitively. kustomize's load restrictor keeps every file a
    /// kustomization reads inside its own folder, so when none of these folders changed between
    /// two commits, neither did the render.
    pub inputs: Vec<PathBuf>,
}

/// The units of one tree, sorted by name, and notes on Applications that are not units.
#[derive(Debug, Default)]
pub struct Found {
    pub units: Vec<Unit>,
    pub notes: Vec<String>,
}

/// A repository URL in one comparable form: `github.com/owner/repo`, lower case, without
/// scheme, user, port, `.git` or a trailing slash.
pub fn normalize_repo(url: &str) -> Option<String> {
    crate::oci_labels::source_url(|_| None, Some(url))
        .map(|u| u.trim_start_matches("https://").to_ascii_lowercase())
}

pub fn find(tree: &TreeFiles, repos: &[String]) -> Found {
    let repos: Vec<String> = repos.iter().filter_map(|r| normalize_repo(r)).collect();
    let kusts = kustomizations(tree);
    let mut included = BTreeSet::new();
    for k in kusts.values() {
        included.extend(k.includes.iter().cloned());
    }
    let mut found = Found::default();
    let mut covered = BTreeSet::new();
    for (file, doc) in applications(tree) {
        let name = doc
            .get_path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string();
        let sources: Vec<&Node> = match (
            doc.get_path(&["spec", "source"]),
            doc.get_path(&["spec", "sources"]).and_then(Node::as_seq),
        ) {
            (Some(s), _) => vec![s],
            (None, Some(list)) => list.iter().collect(),
            (None, None) => vec![],
        };
        let ours = sources.into_iter().find(|s| {
            s.get("repoURL")
                .and_then(Node::as_str)
                .and_then(normalize_repo)
                .is_some_and(|u| repos.contains(&u))
        });
        let Some(source) = ours else {
            found.notes.push(format!(
                "{}: Application `{name}` renders another repository; not compared",
                file.display()
            ));
            continue;
        };
        let raw = source
            .get("path")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let Some(path) = normalize(Path::new(raw.trim_start_matches('/'))) else {
            found.notes.push(format!(
                "{}: Application `{name}` has the path `{raw}`, outside the tree; not compared",
                file.display()
            ));
            continue;
        };
        covered.insert(path.clone());
        for option in ["kustomize", "directory", "helm", "plugin"] {
            if source.get(option).is_some() {
                found.notes.push(format!(
                    "{}: Application `{name}` sets spec.source.{option}, which diff does not apply; \
                     its render here is the folder's alone",
                    file.display()
                ));
            }
        }
        let source =
            if source.get("chart").is_some() || tree.files.contains(&path.join("Chart.yaml")) {
                Source::Helm
            } else if kusts.contains_key(&path) {
                Source::Kustomize
            } else if tree.dirs.contains(&path) {
                Source::Directory
            } else {
                Source::Missing
            };
        let (inputs, remote) = closure(&kusts, &path);
        found.units.push(Unit {
            name,
            path,
            source,
            remote,
            inputs,
        });
    }
    for dir in kusts.keys() {
        if !included.contains(dir) && !covered.contains(dir) {
            let (inputs, remote) = closure(&kusts, dir);
            found.units.push(Unit {
                name: dir.display().to_string(),
                path: dir.clone(),
                source: Source::Kustomize,
                remote,
                inputs,
            });
        }
    }
    found.units.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Can the render of `unit` be taken as unchanged without running it, once the caller has
/// checked that none of its inputs changed? Only when it is the same unit at both commits
/// (path, source and input folders), fetches nothing, and reads no symlink (whose target may
/// lie in a folder that is not an input).
pub fn skippable(base: &Unit, head: &Unit, base_tree: &TreeFiles, head_tree: &TreeFiles) -> bool {
    let linked = |tree: &TreeFiles| {
        tree.links
            .iter()
            .any(|l| head.inputs.iter().any(|dir| l.starts_with(dir)))
    };
    base.path == head.path
        && base.source == head.source
        && matches!(head.source, Source::Kustomize | Source::Directory)
        && base.inputs == head.inputs
        && base.remote.is_empty()
        && head.remote.is_empty()
        && !linked(base_tree)
        && !linked(head_tree)
}

/// What a unit needs to know of one kustomization.
struct Kust {
    file: PathBuf,
    /// Folders of the kustomizations it includes.
    includes: Vec<PathBuf>,
    remote: Vec<String>,
}

/// Every kustomization, by folder.
fn kustomizations(tree: &TreeFiles) -> BTreeMap<PathBuf, Kust> {
    let mut out = BTreeMap::new();
    for dir in &tree.dirs {
        let Some(file) = FILE_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|f| tree.texts.contains_key(f))
        else {
            continue;
        };
        let mut k = Kust {
            file: file.clone(),
            includes: Vec::new(),
            remote: Vec::new(),
        };
        let docs = yaml::load(&tree.texts[&file]).unwrap_or_default();
        let Some(root) = docs.first().map(|d| &d.root) else {
            out.insert(dir.clone(), k);
            continue;
        };
        for field in ["resources", "bases", "components"] {
            for entry in root.get(field).and_then(Node::as_seq).unwrap_or_default() {
                let Some(entry) = entry.as_str() else {
                    continue;
                };
                match normalize(&dir.join(entry)) {
                    Some(p) if tree.dirs.contains(&p) => k.includes.push(p),
                    Some(p) if tree.files.contains(&p) => {}
                    _ if is_remote(entry) => k.remote.push(entry.to_string()),
                    _ => {}
                }
            }
        }
        for chart in root
            .get("helmCharts")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            if let Some(repo) = chart.get("repo").and_then(Node::as_str) {
                k.remote.push(repo.to_string());
            }
        }
        out.insert(dir.clone(), k);
    }
    out
}

/// A kustomize resource that kustomize would fetch: a URL, an scp-like git address, or a
/// `host.tld/…` path.
pub fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry
            .split('/')
            .next()
            .is_some_and(|host| host.contains('.') && !host.starts_with('.') && entry.contains('/'))
            && !entry.ends_with(".yaml")
            && !entry.ends_with(".yml")
            && !entry.ends_with(".json")
}

/// The folders `dir`'s kustomization reaches (itself included, sorted), and the remote
/// resources of every kustomization among them.
fn closure(kusts: &BTreeMap<PathBuf, Kust>, dir: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut seen = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut remote = Vec::new();
    while let Some(d) = stack.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        let Some(k) = kusts.get(&d) else { continue };
        remote.extend(k.remote.iter().map(|r| (k.file.clone(), r.clone())));
        stack.extend(k.includes.iter().cloned());
    }
    (seen.into_iter().collect(), remote)
}

/// Every Argo CD Application document, with its file.
fn applications(tree: &TreeFiles) -> Vec<(PathBuf, Node)> {
    let mut out = Vec::new();
    for (file, text) in &tree.texts {
        if !text.contains("Application") {
            continue;
        }
        for doc in yaml::load(text).unwrap_or_default() {
            let api = doc
                .root
                .get("apiVersion")
                .and_then(Node::as_str)
                .unwrap_or_default();
            if api.starts_with("argoproj.io/")
                && doc.root.get("kind").and_then(Node::as_str) == Some("Application")
            {
                out.push((file.clone(), doc.root));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> TreeFiles {
        let mut t = TreeFiles::default();
        for (path, text) in files {
            let p = PathBuf::from(path);
            for a in p.ancestors().skip(1) {
                t.dirs.insert(a.to_path_buf());
            }
            t.files.insert(p.clone());
            t.texts.insert(p, text.to_string());
        }
        t
    }

    const APP: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: iot-stack\nspec:\n  source:\n    repoURL: git@github.com:DCasati/homelab.git\n    path: k8s-apps/iot-stack/\n";

    #[test]
    fn applications_of_this_repo_and_uncovered_top_level_kustomizations() {
        let t = tree(&[
            (
                "k8s-apps/argocd/kustomization.yaml",
                "resources:\n  - app.yaml\n  - other.yaml\n",
            ),
            (
                "k8s-apps/argocd/app.yaml",
                &format!("{APP}    kustomize:\n      namePrefix: x-\n"),
            ),
            (
                "k8s-apps/argocd/other.yaml",
                &APP.replace("iot-stack", "ext")
                    .replace("DCasati/homelab", "someone/else"),
            ),
            (
                "k8s-apps/iot-stack/kustomization.yaml",
                "resources:\n  - ../common\n  - cronjob.yaml\n",
            ),
            ("k8s-apps/iot-stack/cronjob.yaml", "kind: CronJob\n"),
            ("k8s-apps/common/kustomization.yaml", "resources: []\n"),
            (
                "k8s-apps/loose/kustomization.yaml",
                "resources:\n  - https://github.com/x/y//base?ref=v1\n  - github.com/x/y/base\n",
            ),
        ]);
        let found = find(&t, &["https://github.com/dcasati/homelab".into()]);
        let units: Vec<_> = found
            .units
            .iter()
            .map(|u| {
                (
                    u.name.as_str(),
                    u.path.to_str().unwrap(),
                    u.source,
                    u.remote.len(),
                )
            })
            .collect();
        assert_eq!(
            units,
            [
                ("iot-stack", "k8s-apps/iot-stack", Source::Kustomize, 0),
                ("k8s-apps/argocd", "k8s-apps/argocd", Source::Kustomize, 0),
                ("k8s-apps/loose", "k8s-apps/loose", Source::Kustomize, 2),
            ]
        );
        assert_eq!(found.notes.len(), 2, "{:?}", found.notes);
        assert!(found.notes[0].contains("sets spec.source.kustomize, which diff does not apply"));
        assert!(
            found.notes[1].contains("`ext` renders another repository"),
            "{:?}",
            found.notes
        );
    }

    #[test]
    fn remote_resources_are_found_through_included_kustomizations() {
        let t = tree(&[
            ("m/app/kustomization.yaml", "resources:\n  - ../base\n"),
            (
                "m/base/kustomization.yaml",
                "resources:\n  - git@github.com:x/y.git\nhelmCharts:\n  - name: c\n    repo: https://charts.example.com\n",
            ),
        ]);
        let found = find(&t, &[]);
        assert_eq!(found.units.len(), 1);
        assert_eq!(
            found.units[0].inputs,
            [PathBuf::from("m/app"), PathBuf::from("m/base")]
        );
        assert_eq!(
            found.units[0].remote,
            [
                (
                    PathBuf::from("m/base/kustomization.yaml"),
                    "git@github.com:x/y.git".to_string()
                ),
                (
                    PathBuf::from("m/base/kustomization.yaml"),
                    "https://charts.example.com".to_string()
                ),
            ]
        );
    }

    #[test]
    fn plain_folders_helm_charts_missing_paths_and_escapes() {
        let app = |name: &str, path: &str| {
            APP.replace("k8s-apps/iot-stack/", path)
                .replace("name: iot-stack", &format!("name: {name}"))
        };
        let t = tree(&[
            (
                "m/apps.yaml",
                &[
                    app("plain", "m/plain"),
                    app("chart", "m/chart"),
                    app("gone", "m/gone"),
                    app("out", "../../etc"),
                ]
                .join("---\n"),
            ),
            ("m/plain/cm.yaml", "kind: ConfigMap\n"),
            ("m/chart/Chart.yaml", "name: c\n"),
        ]);
        let found = find(&t, &["https://github.com/dcasati/homelab".into()]);
        let units: Vec<_> = found
            .units
            .iter()
            .map(|u| (u.name.as_str(), u.source))
            .collect();
        assert_eq!(
            units,
            [
                ("chart", Source::Helm),
                ("gone", Source::Missing),
                ("plain", Source::Directory)
            ]
        );
        assert!(
            found.notes[0].contains("outside the tree"),
            "{:?}",
            found.notes
        );
    }

    #[test]
    fn only_the_same_local_unit_without_links_may_skip_its_render() {
        let files = [
            ("m/app/kustomization.yaml", "resources:\n  - ../base\n"),
            ("m/base/kustomization.yaml", "resources: []\n"),
        ];
        let t = tree(&files);
        let unit = find(&t, &[]).units.remove(0);
        assert!(skippable(&unit, &unit, &t, &t));
        let mut linked = tree(&files);
        linked.links.insert(PathBuf::from("m/base/x.yaml"));
        assert!(!skippable(&unit, &unit, &t, &linked));
        let mut moved = unit.clone();
        moved.inputs.pop();
        assert!(!skippable(&unit, &moved, &t, &t));
        let mut remote = unit.clone();
        remote
            .remote
            .push((PathBuf::from("k"), "https://x/y".into()));
        assert!(!skippable(&remote, &remote, &t, &t));
    }

    #[test]
    fn remote_entries() {
        for r in [
            "https://github.com/a/b",
            "git@github.com:a/b",
            "github.com/a/b/base?ref=v1",
        ] {
            assert!(is_remote(r), "{r}");
        }
        for l in ["../base", "cronjob.yaml", "sub.dir/x.yaml", "a.b"] {
            assert!(!is_remote(l), "{l}");
        }
    }
}
