//! Validates an object against its CRD's schema, as the API server does for a structural
//! schema: unknown fields (unless `x-kubernetes-preserve-unknown-fields` or
//! `additionalProperties`), types (as sigs.k8s.io/yaml reads YAML 1.1 scalars), enums, required
//! fields and value limits, each at its line and column. `metadata` is validated as the
//! built-in ObjectMeta. `allOf`/`anyOf`/`oneOf` alternatives are value checks only: an object
//! that matches none of `anyOf` (or not exactly one of `oneOf`) is one SCHEMA-LIMIT finding.

use super::super::schema::scalar::{Scalar, resolve};
use super::super::schema::validate::did_you_mean;
use super::super::schema::{ENUM, REQUIRED, TYPE, UNKNOWN_FIELD};
use super::super::{Doc, Finding, Rule};
use super::LIMIT;
use super::model::{Schema, Ty};
use crate::yaml::{Node, Pos, Value};
use serde_json::Value as Json;
use std::path::Path;

pub struct Validator<'a, 'd> {
    pub file: &'a Path,
    pub doc: &'a Doc<'d>,
    /// The Kubernetes version whose ObjectMeta `metadata` is validated against.
    version: &'a str,
    pub out: Vec<Finding>,
    path: Vec<String>,
    /// Inside an `anyOf`/`oneOf` alternative: only value checks, no unknown fields.
    alternative: bool,
    /// How many alternatives deep: nested `anyOf`s multiply the work, so past
    /// [`MAX_ALTERNATIVE_DEPTH`] an alternative counts as matching (a hostile CRD in the repo
    /// cannot make the lint exponential).
    depth: usize,
}

/// How deep nested `anyOf`/`oneOf` alternatives are evaluated.
const MAX_ALTERNATIVE_DEPTH: usize = 3;

impl<'a, 'd> Validator<'a, 'd> {
    pub fn new(file: &'a Path, doc: &'a Doc<'d>, version: &'a str) -> Self {
        Validator {
            file,
            doc,
            version,
            out: Vec::new(),
            path: Vec::new(),
            alternative: false,
            depth: 0,
        }
    }

    fn here(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            if !seg.starts_with('[') && !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
        s
    }

    fn emit(&mut self, rule: &Rule, pos: Pos, message: String) {
        self.out.push(Finding::new(rule, self.file, pos, message));
    }

    /// Validates the object `root` of a custom kind against `schema` (its root schema).
    pub fn object(&mut self, root: &'d Node, schema: &Schema) {
        let Some(entries) = self.doc.resolve(root).as_map() else {
            return;
        };
        for e in entries {
            let Some(key) = e.key.as_str() else { continue };
            match key {
                "apiVersion" | "kind" => {}
                "metadata" => self.metadata(&e.value, e.key.start),
                _ => self.field(schema, key, &e.value, e.key.start),
            }
        }
        self.required(root, schema, root.start);
    }

    /// `metadata` as the built-in ObjectMeta, with the built-in validator.
    fn metadata(&mut self, node: &'d Node, owner: Pos) {
        let Ok(schema) = super::super::schema::data::schema(self.version) else {
            return;
        };
        let Some(def) = schema.def_named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") else {
            return;
        };
        let mut held = Vec::new();
        let mut v = super::super::schema::validate::Validator {
            file: self.file,
            doc: self.doc,
            schema,
            out: &mut self.out,
            held: &mut held,
            path: vec![super::super::schema::validate::Seg::Key("metadata")],
        };
        if self.doc.resolve(node).as_map().is_some() {
            v.object(self.doc.resolve(node), def, owner);
        }
    }

    fn field(&mut self, parent: &Schema, key: &str, value: &'d Node, key_pos: Pos) {
        match parent.field(key).or(parent.additional.as_deref()) {
            Some(s) => {
                self.path.push(key.to_string());
                self.value(value, s, key_pos);
                self.path.pop();
            }
            None if parent.preserve_unknown || parent.properties.is_none() || self.alternative => {}
            None => {
                let within = match self.here() {
                    p if p.is_empty() => String::new(),
                    p => format!(" in `{p}`"),
                };
                let names = parent.properties.iter().flatten().map(|(k, _)| k.as_str());
                let hint = did_you_mean(key, names);
                self.emit(
                    &UNKNOWN_FIELD,
                    key_pos,
                    format!("unknown field `{key}`{within} (not in the CRD's schema){hint}"),
                );
            }
        }
    }

    fn required(&mut self, node: &'d Node, schema: &Schema, owner: Pos) {
        let Some(entries) = self.doc.resolve(node).as_map() else {
            return;
        };
        for name in &schema.required {
            if !entries.iter().any(|e| e.key.as_str() == Some(name)) {
                let at = match self.here() {
                    p if p.is_empty() => "the object".to_string(),
                    p => format!("`{p}`"),
                };
                self.emit(
                    &REQUIRED,
                    owner,
                    format!("{at} lacks the required field `{name}`"),
                );
            }
        }
    }

    /// Validates `node` (its key at `owner`) against `s`.
    pub fn value(&mut self, node: &'d Node, s: &Schema, owner: Pos) {
        let node = self.doc.resolve(node);
        if let Value::Alias(_) = node.value {
            return;
        }
        if node
            .as_str()
            .is_some_and(super::super::schema::scalar::is_substitution)
        {
            return; // Flux substitutes it before the API server sees it
        }
        let scalar = matches!(node.value, Value::Scalar { .. }).then(|| resolve(node));
        if scalar == Some(Scalar::Null) {
            if !s.nullable && s.ty.is_some() && !self.alternative {
                let path = self.here();
                self.emit(&TYPE, node.start, format!("`{path}` must not be null"));
            }
            return;
        }
        if !self.type_ok(node, scalar, s, owner) {
            return;
        }
        self.limits(node, scalar, s);
        match &node.value {
            Value::Map(entries) => {
                for e in entries {
                    let Some(key) = e.key.as_str() else { continue };
                    if key == "<<" {
                        continue;
                    }
                    self.field(s, key, &e.value, e.key.start);
                }
                self.required(node, s, owner);
            }
            Value::Seq(items) => {
                if let Some(item) = &s.items {
                    for (i, it) in items.iter().enumerate() {
                        self.path.push(format!("[{i}]"));
                        self.value(it, item, it.start);
                        self.path.pop();
                    }
                }
            }
            _ => {}
        }
        self.alternatives(node, s, owner);
    }

    /// The type check; false (after a SCHEMA-TYPE finding) when the value has the wrong type.
    fn type_ok(&mut self, node: &Node, scalar: Option<Scalar>, s: &Schema, owner: Pos) -> bool {
        let ok = match (s.ty, scalar, &node.value) {
            _ if s.int_or_string => matches!(scalar, Some(Scalar::Int(_) | Scalar::Str)),
            (None, _, _) => true,
            (Some(Ty::String), Some(Scalar::Str), _) => true,
            (Some(Ty::Integer), Some(Scalar::Int(_)), _) => true,
            (Some(Ty::Integer), Some(Scalar::Float(f)), _) => f.fract() == 0.0,
            (Some(Ty::Number), Some(Scalar::Int(_) | Scalar::Float(_)), _) => true,
            (Some(Ty::Boolean), Some(Scalar::Bool), _) => true,
            (Some(Ty::Object), _, Value::Map(_)) => true,
            (Some(Ty::Array), _, Value::Seq(_)) => true,
            _ => false,
        };
        if !ok && !self.alternative {
            let want = match s.ty {
                _ if s.int_or_string => "an integer or a string",
                Some(Ty::String) => "a string",
                Some(Ty::Integer) => "an integer",
                Some(Ty::Number) => "a number",
                Some(Ty::Boolean) => "a boolean (true or false)",
                Some(Ty::Object) => "a mapping",
                Some(Ty::Array) => "a list",
                None => "anything",
            };
            let got = super::super::schema::validate::got(node, scalar);
            let at = if node.start.line == owner.line {
                node.start
            } else {
                owner
            };
            let path = self.here();
            self.emit(&TYPE, at, format!("`{path}` must be {want}, not {got}"));
        }
        if !ok && self.alternative {
            self.out
                .push(Finding::new(&TYPE, self.file, node.start, String::new()));
        }
        ok
    }

    /// Enum and value limits of one value.
    fn limits(&mut self, node: &Node, scalar: Option<Scalar>, s: &Schema) {
        let path = self.here();
        let text = node.as_str().unwrap_or_default();
        if let (Some(values), Some(sc)) = (&s.enumeration, scalar) {
            let json = scalar_json(text, sc);
            if !values.contains(&json) {
                let shown: Vec<String> = values
                    .iter()
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                    .collect();
                let hint = did_you_mean(text, shown.iter().map(String::as_str));
                self.emit(
                    &ENUM,
                    node.start,
                    format!("`{path}: {text}` is not one of {}{hint}", shown.join(", ")),
                );
            }
        }
        let limit = |why: String| (why, node.start);
        let mut problems = Vec::new();
        if scalar == Some(Scalar::Str) {
            let n = text.chars().count() as u64;
            if let Some(min) = s.min_length.filter(|&m| n < m) {
                problems.push(limit(format!(
                    "`{path}` is {n} characters long, under the minimum of {min}"
                )));
            }
            if let Some(max) = s.max_length.filter(|&m| n > m) {
                problems.push(limit(format!(
                    "`{path}` is {n} characters long, over the maximum of {max}"
                )));
            }
            if let Some(p) = &s.pattern
                && let Some(re) = &p.regex
                && !re.is_match(text)
            {
                problems.push(limit(format!(
                    "`{path}: {text}` does not match the pattern `{}`",
                    p.text
                )));
            }
        }
        let number = match scalar {
            Some(Scalar::Int(i)) => Some(i as f64),
            Some(Scalar::Float(f)) => Some(f),
            _ => None,
        };
        if let Some(x) = number {
            if let Some((min, exclusive)) = s.minimum
                && (x < min || (exclusive && x == min))
            {
                let what = if exclusive { "over" } else { "at least" };
                problems.push(limit(format!("`{path}: {text}` must be {what} {min}")));
            }
            if let Some((max, exclusive)) = s.maximum
                && (x > max || (exclusive && x == max))
            {
                let what = if exclusive { "under" } else { "at most" };
                problems.push(limit(format!("`{path}: {text}` must be {what} {max}")));
            }
        }
        let count = match &node.value {
            Value::Seq(items) => Some(("items", items.len() as u64, s.min_items, s.max_items)),
            Value::Map(e) => Some(("fields", e.len() as u64, s.min_properties, s.max_properties)),
            _ => None,
        };
        if let Some((what, n, min, max)) = count {
            if let Some(min) = min.filter(|&m| n < m) {
                problems.push(limit(format!(
                    "`{path}` has {n} {what}, under the minimum of {min}"
                )));
            }
            if let Some(max) = max.filter(|&m| n > m) {
                problems.push(limit(format!(
                    "`{path}` has {n} {what}, over the maximum of {max}"
                )));
            }
        }
        for (why, pos) in problems {
            self.emit(&LIMIT, pos, why);
        }
    }

    /// `allOf` (each applies), `anyOf` (one must), `oneOf` (exactly one must), as value checks.
    fn alternatives(&mut self, node: &'d Node, s: &Schema, owner: Pos) {
        for sub in &s.all_of {
            self.value(node, sub, owner);
        }
        for (alts, exactly_one) in [(&s.any_of, false), (&s.one_of, true)] {
            if alts.is_empty() {
                continue;
            }
            let matching = alts.iter().filter(|alt| self.matches(node, alt)).count();
            let ok = if exactly_one {
                matching == 1
            } else {
                matching >= 1
            };
            if !ok {
                let path = self.here();
                let which = if exactly_one { "exactly one" } else { "any" };
                let at = if node.start.line == owner.line {
                    node.start
                } else {
                    owner
                };
                self.emit(
                    &LIMIT,
                    at,
                    format!("`{path}` matches {matching} of the schema's {} alternatives, not {which} (anyOf/oneOf)", alts.len()),
                );
            }
        }
    }

    /// Whether `node` passes the value checks of `alt`.
    fn matches(&self, node: &'d Node, alt: &Schema) -> bool {
        if self.depth >= MAX_ALTERNATIVE_DEPTH {
            return true;
        }
        let mut v = Validator {
            file: self.file,
            doc: self.doc,
            version: self.version,
            out: Vec::new(),
            path: self.path.clone(),
            alternative: true,
            depth: self.depth + 1,
        };
        v.value(node, alt, node.start);
        v.out.is_empty()
    }
}

/// A YAML scalar as the JSON value it decodes to, to compare with `enum`.
fn scalar_json(text: &str, sc: Scalar) -> Json {
    match sc {
        Scalar::Null => Json::Null,
        Scalar::Bool => Json::Bool(matches!(
            text,
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
        )),
        Scalar::Int(i) => i64::try_from(i).map_or(Json::String(text.to_string()), Json::from),
        Scalar::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Scalar::Str => Json::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::yaml_rules::check_document;

    fn validate(schema: &str, src: &str) -> Vec<(&'static str, usize, usize)> {
        let schema = Schema::from_json(&serde_json::from_str(schema).unwrap());
        let docs = crate::yaml::load(src).unwrap();
        let mut scratch = Vec::new();
        let doc = check_document(Path::new("x.yaml"), &docs[0].root, &mut scratch);
        let mut v = Validator::new(Path::new("x.yaml"), &doc, "1.31");
        v.object(doc.root, &schema);
        v.out.iter().map(|f| (f.rule, f.line, f.column)).collect()
    }

    #[test]
    fn any_of_and_one_of_are_value_checks() {
        let schema = r#"{"type":"object","properties":{"spec":{"type":"object",
            "properties":{"a":{"type":"string"},"b":{"type":"string"}},
            "oneOf":[{"required":["a"]},{"required":["b"]}]}}}"#;
        assert_eq!(validate(schema, "spec: {a: x}\n"), []);
        assert_eq!(
            validate(schema, "spec: {a: one, b: two}\n"),
            [("SCHEMA-LIMIT", 1, 7)]
        );
        assert_eq!(validate(schema, "spec: {}\n"), [("SCHEMA-LIMIT", 1, 7)]);
    }

    #[test]
    fn nested_alternatives_stop_at_a_depth() {
        // anyOf nested 12 deep with two alternatives each, built without sharing.
        fn nested(depth: usize) -> String {
            if depth == 0 {
                return r#"{"type":"string","minLength":100}"#.to_string();
            }
            let inner = nested(depth - 1);
            format!(r#"{{"anyOf":[{inner},{inner}]}}"#)
        }
        let schema = |depth| {
            format!(
                r#"{{"type":"object","properties":{{"spec":{}}}}}"#,
                nested(depth)
            )
        };
        // Two levels are evaluated in full: every alternative fails (too short).
        assert_eq!(
            validate(&schema(2), "spec: short\n"),
            [("SCHEMA-LIMIT", 1, 7)]
        );
        // Twelve would be 2^12 paths; past the third level an alternative counts as matching.
        assert_eq!(validate(&schema(12), "spec: short\n"), []);
    }
}
