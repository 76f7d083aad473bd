//! Helm charts in the manifests tree. A folder with a `Chart.yaml` is a chart: its Chart.yaml,
//! values files and templates are Helm's input, not manifests, so discovery leaves every YAML
//! file of the chart out except its `crds/` (plain CRDs that Helm applies as they are).
//!
//! A chart is deployed when an Argo CD Application (`spec.source.path`, `spec.sources[].path`,
//! or an ApplicationSet's template), a Flux HelmRelease (`spec.chart.spec.chart` as a path), a
//! kustomization's `helmCharts:` or another chart's `file://` dependency names its folder; a
//! library chart or a chart inside another chart is never an orphan. Any other chart is
//! KUS-ORPHAN-MANIFEST at its Chart.yaml.
//!
//! Argo CD and Flux also deploy plain folders: an Application's source path (or a Flux
//! Kustomization's `spec.path`) without a kustomization.yaml is applied file by file, so the
//! files under it are not orphans; and the Helm value files an Application names
//! (`helm.valueFiles`, `$ref/path` from the repo root) are inputs, not manifests.
//!
//! Argo CD and Flux also deploy plain folders: an Application's source path (or a Flux
//! Kustomization's `spec.path`) without a kustomization.yaml is applied file by file, so the
//! files under it are not orphans; and the Helm value files an Application names
//! (`helm.valueFiles`, `$ref/path` from the repo root) are inputs, not manifests.
//!
//! With `--render`, each chart is rendered with `helm template` when helm is on PATH and its
//! output linted; without helm, the run says once which charts were not rendered.

use super::kustomize_rules::{ORPHAN_MANIFEST, Tree};
use super::{Doc, Finding, yaml_rules};
use crate::exec::{Cmd, Output, Runner};
use crate::settings::Settings;
use crate::walk::normalize;
use crate::yaml::{Node, Pos};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The chart folders among `files` (repo-relative), sorted.
pub fn chart_dirs(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "Chart.yaml"))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs
}

/// True for a file of a chart that is Helm's input (all but `crds/`).
pub fn is_chart_input(charts: &[PathBuf], file: &Path) -> bool {
    charts
        .iter()
        .any(|c| file.starts_with(c) && !file.starts_with(c.join("crds")))
}

/// What a document deploys (repo-relative), into `facts`: the folders of Applications' and
/// ApplicationSets' sources, a Flux Kustomization's `spec.path` (recursive, as Flux applies a
/// folder without a kustomization) and a HelmRelease's chart path (`charts`, and the folders in
/// `deployed` with whether their subfolders count); and the Helm value files an Application
/// names (`value_files`).
pub fn collect(doc: &Doc, kind: &str, api: &str, facts: &mut super::Facts) {
    let root = doc.root;
    let path_of = |node: Option<&Node>| {
        node.and_then(Node::as_str)
            .and_then(|p| normalize(Path::new(p)))
    };
    let spec = match (kind, api.split('/').next().unwrap_or_default()) {
        ("Application", "argoproj.io") => doc.get(root, "spec"),
        ("ApplicationSet", "argoproj.io") => doc.path(root, &["spec", "template", "spec"]),
        ("HelmRelease", "helm.toolkit.fluxcd.io") => {
            // A chart from a GitRepository is a path; a bare name is a repository's chart.
            let chart = doc.path(root, &["spec", "chart", "spec", "chart"]);
            if chart
                .and_then(Node::as_str)
                .is_some_and(|c| c.contains('/'))
            {
                facts.charts.extend(path_of(chart));
            }
            None
        }
        ("Kustomization", "kustomize.toolkit.fluxcd.io") => {
            if let Some(dir) = path_of(doc.path(root, &["spec", "path"])) {
                facts.charts.push(dir.clone());
                facts.deployed.push((dir, true));
            }
            None
        }
        _ => None,
    };
    let Some(spec) = spec else { return };
    let sources = doc
        .get(spec, "source")
        .into_iter()
        .chain(doc.seq(spec, "sources"));
    for source in sources {
        let dir = path_of(doc.get(source, "path"));
        for f in doc.seq(doc.get(source, "helm").unwrap_or(source), "valueFiles") {
            let Some(f) = f.as_str() else { continue };
            // `$ref/path` is from the root of the ref'd source's repository (taken as this one).
            let file = match f.strip_prefix('$') {
                Some(rest) => rest
                    .split_once('/')
                    .and_then(|(_, p)| normalize(Path::new(p))),
                None => dir.as_ref().and_then(|d| normalize(&d.join(f))),
            };
            facts.value_files.extend(file);
        }
        if let Some(dir) = dir {
            let recurse = doc
                .path(source, &["directory", "recurse"])
                .and_then(Node::as_str)
                == Some("true");
            facts.charts.push(dir.clone());
            facts.deployed.push((dir, recurse));
        }
    }
}

/// Drops KUS-ORPHAN-MANIFEST for files that an Application or a Flux Kustomization applies as
/// plain files: in a deployed folder without a kustomization (its subfolders too when the
/// Application sets `directory.recurse`, and always for Flux).
pub fn drop_deployed_orphans(tree: &Tree, out: &mut Vec<Finding>) {
    let plain: Vec<&(PathBuf, bool)> = (tree.files.iter())
        .flat_map(|(_, facts)| &facts.deployed)
        .filter(|(dir, _)| {
            !crate::kustomize::FILE_NAMES
                .iter()
                .any(|n| tree.root.join(dir).join(n).is_file())
        })
        .collect();
    if plain.is_empty() {
        return;
    }
    let deployed = |file: &Path| {
        plain.iter().any(|(dir, recurse)| {
            if *recurse {
                file.starts_with(dir)
            } else {
                file.parent() == Some(dir.as_path())
            }
        })
    };
    out.retain(|f| !(f.rule == ORPHAN_MANIFEST.id && deployed(&f.file)));
}

/// The chart folders a kustomization `kfile` inflates with `helmCharts:` (`chartHome`, default
/// `charts`, plus each chart's name).
pub fn collect_kustomization(doc: &Doc, kfile: &Path, out: &mut Vec<PathBuf>) {
    let dir = kfile.parent().unwrap_or(Path::new(""));
    let home = doc
        .path(doc.root, &["helmGlobals", "chartHome"])
        .and_then(Node::as_str)
        .unwrap_or("charts");
    for c in doc.seq(doc.root, "helmCharts") {
        if let Some(name) = doc.str(c, "name")
            && let Some(p) = normalize(&dir.join(home).join(name))
        {
            out.push(p);
        }
    }
}

/// KUS-ORPHAN-MANIFEST for each chart that nothing deploys.
pub fn check(root: &Path, charts: &[PathBuf], tree: &Tree, out: &mut Vec<Finding>) {
    let mut named: Vec<PathBuf> = (tree.files.iter())
        .flat_map(|(_, facts)| facts.charts.iter().cloned())
        .collect();
    let mut library = Vec::new();
    for chart in charts {
        let text = crate::walk::read_inside(root, &chart.join("Chart.yaml")).unwrap_or_default();
        let (deps, is_library) = dependencies(&text);
        if is_library {
            library.push(chart);
        }
        named.extend(deps.iter().filter_map(|d| normalize(&chart.join(d))));
    }
    for chart in charts {
        let inside_another = charts.iter().any(|c| c != chart && chart.starts_with(c));
        if inside_another || library.contains(&chart) || named.contains(chart) {
            continue;
        }
        out.push(Finding::new(
            &ORPHAN_MANIFEST,
            &chart.join("Chart.yaml"),
            Pos::default(),
            "no Argo CD Application, Flux HelmRelease or kustomization helmCharts deploys this chart, so it never deploys",
        ));
    }
}

/// A Chart.yaml's `file://` dependencies and whether it is a library chart.
fn dependencies(text: &str) -> (Vec<String>, bool) {
    let Ok(docs) = crate::yaml::load(text) else {
        return (Vec::new(), false);
    };
    let Some(d) = docs.first() else {
        return (Vec::new(), false);
    };
    let doc = Doc::new(&d.root, Vec::new());
    let library = doc.str(doc.root, "type") == Some("library");
    let deps = doc
        .seq(doc.root, "dependencies")
        .iter()
        .filter_map(|dep| doc.str(dep, "repository")?.strip_prefix("file://"))
        .map(str::to_string)
        .collect();
    (deps, library)
}

/// The run's one note for `--render` without helm: which charts were not rendered.
pub fn not_rendered_note(charts: &[PathBuf]) -> Option<String> {
    if charts.is_empty() {
        return None;
    }
    let names: Vec<String> = charts.iter().map(|c| c.display().to_string()).collect();
    Some(format!(
        "note: {} Helm chart{} not rendered, since helm is not on PATH: {}; install helm (https://helm.sh/docs/intro/install/) to lint their output",
        charts.len(),
        if charts.len() == 1 { " was" } else { "s were" },
        names.join(", ")
    ))
}

/// `helm template` of each chart with its own values.yaml.
pub fn plan(root: &Path, charts: &[PathBuf]) -> Vec<(PathBuf, Cmd)> {
    charts
        .iter()
        .filter(|c| !charts.iter().any(|o| o != *c && c.starts_with(o)))
        .map(|c| {
            let name = release_name(c);
            let cmd = Cmd::new("helm")
                .args(["template", name.as_str()])
                .arg(root.join(c).display().to_string())
                .cwd(root);
            (c.clone(), cmd)
        })
        .collect()
}

/// A release name helm accepts for the chart folder `chart`: lower-case letters, digits and
/// `-`, starting and ending alphanumeric, at most 53 characters.
fn release_name(chart: &Path) -> String {
    let folder = chart
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().to_lowercase());
    let mut name: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(53);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "release".to_string()
    } else {
        name.to_string()
    }
}

/// Renders every chart with `helm template` and lints what it renders.
pub fn render(
    runner: &Runner,
    root: &Path,
    charts: &[PathBuf],
    settings: &Settings,
) -> Result<Vec<Finding>> {
    let mut found = Vec::new();
    for (chart, cmd) in plan(root, charts) {
        let out = runner.output(&cmd)?;
        found.extend(judge(&chart, &out, settings));
    }
    Ok(found)
}

/// The findings of one chart's render: a failure is RENDER-FAILED at Chart.yaml; each rendered
/// template (`# Source: chart/templates/x.yaml`) is linted like a manifest, and its findings are
/// reported at the template's first line with the rendered line in the message.
pub fn judge(chart: &Path, out: &Output, settings: &Settings) -> Vec<Finding> {
    let chart_file = chart.join("Chart.yaml");
    if !out.success() {
        let short: Vec<&str> = out.stderr.trim().lines().take(6).collect();
        return vec![Finding::new(
            &super::render::FAILED,
            &chart_file,
            Pos::default(),
            format!("helm template failed: {}", short.join(" / ")),
        )];
    }
    let mut found = Vec::new();
    for (source, text) in sources(&out.stdout) {
        // `chart-name/templates/x.yaml` → the file under the chart folder.
        let file = source
            .split_once('/')
            .map_or(chart_file.clone(), |(_, rest)| chart.join(rest));
        let mut raw = Vec::new();
        let _ = yaml_rules::check(&file, text, settings, &mut raw);
        for f in raw {
            found.push(Finding {
                line: 1,
                column: 1,
                message: format!("rendered line {}: {}", f.line, f.message),
                ..f
            });
        }
    }
    found
}

/// The rendered stream split at its `# Source:` comments: (source, text).
fn sources(stdout: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let marks: Vec<(usize, &str)> = stdout
        .match_indices("# Source: ")
        .filter(|(i, _)| *i == 0 || stdout.as_bytes()[i - 1] == b'\n')
        .map(|(i, m)| {
            let end = stdout[i..].find('\n').map_or(stdout.len(), |n| i + n);
            (i, stdout[i + m.len()..end].trim())
        })
        .collect();
    for (n, &(start, source)) in marks.iter().enumerate() {
        let end = marks.get(n + 1).map_or(stdout.len(), |m| m.0);
        let chunk = stdout[start..end].trim_end_matches(['\n', '-']);
        out.push((source, chunk));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_folders_with_chart_yaml_and_their_inputs_are_not_manifests() {
        let files: Vec<PathBuf> = [
            "k/app/Chart.yaml",
            "k/app/values.yaml",
            "k/app/templates/deploy.yaml",
            "k/app/crds/crd.yaml",
            "k/app/charts/sub/Chart.yaml",
            "k/other/deploy.yaml",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let charts = chart_dirs(&files);
        assert_eq!(charts, [Path::new("k/app"), Path::new("k/app/charts/sub")]);
        let inputs: Vec<bool> = files.iter().map(|f| is_chart_input(&charts, f)).collect();
        assert_eq!(inputs, [true, true, true, false, true, false]);
    }

    #[test]
    fn rendered_output_is_split_by_source() {
        let out = "---\n# Source: app/templates/svc.yaml\napiVersion: v1\nkind: Service\n---\n# Source: app/templates/deploy.yaml\nkind: Deployment\n";
        let got = sources(out);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "app/templates/svc.yaml");
        assert!(got[0].1.ends_with("kind: Service"), "{:?}", got[0].1);
        assert_eq!(got[1].0, "app/templates/deploy.yaml");
    }

    #[test]
    fn release_names_are_ones_helm_accepts() {
        assert_eq!(release_name(Path::new("k/My_Chart.v2")), "my-chart-v2");
        assert_eq!(release_name(Path::new("k/_x_")), "x");
        assert_eq!(release_name(Path::new("k/__")), "release");
        assert_eq!(release_name(Path::new(&"a".repeat(60))).len(), 53);
    }

    #[test]
    fn chart_dependencies_and_library_type() {
        let (deps, lib) = dependencies(
            "apiVersion: v2\nname: app\ndependencies:\n  - name: common\n    repository: file://../common\n  - name: redis\n    repository: oci://registry/charts\n",
        );
        assert_eq!((deps, lib), (vec!["../common".to_string()], false));
        assert!(dependencies("apiVersion: v2\nname: common\ntype: library\n").1);
    }
}
