//! `lint-manifests` core: a [`Finding`] is a rule id, a severity, a file and a 1-based line and
//! column, and a message. Rule families live one per file beside this one.
//!
//! A run has two passes. The per-file pass (in parallel) reads and parses each file, runs the
//! rules that need only that file (a kustomization's paths are resolved here too), and keeps the
//! few [`Facts`] that cross-file rules need; the parsed tree is then dropped. The tree pass
//! relates kustomizations, workloads and ConfigMaps.
//! [`Analysis::finish`] then applies suppression markers, settings overrides and the path filter.

pub mod crd;
pub mod cron;
pub mod dockerfile;
pub mod generators;
pub mod gitops;
pub mod helm;
pub mod kustomize_rules;
pub mod namespace;
pub mod render;
pub mod report;
pub mod schema;
pub mod secrets;
pub mod security;
pub mod sops;
pub mod workload;
pub mod yaml_rules;

use crate::settings::Settings;
use crate::walk::{self, Resolved};
use crate::yaml::{Node, Pos};
use anyhow::{Result, bail};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id, e.g. `DF-USER-ROOT`.
    pub rule: &'static str,
    pub severity: Severity,
    /// Path relative to the repo root.
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl Finding {
    /// A finding of `rule`, at its default severity, at `pos` of `file`.
    pub fn new(rule: &Rule, file: &Path, pos: Pos, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.id,
            severity: rule.severity,
            file: file.to_path_buf(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            message: message.into(),
        }
    }
}

/// A rule's id, default severity, one-line summary and `--explain` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub explain: &'static str,
}

/// Files over this size are refused, not read.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

pub const FILE_TOO_LARGE: Rule = Rule {
    id: "FILE-TOO-LARGE",
    severity: Severity::Error,
    summary: "file over 10 MiB",
    explain: "Manifests and Dockerfiles are small. A file over 10 MiB is refused without being read, \
so that a stray dump or binary cannot slow every commit down. Move it out of the manifests root.",
};
pub const FILE_ENCODING: Rule = Rule {
    id: "FILE-ENCODING",
    severity: Severity::Error,
    summary: "binary or non-UTF-8 file",
    explain: "YAML and Dockerfiles must be UTF-8 text. The finding points at the first byte that is \
not valid UTF-8 (or at a NUL byte, which marks a binary file). kubectl and Argo CD refuse such files.",
};
pub const ALLOW_REASON: Rule = Rule {
    id: "LINT-ALLOW-REASON",
    severity: Severity::Error,
    summary: "suppression marker without a reason",
    explain: "`# xtask-lint: allow RULE-ID reason` suppresses RULE-ID on its own line and on the \
next line. The reason is required, so that a reviewer can judge it; a marker without one \
suppresses nothing and is reported itself.",
};
pub const ALLOW_UNKNOWN: Rule = Rule {
    id: "LINT-ALLOW-UNKNOWN",
    severity: Severity::Warning,
    summary: "suppression marker names an unknown rule",
    explain: "The rule id in `# xtask-lint: allow RULE-ID reason` is not a rule of \
`cargo xtask lint-manifests --list-rules`; it is probably misspelt and suppresses nothing.",
};

pub const FILE_OUTSIDE: Rule = Rule {
    id: "FILE-OUTSIDE-REPO",
    severity: Severity::Error,
    summary: "symlink to a file outside the repository",
    explain: "A manifest or Dockerfile is a symlink whose real path lies outside the repository \
(for example to /proc/self/environ or a file in your home folder). The linter never reads it, so \
that nothing outside the repository can reach its output, and Argo CD refuses out-of-bounds \
symlinks too. Replace the link with the file itself, or with a link inside the repository.",
};
pub const FILE_SPECIAL: Rule = Rule {
    id: "FILE-SPECIAL",
    severity: Severity::Error,
    summary: "FIFO, socket or device named like a manifest",
    explain: "A FIFO, socket or device file is named like a manifest or Dockerfile. The linter \
never opens it (reading a FIFO can block forever), and kubectl, kustomize and Argo CD cannot use \
it. Remove it from the manifests root.",
};

pub const RULES: &[Rule] = &[
    FILE_TOO_LARGE,
    FILE_ENCODING,
    FILE_OUTSIDE,
    FILE_SPECIAL,
    ALLOW_REASON,
    ALLOW_UNKNOWN,
];

/// Every rule, family by family.
pub fn registry() -> Vec<&'static Rule> {
    [
        RULES,
        yaml_rules::RULES,
        kustomize_rules::RULES,
        workload::RULES,
        security::RULES,
        render::RULES,
        dockerfile::RULES,
        gitops::RULES,
        dockerfile::parity::RULES,
        schema::RULES,
        generators::RULES,
        sops::RULES,
        crd::RULES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    registry()
        .into_iter()
        .find(|r| r.id.eq_ignore_ascii_case(id))
}

/// What the per-file pass keeps of a YAML file for the tree pass.
#[derive(Debug, Default)]
pub struct Facts {
    pub kustomization: Option<kustomize_rules::Kustomization>,
    /// Every document with a `kind`.
    pub objects: Vec<Object>,
    pub workloads: Vec<workload::Workload>,
    /// YAML-MISSING-FIELD findings, kept back: a file that a generator reads or that is a patch
    /// is not a full manifest.
    pub missing_fields: Vec<Finding>,
    /// ImageUpdater images and Argo CD Applications, for the GITOPS-* rules.
    pub gitops: gitops::Facts,
    /// `(apiVersion, kind)` of each object that has no schema, for the run's one note.
    pub unknown_kinds: Vec<(String, String)>,
    /// Folders that Applications, HelmReleases, Flux Kustomizations or `helmCharts:` deploy
    /// (see [`helm`]).
    pub charts: Vec<PathBuf>,
    /// Helm value files that Applications name: inputs, not manifests.
    pub value_files: Vec<PathBuf>,
    /// Folders that Applications and Flux Kustomizations apply, with whether their subfolders
    /// count (see [`helm`]).
    pub deployed: Vec<(PathBuf, bool)>,
    /// Files a generator plugin configuration names (see [`generators`]).
    pub plugin_files: Vec<kustomize_rules::Ref>,
    /// Where the file's first SOPS-encrypted document has its `sops:` key.
    pub sops: Option<Pos>,
    /// The file holds a Flux Kustomization that decrypts SOPS (see [`sops`]).
    pub flux_decryption: bool,
    /// The schemas of the CustomResourceDefinitions in the file (see [`crd`]).
    pub crds: Vec<crd::Crd>,
}

/// A Kubernetes object in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub pos: Pos,
    /// For ConfigMaps: the keys of `data` and `binaryData`.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Yaml,
    Dockerfile,
}

/// One file after the per-file pass.
#[derive(Debug)]
pub struct FileReport {
    /// Relative to the repo root.
    pub path: PathBuf,
    pub kind: FileKind,
    pub findings: Vec<Finding>,
    pub facts: Facts,
    pub markers: Vec<Marker>,
}

/// A YAML document with its anchors, so that rules can follow aliases one step at a time.
pub struct Doc<'a> {
    pub root: &'a Node,
    anchors: crate::yaml::Anchors<'a>,
    /// The file's text, where the caller has it (empty otherwise): for positions inside a
    /// scalar, such as a secret on line 110 of a block scalar that starts on line 9.
    pub src: &'a str,
}

impl<'a> Doc<'a> {
    pub fn new(root: &'a Node, anchors: Vec<(usize, &'a Node)>) -> Doc<'a> {
        let anchors = crate::yaml::Anchors::new(anchors);
        Doc {
            root,
            anchors,
            src: "",
        }
    }

    /// The same document, with the file's text.
    pub fn with_src(self, src: &'a str) -> Doc<'a> {
        Doc { src, ..self }
    }

    /// The node an alias refers to; any other node itself.
    pub fn resolve(&self, node: &'a Node) -> &'a Node {
        self.anchors.resolve(node)
    }

    pub fn get(&self, node: &'a Node, key: &str) -> Option<&'a Node> {
        self.resolve(node).get(key).map(|v| self.resolve(v))
    }

    pub fn path(&self, node: &'a Node, keys: &[&str]) -> Option<&'a Node> {
        keys.iter().try_fold(node, |n, k| self.get(n, k))
    }

    pub fn str(&self, node: &'a Node, key: &str) -> Option<&'a str> {
        self.get(node, key)?.as_str()
    }

    /// The items of the sequence under `key`; empty when there is none.
    pub fn seq(&self, node: &'a Node, key: &str) -> &'a [Node] {
        self.get(node, key).and_then(Node::as_seq).unwrap_or(&[])
    }

    /// True for a plain `true` (YAML 1.1 spellings included, as Kubernetes reads them).
    pub fn is_true(&self, node: &'a Node, key: &str) -> Option<bool> {
        let v = self.get(node, key)?;
        let text = v.as_str()?;
        Some(matches!(
            text,
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
        ))
    }
}

/// `# xtask-lint: allow RULE-ID reason` on `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub line: usize,
    pub rules: Vec<String>,
}

/// Finds the suppression markers of a file; a marker without a reason or with an unknown rule
/// is itself a finding (and one without a reason suppresses nothing).
pub fn markers(file: &Path, src: &str, out: &mut Vec<Finding>) -> Vec<Marker> {
    const TAG: &str = "xtask-lint:";
    let mut found = Vec::new();
    // Markers are comments: only the text after a line's first `#` is searched.
    let (mut line_no, mut counted, mut searched) = (1, 0, 0);
    for (hash, _) in src.match_indices('#') {
        if hash < searched {
            continue;
        }
        line_no += src[counted..hash].matches('\n').count();
        counted = hash;
        let start = src[..hash].rfind('\n').map_or(0, |n| n + 1);
        let end = src[hash..].find('\n').map_or(src.len(), |n| hash + n);
        searched = end;
        let Some(at) = src[hash..end].find(TAG).map(|n| hash + n - start) else {
            continue;
        };
        let line = &src[start..end];
        let pos = Pos {
            offset: 0,
            line: line_no,
            column: line[..at].chars().count() + 1,
        };
        let rest = line[at + TAG.len()..].trim();
        let mut words = rest.splitn(3, char::is_whitespace);
        let (verb, ids, reason) = (words.next(), words.next(), words.next());
        let (Some("allow"), Some(ids)) = (verb, ids) else {
            out.push(Finding::new(
                &ALLOW_REASON,
                file,
                pos,
                "malformed marker: write `# xtask-lint: allow RULE-ID reason`",
            ));
            continue;
        };
        let rules: Vec<String> = ids.split(',').map(str::to_string).collect();
        for id in &rules {
            if rule(id).is_none() {
                out.push(Finding::new(
                    &ALLOW_UNKNOWN,
                    file,
                    pos,
                    format!("`{id}` is not a rule id (see --list-rules)"),
                ));
            }
        }
        if reason.is_none_or(|r| r.trim().is_empty()) {
            out.push(Finding::new(
                &ALLOW_REASON,
                file,
                pos,
                format!("`allow {ids}` needs a reason: `# xtask-lint: allow {ids} why it is fine`"),
            ));
            continue;
        }
        found.push(Marker {
            line: line_no,
            rules,
        });
    }
    found
}

/// A severity override from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    Warning,
    Error,
}

/// Validates `settings.lint_rules`: every id must be a rule, every value off|warning|error.
pub fn overrides(settings: &Settings) -> Result<HashMap<&'static str, Level>> {
    let mut map = HashMap::new();
    for (id, level) in &settings.lint_rules {
        let Some(rule) = rule(id) else {
            bail!(
                "[workspace.metadata.xtask.lint.rules]: `{id}` is not a rule id (see `cargo xtask lint-manifests --list-rules`)"
            );
        };
        let level = match level.as_str() {
            "off" => Level::Off,
            "warning" => Level::Warning,
            "error" => Level::Error,
            other => bail!(
                "[workspace.metadata.xtask.lint.rules]: {id} = \"{other}\": use \"off\", \"warning\" or \"error\""
            ),
        };
        map.insert(rule.id, level);
    }
    Ok(map)
}

/// The files the linter reads: `*.yaml`, `*.yml`, `Kustomization` and Dockerfiles.
pub fn file_kind(name: &str) -> Option<FileKind> {
    if name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization" {
        Some(FileKind::Yaml)
    } else if name.ends_with(".dockerignore") {
        None
    } else if ["Dockerfile", "Containerfile"].iter().any(|base| {
        name == *base
            || name.ends_with(&format!(".{base}"))
            || name.starts_with(&format!("{base}."))
    }) {
        Some(FileKind::Dockerfile)
    } else {
        None
    }
}

/// What the walk of the manifests root found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The files the linter reads, repo-relative.
    pub lintable: Vec<(PathBuf, FileKind)>,
    /// Files named like a manifest that are not read: FILE-OUTSIDE-REPO and FILE-SPECIAL.
    pub findings: Vec<Finding>,
    /// Helm chart folders; their YAML inputs are not in `lintable`.
    pub charts: Vec<PathBuf>,
}

/// Walks `root/dir` with [`walk`]'s rules. A symlinked file is read only when its real path is
/// a regular file inside the repository; one that leads outside, and any FIFO, socket or device,
/// named like a manifest is reported by name and never opened. Hidden files (`.sops.yaml`,
/// `.pre-commit-config.yaml`) are tool configuration, not manifests: they are skipped, as the
/// walk skips hidden folders.
pub fn discover(root: &Path, dir: &Path) -> Result<Listing> {
    let found = walk::walk(root, dir)?;
    let kind_of = |p: &Path| {
        let name = p.file_name()?.to_str()?;
        if name.starts_with('.') {
            return None;
        }
        file_kind(name)
    };
    let mut listing = Listing {
        charts: helm::chart_dirs(&found.files),
        ..Listing::default()
    };
    let charts = std::mem::take(&mut listing.charts);
    let kind_of = |p: &Path| match kind_of(p)? {
        FileKind::Yaml if helm::is_chart_input(&charts, p) => None,
        kind => Some(kind),
    };
    for file in &found.files {
        if let Some(kind) = kind_of(file) {
            listing.lintable.push((file.clone(), kind));
        }
    }
    listing.charts = charts.clone();
    for link in &found.links {
        let Some(kind) = kind_of(link) else { continue };
        match walk::resolve(root, link) {
            Resolved::File(_) => listing.lintable.push((link.clone(), kind)),
            Resolved::Outside => listing.findings.push(Finding::new(
                &FILE_OUTSIDE,
                link,
                Pos::default(),
                "a symlink to a file outside the repository; it was not read",
            )),
            Resolved::Special(what) => listing.findings.push(special(link, what)),
            Resolved::Dir(_) | Resolved::Missing(_) => {}
        }
    }
    for (path, what) in &found.special {
        if kind_of(path).is_some() {
            listing.findings.push(special(path, what));
        }
    }
    Ok(listing)
}

fn special(path: &Path, what: &str) -> Finding {
    Finding::new(
        &FILE_SPECIAL,
        path,
        Pos::default(),
        format!("{what}, not a regular file; it was not opened"),
    )
}

/// Reads a file for linting: refused over [`MAX_FILE_SIZE`], and reported when it is binary or
/// not UTF-8. `Err` is an I/O error.
pub fn read_source(root: &Path, file: &Path) -> std::io::Result<Result<String, Finding>> {
    use std::io::Read;
    let mut f = std::fs::File::open(root.join(file))?;
    let len = f.metadata()?.len();
    if len > MAX_FILE_SIZE {
        return Ok(Err(Finding::new(
            &FILE_TOO_LARGE,
            file,
            Pos::default(),
            format!(
                "{:.1} MiB is over the 10 MiB limit; the file was not read",
                len as f64 / (1024.0 * 1024.0)
            ),
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize + 1);
    f.read_to_end(&mut bytes)?;
    Ok(decode(file, bytes))
}

fn decode(file: &Path, bytes: Vec<u8>) -> Result<String, Finding> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let msg = format!(
            "invalid UTF-8 (byte 0x{:02x}); expected UTF-8 text",
            bytes[at]
        );
        encoding_finding(file, &bytes, at, msg)
    })?;
    match text.find('\0') {
        Some(at) => {
            let msg = "binary file (NUL byte); expected UTF-8 text".to_string();
            Err(encoding_finding(file, text.as_bytes(), at, msg))
        }
        None => Ok(text),
    }
}

fn encoding_finding(file: &Path, bytes: &[u8], at: usize, message: String) -> Finding {
    let prefix = String::from_utf8_lossy(&bytes[..at]);
    let line = prefix.matches('\n').count() + 1;
    let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let pos = Pos {
        offset: at,
        line,
        column,
    };
    Finding::new(&FILE_ENCODING, file, pos, message)
}

/// The per-file pass for one file; `Err` is an I/O error (exit 2).
pub fn check_file(
    root: &Path,
    file: &Path,
    kind: FileKind,
    settings: &Settings,
) -> Result<FileReport> {
    let mut report = FileReport {
        path: file.to_path_buf(),
        kind,
        findings: Vec::new(),
        facts: Facts::default(),
        markers: Vec::new(),
    };
    let src = match read_source(root, file) {
        Ok(Ok(src)) => src,
        Ok(Err(finding)) => {
            report.findings.push(finding);
            return Ok(report);
        }
        Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", file.display())),
    };
    report.markers = markers(file, &src, &mut report.findings);
    match kind {
        FileKind::Yaml => {
            report.facts = yaml_rules::check(file, &src, settings, &mut report.findings);
            if let Some(k) = &mut report.facts.kustomization {
                k.links = k.resolve(root, file, &mut report.findings);
            }
        }
        FileKind::Dockerfile => {
            report
                .findings
                .extend(dockerfile::check_file(root, file, &src, settings));
        }
    }
    Ok(report)
}

/// The findings of a run before suppression and filtering, with what rendering needs.
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub markers: BTreeMap<PathBuf, Vec<Marker>>,
    pub tree: kustomize_rules::Tree,
    /// How many files were read.
    pub files: usize,
    /// The files read, repo-relative (the summary counts those a path filter selects).
    pub paths: Vec<PathBuf>,
    /// Helm chart folders.
    pub charts: Vec<PathBuf>,
}

impl Analysis {
    /// The run's one note about objects without a schema, counting those in `selected` (empty:
    /// everything); `None` when there are none or SCHEMA-UNKNOWN-KIND is off.
    pub fn unknown_kinds_note(
        &self,
        selected: &[PathBuf],
        overrides: &HashMap<&'static str, Level>,
    ) -> Option<String> {
        if overrides.get(schema::UNKNOWN_KIND.id) == Some(&Level::Off) {
            return None;
        }
        let kinds = (self.tree.files.iter())
            .filter(|(path, _)| selected.is_empty() || selected.iter().any(|s| path.starts_with(s)))
            .filter(|(path, _)| !self.tree.is_input(path))
            .flat_map(|(_, facts)| &facts.unknown_kinds)
            .map(|(api, kind)| (api.as_str(), kind.as_str()));
        schema::unknown_kinds_note(kinds)
    }
}

/// Lints every file under the manifests root: the per-file pass on `threads` threads, then the
/// tree pass.
pub fn analyze(root: &Path, settings: &Settings) -> Result<Analysis> {
    let manifests = manifests_root(settings);
    if !root.join(&manifests).is_dir() {
        bail!(
            "the manifests root {} does not exist under {} (set `manifests` in [workspace.metadata.xtask])",
            manifests.display(),
            root.display()
        );
    }
    schema::load(settings)?;
    let mut listing = discover(root, &manifests)?;
    let reports = in_parallel(&listing.lintable, |(f, k)| {
        check_file(root, f, *k, settings)
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let mut findings = std::mem::take(&mut listing.findings);
    let mut markers = BTreeMap::new();
    let mut facts = Vec::new();
    for report in reports {
        findings.extend(report.findings);
        if !report.markers.is_empty() {
            markers.insert(report.path.clone(), report.markers);
        }
        if report.kind == FileKind::Yaml {
            facts.push((report.path, report.facts));
        }
    }
    let files = listing.lintable.len();
    let paths = listing.lintable.iter().map(|(f, _)| f.clone()).collect();
    let value_files: Vec<PathBuf> = (facts.iter())
        .flat_map(|(_, f): &(PathBuf, Facts)| f.value_files.iter().cloned())
        .collect();
    let mut tree = kustomize_rules::Tree::new(root, facts);
    tree.mark_inputs(&value_files);
    crd::validate_tree(root, settings, &mut tree, &mut findings)?;
    tree.check(&mut findings);
    gitops::check(&tree, &mut findings);
    generators::check(&tree, &mut findings);
    sops::check(&tree, &mut findings);
    helm::check(root, &listing.charts, &tree, &mut findings);
    helm::drop_deployed_orphans(&tree, &mut findings);
    namespace::drop_renamed(&tree, &mut findings);
    Ok(Analysis {
        findings,
        markers,
        tree,
        files,
        paths,
        charts: listing.charts,
    })
}

/// The manifests root as the tree's paths start (`./k8s-apps/` is `k8s-apps`).
fn manifests_root(settings: &Settings) -> PathBuf {
    walk::normalize(&settings.manifests).unwrap_or_else(|| settings.manifests.clone())
}

/// Maps `f` over `items` on up to 4 threads (interleaved, so that big folders are shared).
pub(crate) fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    in_parallel_up_to(4, items, f)
}

/// [`in_parallel`] on up to `max` threads (renders: 2, each a kustomize process).
pub(crate) fn in_parallel_up_to<T: Sync, R: Send>(
    max: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, max)
        .min(items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    items
                        .iter()
                        .skip(t)
                        .step_by(threads)
                        .map(f)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a lint thread panicked"))
            .collect()
    })
}

/// The benchmark's baseline: the same walk and threads, only reading and parsing YAML.
/// Returns the number of documents.
pub fn parse_only(root: &Path, settings: &Settings) -> Result<usize> {
    let listing = discover(root, &manifests_root(settings))?;
    let counts = in_parallel(&listing.lintable, |(f, kind)| {
        match (kind, read_source(root, f)) {
            (FileKind::Yaml, Ok(Ok(src))) => crate::yaml::load(&src).map_or(0, |d| d.len()),
            _ => 0,
        }
    });
    Ok(counts.into_iter().sum())
}

impl Analysis {
    /// Applies suppression markers, severity overrides and the path filter (`selected` holds
    /// repo-relative files or folders; empty means everything), and sorts by position.
    pub fn finish(
        self,
        extra: Vec<Finding>,
        selected: &[PathBuf],
        overrides: &HashMap<&'static str, Level>,
    ) -> Vec<Finding> {
        finish(self.findings, self.markers, extra, selected, overrides)
    }
}

fn finish(
    findings: Vec<Finding>,
    markers: BTreeMap<PathBuf, Vec<Marker>>,
    extra: Vec<Finding>,
    selected: &[PathBuf],
    overrides: &HashMap<&'static str, Level>,
) -> Vec<Finding> {
    let suppressed = |f: &Finding| {
        markers.get(&f.file).is_some_and(|ms| {
            ms.iter().any(|m| {
                (m.line == f.line || m.line + 1 == f.line)
                    && m.rules.iter().any(|r| r.eq_ignore_ascii_case(f.rule))
            })
        })
    };
    let mut out: Vec<Finding> = findings
        .into_iter()
        .chain(extra)
        .filter(|f| selected.is_empty() || selected.iter().any(|s| f.file.starts_with(s)))
        .filter(|f| !suppressed(f))
        .filter_map(|mut f| {
            match overrides.get(f.rule) {
                Some(Level::Off) => return None,
                Some(Level::Warning) => f.severity = Severity::Warning,
                Some(Level::Error) => f.severity = Severity::Error,
                None => {}
            }
            Some(f)
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.rule, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.rule, &b.message))
    });
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_explained() {
        let rules = registry();
        for (i, r) in rules.iter().enumerate() {
            assert!(
                rules[i + 1..].iter().all(|o| o.id != r.id),
                "duplicate {}",
                r.id
            );
            assert!(r.explain.len() > 40 && !r.summary.is_empty(), "{}", r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn markers_need_a_known_rule_and_a_reason() {
        let src = "a: 1 # xtask-lint: allow SEC-PRIVILEGED needed for the GPU\n\
                   # xtask-lint: allow SEC-HOST-PATH\n\
                   # xtask-lint: allow NOPE-RULE typo here\n\
                   b: \"xtask-lint: not a comment\"\n";
        let mut out = Vec::new();
        let ms = markers(Path::new("f.yaml"), src, &mut out);
        assert_eq!(
            ms,
            [
                Marker {
                    line: 1,
                    rules: vec!["SEC-PRIVILEGED".into()]
                },
                Marker {
                    line: 3,
                    rules: vec!["NOPE-RULE".into()]
                }
            ]
        );
        let got: Vec<_> = out.iter().map(|f| (f.rule, f.line, f.column)).collect();
        assert_eq!(
            got,
            [("LINT-ALLOW-REASON", 2, 3), ("LINT-ALLOW-UNKNOWN", 3, 3)]
        );
    }

    #[test]
    fn markers_are_found_after_the_first_hash_of_a_line() {
        let src = "a: 1\r\nb: \"#x\" # xtask-lint: allow SEC-PRIVILEGED why # not twice\r\n# c\r\n\r\n  # xtask-lint: allow SEC-HOST-PATH why\r\n";
        let mut out = Vec::new();
        let ms = markers(Path::new("f.yaml"), src, &mut out);
        let got: Vec<_> = ms.iter().map(|m| (m.line, m.rules[0].as_str())).collect();
        assert_eq!(got, [(2, "SEC-PRIVILEGED"), (5, "SEC-HOST-PATH")]);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn finish_suppresses_overrides_and_filters() {
        let f = |rule: &'static Rule, file: &str, line| {
            Finding::new(
                rule,
                Path::new(file),
                Pos {
                    offset: 0,
                    line,
                    column: 1,
                },
                "m",
            )
        };
        let findings = vec![
            f(&security::PRIVILEGED, "a/x.yaml", 2),
            f(&security::PRIVILEGED, "a/x.yaml", 5),
            f(&security::HOST_PATH, "a/x.yaml", 7),
            f(&security::RESOURCES, "b/y.yaml", 1),
        ];
        let markers = BTreeMap::from([(
            PathBuf::from("a/x.yaml"),
            vec![Marker {
                line: 1,
                rules: vec!["SEC-PRIVILEGED".into()],
            }],
        )]);
        let outcome = Analysis {
            findings,
            markers,
            tree: kustomize_rules::Tree::default(),
            files: 2,
            paths: vec![],
            charts: Vec::new(),
        };
        let overrides = HashMap::from([
            ("SEC-HOST-PATH", Level::Warning),
            ("SEC-RESOURCES", Level::Off),
        ]);
        let out = outcome.finish(vec![], &[PathBuf::from("a")], &overrides);
        let got: Vec<_> = out.iter().map(|f| (f.rule, f.line, f.severity)).collect();
        assert_eq!(
            got,
            [
                ("SEC-PRIVILEGED", 5, Severity::Error),
                ("SEC-HOST-PATH", 7, Severity::Warning)
            ]
        );
    }

    #[test]
    fn overrides_are_validated() {
        let mut s = Settings::default();
        s.lint_rules.insert("SEC-RESOURCES".into(), "off".into());
        assert_eq!(overrides(&s).unwrap()["SEC-RESOURCES"], Level::Off);
        s.lint_rules.insert("SEC-RESOURCES".into(), "loud".into());
        assert!(overrides(&s).unwrap_err().to_string().contains("loud"));
        let mut s = Settings::default();
        s.lint_rules.insert("NOPE".into(), "off".into());
        assert!(overrides(&s).unwrap_err().to_string().contains("`NOPE`"));
    }

    #[test]
    fn encoding_errors_have_positions() {
        let f = decode(Path::new("x.yaml"), b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!((f.rule, f.line, f.column), ("FILE-ENCODING", 2, 4));
        let f = decode(Path::new("x.yaml"), b"ab\0cd".to_vec()).unwrap_err();
        assert_eq!((f.line, f.column), (1, 3));
        assert!(f.message.contains("binary"));
    }

    #[test]
    fn unreadable_files_are_io_errors() {
        let err = check_file(
            Path::new("/nonexistent"),
            Path::new("k8s-apps/x.yaml"),
            FileKind::Yaml,
            &Settings::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("cannot read k8s-apps/x.yaml: "),
            "{err}"
        );
    }

    #[test]
    fn file_kinds() {
        assert_eq!(file_kind("a.yml"), Some(FileKind::Yaml));
        assert_eq!(file_kind("Kustomization"), Some(FileKind::Yaml));
        assert_eq!(file_kind("Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(file_kind("base.Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(file_kind("Dockerfile.dev"), Some(FileKind::Dockerfile));
        assert_eq!(file_kind("forecast.py"), None);
        assert_eq!(file_kind("Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(file_kind("base.Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(file_kind("Dockerfile.dockerignore"), None);
    }
}
