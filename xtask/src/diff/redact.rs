//! Secrets never reach a diff. Before an object pair is printed:
//! - every value under a Secret's `data` and `stringData` is replaced by a marker saying whether
//!   that key was added, removed, changed or left alone (and so is the Secret's
//!   `last-applied-configuration` annotation, which repeats them);
//! - every other string that lint's secret rules (`lint::secrets::looks_like_secret`) flag, on
//!   either side, is replaced the same way. An env entry's `value` is judged under the entry's
//!   `name`, as lint judges it.
//!
//! Both sides are walked together (maps by key, env-like lists by `name`, other lists by index)
//! so that a marker can say what happened to the value it hides.

use crate::lint::secrets::looks_like_secret;
use serde_json::Value;

pub const UNCHANGED: &str = "<secret unchanged>";
pub const CHANGED_FROM: &str = "<secret>";
pub const CHANGED_TO: &str = "<secret changed>";
pub const ADDED: &str = "<secret added>";
pub const REMOVED: &str = "<secret removed>";

/// Redacts `base` and `head` (the same object at both commits; either may be absent).
pub fn redact_pair(base: Option<&mut Value>, head: Option<&mut Value>) {
    let is_secret = |v: &Option<&mut Value>| {
        v.as_ref().is_some_and(|v| {
            v.get("kind").and_then(Value::as_str) == Some("Secret")
                && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
        })
    };
    let secret = is_secret(&base) || is_secret(&head);
    walk(base, head, "", secret, 0);
}

/// The markers for a hidden value present on one side or both.
fn markers(base: Option<&Value>, head: Option<&Value>) -> (Value, Value) {
    let text = |s: &str| Value::String(s.to_string());
    match (base, head) {
        (Some(b), Some(h)) if b == h => (text(UNCHANGED), text(UNCHANGED)),
        _ => (text(CHANGED_FROM), text(CHANGED_TO)),
    }
}

fn hide(base: Option<&mut Value>, head: Option<&mut Value>) {
    let (b, h) = markers(base.as_deref(), head.as_deref());
    match (base, head) {
        (Some(base), Some(head)) => {
            *base = b;
            *head = h;
        }
        (Some(base), None) => *base = Value::String(REMOVED.into()),
        (None, Some(head)) => *head = Value::String(ADDED.into()),
        (None, None) => {}
    }
}

fn flagged(key: &str, v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|s| looks_like_secret(key, s).is_some())
}

fn walk(base: Option<&mut Value>, head: Option<&mut Value>, key: &str, secret: bool, depth: usize) {
    let is_map = |v: &Option<&mut Value>| v.as_ref().is_none_or(|v| v.is_object());
    let is_seq = |v: &Option<&mut Value>| v.as_ref().is_none_or(|v| v.is_array());
    if is_map(&base) && is_map(&head) && (base.is_some() || head.is_some()) {
        each_key(base, head, |k, bv, hv| {
            if secret && depth == 0 && (k == "data" || k == "stringData") {
                hide_every_value(bv, hv);
            } else if secret && k == "kubectl.kubernetes.io/last-applied-configuration" {
                // A Secret applied by hand carries its data again in this annotation.
                hide(bv, hv);
            } else {
                walk(bv, hv, k, secret, depth + 1);
            }
        });
    } else if is_seq(&base) && is_seq(&head) && (base.is_some() || head.is_some()) {
        walk_seq(base, head, key, secret, depth);
    } else if flagged(key, base.as_deref()) || flagged(key, head.as_deref()) {
        hide(base, head);
    }
}

/// Lists of maps with a `name` (env, containers, volumes) pair up by name; other lists by index.
/// An env entry's `value` is judged under its `name`.
fn walk_seq(
    base: Option<&mut Value>,
    head: Option<&mut Value>,
    key: &str,
    secret: bool,
    depth: usize,
) {
    let name_of = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
    let mut b: Vec<&mut Value> = base
        .and_then(Value::as_array_mut)
        .map(|a| a.iter_mut().collect())
        .unwrap_or_default();
    let mut h: Vec<&mut Value> = head
        .and_then(Value::as_array_mut)
        .map(|a| a.iter_mut().collect())
        .unwrap_or_default();
    let named = b.iter().chain(h.iter()).all(|v| name_of(v).is_some());
    if !named {
        let n = b.len().max(h.len());
        let mut b = b
            .into_iter()
            .map(Some)
            .chain(std::iter::repeat_with(|| None));
        let mut h = h
            .into_iter()
            .map(Some)
            .chain(std::iter::repeat_with(|| None));
        for _ in 0..n {
            walk(
                b.next().flatten(),
                h.next().flatten(),
                key,
                secret,
                depth + 1,
            );
        }
        return;
    }
    let mut pairs: Vec<(Option<&mut Value>, Option<&mut Value>)> = Vec::new();
    for bv in b.drain(..) {
        let name = name_of(bv);
        let at = h.iter().position(|hv| name_of(hv) == name);
        pairs.push((Some(bv), at.map(|i| h.remove(i))));
    }
    pairs.extend(h.into_iter().map(|hv| (None, Some(hv))));
    for (bv, hv) in pairs {
        let name = bv
            .as_deref()
            .or(hv.as_deref())
            .and_then(name_of)
            .unwrap_or_default();
        let env_like = |v: &Option<&mut Value>| {
            v.as_ref()
                .is_none_or(|v| v.get("value").is_none_or(Value::is_string))
        };
        if env_like(&bv) && env_like(&hv) {
            let (mut bv, mut hv) = (bv, hv);
            let bval = bv.as_mut().and_then(|v| v.get_mut("value"));
            let hval = hv.as_mut().and_then(|v| v.get_mut("value"));
            if flagged(&name, bval.as_deref()) || flagged(&name, hval.as_deref()) {
                hide(bval, hval);
            }
            walk(bv, hv, key, secret, depth + 1);
        } else {
            walk(bv, hv, key, secret, depth + 1);
        }
    }
}

fn hide_every_value(base: Option<&mut Value>, head: Option<&mut Value>) {
    let (b, h) = (base, head);
    let both_maps =
        b.as_ref().is_none_or(|v| v.is_object()) && h.as_ref().is_none_or(|v| v.is_object());
    if !both_maps {
        hide(b, h);
        return;
    }
    each_key(b, h, |_, bv, hv| hide(bv, hv));
}

/// Calls `f` with each key of either map (sorted) and its value on each side.
fn each_key(
    base: Option<&mut Value>,
    head: Option<&mut Value>,
    mut f: impl FnMut(&str, Option<&mut Value>, Option<&mut Value>),
) {
    let (mut b, mut h) = (
        base.and_then(Value::as_object_mut),
        head.and_then(Value::as_object_mut),
    );
    let mut keys: Vec<String> = b
        .iter()
        .chain(h.iter())
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let bv = b.as_mut().and_then(|m| m.get_mut(&k));
        let hv = h.as_mut().and_then(|m| m.get_mut(&k));
        f(&k, bv, hv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn secret_values_become_markers_per_key() {
        let mut base = secret(json!({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}));
        let mut head = secret(json!({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}));
        redact_pair(Some(&mut base), Some(&mut head));
        assert_eq!(
            base["data"],
            json!({"same": UNCHANGED, "changed": CHANGED_FROM, "gone": REMOVED})
        );
        assert_eq!(
            head["data"],
            json!({"same": UNCHANGED, "changed": CHANGED_TO, "new": ADDED})
        );
        assert_eq!(head["metadata"]["name"], "s");
    }

    #[test]
    fn a_secrets_last_applied_annotation_is_hidden_too() {
        let key = "kubectl.kubernetes.io/last-applied-configuration";
        let mut head = secret(json!({"a": "YQ=="}));
        head["metadata"]["annotations"] =
            json!({key: "{\"data\":{\"a\":\"YQ==\"}}", "team": "iot"});
        redact_pair(None, Some(&mut head));
        assert_eq!(
            head["metadata"]["annotations"],
            json!({key: ADDED, "team": "iot"})
        );
    }

    #[test]
    fn an_added_secret_shows_no_value() {
        let mut head = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "hunter2"}, "data": "weird"});
        redact_pair(None, Some(&mut head));
        assert_eq!(head["stringData"], json!({"password": ADDED}));
        assert_eq!(head["data"], json!(ADDED));
    }

    #[test]
    fn secret_looking_values_elsewhere_are_hidden_too() {
        let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
        let env = |v: &str| json!({"kind": "CronJob", "spec": {"containers": [{"name": "a", "env": [{"name": "INFLUX_TOKEN", "value": v}, {"name": "HOST", "value": "influx"}]}]}, "data": {"url": "https://u:pw@host/x", "script": format!("T = '{token}'\n")}});
        let mut base = env("old-literal-1");
        let mut head = env("new-literal-2");
        redact_pair(Some(&mut base), Some(&mut head));
        let e = &head["spec"]["containers"][0]["env"];
        assert_eq!(e[0]["value"], CHANGED_TO);
        assert_eq!(e[1]["value"], "influx");
        assert_eq!(
            base["spec"]["containers"][0]["env"][0]["value"],
            CHANGED_FROM
        );
        assert_eq!(head["data"]["url"], UNCHANGED);
        assert_eq!(head["data"]["script"], UNCHANGED);
        assert!(!serde_json::to_string(&head).unwrap().contains("ghp_"));
    }

    #[test]
    fn env_entries_pair_by_name_whatever_their_order() {
        let mut base =
            json!({"env": [{"name": "PASSWORD", "value": "a1"}, {"name": "X", "value": "1"}]});
        let mut head =
            json!({"env": [{"name": "X", "value": "1"}, {"name": "PASSWORD", "value": "a1"}]});
        redact_pair(Some(&mut base), Some(&mut head));
        assert_eq!(head["env"][1]["value"], UNCHANGED);
        assert_eq!(base["env"][0]["value"], UNCHANGED);
    }
}
