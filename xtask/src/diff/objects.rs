//! Rendered YAML into objects. Each object is keyed by its apiVersion's group, kind, namespace
//! and name; a ConfigMap or Secret name that ends in kustomize's generated hash suffix
//! (`-` and 10 characters of its alphabet) is keyed without it, so a generated ConfigMap whose
//! content changed is the same object, modified. Values become `serde_json::Value`s, whose maps
//! are sorted: key order, comments and flow style are gone.

use crate::yaml::{self, Node, Style};
use serde_json::{Map, Number, Value};

/// What identifies an object across the two commits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// The apiVersion's group: `batch`, `argoproj.io`, or empty for the core group.
    pub group: String,
    pub kind: String,
    /// Empty when the object names none (cluster-scoped, or set at apply time).
    pub namespace: String,
    /// The name, without a generated hash suffix.
    pub name: String,
}

/// One rendered object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub key: Key,
    /// The name as rendered, hash suffix included.
    pub name: String,
    pub value: Value,
}

/// Every object of a rendered stream, in order. Documents that are not mappings, and `List`
/// kinds' items, are handled as kustomize prints them: empty documents are skipped.
pub fn parse(rendered: &str) -> Result<Vec<Object>, String> {
    let docs = yaml::load(rendered).map_err(|e| format!("the rendered output is not YAML: {e}"))?;
    let mut objects: Vec<Object> = Vec::new();
    for doc in &docs {
        let value = to_value(&doc.root);
        if value.is_null() {
            continue;
        }
        let Some(map) = value.as_object() else {
            return Err("a rendered document is not a mapping".into());
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let api_version = text(map.get("apiVersion"));
        let kind = text(map.get("kind"));
        let meta = map.get("metadata");
        let name = text(meta.and_then(|m| m.get("name")));
        let namespace = text(meta.and_then(|m| m.get("namespace")));
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_string();
        let key = Key {
            name: fold_hash(&group, &kind, &name).to_string(),
            group,
            kind,
            namespace,
        };
        objects.push(Object { key, name, value });
    }
    unfold_collisions(&mut objects);
    Ok(objects)
}

/// Two objects that fold to one key (a generated ConfigMap next to a hand-written one named
/// like it) keep their full names, so that neither hides the other.
fn unfold_collisions(objects: &mut [Object]) {
    let mut seen = std::collections::HashMap::new();
    for o in objects.iter() {
        *seen.entry(o.key.clone()).or_insert(0) += 1;
    }
    for o in objects.iter_mut() {
        if seen[&o.key] > 1 {
            o.key.name = o.name.clone();
        }
    }
}

/// The alphabet of kustomize's name hash (`api/hasher`: hex digits with 0, 1, 3, a and e
/// replaced so that no word is spelled).
const HASH_ALPHABET: &str = "2456789bcdfghkmt";

/// `name` without kustomize's generated suffix, for the core group's ConfigMap and Secret.
pub fn fold_hash<'a>(group: &str, kind: &str, name: &'a str) -> &'a str {
    if !group.is_empty() || !matches!(kind, "ConfigMap" | "Secret") {
        return name;
    }
    match name.rsplit_once('-') {
        Some((stem, hash))
            if !stem.is_empty()
                && hash.len() == 10
                && hash.chars().all(|c| HASH_ALPHABET.contains(c)) =>
        {
            stem
        }
        _ => name,
    }
}

/// A YAML node as a value: plain scalars are typed as the YAML 1.2 core schema types them
/// (null, booleans, integers, floats), quoted and block scalars are strings.
pub fn to_value(node: &Node) -> Value {
    match &node.value {
        yaml::Value::Scalar { text, style } => {
            let tagged_str = node.tag.as_deref().is_some_and(|t| t.ends_with("str"));
            if *style == Style::Plain && !tagged_str {
                plain(text)
            } else {
                Value::String(text.clone())
            }
        }
        yaml::Value::Seq(items) => Value::Array(items.iter().map(to_value).collect()),
        yaml::Value::Map(entries) => {
            let mut map = Map::new();
            for e in entries {
                let key = match to_value(&e.key) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                map.insert(key, to_value(&e.value));
            }
            Value::Object(map)
        }
        yaml::Value::Alias(_) => Value::Null,
    }
}

fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::Number(i.into());
    }
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if numeric && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_fold_and_others_do_not() {
        assert_eq!(
            fold_hash("", "ConfigMap", "forecast-script-7b4m9tgk2c"),
            "forecast-script"
        );
        assert_eq!(fold_hash("", "Secret", "creds-h2dfk5t6b8"), "creds");
        // `a` and `e` are not in the alphabet; nor is an 11-character tail.
        assert_eq!(
            fold_hash("", "ConfigMap", "app-settings01"),
            "app-settings01"
        );
        assert_eq!(fold_hash("", "ConfigMap", "x-abcdefghij"), "x-abcdefghij");
        assert_eq!(fold_hash("", "ConfigMap", "x-7b4m9tgk2cc"), "x-7b4m9tgk2cc");
        assert_eq!(
            fold_hash("batch", "CronJob", "job-7b4m9tgk2c"),
            "job-7b4m9tgk2c"
        );
        assert_eq!(fold_hash("", "ConfigMap", "-7b4m9tgk2c"), "-7b4m9tgk2c");
    }

    #[test]
    fn objects_are_keyed_by_group_kind_namespace_and_folded_name() {
        let src = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s-7b4m9tgk2c\n  namespace: iot\ndata:\n  n: 1\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: job}\nspec: {suspend: false, x: '1', y: 1.5, z: ~}\n";
        let objects = parse(src).unwrap();
        let keys: Vec<_> = objects
            .iter()
            .map(|o| {
                (
                    o.key.group.as_str(),
                    o.key.kind.as_str(),
                    o.key.namespace.as_str(),
                    o.key.name.as_str(),
                    o.name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("", "ConfigMap", "iot", "s", "s-7b4m9tgk2c"),
                ("batch", "CronJob", "", "job", "job")
            ]
        );
        assert_eq!(
            objects[1].value["spec"],
            serde_json::json!({"suspend": false, "x": "1", "y": 1.5, "z": null})
        );
        assert_eq!(objects[0].value["data"]["n"], serde_json::json!(1));
    }

    #[test]
    fn layout_makes_no_difference() {
        let a = parse("kind: A\nmetadata:\n  name: n # comment\nspec:\n  b: 1\n  a: [x, 'y']\n")
            .unwrap();
        let b = parse("spec: {a: [\"x\", y], b: 1}\nmetadata: {name: n}\nkind: A\n").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn colliding_folds_keep_their_full_names() {
        let src = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s-7b4m9tgk2c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n";
        let names: Vec<_> = parse(src)
            .unwrap()
            .into_iter()
            .map(|o| o.key.name)
            .collect();
        assert_eq!(names, ["s-7b4m9tgk2c", "s"]);
    }

    #[test]
    fn a_document_that_is_not_a_mapping_is_an_error() {
        assert!(parse("- a\n").unwrap_err().contains("not a mapping"));
        assert!(parse("a: [").unwrap_err().contains("not YAML"));
        assert!(parse("---\n").unwrap().is_empty());
    }
}
