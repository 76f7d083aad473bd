//! GitOps rules (GITOPS-*): Argo CD Image Updater v1's `ImageUpdater` resources checked against
//! the kustomizations they move. The per-file pass keeps each tracked image (with its effective
//! settings, resolved spec -> applicationRef -> image as Image Updater resolves them) and each
//! Argo CD Application's source path; the tree pass then checks that:
//! - the image is one that a kustomization's `images:` sets (else the tag moves nowhere);
//! - `allowTags` accepts our tag scheme, `sha-<7 hex>`, and refuses `latest`;
//! - the git write-back target (`kustomization[:PATH]`, `helmvalues:FILE`) exists.

mod pattern;

use super::kustomize_rules::Tree;
use super::{Doc, Finding, Rule, Severity};
use crate::yaml::{Node, Pos};
use std::path::{Path, PathBuf};

pub use pattern::{Regexp, glob_match};

pub const IMAGE_UNKNOWN: Rule = Rule {
    id: "GITOPS-IMAGE-UNKNOWN",
    severity: Severity::Error,
    summary: "ImageUpdater image that no kustomization sets",
    explain: "An ImageUpdater image entry (its `manifestTargets.kustomize.name`, else its \
`imageName` without tag) must equal the `name` of an `images:` entry of a kustomization: the \
write-back target's, when it resolves, else any. Image Updater writes the new tag into that \
entry, as `kustomize edit set image` would; with no such entry the tag it finds moves nothing, \
or lands in a new entry that matches no container.",
};
pub const ALLOW_TAGS: Rule = Rule {
    id: "GITOPS-ALLOW-TAGS",
    severity: Severity::Error,
    summary: "allowTags that misses sha-<7 hex> or lets `latest` in",
    explain: "The base image is tagged `sha-<first 7 hex of the commit>` and never `latest`. An \
ImageUpdater's effective `allowTags` (image, else applicationRef, else spec \
`commonUpdateSettings`) must be a `regexp:` that matches such a tag and does not match \
`latest` (unless an `ignoreTags` glob drops it). Without allowTags, or with `any`, every tag is \
a candidate and newest-build would deploy whatever was pushed last, `latest` included.",
};
pub const WRITE_BACK: Rule = Rule {
    id: "GITOPS-WRITE-BACK",
    severity: Severity::Error,
    summary: "ImageUpdater write-back target that does not exist",
    explain: "With write-back method `git`, `gitConfig.writeBackTarget` names where the tag is \
committed: `kustomization` (the Application's source path), `kustomization:PATH` (relative to \
it, or from the repo root when it starts with `/`; a folder holding a kustomization), or \
`helmvalues:FILE`. A target that does not exist makes every write-back fail; one that cannot \
be resolved (no Application in this repo matches the namePattern) is reported too.",
};

pub const RULES: &[Rule] = &[IMAGE_UNKNOWN, ALLOW_TAGS, WRITE_BACK];

/// Tags our scheme produces, and the tag that must never deploy.
const OUR_TAGS: [&str; 3] = ["sha-522a89c", "sha-0000000", "sha-abcdef9"];
const REFUSED_TAG: &str = "latest";

/// A setting's value and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub value: String,
    pub pos: Pos,
}

/// One image of an ImageUpdater, with the settings that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// The name its kustomization entry must have.
    pub name: At,
    pub allow_tags: Option<At>,
    pub ignore_tags: Vec<String>,
    /// `git…` methods only: the write-back target, `None` for the default.
    pub write_back: Option<At>,
    /// Where `write_back` is absent: the image entry's position, for findings.
    pub entry: Pos,
    pub name_pattern: String,
}

/// What the per-file pass keeps for these rules.
#[derive(Debug, Default)]
pub struct Facts {
    pub tracked: Vec<Tracked>,
    /// Argo CD Applications: name and `spec.source.path`.
    pub applications: Vec<(String, String)>,
}

fn at(node: &Node) -> Option<At> {
    Some(At {
        value: node.as_str()?.to_string(),
        pos: node.start,
    })
}

/// Collects an ImageUpdater's images or an Application's source path from one document.
pub fn collect(doc: &Doc, kind: &str, out: &mut Facts) {
    if kind != "Application" && kind != "ImageUpdater" {
        return;
    }
    let root = doc.root;
    let api = doc.str(root, "apiVersion").unwrap_or_default();
    if kind == "Application" && api.starts_with("argoproj.io/") {
        let name = doc.path(root, &["metadata", "name"]).and_then(Node::as_str);
        let path = doc
            .path(root, &["spec", "source", "path"])
            .and_then(Node::as_str);
        if let (Some(name), Some(path)) = (name, path) {
            out.applications.push((name.into(), path.into()));
        }
        return;
    }
    if kind != "ImageUpdater" || !api.starts_with("argocd-image-updater.argoproj.io/") {
        return;
    }
    let Some(spec) = doc.get(root, "spec") else {
        return;
    };
    for app in doc.seq(spec, "applicationRefs") {
        let app = doc.resolve(app);
        if doc.is_true(app, "useAnnotations") == Some(true) {
            continue;
        }
        let pattern = doc.str(app, "namePattern").unwrap_or("*").to_string();
        let write_back = [app, spec]
            .into_iter()
            .find_map(|n| doc.get(n, "writeBackConfig"))
            .filter(|w| doc.str(w, "method").is_some_and(|m| m.starts_with("git")))
            .and_then(|w| doc.path(w, &["gitConfig", "writeBackTarget"]))
            .and_then(at);
        for image in doc.seq(app, "images") {
            let image = doc.resolve(image);
            let Some(image_name) = doc.get(image, "imageName").and_then(at) else {
                continue;
            };
            let name = doc
                .path(image, &["manifestTargets", "kustomize", "name"])
                .and_then(at)
                .unwrap_or(At {
                    value: without_tag(&image_name.value).to_string(),
                    pos: image_name.pos,
                });
            let setting = |key: &str| {
                [image, app, spec]
                    .into_iter()
                    .find_map(|n| doc.path(n, &["commonUpdateSettings", key]))
            };
            out.tracked.push(Tracked {
                name,
                allow_tags: setting("allowTags").and_then(at),
                ignore_tags: setting("ignoreTags")
                    .and_then(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|n| Some(doc.resolve(n).as_str()?.to_string()))
                    .collect(),
                write_back: write_back.clone(),
                entry: image_name.pos,
                name_pattern: pattern.clone(),
            });
        }
    }
}

/// `ghcr.io/x/y:~1.0` -> `ghcr.io/x/y` (a `:` after the last `/` starts the tag or constraint).
fn without_tag(image: &str) -> &str {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].find(['@', ':']) {
        Some(i) => &image[..slash + i],
        None => image,
    }
}

/// Why `allow_tags` (with `ignore_tags`) does not fit our tag scheme, if it does not.
pub fn allow_tags_problem(allow_tags: Option<&str>, ignore_tags: &[String]) -> Option<String> {
    let ignored = ignore_tags.iter().any(|g| glob_match(g, REFUSED_TAG));
    let pattern = match allow_tags {
        None | Some("any") if ignored => return None,
        None => return Some("no allowTags: every tag is a candidate, `latest` included; set `allowTags: regexp:^sha-[0-9a-f]{7}$`".into()),
        Some("any") => return Some("`any` lets every tag in, `latest` included; use `regexp:^sha-[0-9a-f]{7}$`".into()),
        Some(p) => p,
    };
    let Some(re) = pattern.strip_prefix("regexp:") else {
        return Some(format!(
            "`{pattern}` is not `regexp:…` or `any`; Image Updater matches no tag with it"
        ));
    };
    let re = match Regexp::new(re) {
        Ok(re) => re,
        Err(why) => return Some(format!("cannot check `{pattern}`: {why}")),
    };
    if let Some(tag) = OUR_TAGS.iter().find(|t| !re.is_match(t)) {
        return Some(format!(
            "`{pattern}` refuses our tag `{tag}` (sha-<7 hex>): the image never moves"
        ));
    }
    if !ignored && re.is_match(REFUSED_TAG) {
        return Some(format!(
            "`{pattern}` accepts `latest`: anchor it, e.g. `regexp:^sha-[0-9a-f]{{7}}$`"
        ));
    }
    None
}

/// Where a `kustomization…` or `helmvalues…` target points, repo-relative: `Ok(None)` for the
/// default file Image Updater writes itself, `Err` when it cannot be resolved.
pub fn target_path(
    target: &str,
    app_path: Option<&str>,
) -> Result<Option<(PathBuf, bool)>, String> {
    let (kind, path) = target.split_once(':').unwrap_or((target, ""));
    let dir = match kind {
        "kustomization" => true,
        "helmvalues" => false,
        _ => return Ok(None),
    };
    let joined = match (path.strip_prefix('/'), app_path) {
        (Some(abs), _) => PathBuf::from(abs),
        (None, Some(app)) => Path::new(app).join(path),
        (None, None) => {
            return Err("cannot be resolved: no Application in this repo matches the namePattern, so its source path is unknown; write the path from the repo root (`kustomization:/PATH`)".into());
        }
    };
    match crate::walk::normalize(&joined) {
        Some(p) => Ok(Some((p, dir))),
        None => Err(format!("`{}` leaves the repository", joined.display())),
    }
}

/// The tree pass: every tracked image against the kustomizations and files of the tree.
pub fn check(tree: &Tree, out: &mut Vec<Finding>) {
    let kustomization_in = |dir: &Path| {
        crate::kustomize::FILE_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| tree.has(p) || tree.root.join(p).is_file())
    };
    let sets = |k: &PathBuf, name: &str| {
        tree.kustomization(k)
            .is_some_and(|k| k.images.iter().any(|e| e.name.value == name))
    };
    for (file, facts) in &tree.files {
        for t in &facts.gitops.tracked {
            if let Some(why) = allow_tags_problem(
                t.allow_tags.as_ref().map(|a| a.value.as_str()),
                &t.ignore_tags,
            ) {
                let pos = t.allow_tags.as_ref().map_or(t.entry, |a| a.pos);
                out.push(Finding::new(&ALLOW_TAGS, file, pos, why));
            }
            let app_path = tree
                .files
                .iter()
                .flat_map(|(_, f)| &f.gitops.applications)
                .find(|(name, _)| glob_match(&t.name_pattern, name))
                .map(|(_, path)| path.as_str());
            let mut target_kustomization = None;
            if let Some(wb) = &t.write_back {
                match target_path(&wb.value, app_path) {
                    Ok(Some((path, true))) => match kustomization_in(&path) {
                        Some(k) => target_kustomization = Some(k),
                        None => out.push(Finding::new(
                            &WRITE_BACK,
                            file,
                            wb.pos,
                            format!(
                                "`{}`: `{}` holds no kustomization.yaml",
                                wb.value,
                                path.display()
                            ),
                        )),
                    },
                    Ok(Some((path, false))) if !tree.root.join(&path).is_file() => {
                        out.push(Finding::new(
                            &WRITE_BACK,
                            file,
                            wb.pos,
                            format!("`{}`: no file `{}`", wb.value, path.display()),
                        ))
                    }
                    Ok(_) => {}
                    Err(why) => out.push(Finding::new(
                        &WRITE_BACK,
                        file,
                        wb.pos,
                        format!("`{}` {why}", wb.value),
                    )),
                }
            }
            let name = &t.name.value;
            let found = match &target_kustomization {
                Some(k) => sets(k, name),
                None => tree.files.iter().any(|(k, _)| sets(k, name)),
            };
            if !found {
                let where_ = match &target_kustomization {
                    Some(k) => format!("the write-back target {}", k.display()),
                    None => "any kustomization".into(),
                };
                out.push(Finding::new(
                    &IMAGE_UNKNOWN,
                    file,
                    t.name.pos,
                    format!("`{name}` is not an `images:` name of {where_}: the tag Image Updater finds moves nothing (add `- name: {name}` with a newTag there)"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> Facts {
        let docs = crate::yaml::load(src).unwrap();
        let mut out = Facts::default();
        for d in &docs {
            let doc = Doc::new(&d.root, Vec::new());
            collect(&doc, doc.str(&d.root, "kind").unwrap(), &mut out);
        }
        out
    }

    const UPDATER: &str = "\
apiVersion: argocd-image-updater.argoproj.io/v1alpha1
kind: ImageUpdater
metadata: {name: u}
spec:
  commonUpdateSettings:
    allowTags: regexp:^sha-[0-9a-f]{7}$
  writeBackConfig:
    method: git
    gitConfig: {writeBackTarget: kustomization}
  applicationRefs:
    - namePattern: iot-*
      images:
        - alias: base
          imageName: ghcr.io/dcasati/python-base:~1.0
        - alias: other
          imageName: ghcr.io/x/y
          commonUpdateSettings: {allowTags: any, ignoreTags: [lat*]}
          manifestTargets: {kustomize: {name: y}}
    - namePattern: old
      useAnnotations: true
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: iot-stack}
spec: {source: {path: k8s-apps/iot-stack}}
";

    #[test]
    fn collects_effective_settings_with_positions() {
        let f = facts(UPDATER);
        assert_eq!(
            f.applications,
            [("iot-stack".into(), "k8s-apps/iot-stack".into())]
        );
        assert_eq!(f.tracked.len(), 2, "useAnnotations refs are skipped");
        let base = &f.tracked[0];
        assert_eq!(base.name.value, "ghcr.io/dcasati/python-base");
        assert_eq!((base.name.pos.line, base.name.pos.column), (14, 22));
        let allow = base.allow_tags.as_ref().unwrap();
        assert_eq!(
            (allow.value.as_str(), allow.pos.line, allow.pos.column),
            ("regexp:^sha-[0-9a-f]{7}$", 6, 16)
        );
        assert_eq!(base.write_back.as_ref().unwrap().value, "kustomization");
        assert_eq!(base.name_pattern, "iot-*");
        let other = &f.tracked[1];
        assert_eq!((other.name.value.as_str(), other.name.pos.line), ("y", 18));
        assert_eq!(other.allow_tags.as_ref().unwrap().value, "any");
        assert_eq!(other.ignore_tags, ["lat*"]);
    }

    #[test]
    fn allow_tags_must_take_sha_tags_and_refuse_latest() {
        let p = |a: Option<&str>, ignore: &[&str]| {
            let ignore: Vec<String> = ignore.iter().map(|s| s.to_string()).collect();
            allow_tags_problem(a, &ignore)
        };
        assert_eq!(p(Some("regexp:^sha-[0-9a-f]{7}$"), &[]), None);
        assert_eq!(p(Some("regexp:^sha-"), &[]), None);
        assert_eq!(p(Some("any"), &["latest"]), None);
        assert!(p(None, &[]).unwrap().starts_with("no allowTags"));
        assert!(p(Some("any"), &[]).unwrap().contains("`latest` included"));
        assert!(
            p(Some("regexp:sha-|latest"), &[])
                .unwrap()
                .contains("accepts `latest`")
        );
        assert_eq!(p(Some("regexp:sha-|latest"), &["latest"]), None);
        assert!(
            p(Some("regexp:^v[0-9.]+$"), &[])
                .unwrap()
                .contains("refuses our tag `sha-522a89c`")
        );
        assert!(
            p(Some("regexp:^sha-[0-9]{7}$"), &[])
                .unwrap()
                .contains("refuses our tag `sha-522a89c`")
        );
        assert!(p(Some("^sha-"), &[]).unwrap().contains("not `regexp:…`"));
        // Go's syntax is taken (flags, \b); a broken pattern cannot be checked.
        assert_eq!(p(Some("regexp:(?i)^SHA-[0-9a-f]{7}\\b"), &[]), None);
        assert!(
            p(Some("regexp:(?i)sha("), &[])
                .unwrap()
                .starts_with("cannot check")
        );
    }

    #[test]
    fn write_back_targets_resolve_like_image_updater() {
        let app = Some("k8s-apps/overlays/prod");
        let t = |s, app| target_path(s, app);
        assert_eq!(
            t("kustomization", app),
            Ok(Some((PathBuf::from("k8s-apps/overlays/prod"), true)))
        );
        assert_eq!(
            t("kustomization:../../base", app),
            Ok(Some((PathBuf::from("k8s-apps/base"), true)))
        );
        assert_eq!(
            t("kustomization:/k8s-apps/iot-stack", None),
            Ok(Some((PathBuf::from("k8s-apps/iot-stack"), true)))
        );
        assert_eq!(
            t("helmvalues:/charts/values.yaml", None),
            Ok(Some((PathBuf::from("charts/values.yaml"), false)))
        );
        assert_eq!(t(".argocd-source-x.yaml", None), Ok(None));
        assert!(
            t("kustomization", None)
                .unwrap_err()
                .contains("no Application")
        );
        assert!(
            t("kustomization:../../../..", app)
                .unwrap_err()
                .contains("leaves the repository")
        );
    }
}
