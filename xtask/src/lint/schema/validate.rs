//! Walks one document against its kind's definition: unknown fields (with the nearest known
//! one), types as the API server's YAML reader gives them, int-or-string, quantity and base64
//! formats, integer ranges, required fields and enums. Every finding is at the offending key or
//! value; a missing field is reported at the key that holds the object lacking it.

use super::data::{Def, Kind, Schema, Type};
use super::scalar::{Scalar, is_base64, is_quantity, resolve};
use super::{ENUM, FORMAT, REQUIRED, TYPE, UNKNOWN_FIELD};
use crate::lint::{Doc, Finding, Rule};
use crate::yaml::{Entry, Node, Pos, Value};
use std::path::Path;

pub struct Validator<'a, 'o> {
    pub file: &'o Path,
    pub doc: &'o Doc<'a>,
    pub schema: &'static Schema,
    pub out: &'o mut Vec<Finding>,
    /// SCHEMA-REQUIRED findings: kept back, since a patch is not a whole object.
    pub held: &'o mut Vec<Finding>,
    /// Where the walk is: keys and list indexes, rendered only for a finding.
    pub path: Vec<Seg<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Validator<'a, '_> {
    /// The JSON path of the node being checked, e.g. `spec.containers[0].image`.
    fn here(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) if out.is_empty() => out.push_str(k),
                Seg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn emit(&mut self, rule: &Rule, pos: Pos, message: String) {
        let finding = Finding::new(rule, self.file, pos, message);
        if rule.id == REQUIRED.id {
            self.held.push(finding);
        } else {
            self.out.push(finding);
        }
    }

    /// Validates `node` (reached at `self.path`; `owner` is where its key is) as `ty`.
    pub fn value(&mut self, node: &'a Node, ty: &Type, owner: Pos) {
        let node = self.doc.resolve(node);
        if let Value::Alias(_) = node.value {
            return; // an alias to an anchor that is not in this document
        }
        if node.as_str().is_some_and(super::scalar::is_substitution) {
            return; // Flux substitutes it before the API server sees it
        }
        let scalar = matches!(node.value, Value::Scalar { .. }).then(|| resolve(node));
        if scalar == Some(Scalar::Null) {
            if !ty.nullable {
                let path = self.here();
                self.emit(
                    &TYPE,
                    node.start,
                    format!("`{path}` must be {}, not null", expected(&ty.kind)),
                );
            }
            return;
        }
        match &ty.kind {
            Kind::Any => {}
            Kind::AnyMap => {
                if node.as_map().is_none() {
                    self.mismatch(node, scalar, &ty.kind, owner);
                }
            }
            Kind::Object(i) => match node.as_map() {
                Some(_) => self.object(node, self.schema.def(*i), owner),
                None => self.mismatch(node, scalar, &ty.kind, owner),
            },
            Kind::List(item) => match node.as_seq() {
                Some(items) => {
                    for (n, it) in items.iter().enumerate() {
                        self.path.push(Seg::Index(n));
                        self.value(it, item, it.start);
                        self.path.pop();
                    }
                }
                None => self.mismatch(node, scalar, &ty.kind, owner),
            },
            Kind::Map(item) => match node.as_map() {
                // Labels, annotations and ConfigMap data: quoted and block strings pass
                // without a walk (the common case, and ConfigMaps can be large).
                Some(entries)
                    if item.kind == Kind::Str
                        && entries.iter().all(|e| {
                            matches!(e.value.style(), Some(st) if st != crate::yaml::Style::Plain)
                                && e.value.tag.is_none()
                        }) => {}
                Some(_) => {
                    for e in self.entries(node) {
                        let key = e.key.as_str().unwrap_or_default();
                        self.path.push(Seg::Key(key));
                        self.value(&e.value, item, e.key.start);
                        self.path.pop();
                    }
                }
                None => self.mismatch(node, scalar, &ty.kind, owner),
            },
            kind => self.scalar(node, scalar, kind, owner),
        }
    }

    fn scalar(&mut self, node: &Node, scalar: Option<Scalar>, kind: &Kind, owner: Pos) {
        let Some(scalar) = scalar else {
            return self.mismatch(node, None, kind, owner);
        };
        let text = node.as_str().unwrap_or_default();
        let ok = match (kind, scalar) {
            (Kind::Str | Kind::Enum(_) | Kind::Bytes, Scalar::Str) => true,
            (Kind::Bool, Scalar::Bool) => true,
            (Kind::Int32 | Kind::Int64 | Kind::IntOrString, Scalar::Int(_)) => true,
            // JSON carries 3.0 as 3: a whole number is an integer.
            (Kind::Int32 | Kind::Int64, Scalar::Float(f)) => f.fract() == 0.0,
            (Kind::Number | Kind::Quantity, Scalar::Int(_) | Scalar::Float(_)) => true,
            (Kind::IntOrString | Kind::Quantity, Scalar::Str) => true,
            _ => false,
        };
        if !ok {
            return self.mismatch(node, Some(scalar), kind, owner);
        }
        let problem = match (kind, scalar) {
            (Kind::Int32, Scalar::Int(n)) => i32::try_from(n).is_err(),
            (Kind::Int64, Scalar::Int(n)) => i64::try_from(n).is_err(),
            (Kind::Quantity, Scalar::Str) => !is_quantity(text),
            (Kind::Bytes, Scalar::Str) => !is_base64(text),
            (Kind::Enum(values), Scalar::Str) => !values
                .split('|')
                .any(|v| v == text || (v == "\"\"" && text.is_empty())),
            _ => false,
        };
        if !problem {
            return;
        }
        let path = self.here();
        match (kind, scalar) {
            (Kind::Int32, Scalar::Int(n)) if i32::try_from(n).is_err() => self.emit(
                &FORMAT,
                node.start,
                format!("`{path}: {text}` is out of range for a 32-bit integer"),
            ),
            (Kind::Int64, Scalar::Int(n)) if i64::try_from(n).is_err() => self.emit(
                &FORMAT,
                node.start,
                format!("`{path}: {text}` is out of range for a 64-bit integer"),
            ),
            (Kind::Quantity, Scalar::Str) if !is_quantity(text) => self.emit(
                &FORMAT,
                node.start,
                format!(
                    "`{path}: {text}` is not a quantity: write a number with an optional suffix such as 100m, 128Mi or 1Gi"
                ),
            ),
            (Kind::Bytes, Scalar::Str) if !is_base64(text) => self.emit(
                &FORMAT,
                node.start,
                format!("`{path}` is not base64: encode the value, or use `stringData` for plain text"),
            ),
            (Kind::Enum(values), Scalar::Str) => {
                let allowed: Vec<&str> = values
                    .split('|')
                    .map(|v| if v == "\"\"" { "" } else { v })
                    .collect();
                if !allowed.contains(&text) {
                    let hint =
                        did_you_mean(text, allowed.iter().copied().filter(|v| !v.is_empty()));
                    let list: Vec<&str> = allowed
                        .iter()
                        .map(|v| if v.is_empty() { "\"\"" } else { v })
                        .collect();
                    self.emit(
                        &ENUM,
                        node.start,
                        format!(
                            "`{path}: {text}` is not one of {}{hint}",
                            list.join(", ")
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// A value of the wrong type: reported at the value when it is on its key's line, else (a
    /// block list or mapping) at the key.
    fn mismatch(&mut self, node: &Node, scalar: Option<Scalar>, kind: &Kind, owner: Pos) {
        let at = if node.start.line == owner.line {
            node.start
        } else {
            owner
        };
        let path = self.here();
        let got = got(node, scalar);
        let text = node.as_str().unwrap_or_default();
        let quoted = scalar == Some(Scalar::Str)
            && node.style() != Some(crate::yaml::Style::Plain)
            && super::scalar::resolve_plain(text) != Scalar::Str;
        let hint = match kind {
            _ if quoted => "; remove the quotes",
            Kind::Str | Kind::Enum(_) if scalar.is_some() => "; quote it",
            Kind::List(_) if scalar.is_some() => "; write it as a list (`[a, b]` or `- a` lines)",
            _ => "",
        };
        self.emit(
            &TYPE,
            at,
            format!("`{path}` must be {}, not {got}{hint}", expected(kind)),
        );
    }

    /// The entries of a mapping with `<<` merges applied (own keys win).
    fn entries(&self, node: &'a Node) -> Vec<&'a Entry> {
        let Some(own) = node.as_map() else {
            return Vec::new();
        };
        let mut out: Vec<&Entry> = own
            .iter()
            .filter(|e| e.key.as_str() != Some("<<"))
            .collect();
        for merge in own.iter().filter(|e| e.key.as_str() == Some("<<")) {
            let v = self.doc.resolve(&merge.value);
            let sources: Vec<&Node> = match &v.value {
                Value::Seq(items) => items.iter().map(|i| self.doc.resolve(i)).collect(),
                _ => vec![v],
            };
            for src in sources {
                for e in self.entries(src) {
                    if !out.iter().any(|o| o.key.as_str() == e.key.as_str()) {
                        out.push(e);
                    }
                }
            }
        }
        out
    }

    pub fn object(&mut self, node: &'a Node, def: &Def, owner: Pos) {
        let own = node.as_map().unwrap_or_default();
        let merges = own.iter().any(|e| e.key.as_str() == Some("<<"));
        let merged;
        let entries: Box<dyn Iterator<Item = &'a Entry>> = if merges {
            merged = self.entries(node);
            Box::new(merged.iter().copied())
        } else {
            Box::new(own.iter())
        };
        let mut seen_required = 0;
        for e in entries {
            let Some(key) = e.key.as_str() else { continue };
            match def.field(key) {
                Some(field) => {
                    seen_required += usize::from(field.required);
                    self.path.push(Seg::Key(key));
                    self.value(&e.value, &field.ty, e.key.start);
                    self.path.pop();
                }
                None => {
                    let path = self.here();
                    let hint = did_you_mean(key, def.fields.iter().map(|f| f.name));
                    let within = if path.is_empty() {
                        String::new()
                    } else {
                        format!(" in `{path}`")
                    };
                    self.emit(
                        &UNKNOWN_FIELD,
                        e.key.start,
                        format!(
                            "unknown field `{key}`{within} ({}){hint}",
                            short_name(def.name)
                        ),
                    );
                }
            }
        }
        if seen_required == def.required.len() {
            return;
        }
        let entries = self.entries(node);
        for &name in &def.required {
            if !entries.iter().any(|e| e.key.as_str() == Some(name)) {
                let path = self.here();
                let at = if path.is_empty() {
                    "the object".to_string()
                } else {
                    format!("`{path}`")
                };
                self.emit(
                    &REQUIRED,
                    owner,
                    format!(
                        "{at} lacks the required field `{name}` ({})",
                        short_name(def.name)
                    ),
                );
            }
        }
    }
}

/// What a value of the wrong type is, for the message: `a list`, `the string "3"`, `an integer (3)`.
pub fn got(node: &Node, scalar: Option<Scalar>) -> String {
    match (&node.value, scalar) {
        (Value::Seq(_), _) => "a list".to_string(),
        (Value::Map(_), _) => "a mapping".to_string(),
        (_, Some(Scalar::Str)) => format!("the string {:?}", node.as_str().unwrap_or("")),
        (_, Some(s)) => format!("{} ({})", s.describe(), node.as_str().unwrap_or("")),
        _ => "something else".to_string(),
    }
}

/// `io.k8s.api.core.v1.Container` → `Container`; a CRD's inline path stays readable.
fn short_name(name: &str) -> &str {
    if name.starts_with("io.k8s.") {
        name.rsplit('.').next().unwrap_or(name)
    } else {
        name
    }
}

fn expected(kind: &Kind) -> &'static str {
    match kind {
        Kind::Str | Kind::Enum(_) => "a string",
        Kind::Bytes => "a base64 string",
        Kind::Int32 | Kind::Int64 => "an integer",
        Kind::Number => "a number",
        Kind::Bool => "a boolean (true or false)",
        Kind::Any => "anything",
        Kind::AnyMap | Kind::Object(_) | Kind::Map(_) => "a mapping",
        Kind::IntOrString => "an integer or a string",
        Kind::Quantity => "a quantity (a number or a string such as 128Mi)",
        Kind::List(_) => "a list",
    }
}

/// The candidate closest to `word`: equal ignoring case, or within an edit distance of about a
/// third of its length.
pub fn nearest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.eq_ignore_ascii_case(word) {
            0
        } else {
            distance(&lower, &c.to_ascii_lowercase())
        };
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    let limit = (word.chars().count() / 3).max(1);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// `; did you mean `X`?` for the [`nearest`] candidate, or nothing.
pub fn did_you_mean<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> String {
    nearest(word, candidates).map_or(String::new(), |n| format!("; did you mean `{n}`?"))
}

/// Levenshtein distance, with a transposition costing one.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev2 = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_fields() {
        let fields = ["imagePullPolicy", "image", "name", "env", "envFrom"];
        assert_eq!(
            nearest("imagePullPolcy", fields.into_iter()),
            Some("imagePullPolicy")
        );
        assert_eq!(nearest("Image", fields.into_iter()), Some("image"));
        assert_eq!(
            nearest("vaule", ["value", "valueFrom"].into_iter()),
            Some("value")
        );
        assert_eq!(nearest("completelyDifferent", fields.into_iter()), None);
        assert_eq!(distance("ab", "ba"), 1);
    }
}
