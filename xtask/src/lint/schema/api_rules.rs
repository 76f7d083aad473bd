//! API-server rules that a schema cannot express, for the kinds this repo deploys: RFC 1123
//! names (objects, containers, volumes), CronJob names of at most 52 characters, duplicate
//! container names, and a workload selector that matches its pod template's labels. (A Job
//! template's restartPolicy is WL-JOB-RESTART-ALWAYS, in the workload family.)
//!
//! Sources (k8s.io/kubernetes): pkg/apis/core/validation/validation.go (ValidatePodName and the
//! other `Validate*Name` functions, validateContainers, validateVolumes),
//! pkg/apis/batch/validation/validation.go (ValidateCronJobCreate: "must be no more than 52
//! characters"), pkg/apis/apps/validation/validation.go (ValidateDeploymentSpec and friends:
//! "`selector` does not match template `labels`", "empty selector is invalid").

use super::{CRONJOB_NAME, DUPLICATE_CONTAINER, NAME, SELECTOR};
use crate::lint::{Doc, Finding, Rule, workload};
use crate::yaml::{Node, Pos};
use std::path::Path;

/// The rules of one document of `kind`.
pub fn check(file: &Path, doc: &Doc, kind: &str, out: &mut Vec<Finding>) {
    let mut emit =
        |rule: &Rule, pos: Pos, msg: String| out.push(Finding::new(rule, file, pos, msg));
    let root = doc.root;
    // A name with a `${VAR}` is completed by Flux's post-build substitution first.
    if let Some(name) = doc.path(root, &["metadata", "name"])
        && let Some(text) = name.as_str()
        && !text.contains("${")
    {
        if let Some(why) = name_problem(kind, text) {
            emit(&NAME, name.start, format!("{kind} name `{text}` {why}"));
        }
        if kind == "CronJob" && text.chars().count() > 52 {
            emit(
                &CRONJOB_NAME,
                name.start,
                format!(
                    "CronJob name `{text}` has {} characters; the API server allows at most 52 (it appends 11 for each Job's name)",
                    text.chars().count()
                ),
            );
        }
    }
    if let Some(ns) = doc.path(root, &["metadata", "namespace"])
        && let Some(text) = ns.as_str()
        && !text.contains("${")
        && let Some(why) = label_problem(text)
    {
        emit(&NAME, ns.start, format!("namespace `{text}` {why}"));
    }
    if let Some(spec) = workload::pod_spec(doc, kind) {
        pod_names(doc, spec, &mut emit);
    }
    if matches!(
        kind,
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
    ) && doc.str(root, "apiVersion") == Some("apps/v1")
    {
        selector(doc, kind, &mut emit);
    }
}

type Emit<'e> = dyn FnMut(&Rule, Pos, String) + 'e;

/// Container and volume names: RFC 1123 labels, and container names unique across init,
/// regular and ephemeral containers.
fn pod_names(doc: &Doc, spec: &Node, emit: &mut Emit) {
    let mut seen: Vec<(&str, Pos)> = Vec::new();
    for c in workload::containers(doc, spec) {
        let Some(name) = doc.get(c, "name") else {
            continue;
        };
        let Some(text) = name.as_str() else { continue };
        if let Some(why) = label_problem(text) {
            emit(&NAME, name.start, format!("container name `{text}` {why}"));
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == text) {
            emit(
                &DUPLICATE_CONTAINER,
                name.start,
                format!(
                    "container name `{text}` is used twice in this pod (first at line {}, column {}); container names must be unique across init, regular and ephemeral containers",
                    first.line, first.column
                ),
            );
        } else {
            seen.push((text, name.start));
        }
    }
    for v in doc.seq(spec, "volumes") {
        if let Some(name) = doc.get(doc.resolve(v), "name")
            && let Some(text) = name.as_str()
            && let Some(why) = label_problem(text)
        {
            emit(&NAME, name.start, format!("volume name `{text}` {why}"));
        }
    }
}

/// Why `name` is not a valid name for `kind`, if it is not.
fn name_problem(kind: &str, name: &str) -> Option<String> {
    match kind {
        // ValidateServiceName, ValidateNamespaceName: DNS-1123 labels.
        "Service" | "Namespace" => label_problem(name),
        // NameIsDNSSubdomain for these (ValidatePodName, ValidateConfigMapName, ...).
        "Pod"
        | "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "CronJob"
        | "ConfigMap"
        | "Secret"
        | "ServiceAccount"
        | "PersistentVolumeClaim"
        | "PersistentVolume"
        | "Ingress"
        | "NetworkPolicy"
        | "HorizontalPodAutoscaler"
        | "PodDisruptionBudget"
        | "StorageClass"
        | "PriorityClass" => subdomain_problem(name),
        _ => None,
    }
}

/// RFC 1123 label: at most 63 of `a-z`, `0-9`, `-`, starting and ending alphanumeric.
pub fn label_problem(name: &str) -> Option<String> {
    rfc1123(name, 63, "label", false)
}

/// RFC 1123 subdomain: at most 253 characters, labels of `a-z0-9-` joined by dots.
pub fn subdomain_problem(name: &str) -> Option<String> {
    rfc1123(name, 253, "subdomain", true)
}

fn rfc1123(name: &str, max: usize, what: &str, dots: bool) -> Option<String> {
    if name.len() > max {
        return Some(format!(
            "is {} characters long; an RFC 1123 {what} has at most {max}",
            name.len()
        ));
    }
    let label_ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    };
    let ok = if dots {
        name.split('.').all(label_ok)
    } else {
        label_ok(name)
    };
    let dot = if dots { ", `-` and `.`" } else { " and `-`" };
    (!ok).then(|| {
        format!("is not an RFC 1123 {what}: use lower-case letters, digits{dot}, starting and ending with a letter or digit")
    })
}

/// The selector of an apps/v1 workload must be non-empty and select its own template.
fn selector(doc: &Doc, kind: &str, emit: &mut Emit) {
    let root = doc.root;
    let Some(spec) = doc.get(root, "spec") else {
        return;
    };
    let Some(sel_entry) = spec.entry("selector") else {
        return; // a missing selector is SCHEMA-REQUIRED
    };
    let sel = doc.resolve(&sel_entry.value);
    if sel.as_map().is_none() {
        return; // a wrong type is SCHEMA-TYPE
    }
    let labels: Vec<(&str, &str)> = doc
        .path(spec, &["template", "metadata", "labels"])
        .and_then(Node::as_map)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| Some((e.key.as_str()?, doc.resolve(&e.value).as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let label = |k: &str| labels.iter().find(|(l, _)| *l == k).map(|(_, v)| *v);
    let match_labels = doc.get(sel, "matchLabels").and_then(Node::as_map);
    let exprs = doc.seq(sel, "matchExpressions");
    if match_labels.is_none_or(<[_]>::is_empty) && exprs.is_empty() {
        emit(
            &SELECTOR,
            sel_entry.key.start,
            format!(
                "{kind} has an empty selector, which the API server rejects: select the template's labels"
            ),
        );
        return;
    }
    for e in match_labels.unwrap_or_default() {
        let (Some(k), Some(v)) = (e.key.as_str(), doc.resolve(&e.value).as_str()) else {
            continue;
        };
        if label(k) != Some(v) {
            let has = label(k).map_or("no such label".to_string(), |t| format!("`{k}: {t}`"));
            emit(
                &SELECTOR,
                e.key.start,
                format!(
                    "selector `{k}: {v}` does not match the template's labels ({has}); the API server rejects the {kind}"
                ),
            );
        }
    }
    for expr in exprs {
        let expr = doc.resolve(expr);
        let (Some(key), Some(op)) = (doc.str(expr, "key"), doc.str(expr, "operator")) else {
            continue;
        };
        let values: Vec<&str> = doc
            .seq(expr, "values")
            .iter()
            .filter_map(|v| doc.resolve(v).as_str())
            .collect();
        let have = label(key);
        let ok = match op {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => true, // SCHEMA-ENUM
        };
        if !ok {
            emit(
                &SELECTOR,
                expr.start,
                format!(
                    "selector expression `{key} {op} {values:?}` does not match the template's labels; the API server rejects the {kind}"
                ),
            );
        }
    }
}
