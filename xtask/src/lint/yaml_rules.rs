//! YAML rules (YAML-*): syntax, duplicate keys, documents that are not mappings, missing
//! `apiVersion`/`kind`/`metadata.name`, and alias bombs. [`check`] is also the per-file entry
//! point for YAML: it loads the documents one at a time and hands each to the kustomize,
//! workload and security families.

use super::{Doc, Facts, Finding, Object, Rule, Severity};
use crate::settings::Settings;
#[cfg(test)]
use crate::yaml::first_duplicate_key;
use crate::yaml::{self, Node, Pos, Value, duplicate_keys};
use std::path::Path;

pub const SYNTAX: Rule = Rule {
    id: "YAML-SYNTAX",
    severity: Severity::Error,
    summary: "YAML syntax error",
    explain: "The file is not valid YAML; the finding is at the position the parser stopped. \
kubectl, kustomize and Argo CD all refuse the file, so nothing in it deploys. Nesting deeper \
than 200 levels is reported here too.",
};
pub const DUPLICATE_KEY: Rule = Rule {
    id: "YAML-DUPLICATE-KEY",
    severity: Severity::Error,
    summary: "duplicate mapping key",
    explain: "A key appears twice in one mapping. YAML forbids it; some tools keep the first \
value, others the last (kubectl keeps the last), so what deploys depends on the tool. Remove \
one of them. kubeconform reports these too.",
};
pub const NOT_MAPPING: Rule = Rule {
    id: "YAML-NOT-MAPPING",
    severity: Severity::Error,
    summary: "document is not a mapping",
    explain: "Every document of a manifest must be a mapping (an object with apiVersion, kind, \
metadata). A list or a bare scalar at the top level is refused by kubectl. Empty documents \
(a lone `---`) are fine.",
};
pub const MISSING_FIELD: Rule = Rule {
    id: "YAML-MISSING-FIELD",
    severity: Severity::Error,
    summary: "missing apiVersion, kind or metadata.name",
    explain: "Every Kubernetes object needs `apiVersion`, `kind` and `metadata.name` (or \
`metadata.generateName`). Kustomization files, patches and files that a configMapGenerator reads \
are exempt. kubeconform reports these as schema errors.",
};
pub const ALIAS_BOMB: Rule = Rule {
    id: "YAML-ALIAS-BOMB",
    severity: Severity::Error,
    summary: "aliases expand past the budget",
    explain: "YAML aliases (`*name`) repeat an anchored node; nested aliases grow exponentially \
(the `billion laughs` attack) and can hang or exhaust the memory of a tool that expands them. \
The linter never expands aliases: it counts the nodes an expansion would produce and reports a \
document whose expansion exceeds 100000 nodes, at its largest alias.",
};

pub const RULES: &[Rule] = &[
    SYNTAX,
    DUPLICATE_KEY,
    NOT_MAPPING,
    MISSING_FIELD,
    ALIAS_BOMB,
];

/// The most nodes a document may expand to through aliases.
pub const ALIAS_BUDGET: u64 = 100_000;

/// The per-file pass for a YAML file: every YAML rule, then each document's family rules.
pub fn check(file: &Path, src: &str, settings: &Settings, out: &mut Vec<Finding>) -> Facts {
    let mut facts = Facts::default();
    let docs = match yaml::load(src) {
        Ok(docs) => docs,
        Err(e) => {
            out.push(Finding::new(&SYNTAX, file, e.pos, e.message));
            return facts;
        }
    };
    let kustomization = crate::kustomize::is_kustomization(file);
    for document in &docs {
        let doc = check_document(file, &document.root, out).with_src(src);
        let root = doc.root;
        match &root.value {
            Value::Map(_) => {}
            Value::Scalar { text, .. } if matches!(text.as_str(), "" | "~" | "null") => continue,
            _ => {
                out.push(Finding::new(
                    &NOT_MAPPING,
                    file,
                    root.start,
                    format!("the document is a {}, not a mapping", describe(root)),
                ));
                continue;
            }
        }
        if kustomization {
            if facts.kustomization.is_none() {
                super::helm::collect_kustomization(&doc, file, &mut facts.charts);
                let k = super::kustomize_rules::Kustomization::parse(document, &doc);
                super::kustomize_rules::check_local(file, &k, settings, out);
                facts.kustomization = Some(k);
            }
            continue;
        }
        let encrypted = super::sops::encrypted(&doc);
        if encrypted.is_none() {
            missing_fields(file, &doc, &mut facts.missing_fields);
        }
        facts
            .plugin_files
            .extend(super::generators::plugin_files(&doc));
        if let Some(at) = encrypted {
            facts.sops.get_or_insert(at);
        }
        let Some(kind) = doc.str(root, "kind") else {
            continue;
        };
        let api = doc.str(root, "apiVersion").unwrap_or_default();
        facts.flux_decryption |= super::sops::flux_decrypts(&doc, kind, api);
        if kind == "CustomResourceDefinition" && api.starts_with("apiextensions.k8s.io/") {
            facts.crds.extend(super::crd::from_doc(&doc));
        }
        let name = doc.path(root, &["metadata", "name"]).and_then(Node::as_str);
        if encrypted.is_some() {
            // Ciphertext for a generator to decrypt: not checked as an object.
            facts.objects.push(Object {
                kind: kind.to_string(),
                name: name.unwrap_or_default().to_string(),
                pos: root.start,
                keys: Vec::new(),
            });
            continue;
        }
        let checked =
            super::schema::check(file, &doc, kind, settings, out, &mut facts.missing_fields);
        if checked == super::schema::Checked::Unknown {
            let api = doc.str(root, "apiVersion").unwrap_or_default();
            facts
                .unknown_kinds
                .push((api.to_string(), kind.to_string()));
        }
        let name = doc.path(root, &["metadata", "name"]).and_then(Node::as_str);
        let mut object = Object {
            kind: kind.to_string(),
            name: name.unwrap_or_default().to_string(),
            pos: root.start,
            keys: Vec::new(),
        };
        super::gitops::collect(&doc, kind, &mut facts.gitops);
        super::helm::collect(&doc, kind, api, &mut facts);
        if kind == "ConfigMap" {
            object.keys = super::security::check_config_map(file, &doc, out);
        } else if let Some(w) = super::workload::check(file, &doc, kind, settings, out) {
            super::security::check_pod(file, &doc, &w, out);
            facts.workloads.push(w.facts);
        }
        facts.objects.push(object);
    }
    facts
}

fn describe(node: &Node) -> &'static str {
    match node.value {
        Value::Seq(_) => "sequence",
        Value::Map(_) => "mapping",
        Value::Alias(_) => "alias",
        Value::Scalar { .. } => "scalar",
    }
}

fn missing_fields(file: &Path, doc: &Doc, out: &mut Vec<Finding>) {
    let root = doc.root;
    let mut missing = Vec::new();
    for key in ["apiVersion", "kind"] {
        if doc.str(root, key).is_none_or(str::is_empty) {
            missing.push(key);
        }
    }
    let named = |key| {
        doc.path(root, &["metadata", key])
            .and_then(Node::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !named("name") && !named("generateName") {
        missing.push("metadata.name");
    }
    if !missing.is_empty() {
        out.push(Finding::new(
            &MISSING_FIELD,
            file,
            root.start,
            format!("missing {}", missing.join(", ")),
        ));
    }
}

/// Duplicate keys and the alias budget for one document; returns it with its anchors.
pub fn check_document<'a>(file: &Path, root: &'a Node, out: &mut Vec<Finding>) -> Doc<'a> {
    let mut walk = Walk {
        file,
        out,
        anchors: Vec::new(),
        sizes: Vec::new(),
        largest: None,
    };
    let total = walk.node(root);
    let anchors = walk.anchors;
    if total > ALIAS_BUDGET {
        let (pos, size) = walk.largest.unwrap_or((root.start, total));
        out.push(Finding::new(
            &ALIAS_BOMB,
            file,
            pos,
            format!(
                "aliases would expand this document to {} nodes (budget {ALIAS_BUDGET}); this alias alone expands to {}",
                fmt_count(total),
                fmt_count(size)
            ),
        ));
    }
    Doc::new(root, anchors)
}

fn fmt_count(n: u64) -> String {
    if n == u64::MAX {
        "more than 2^64".to_string()
    } else {
        n.to_string()
    }
}

struct Walk<'a, 'o> {
    file: &'o Path,
    out: &'o mut Vec<Finding>,
    anchors: Vec<(usize, &'a Node)>,
    /// Expanded size of each anchored node, by anchor id.
    sizes: Vec<(usize, u64)>,
    /// The alias with the largest expansion so far.
    largest: Option<(Pos, u64)>,
}

impl<'a> Walk<'a, '_> {
    /// The number of nodes `node` expands to, aliases included.
    fn node(&mut self, node: &'a Node) -> u64 {
        let mut size = 1u64;
        match &node.value {
            Value::Scalar { .. } => {}
            Value::Alias(id) => {
                for &(a, s) in self.sizes.iter().rev() {
                    if a == *id {
                        size = s;
                        break;
                    }
                }
                if self.largest.is_none_or(|(_, s)| size > s) {
                    self.largest = Some((node.start, size));
                }
            }
            Value::Seq(items) => {
                for n in items {
                    size = size.saturating_add(self.node(n));
                }
            }
            Value::Map(entries) => {
                for (i, first) in duplicate_keys(entries) {
                    let (key, first) = (&entries[i].key, &entries[first].key);
                    self.duplicate(key.as_str().unwrap_or_default(), key, first);
                }
                for e in entries {
                    size = size
                        .saturating_add(self.node(&e.key))
                        .saturating_add(self.node(&e.value));
                }
            }
        }
        if let Some(id) = node.anchor {
            self.anchors.push((id, node));
            self.sizes.push((id, size));
        }
        size
    }

    fn duplicate(&mut self, key: &str, node: &Node, first: &Node) {
        if key == "<<" {
            return;
        }
        self.out.push(Finding::new(
            &DUPLICATE_KEY,
            self.file,
            node.start,
            format!(
                "duplicate key `{key}` (first at line {}, column {})",
                first.start.line, first.start.column
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_duplicate_key_is_found_at_any_depth_but_merge_keys_repeat() {
        let root = |src: &str| yaml::load(src).unwrap().remove(0).root;
        let doc = root("a: 1\nb:\n  - {x: 1, y: 2, x: 3}\n");
        let (dup, first) = first_duplicate_key(&doc).unwrap();
        assert_eq!((dup.start.line, dup.start.column), (3, 18));
        assert_eq!((first.start.line, first.start.column), (3, 6));
        assert!(first_duplicate_key(&root("a: &a {x: 1}\nb: {<<: *a, <<: *a}\n")).is_none());
        assert!(first_duplicate_key(&root("a: 1\nb: 2\n")).is_none());
    }

    fn lint(file: &str, src: &str) -> (Vec<(&'static str, usize, usize)>, Facts) {
        let mut out = Vec::new();
        let facts = check(Path::new(file), src, &Settings::default(), &mut out);
        (
            out.iter().map(|f| (f.rule, f.line, f.column)).collect(),
            facts,
        )
    }

    #[test]
    fn duplicate_keys_point_at_the_first() {
        let entries = |src: &str| match yaml::load(src).unwrap().remove(0).root.value {
            Value::Map(entries) => entries,
            _ => panic!("a map"),
        };
        assert_eq!(
            duplicate_keys(&entries("a: 1\nb: 2\na: 3\na: 4\n")),
            [(2, 0), (3, 0)]
        );
        let many: String = (0..20).map(|i| format!("k{i}: 1\n")).collect();
        assert_eq!(
            duplicate_keys(&entries(&format!("{many}k3: 2\n"))),
            [(20, 3)]
        );
        assert!(duplicate_keys(&entries("[a]: 1\n[a]: 2\nb: 1\n")).is_empty());
    }

    #[test]
    fn syntax_error_at_its_position() {
        let (found, _) = lint("a.yaml", "apiVersion: v1\nkind: [unclosed\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "YAML-SYNTAX");
        assert!(found[0].1 >= 2);
        let (found, _) = lint("a.yaml", "a: 1\n  b: 2\n");
        assert_eq!(found, [("YAML-SYNTAX", 2, 4)]);
    }

    #[test]
    fn duplicate_keys_point_at_the_second() {
        let src = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n";
        let (found, _) = lint("s.yaml", src);
        assert_eq!(found, [("YAML-DUPLICATE-KEY", 5, 3)]);
        let many: String = (0..20).map(|i| format!("k{i}: 1\n")).collect();
        let (found, _) = lint("kustomization.yaml", &format!("{many}k7: 2\n"));
        assert_eq!(found, [("YAML-DUPLICATE-KEY", 21, 1)]);
    }

    #[test]
    fn documents_must_be_mappings() {
        let src = "---\n- a\n- b\n---\n---\njust text\n";
        let (found, _) = lint("x.yaml", src);
        assert_eq!(
            found,
            [("YAML-NOT-MAPPING", 2, 1), ("YAML-NOT-MAPPING", 6, 1)]
        );
    }

    #[test]
    fn missing_fields_are_kept_back_as_facts() {
        let src = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\nkind: Service\nmetadata: {}\n";
        let (found, facts) = lint("x.yaml", src);
        assert!(found.is_empty(), "{found:?}");
        let got: Vec<_> = facts
            .missing_fields
            .iter()
            .map(|f| (f.line, f.column, f.message.as_str()))
            .collect();
        assert_eq!(got, [(6, 1, "missing apiVersion, metadata.name")]);
        let (_, facts) = lint("kustomization.yaml", "resources: [a.yaml]\n");
        assert!(facts.missing_fields.is_empty() && facts.kustomization.is_some());
    }

    #[test]
    fn alias_bombs_are_counted_not_expanded() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = if i == 1 { String::new() } else { (i - 1).to_string() }
            ));
        }
        let start = std::time::Instant::now();
        let (found, _) = lint("kustomization.yaml", &src);
        assert!(start.elapsed().as_secs() < 2);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "YAML-ALIAS-BOMB");
        // The largest alias is one of the last line's.
        assert_eq!(found[0].1, 12);
        // A few aliases are fine.
        let (found, _) = lint("kustomization.yaml", "a: &a [x, y]\nb: *a\nc: [*a, *a]\n");
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn empty_and_comment_only_files_are_clean() {
        assert!(lint("e.yaml", "").0.is_empty());
        assert!(lint("e.yaml", "# nothing\n---\n").0.is_empty());
    }
}
