//! A CRD version's `openAPIV3Schema`, read into the keywords validation uses: types, fields
//! (`properties`, `additionalProperties`, `required`), `items`, `enum`, value limits
//! (`minimum`/`maximum` and their exclusive forms, `pattern`, `minLength`/`maxLength`,
//! `minItems`/`maxItems`, `minProperties`/`maxProperties`), the Kubernetes extensions
//! `x-kubernetes-int-or-string` and `x-kubernetes-preserve-unknown-fields`, `nullable`, and
//! `allOf`/`anyOf`/`oneOf`. Descriptions, defaults and CEL rules are not read.

use serde_json::Value as Json;

/// A JSON type of a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

#[derive(Debug, Default)]
pub struct Schema {
    pub ty: Option<Ty>,
    pub nullable: bool,
    pub int_or_string: bool,
    pub preserve_unknown: bool,
    /// Declared fields, sorted by name; `None` when the schema declares none.
    pub properties: Option<Vec<(String, Schema)>>,
    /// `additionalProperties`: a schema for every other field (`true` is an empty schema).
    pub additional: Option<Box<Schema>>,
    pub items: Option<Box<Schema>>,
    pub required: Vec<String>,
    /// The allowed values, as JSON.
    pub enumeration: Option<Vec<Json>>,
    pub pattern: Option<Pattern>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<(f64, bool)>,
    pub maximum: Option<(f64, bool)>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub all_of: Vec<Schema>,
    pub any_of: Vec<Schema>,
    pub one_of: Vec<Schema>,
}

/// A `pattern` with its text; `regex` is `None` when the pattern is not valid RE2 (then it is not
/// checked, as a CRD with such a pattern cannot be installed anyway).
#[derive(Debug)]
pub struct Pattern {
    pub text: String,
    pub regex: Option<regex_lite::Regex>,
}

impl Schema {
    /// The schema of a JSON schema node.
    pub fn from_json(v: &Json) -> Schema {
        let Some(o) = v.as_object() else {
            return Schema::default();
        };
        let uint = |k: &str| o.get(k).and_then(Json::as_u64);
        let bound = |k: &str, exclusive: &str| {
            let n = o.get(k)?.as_f64()?;
            Some((n, o.get(exclusive).and_then(Json::as_bool).unwrap_or(false)))
        };
        let list = |k: &str| -> Vec<Schema> {
            o.get(k)
                .and_then(Json::as_array)
                .map_or(Vec::new(), |a| a.iter().map(Schema::from_json).collect())
        };
        let flag = |k: &str| o.get(k).and_then(Json::as_bool).unwrap_or(false);
        let ty = match o.get("type").and_then(Json::as_str) {
            Some("string") => Some(Ty::String),
            Some("integer") => Some(Ty::Integer),
            Some("number") => Some(Ty::Number),
            Some("boolean") => Some(Ty::Boolean),
            Some("object") => Some(Ty::Object),
            Some("array") => Some(Ty::Array),
            _ => None,
        };
        let properties = o.get("properties").and_then(Json::as_object).map(|p| {
            let mut fields: Vec<(String, Schema)> = p
                .iter()
                .map(|(k, s)| (k.clone(), Schema::from_json(s)))
                .collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            fields
        });
        let additional = match o.get("additionalProperties") {
            Some(Json::Bool(true)) => Some(Box::default()),
            Some(s @ Json::Object(_)) => Some(Box::new(Schema::from_json(s))),
            _ => None,
        };
        Schema {
            ty,
            nullable: flag("nullable"),
            int_or_string: flag("x-kubernetes-int-or-string"),
            preserve_unknown: flag("x-kubernetes-preserve-unknown-fields"),
            properties,
            additional,
            items: o.get("items").map(|i| Box::new(Schema::from_json(i))),
            required: o
                .get("required")
                .and_then(Json::as_array)
                .map_or(Vec::new(), |r| {
                    r.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                }),
            enumeration: o.get("enum").and_then(Json::as_array).cloned(),
            pattern: o.get("pattern").and_then(Json::as_str).map(|p| Pattern {
                text: p.to_string(),
                regex: regex_lite::Regex::new(p).ok(),
            }),
            min_length: uint("minLength"),
            max_length: uint("maxLength"),
            minimum: bound("minimum", "exclusiveMinimum"),
            maximum: bound("maximum", "exclusiveMaximum"),
            min_items: uint("minItems"),
            max_items: uint("maxItems"),
            min_properties: uint("minProperties"),
            max_properties: uint("maxProperties"),
            all_of: list("allOf"),
            any_of: list("anyOf"),
            one_of: list("oneOf"),
        }
    }

    /// The declared field `name`.
    pub fn field(&self, name: &str) -> Option<&Schema> {
        let fields = self.properties.as_ref()?;
        fields
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| &fields[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keywords_validation_needs() {
        let v: Json = serde_json::from_str(
            r#"{"type":"object","required":["spec"],"properties":{"spec":{"type":"object",
            "properties":{"replicas":{"type":"integer","minimum":1,"maximum":9},
            "name":{"type":"string","pattern":"^[a-z]+$","maxLength":8},
            "mode":{"type":"string","enum":["a","b"]},
            "port":{"x-kubernetes-int-or-string":true},
            "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}"#,
        )
        .unwrap();
        let s = Schema::from_json(&v);
        assert_eq!(s.required, ["spec"]);
        let spec = s.field("spec").unwrap();
        let replicas = spec.field("replicas").unwrap();
        assert_eq!(
            (replicas.ty, replicas.minimum, replicas.maximum),
            (Some(Ty::Integer), Some((1.0, false)), Some((9.0, false)))
        );
        let name = spec.field("name").unwrap();
        assert!(
            name.pattern
                .as_ref()
                .unwrap()
                .regex
                .as_ref()
                .unwrap()
                .is_match("abc")
        );
        assert_eq!(name.max_length, Some(8));
        assert!(spec.field("port").unwrap().int_or_string);
        assert!(spec.field("extra").unwrap().preserve_unknown);
        assert_eq!(
            spec.field("mode")
                .unwrap()
                .enumeration
                .as_ref()
                .unwrap()
                .len(),
            2
        );
        assert!(spec.field("nope").is_none());
    }
}
