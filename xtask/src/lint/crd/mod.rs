//! CRDs are schemas. Every CustomResourceDefinition in the manifests tree (and in the files or
//! folders of `[workspace.metadata.xtask.lint] crds`) gives a schema to each served
//! group/version/kind, and so do the few homelab CRDs the linter carries
//! (`xtask/schemas/homelab-crds.json`, see `xtask/schemas/gen.py`). Objects of those kinds are
//! validated like built-in ones ([`validate`]).
//!
//! The per-file pass cannot know the tree's CRDs, so it only records the custom kinds it saw.
//! After it, [`validate_tree`] re-reads just the files that hold objects of a kind with a schema
//! and validates them; a tree without custom objects pays nothing. Where schemas for one kind
//! come from several places, the tree's own CRD wins, then the settings', then the carried one.

pub mod model;
pub mod validate;

use super::kustomize_rules::Tree;
use super::{Doc, Finding, Rule, Severity, read_source, yaml_rules};
use crate::settings::Settings;
use crate::yaml::{Node, Value};
use anyhow::{Result, bail};
use model::Schema;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const LIMIT: Rule = Rule {
    id: "SCHEMA-LIMIT",
    severity: Severity::Error,
    summary: "value outside its CRD's limits (pattern, range, length, count)",
    explain: "A custom resource's value breaks a limit its CRD's schema sets: a `pattern`, a \
`minimum`/`maximum`, a `minLength`/`maxLength`, a `minItems`/`maxItems` or \
`minProperties`/`maxProperties`, or none (or, for `oneOf`, not exactly one) of its alternatives \
matches. The API server rejects the object, so Argo CD or Flux cannot apply it. The schema comes \
from a CustomResourceDefinition in the manifests, from `[workspace.metadata.xtask.lint] crds`, or \
from the CRDs the linter carries (Flux, external-secrets, cert-manager).",
};

pub const RULES: &[Rule] = &[LIMIT];

/// One served version of a CRD.
#[derive(Debug)]
pub struct Crd {
    pub api_version: String,
    pub kind: String,
    pub schema: Schema,
}

/// The served versions a CustomResourceDefinition document defines (`apiextensions.k8s.io`
/// v1, or v1beta1 with its one `validation` schema).
pub fn from_doc(doc: &Doc) -> Vec<Crd> {
    let root = doc.root;
    let Some(spec) = doc.get(root, "spec") else {
        return Vec::new();
    };
    let (Some(group), Some(kind)) = (
        doc.str(spec, "group"),
        doc.path(spec, &["names", "kind"]).and_then(Node::as_str),
    ) else {
        return Vec::new();
    };
    let shared = doc.path(spec, &["validation", "openAPIV3Schema"]);
    let mut out = Vec::new();
    for v in doc.seq(spec, "versions") {
        let (Some(name), served) = (doc.str(v, "name"), doc.is_true(v, "served")) else {
            continue;
        };
        if served == Some(false) {
            continue;
        }
        let Some(schema) = doc.path(v, &["schema", "openAPIV3Schema"]).or(shared) else {
            continue;
        };
        out.push(Crd {
            api_version: format!("{group}/{name}"),
            kind: kind.to_string(),
            schema: Schema::from_json(&to_json(doc, schema)),
        });
    }
    out
}

/// The most JSON nodes a CRD's schema may expand to through YAML aliases (a schema past it is
/// cut off, and YAML-ALIAS-BOMB reports the document).
const JSON_BUDGET: usize = 200_000;

/// A YAML node as JSON (scalars typed as sigs.k8s.io/yaml types them), within [`JSON_BUDGET`].
fn to_json(doc: &Doc, node: &Node) -> Json {
    let mut budget = JSON_BUDGET;
    json_of(doc, node, 0, &mut budget)
}

fn json_of(doc: &Doc, node: &Node, depth: usize, budget: &mut usize) -> Json {
    use super::schema::scalar::{Scalar, resolve};
    let node = doc.resolve(node);
    if depth > 200 || *budget == 0 {
        return Json::Null;
    }
    *budget -= 1;
    match &node.value {
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .filter_map(|e| {
                    Some((
                        e.key.as_str()?.to_string(),
                        json_of(doc, &e.value, depth + 1, budget),
                    ))
                })
                .collect(),
        ),
        Value::Seq(items) => Json::Array(
            items
                .iter()
                .map(|i| json_of(doc, i, depth + 1, budget))
                .collect(),
        ),
        Value::Alias(_) => Json::Null,
        Value::Scalar { text, .. } => match resolve(node) {
            Scalar::Null => Json::Null,
            Scalar::Bool => Json::Bool(matches!(
                text.as_str(),
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
            )),
            Scalar::Int(i) => i64::try_from(i).map_or(Json::String(text.clone()), Json::from),
            Scalar::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
            Scalar::Str => Json::String(text.clone()),
        },
    }
}

/// The carried CRDs (`xtask/schemas/homelab-crds.json`), parsed on first use.
pub fn carried() -> &'static [Crd] {
    static CRDS: OnceLock<Vec<Crd>> = OnceLock::new();
    CRDS.get_or_init(|| {
        let json: Json = serde_json::from_str(include_str!("../../../schemas/homelab-crds.json"))
            .expect("homelab-crds.json is JSON (gen.py writes it)");
        json["kinds"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|k| Crd {
                api_version: k["apiVersion"].as_str().unwrap_or_default().to_string(),
                kind: k["kind"].as_str().unwrap_or_default().to_string(),
                schema: Schema::from_json(&k["schema"]),
            })
            .collect()
    })
}

/// The CRDs in the files and folders of `[workspace.metadata.xtask.lint] crds`.
pub fn from_settings(root: &Path, settings: &Settings) -> Result<Vec<Crd>> {
    let mut crds = Vec::new();
    for entry in &settings.lint_crds {
        let Some(rel) = crate::walk::normalize(entry) else {
            bail!(
                "[workspace.metadata.xtask.lint] crds: `{}` points outside the repository",
                entry.display()
            );
        };
        let files: Vec<PathBuf> = match crate::walk::resolve(root, &rel) {
            crate::walk::Resolved::File(_) => vec![rel.clone()],
            crate::walk::Resolved::Dir(_) => crate::walk::walk(root, &rel)?
                .files
                .into_iter()
                .filter(|f| f.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect(),
            _ => bail!(
                "[workspace.metadata.xtask.lint] crds: `{}` is not a file or folder in the repository",
                entry.display()
            ),
        };
        for file in files {
            let src = match read_source(root, &file)? {
                Ok(src) => src,
                Err(f) => bail!(
                    "[workspace.metadata.xtask.lint] crds: {}: {}",
                    file.display(),
                    f.message
                ),
            };
            let docs = crate::yaml::load(&src).map_err(|e| {
                anyhow::anyhow!(
                    "[workspace.metadata.xtask.lint] crds: {}:{}: {}",
                    file.display(),
                    e.pos.line,
                    e.message
                )
            })?;
            for d in &docs {
                let doc = Doc::new(&d.root, Vec::new());
                if doc.str(doc.root, "kind") == Some("CustomResourceDefinition") {
                    crds.extend(from_doc(&doc));
                }
            }
        }
    }
    Ok(crds)
}

/// Validates the objects of the tree whose kind has a CRD schema, and takes those kinds off
/// the files' unknown kinds.
pub fn validate_tree(
    root: &Path,
    settings: &Settings,
    tree: &mut Tree,
    out: &mut Vec<Finding>,
) -> Result<()> {
    if tree.files.iter().all(|(_, f)| f.unknown_kinds.is_empty()) {
        return Ok(());
    }
    let extra = from_settings(root, settings)?;
    let mut schemas: HashMap<(&str, &str), &Schema> = HashMap::new();
    let tree_crds = tree.files.iter().flat_map(|(_, f)| &f.crds);
    for crd in carried().iter().chain(&extra).chain(tree_crds) {
        schemas.insert((crd.api_version.as_str(), crd.kind.as_str()), &crd.schema);
    }
    let mut validated: Vec<(usize, Vec<(String, String)>)> = Vec::new();
    for (id, (path, facts)) in tree.files.iter().enumerate() {
        let known: Vec<(String, String)> = (facts.unknown_kinds.iter())
            .filter(|(api, kind)| schemas.contains_key(&(api.as_str(), kind.as_str())))
            .cloned()
            .collect();
        if known.is_empty() {
            continue;
        }
        let Ok(Ok(src)) = read_source(root, path) else {
            continue; // read in the per-file pass; a file changed since is not validated twice
        };
        let Ok(docs) = crate::yaml::load(&src) else {
            continue;
        };
        let whole = !tree.is_input(path);
        for d in &docs {
            let mut scratch = Vec::new();
            let doc = yaml_rules::check_document(path, &d.root, &mut scratch).with_src(&src);
            let (Some(api), Some(kind)) =
                (doc.str(doc.root, "apiVersion"), doc.str(doc.root, "kind"))
            else {
                continue;
            };
            let Some(schema) = schemas.get(&(api, kind)) else {
                continue;
            };
            let mut v = validate::Validator::new(path, &doc, &settings.kubernetes_version);
            v.object(doc.root, schema);
            // A patch or a generator's input is not a whole object.
            out.extend(
                v.out
                    .into_iter()
                    .filter(|f| whole || f.rule != super::schema::REQUIRED.id),
            );
        }
        validated.push((id, known));
    }
    drop(schemas);
    for (id, known) in validated {
        tree.files[id]
            .1
            .unknown_kinds
            .retain(|k| !known.contains(k));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crds(src: &str) -> Vec<Crd> {
        let docs = crate::yaml::load(src).unwrap();
        let mut scratch = Vec::new();
        let doc = yaml_rules::check_document(Path::new("crd.yaml"), &docs[0].root, &mut scratch);
        from_doc(&doc)
    }

    #[test]
    fn served_versions_give_schemas() {
        let got = crds(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: bs.x.dev}\nspec:\n  group: x.dev\n  names: {kind: B, plural: bs}\n  versions:\n    - {name: v1, served: true, schema: {openAPIV3Schema: {type: object}}}\n    - {name: v0, served: false, schema: {openAPIV3Schema: {type: object}}}\n",
        );
        let names: Vec<(&str, &str)> = got
            .iter()
            .map(|c| (c.api_version.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(names, [("x.dev/v1", "B")]);
    }

    #[test]
    fn an_alias_bomb_in_a_crd_is_cut_off() {
        // Each level doubles the one before: 2^40 nodes if expanded.
        let mut src = String::from(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: bs.x.dev}\nx:\n  a0: &a0 {type: string}\n",
        );
        for i in 1..=40 {
            src.push_str(&format!(
                "  a{i}: &a{i} {{anyOf: [*a{}, *a{}]}}\n",
                i - 1,
                i - 1
            ));
        }
        src.push_str("spec:\n  group: x.dev\n  names: {kind: B, plural: bs}\n  versions:\n    - name: v1\n      served: true\n      schema: {openAPIV3Schema: {type: object, properties: {spec: *a40}}}\n");
        let got = crds(&src);
        assert_eq!(got.len(), 1);
        assert!(got[0].schema.field("spec").is_some());
    }
}
