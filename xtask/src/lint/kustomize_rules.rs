//! Kustomize rules (KUS-*) and the [`Tree`]: which kustomization includes which manifest, which
//! ConfigMaps each build generates, and the cross-file workload checks that need both
//! (untagged images, ConfigMap volumes, script keys, orphans).

use super::workload::{self, split_image};
use super::{Doc, Facts, Finding, Rule, Severity};
use crate::settings::Settings;
use crate::walk::normalize;
use crate::yaml::{Document, Node, Pos};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub const RESOURCE_MISSING: Rule = Rule {
    id: "KUS-RESOURCE-MISSING",
    severity: Severity::Error,
    summary: "kustomization resource does not exist",
    explain: "A `resources:` (or `bases:`/`components:`) entry names a file or folder that does not \
exist, a folder without a kustomization.yaml, or a path that cannot be resolved (a symlink \
loop). `kustomize build` fails, so Argo CD cannot sync the application. Fix the path or add the \
file.",
};
pub const RESOURCE_OUTSIDE: Rule = Rule {
    id: "KUS-RESOURCE-OUTSIDE",
    severity: Severity::Error,
    summary: "kustomization path points outside the repo or the kustomization",
    explain: "A resource or generator path leaves the repository (with `..` or through a \
symlink), or a file that kustomize loads (a resource file, a generator file) lies outside the \
kustomization's folder, which kustomize's load restrictor refuses. Argo CD only sees the \
repository, so such paths work on a laptop and fail in the cluster.",
};
pub const RESOURCE_CYCLE: Rule = Rule {
    id: "KUS-RESOURCE-CYCLE",
    severity: Severity::Error,
    summary: "kustomizations include each other",
    explain: "Following `resources:` from this kustomization leads back to it. kustomize reports \
a cycle and builds nothing. Remove one of the entries.",
};
pub const GENERATOR_FILE_MISSING: Rule = Rule {
    id: "KUS-GENERATOR-FILE-MISSING",
    severity: Severity::Error,
    summary: "configMapGenerator/secretGenerator file does not exist",
    explain: "A `files:` or `envs:` entry of a configMapGenerator or secretGenerator names a file \
that does not exist, so `kustomize build` fails. In this repo the scripts are delivered this \
way: the CronJob would lose its script.",
};
pub const IMAGE_TAG: Rule = Rule {
    id: "KUS-IMAGE-TAG",
    severity: Severity::Error,
    summary: "configured image's newTag is not a policy tag",
    explain: "An `images:` entry for an image this repo builds (settings `images`) must set \
`newTag: sha-<7 to 40 hex>`, the tag CI gives each build of the base image, or pin a `digest`. \
A missing newTag or `latest` deploys whatever was pushed last; any other tag is not one CI \
makes. `cargo xtask update-images` writes the right tag.",
};
pub const IMAGE_UNUSED: Rule = Rule {
    id: "KUS-IMAGE-UNUSED",
    severity: Severity::Warning,
    summary: "images: entry matches no workload image",
    explain: "No container of the resources this kustomization includes (directly or through \
other kustomizations) uses this image name, so the entry changes nothing. Usually the workload \
names the image differently (another registry or a typo), and then the workload runs an \
untagged image.",
};
pub const UNTAGGED_IMAGE: Rule = Rule {
    id: "KUS-UNTAGGED-IMAGE",
    severity: Severity::Error,
    summary: "untagged image that no images: entry tags",
    explain: "A container image has neither a tag nor a digest, and no `images:` entry of a \
kustomization that includes the manifest sets one, so the cluster pulls `latest`. Add an \
`images:` entry with newTag (or digest) to the kustomization.",
};
pub const ORPHAN_MANIFEST: Rule = Rule {
    id: "KUS-ORPHAN-MANIFEST",
    severity: Severity::Warning,
    summary: "manifest that no kustomization includes",
    explain: "Argo CD deploys what the kustomizations include; this file holds Kubernetes objects \
but no kustomization lists it under `resources:`, so it never deploys. Add it, delete it, or \
suppress the finding on line 1 with a reason (e.g. applied by hand).",
};

pub const RULES: &[Rule] = &[
    RESOURCE_MISSING,
    RESOURCE_OUTSIDE,
    RESOURCE_CYCLE,
    GENERATOR_FILE_MISSING,
    IMAGE_TAG,
    IMAGE_UNUSED,
    UNTAGGED_IMAGE,
    ORPHAN_MANIFEST,
];

/// A string value with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub value: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    /// `ConfigMap` or `Secret`.
    pub kind: &'static str,
    pub name: String,
    pub pos: Pos,
    /// `files:` entries as (key, path).
    pub files: Vec<(String, Ref)>,
    pub literals: Vec<(String, String, Pos)>,
    pub envs: Vec<Ref>,
}

impl Generator {
    /// The keys this generator makes, when they are all known (env files are not read).
    pub fn keys(&self) -> Option<Vec<&str>> {
        if !self.envs.is_empty() {
            return None;
        }
        Some(
            self.files
                .iter()
                .map(|(k, _)| k.as_str())
                .chain(self.literals.iter().map(|(k, _, _)| k.as_str()))
                .collect(),
        )
    }
}

/// An `images:` entry as the linter follows it (read from [`crate::kustomize::ImageEntry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub name: Ref,
    pub new_name: Option<String>,
    pub new_tag: Option<Ref>,
    pub digest: Option<String>,
}

impl Image {
    /// True when the entry gives the image a tag or a digest.
    pub fn tags(&self) -> bool {
        self.new_tag.is_some() || self.digest.is_some()
    }
}

/// The parts of a kustomization the linter follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// `resources:`, `bases:` and `components:`.
    pub resources: Vec<Ref>,
    pub generators: Vec<Generator>,
    pub images: Vec<Image>,
    /// Other files it reads: patches, replacements, transformer configurations.
    pub references: Vec<Ref>,
    /// `generators:`, `transformers:` and `validators:`: plugin configurations (see
    /// [`super::generators`]).
    pub plugins: Vec<Ref>,
    /// `namespace:`, which kustomize also gives to the Namespace objects it includes.
    pub namespace: Option<String>,
    /// Where its paths lead (see [`Kustomization::resolve`]).
    pub links: Links,
}

/// Where a kustomization's paths lead, relative to the repo root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The manifest files it lists.
    pub files: Vec<PathBuf>,
    /// The kustomization files of the folders it lists.
    pub kustomizations: Vec<PathBuf>,
    /// The files it reads that are not manifests: generator inputs and patches.
    pub inputs: Vec<PathBuf>,
    /// Its plugin configuration files, or the kustomization of a folder of them.
    pub plugins: Vec<PathBuf>,
}

impl Kustomization {
    /// Reads the kustomization `document`; `doc` is the same document with its anchors.
    pub fn parse(document: &Document, doc: &Doc) -> Kustomization {
        let images = crate::kustomize::image_entries(document);
        let root = doc.root;
        let refs = |key: &str| -> Vec<Ref> {
            doc.seq(root, key)
                .iter()
                .filter_map(|n| str_ref(doc.resolve(n)))
                .collect()
        };
        let mut k = Kustomization {
            resources: ["resources", "bases", "components"]
                .iter()
                .flat_map(|key| refs(key))
                .collect(),
            namespace: doc.str(root, "namespace").map(str::to_string),
            ..Kustomization::default()
        };
        for key in ["patchesStrategicMerge", "configurations", "crds"] {
            k.references.extend(refs(key));
        }
        for key in ["generators", "transformers", "validators"] {
            // An entry may also be an inline plugin configuration (YAML text).
            k.plugins
                .extend(refs(key).into_iter().filter(|r| !r.value.contains('\n')));
        }
        for key in ["patches", "patchesJson6902", "replacements"] {
            for p in doc.seq(root, key) {
                if let Some(path) = doc.get(p, "path").and_then(str_ref) {
                    k.references.push(path);
                }
            }
        }
        for (key, kind) in [
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ] {
            for g in doc.seq(root, key) {
                let g = doc.resolve(g);
                let strings = |key: &str| -> Vec<Ref> {
                    doc.seq(g, key)
                        .iter()
                        .filter_map(|n| str_ref(doc.resolve(n)))
                        .collect()
                };
                let files = strings("files")
                    .into_iter()
                    .map(|r| match r.value.split_once('=') {
                        Some((key, path)) => (
                            key.to_string(),
                            Ref {
                                value: path.to_string(),
                                pos: r.pos,
                            },
                        ),
                        None => (file_name(&r.value), r),
                    })
                    .collect();
                let literals = strings("literals")
                    .into_iter()
                    .map(|r| match r.value.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string(), r.pos),
                        None => (r.value, String::new(), r.pos),
                    })
                    .collect();
                let mut envs = strings("envs");
                envs.extend(doc.get(g, "env").and_then(str_ref));
                k.generators.push(Generator {
                    kind,
                    name: doc.str(g, "name").unwrap_or_default().to_string(),
                    pos: g.start,
                    files,
                    literals,
                    envs,
                });
            }
        }
        // The images: model is update-images' (kustomize.rs); aliases in it are not followed.
        for e in &images {
            let Some(name) = e.name.as_ref().and_then(|n| str_ref(&n.value)) else {
                continue;
            };
            k.images.push(Image {
                name,
                new_name: e.new_name().map(str::to_string),
                new_tag: e.new_tag.as_ref().and_then(|t| str_ref(&t.value)),
                digest: e.digest().map(str::to_string),
            });
        }
        k
    }

    /// Resolves the paths of this kustomization, the file `kfile`, on disk (in the per-file
    /// pass): findings for paths that are missing or lead outside, and [`Links`] for the rest.
    pub fn resolve(&self, root: &Path, kfile: &Path, out: &mut Vec<Finding>) -> Links {
        let mut links = Links::default();
        let dir = kfile.parent().unwrap_or(Path::new(""));
        let resolve = |r: &Ref, restrict: bool| resolve(root, dir, &r.value, restrict);
        for r in self.resources.iter().filter(|r| !is_remote(&r.value)) {
            match resolve(r, false) {
                Lead::File(p) if !p.starts_with(dir) => out.push(Finding::new(
                    &RESOURCE_OUTSIDE,
                    kfile,
                    r.pos,
                    format!("resource file `{}` is outside the kustomization's folder; kustomize's load restrictor refuses it (include its folder's kustomization instead)", r.value),
                )),
                Lead::File(p) => links.files.push(p),
                Lead::Dir(d) => match kustomization_file(root, &d) {
                    Some(p) => links.kustomizations.push(p),
                    None => out.push(Finding::new(
                        &RESOURCE_MISSING,
                        kfile,
                        r.pos,
                        format!("folder `{}` has no kustomization.yaml", r.value),
                    )),
                },
                Lead::Problem(rule, why) => out.push(Finding::new(
                    rule,
                    kfile,
                    r.pos,
                    format!("resource `{}` {why}", r.value),
                )),
            }
        }
        for r in &self.references {
            if let Lead::File(p) = resolve(r, false) {
                links.inputs.push(p);
            }
        }
        for r in self.plugins.iter().filter(|r| !is_remote(&r.value)) {
            match resolve(r, false) {
                Lead::File(p) => {
                    links.inputs.push(p.clone());
                    links.plugins.push(p);
                }
                Lead::Dir(d) => match kustomization_file(root, &d) {
                    Some(p) => links.plugins.push(p),
                    None => out.push(Finding::new(
                        &RESOURCE_MISSING,
                        kfile,
                        r.pos,
                        format!("plugin folder `{}` has no kustomization.yaml", r.value),
                    )),
                },
                Lead::Problem(rule, why) => out.push(Finding::new(
                    rule,
                    kfile,
                    r.pos,
                    format!("plugin configuration `{}` {why}", r.value),
                )),
            }
        }
        for g in &self.generators {
            for r in g.files.iter().map(|(_, r)| r).chain(&g.envs) {
                let generator = format!("{}Generator `{}`", lower(g.kind), g.name);
                if super::generators::remote(kfile, &generator, r, out) {
                    continue;
                }
                match resolve(r, true) {
                    Lead::File(p) => links.inputs.push(p),
                    Lead::Dir(_) => out.push(Finding::new(
                        &GENERATOR_FILE_MISSING,
                        kfile,
                        r.pos,
                        format!("{generator}: `{}` is a folder, not a file", r.value),
                    )),
                    Lead::Problem(rule, why) => {
                        let rule = if rule.id == RESOURCE_MISSING.id {
                            &GENERATOR_FILE_MISSING
                        } else {
                            rule
                        };
                        out.push(Finding::new(
                            rule,
                            kfile,
                            r.pos,
                            format!("{generator}: file `{}` {why}", r.value),
                        ))
                    }
                }
            }
        }
        links
    }
}

/// The kustomization file of the folder `dir` (repo-relative), if it has one.
fn kustomization_file(root: &Path, dir: &Path) -> Option<PathBuf> {
    crate::kustomize::FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| root.join(p).is_file())
}

fn str_ref(n: &Node) -> Option<Ref> {
    n.as_str().filter(|s| !s.is_empty()).map(|s| Ref {
        value: s.to_string(),
        pos: n.start,
    })
}

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// True for a `newTag` this repo's CI makes: `sha-` and 7 to 40 lowercase hex digits.
pub fn is_policy_tag(tag: &str) -> bool {
    tag.strip_prefix("sha-").is_some_and(|hex| {
        (7..=40).contains(&hex.len()) && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The rules that need only the kustomization itself: KUS-IMAGE-TAG, and secrets in literals.
pub fn check_local(file: &Path, k: &Kustomization, settings: &Settings, out: &mut Vec<Finding>) {
    for e in &k.images {
        if !workload::is_configured(settings, &e.name.value) {
            continue;
        }
        let shown = e.new_name.as_deref().unwrap_or(&e.name.value);
        if e.digest.as_deref().is_some_and(crate::image_ref::is_digest) {
            continue;
        }
        match &e.new_tag {
            None => out.push(Finding::new(
                &IMAGE_TAG,
                file,
                e.name.pos,
                format!("`{shown}` has no newTag, so it deploys `latest`; set newTag: sha-<commit> (cargo xtask update-images)"),
            )),
            Some(t) if t.value == "latest" => out.push(Finding::new(
                &IMAGE_TAG,
                file,
                t.pos,
                format!("`{shown}` is tagged `latest`; set newTag: sha-<commit> (cargo xtask update-images)"),
            )),
            Some(t) if !is_policy_tag(&t.value) => out.push(Finding::new(
                &IMAGE_TAG,
                file,
                t.pos,
                format!(
                    "newTag `{}` of `{shown}` is not a policy tag (sha- and 7 to 40 hex digits)",
                    t.value
                ),
            )),
            Some(_) => {}
        }
    }
    for g in k.generators.iter().filter(|g| g.kind == "ConfigMap") {
        for (key, value, pos) in &g.literals {
            super::security::secret_in_config(file, key, value, *pos, out);
        }
    }
}

fn is_remote(r: &str) -> bool {
    r.contains("://")
        || r.starts_with("git@")
        || r.starts_with("github.com/")
        || r.contains("?ref=")
}

/// File ids by path. Keyed by the path's bytes: the paths here are normalised and relative to
/// the root, so equal paths have equal bytes.
type Ids = HashMap<std::ffi::OsString, usize>;

/// Where a path of a kustomization leads.
enum Lead {
    File(PathBuf),
    Dir(PathBuf),
    Problem(&'static Rule, String),
}

/// The manifests tree: every YAML file's facts, and the kustomization graph between them. A
/// file's id is its index in `files`; the graph holds ids.
#[derive(Debug, Default)]
pub struct Tree {
    pub root: PathBuf,
    /// Every YAML file with its facts.
    pub files: Vec<(PathBuf, Facts)>,
    /// The id of each file.
    ids: Ids,
    /// By id: the manifest files a kustomization lists directly.
    includes_files: Vec<Vec<usize>>,
    /// By id: the kustomization files a kustomization lists directly.
    includes_kustomizations: Vec<Vec<usize>>,
    /// By id: whether a kustomization reads the file as a generator input or a patch.
    inputs: Vec<bool>,
}

impl Tree {
    pub fn new(root: &Path, files: Vec<(PathBuf, Facts)>) -> Tree {
        let ids: Ids = (files.iter().enumerate())
            .map(|(id, (path, _))| (path.clone().into_os_string(), id))
            .collect();
        let id_of = |paths: &[PathBuf]| -> Vec<usize> {
            let ids = paths.iter().filter_map(|p| ids.get(p.as_os_str()));
            ids.copied().collect()
        };
        let mut tree = Tree {
            root: root.to_path_buf(),
            includes_files: vec![Vec::new(); files.len()],
            includes_kustomizations: vec![Vec::new(); files.len()],
            inputs: vec![false; files.len()],
            ..Tree::default()
        };
        for (id, (_, facts)) in files.iter().enumerate() {
            if let Some(k) = &facts.kustomization {
                tree.includes_files[id] = id_of(&k.links.files);
                tree.includes_kustomizations[id] = id_of(&k.links.kustomizations);
                for input in id_of(&k.links.inputs) {
                    tree.inputs[input] = true;
                }
            }
        }
        tree.files = files;
        tree.ids = ids;
        // Plugin configurations and the files they name are inputs of the build too.
        for config in super::generators::configs(&tree) {
            let named: Vec<PathBuf> = super::generators::named_files(&tree, &config)
                .map(|(p, _)| p)
                .collect();
            for p in named.iter().chain([&config]) {
                if let Some(&id) = tree.ids.get(p.as_os_str()) {
                    tree.inputs[id] = true;
                }
            }
        }
        tree
    }

    /// The facts of the YAML file `file`.
    pub fn facts(&self, file: &Path) -> Option<&Facts> {
        Some(&self.files[*self.ids.get(file.as_os_str())?].1)
    }

    /// Marks `files` (those in the tree) as inputs of a build, not manifests.
    pub fn mark_inputs(&mut self, files: &[PathBuf]) {
        for f in files {
            if let Some(&id) = self.ids.get(f.as_os_str()) {
                self.inputs[id] = true;
            }
        }
    }

    /// Whether a kustomization (or a generator plugin) reads `file` as an input, not a manifest.
    pub fn is_input(&self, file: &Path) -> bool {
        self.ids
            .get(file.as_os_str())
            .is_some_and(|&id| self.inputs[id])
    }

    /// The ids of the kustomization files.
    fn kustomizations(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.files.len()).filter(|&id| self.files[id].1.kustomization.is_some())
    }

    /// Ids of the kustomization files that no other kustomization includes: what Argo CD and
    /// `--render` build.
    fn root_ids(&self) -> Vec<usize> {
        let mut included = vec![false; self.files.len()];
        for &k in self.includes_kustomizations.iter().flatten() {
            included[k] = true;
        }
        self.kustomizations().filter(|&k| !included[k]).collect()
    }

    /// Kustomization files that no other kustomization includes, sorted.
    pub fn roots(&self) -> Vec<PathBuf> {
        let roots = self.root_ids().into_iter();
        let mut roots: Vec<PathBuf> = roots.map(|id| self.files[id].0.clone()).collect();
        roots.sort();
        roots
    }

    /// Every kustomization reachable from `k` (itself included) and every manifest file they
    /// list. Cycles are cut.
    /// It costs the closure's size, never the tree's: `seen` is shared by every call.
    fn closure(&self, k: usize, seen: &mut Seen) -> (Vec<usize>, Vec<usize>) {
        seen.clear();
        let mut stack = vec![k];
        let mut kusts = Vec::new();
        let mut files = Vec::new();
        while let Some(k) = stack.pop() {
            if !seen.first_visit(k) {
                continue;
            }
            files.extend(&self.includes_files[k]);
            stack.extend(&self.includes_kustomizations[k]);
            kusts.push(k);
        }
        (kusts, files)
    }

    /// Is `file` one of the tree's YAML files?
    pub fn has(&self, file: &Path) -> bool {
        self.ids.contains_key(file.as_os_str())
    }

    /// The kustomization in `file`, if it is one.
    pub fn kustomization(&self, file: &Path) -> Option<&Kustomization> {
        self.files[*self.ids.get(file.as_os_str())?]
            .1
            .kustomization
            .as_ref()
    }

    /// Reports cycles: the edge that closes each one.
    fn cycles(&self, out: &mut Vec<Finding>) {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks = vec![Mark::New; self.files.len()];
        // From each kustomization in path order, so that a cycle is reported at the same edge
        // from run to run.
        let mut starts: Vec<usize> = self.kustomizations().collect();
        starts.sort_by(|&a, &b| self.files[a].0.cmp(&self.files[b].0));
        for start in starts {
            if marks[start] != Mark::New {
                continue;
            }
            // Iterative DFS: (node, next child index).
            let mut stack = vec![(start, 0)];
            marks[start] = Mark::Active;
            while let Some((node, i)) = stack.pop() {
                let children = &self.includes_kustomizations[node];
                if i == children.len() {
                    marks[node] = Mark::Done;
                    continue;
                }
                stack.push((node, i + 1));
                let child = children[i];
                match marks[child] {
                    Mark::Active => {
                        let (node, child) = (&self.files[node].0, &self.files[child].0);
                        out.push(Finding::new(
                            &RESOURCE_CYCLE,
                            node,
                            self.resource_pos(node, child),
                            format!(
                                "including `{}` leads back to this kustomization",
                                child.parent().unwrap_or(child).display()
                            ),
                        ));
                    }
                    Mark::Done => {}
                    Mark::New => {
                        marks[child] = Mark::Active;
                        stack.push((child, 0));
                    }
                }
            }
        }
    }

    /// Position of the resource entry of `k` that leads to `child`.
    fn resource_pos(&self, k: &Path, child: &Path) -> Pos {
        let dir = k.parent().unwrap_or(Path::new(""));
        let target = child.parent().unwrap_or(child);
        self.kustomization(k)
            .and_then(|kz| {
                kz.resources
                    .iter()
                    .find(|r| normalize(&dir.join(&r.value)).as_deref() == Some(target))
            })
            .map_or(Pos::default(), |r| r.pos)
    }

    /// Every cross-file rule.
    pub fn check(&self, out: &mut Vec<Finding>) {
        self.cycles(out);
        self.links(out);
    }

    /// The rules that follow the kustomization graph: unused images, orphans, untagged
    /// images, missing fields, ConfigMaps and scripts. Returns the steps the graph walk took
    /// (closure visits and the builds of each file), which grow with the tree's size only.
    fn links(&self, out: &mut Vec<Finding>) -> usize {
        let mut is_root = vec![false; self.files.len()];
        for id in self.root_ids() {
            is_root[id] = true;
        }
        // By id of a manifest file: the kustomizations that include it, and the builds (roots)
        // that do, as indexes into `builds`. Each file costs what includes it, never all roots.
        let mut includers: Vec<Vec<usize>> = vec![Vec::new(); self.files.len()];
        let mut root_of: Vec<Vec<usize>> = vec![Vec::new(); self.files.len()];
        let mut builds: Vec<(&Path, ConfigMaps)> = Vec::new();
        let mut seen = Seen::new(self.files.len());
        let mut steps = 0;
        for k in self.kustomizations() {
            let kfile = self.files[k].0.as_path();
            let (kusts, files) = self.closure(k, &mut seen);
            self.unused_images(k, &files, out);
            for &f in &files {
                includers[f].push(k);
                if is_root[k] && root_of[f].last() != Some(&builds.len()) {
                    root_of[f].push(builds.len());
                }
            }
            if is_root[k] {
                builds.push((kfile, self.config_maps(&kusts, &files)));
            }
        }
        for (id, (path, facts)) in self.files.iter().enumerate() {
            if facts.kustomization.is_none() {
                let includers = (!includers[id].is_empty()).then_some(&includers[id][..]);
                let builds: Vec<_> = (root_of[id].iter())
                    .map(|&b| (builds[b].0, &builds[b].1))
                    .collect();
                steps += builds.len();
                self.file_links(path, facts, self.inputs[id], includers, &builds, out);
            }
        }
        steps + seen.visits
    }

    /// KUS-IMAGE-UNUSED: the `images:` entries of kustomization `k` that no workload of
    /// `files` uses.
    fn unused_images(&self, k: usize, files: &[usize], out: &mut Vec<Finding>) {
        let (kfile, facts) = &self.files[k];
        let Some(k) = &facts.kustomization else {
            return;
        };
        let used: HashSet<&str> = (files.iter())
            .flat_map(|&f| &self.files[f].1.workloads)
            .flat_map(|w| &w.images)
            .map(|i| split_image(&i.image).0)
            .collect();
        for e in (k.images.iter()).filter(|e| !used.contains(e.name.value.as_str())) {
            out.push(Finding::new(
                &IMAGE_UNUSED,
                kfile,
                e.name.pos,
                format!(
                    "no workload that this kustomization includes uses image `{}`",
                    e.name.value
                ),
            ));
        }
    }

    /// The graph rules of one manifest file, given who includes it and the ConfigMaps of the
    /// builds (roots) that include it.
    fn file_links(
        &self,
        path: &Path,
        facts: &Facts,
        is_input: bool,
        includers: Option<&[usize]>,
        builds: &[(&Path, &ConfigMaps)],
        out: &mut Vec<Finding>,
    ) {
        if !is_input {
            out.extend(facts.missing_fields.iter().cloned());
        }
        let Some(includers) = includers else {
            if !is_input && !facts.objects.is_empty() {
                out.push(Finding::new(
                    &ORPHAN_MANIFEST,
                    path,
                    Pos::default(),
                    "no kustomization includes this file, so Argo CD never deploys it",
                ));
            }
            for w in &facts.workloads {
                for i in &w.images {
                    untagged(path, i, &[], self, out);
                }
            }
            return;
        };
        for w in &facts.workloads {
            for i in &w.images {
                untagged(path, i, includers, self, out);
            }
            for (root, cms) in builds {
                for cm in w.config_maps.iter().filter(|c| !c.optional) {
                    if !cms.contains_key(cm.name.as_str()) {
                        out.push(Finding::new(
                            &workload::CONFIGMAP_MISSING,
                            path,
                            cm.pos,
                            format!(
                                "ConfigMap `{}` is neither generated nor included by {} and what it includes",
                                cm.name,
                                root.display()
                            ),
                        ));
                    }
                }
                for s in &w.scripts {
                    let Some(Some(keys)) = cms.get(s.config_map.as_str()) else {
                        continue;
                    };
                    if !keys.contains(&s.key.as_str()) {
                        out.push(Finding::new(
                            &workload::SCRIPT_NOT_IN_CONFIGMAP,
                            path,
                            s.pos,
                            format!(
                                "`{}` is not a key of ConfigMap `{}` (mounted at {}); its keys: {}",
                                s.key,
                                s.config_map,
                                s.mount_path,
                                if keys.is_empty() {
                                    "none".to_string()
                                } else {
                                    keys.join(", ")
                                }
                            ),
                        ));
                    }
                }
            }
        }
    }

    /// ConfigMaps of one build: generated ones and included ones, with their keys when known.
    fn config_maps(&self, kusts: &[usize], files: &[usize]) -> ConfigMaps<'_> {
        let mut cms = HashMap::new();
        for &f in files {
            for o in self.files[f]
                .1
                .objects
                .iter()
                .filter(|o| o.kind == "ConfigMap")
            {
                cms.insert(
                    o.name.as_str(),
                    Some(o.keys.iter().map(String::as_str).collect()),
                );
            }
        }
        for &k in kusts {
            for g in (self.files[k].1.kustomization.iter())
                .flat_map(|k| &k.generators)
                .filter(|g| g.kind == "ConfigMap")
            {
                cms.insert(g.name.as_str(), g.keys());
            }
        }
        cms
    }
}

/// The kustomizations a [`Tree::closure`] has visited, cleared in O(1) by a new stamp; it counts
/// every visit, so that a test can hold the closures' cost to the tree's size.
struct Seen {
    stamps: Vec<u32>,
    now: u32,
    visits: usize,
}

impl Seen {
    fn new(len: usize) -> Seen {
        Seen {
            stamps: vec![0; len],
            now: 0,
            visits: 0,
        }
    }

    fn clear(&mut self) {
        self.now += 1;
    }

    /// True the first time `id` is visited since the last [`Seen::clear`].
    fn first_visit(&mut self, id: usize) -> bool {
        self.visits += 1;
        std::mem::replace(&mut self.stamps[id], self.now) != self.now
    }
}

/// ConfigMap names of a build, with their keys when known.
type ConfigMaps<'t> = HashMap<&'t str, Option<Vec<&'t str>>>;

fn lower(kind: &str) -> String {
    let mut s = kind.to_string();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    s
}

/// KUS-UNTAGGED-IMAGE for one image use.
fn untagged(
    file: &Path,
    image: &workload::ImageUse,
    includers: &[usize],
    tree: &Tree,
    out: &mut Vec<Finding>,
) {
    let (name, tag, digest) = split_image(&image.image);
    if tag.is_some() || digest.is_some() {
        return;
    }
    let covered = includers.iter().any(|&k| {
        (tree.files[k].1.kustomization.as_ref())
            .is_some_and(|k| k.images.iter().any(|e| e.name.value == name && e.tags()))
    });
    if !covered {
        let why = if includers.is_empty() {
            "no kustomization includes this file"
        } else {
            "no images: entry of the kustomizations that include it sets a tag"
        };
        out.push(Finding::new(
            &UNTAGGED_IMAGE,
            file,
            image.pos,
            format!("image `{name}` has no tag and {why}, so it would deploy `latest`"),
        ));
    }
}

/// Resolves `value` relative to the kustomization folder `dir`. `restrict`: the path must stay
/// inside `dir` (kustomize's load restrictor, for generator files).
fn resolve(root: &Path, dir: &Path, value: &str, restrict: bool) -> Lead {
    let Some(rel) = normalize(&dir.join(value)) else {
        return Lead::Problem(&RESOURCE_OUTSIDE, "points outside the repository".into());
    };
    if restrict && !rel.starts_with(dir) {
        return Lead::Problem(
            &RESOURCE_OUTSIDE,
            "is outside the kustomization's folder; kustomize's load restrictor refuses it".into(),
        );
    }
    let abs = root.join(&rel);
    let meta = match std::fs::metadata(&abs) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Lead::Problem(&RESOURCE_MISSING, "does not exist".into());
        }
        Err(e) => {
            return Lead::Problem(&RESOURCE_MISSING, format!("cannot be resolved: {e}"));
        }
    };
    // Any component may be a symlink (`../shared/x.yaml` with `shared` linked elsewhere): the
    // walker's resolve follows them all and says where the path really is.
    match crate::walk::resolve(root, &rel) {
        crate::walk::Resolved::File(_) | crate::walk::Resolved::Dir(_) => {}
        crate::walk::Resolved::Outside => {
            return Lead::Problem(
                &RESOURCE_OUTSIDE,
                "resolves outside the repository through a symlink".into(),
            );
        }
        crate::walk::Resolved::Special(kind) => {
            return Lead::Problem(&RESOURCE_MISSING, format!("is a {kind}, not a file"));
        }
        crate::walk::Resolved::Missing(e) => {
            return Lead::Problem(&RESOURCE_MISSING, format!("cannot be resolved: {e}"));
        }
    }
    if meta.is_dir() {
        Lead::Dir(rel)
    } else {
        Lead::File(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `apps` app folders, each a kustomization listing one manifest; with `one_root`, one
    /// kustomization lists every app folder (else each app is a root of its own).
    fn apps(apps: usize, one_root: bool) -> Tree {
        let kustomization = |links: Links| Facts {
            kustomization: Some(Kustomization {
                links,
                ..Kustomization::default()
            }),
            ..Facts::default()
        };
        let mut files = Vec::new();
        let mut all = Vec::new();
        for i in 0..apps {
            let (k, job) = (
                format!("apps/a{i}/kustomization.yaml"),
                format!("apps/a{i}/job.yaml"),
            );
            let links = Links {
                files: vec![PathBuf::from(&job)],
                ..Links::default()
            };
            files.push((PathBuf::from(&k), kustomization(links)));
            files.push((PathBuf::from(job), Facts::default()));
            all.push(PathBuf::from(k));
        }
        if one_root {
            let links = Links {
                kustomizations: all,
                ..Links::default()
            };
            files.push((
                PathBuf::from("apps/kustomization.yaml"),
                kustomization(links),
            ));
        }
        Tree::new(Path::new("/nonexistent"), files)
    }

    #[test]
    fn the_graph_walk_costs_the_same_per_file_at_any_size() {
        for one_root in [true, false] {
            let per_file = |n: usize| {
                let tree = apps(n, one_root);
                let mut out = Vec::new();
                tree.links(&mut out) as f64 / tree.files.len() as f64
            };
            let (small, large) = (per_file(500), per_file(8000));
            // Each kustomization's closure once, and each file's builds: a few steps a file.
            assert!(large <= 3.0, "{large} steps a file at 8,000 apps");
            assert!(large <= small * 1.01, "{small} → {large} steps a file");
        }
    }

    fn parse(src: &str) -> Kustomization {
        let docs = crate::yaml::load(src).unwrap();
        let mut out = Vec::new();
        let doc = crate::lint::yaml_rules::check_document(Path::new("k"), &docs[0].root, &mut out);
        Kustomization::parse(&docs[0], &doc)
    }

    #[test]
    fn parses_resources_generators_and_images() {
        let k = parse(
            "resources:\n  - cronjob.yaml\n  - ../base\nconfigMapGenerator:\n  - name: scripts\n    files:\n      - forecast.py\n      - main=src/run.py\n    literals: [A=1]\nimages:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-abc1234\npatches:\n  - path: p.yaml\n",
        );
        assert_eq!(
            k.resources
                .iter()
                .map(|r| r.value.as_str())
                .collect::<Vec<_>>(),
            ["cronjob.yaml", "../base"]
        );
        assert_eq!((k.resources[1].pos.line, k.resources[1].pos.column), (3, 5));
        let g = &k.generators[0];
        assert_eq!(g.keys().unwrap(), ["forecast.py", "main", "A"]);
        assert_eq!(g.files[1].1.value, "src/run.py");
        assert_eq!(k.images[0].new_tag.as_ref().unwrap().value, "sha-abc1234");
        assert_eq!(k.references[0].value, "p.yaml");
    }

    #[test]
    fn image_tags_must_follow_the_policy() {
        let k = parse(
            "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: latest\n  - name: python-base\n  - name: localhost:32000/homelab/python-base\n    newTag: v1.2\n  - name: ghcr.io/dcasati/python-base\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-0123abc\n  - name: busybox\n    newTag: latest\n",
        );
        let mut out = Vec::new();
        check_local(Path::new("k.yaml"), &k, &Settings::default(), &mut out);
        let got: Vec<_> = out.iter().map(|f| (f.rule, f.line, f.column)).collect();
        assert_eq!(
            got,
            [
                ("KUS-IMAGE-TAG", 3, 13),
                ("KUS-IMAGE-TAG", 4, 11),
                ("KUS-IMAGE-TAG", 6, 13)
            ]
        );
        assert!(out[1].message.contains("no newTag"), "{}", out[1].message);
    }

    #[test]
    fn policy_tags() {
        assert!(is_policy_tag("sha-abc1234"));
        assert!(is_policy_tag(&format!("sha-{}", "a".repeat(40))));
        assert!(!is_policy_tag("sha-abc123"));
        assert!(!is_policy_tag("sha-ABC1234"));
        assert!(!is_policy_tag("latest"));
        assert!(!is_policy_tag(&format!("sha-{}", "a".repeat(41))));
    }
}
