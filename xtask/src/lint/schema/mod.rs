//! Kubernetes API validation (`SCHEMA-*`): each object of a kind with a schema is validated
//! strictly against it for the configured Kubernetes version (`[workspace.metadata.xtask.lint]
//! kubernetes-version`, default 1.31), in the same pass as the other YAML rules. The schemas
//! are data (`xtask/schemas/k8s.schema`, see [`data`]); the API server's own rules that a schema
//! cannot express are in [`api_rules`].

pub mod api_rules;
pub mod data;
pub mod scalar;
pub mod validate;

use super::{Doc, Finding, Rule, Severity};
use crate::settings::Settings;
use crate::yaml::Node;
use std::path::Path;

pub const UNKNOWN_FIELD: Rule = Rule {
    id: "SCHEMA-UNKNOWN-FIELD",
    severity: Severity::Error,
    summary: "field the API does not know",
    explain: "The field is not part of this kind's schema at this place, usually a typo \
(`imagePullPolcy`, `backofflimit`) or a field at the wrong depth. The API server rejects the \
object in strict mode (kubectl --validate=strict, Argo CD's server-side apply), and in lax mode \
drops the field silently, so the setting never takes effect. The finding names the nearest \
known field.",
};
pub const TYPE: Rule = Rule {
    id: "SCHEMA-TYPE",
    severity: Severity::Error,
    summary: "value of the wrong type",
    explain: "The value's type is not the one the API expects. Types are read as the API \
server's YAML reader (sigs.k8s.io/yaml, YAML 1.1) reads them: `yes`, `on` and `true` are \
booleans and `5` is an integer, but anything quoted is a string. So `replicas: \"3\"` and \
`runAsNonRoot: \"true\"` are strings and rejected, `schedule: 5` is an integer where a string is \
needed, and `command: python app.py` is a string where a list is needed.",
};
pub const FORMAT: Rule = Rule {
    id: "SCHEMA-FORMAT",
    severity: Severity::Error,
    summary: "value in the wrong format (quantity, integer range, base64)",
    explain: "The value has the right type but a format the API server refuses: a resource \
quantity that is not a number with a suffix such as 100m, 128Mi or 1Gi (`128MB`, `1 Gi`), an \
integer out of its 32- or 64-bit range, or Secret `data` that is not base64 (use `stringData` \
for plain text).",
};
pub const REQUIRED: Rule = Rule {
    id: "SCHEMA-REQUIRED",
    severity: Severity::Error,
    summary: "required field missing",
    explain: "The schema requires this field (a container's `name`, a Deployment's `selector`, \
a CronJob's `jobTemplate`...). The finding is at the key of the object that lacks it. Files \
that a kustomization uses as patches are exempt, since a patch is not a whole object.",
};
pub const ENUM: Rule = Rule {
    id: "SCHEMA-ENUM",
    severity: Severity::Error,
    summary: "value not among the values the API accepts",
    explain: "The API server accepts only a fixed set of values here (restartPolicy Always, \
OnFailure or Never; concurrencyPolicy Allow, Forbid or Replace; Service type ClusterIP, \
NodePort, LoadBalancer or ExternalName; protocol TCP, UDP or SCTP; ...). Values are \
case-sensitive. The OpenAPI spec carries almost none of these lists: they come from the API \
server's validation code, and xtask/schemas/enums.txt names the source of each.",
};
pub const API_VERSION: Rule = Rule {
    id: "SCHEMA-API-VERSION",
    severity: Severity::Error,
    summary: "apiVersion does not serve this kind (removed or unknown)",
    explain: "The kind exists, but not at this apiVersion in the configured Kubernetes version: \
it was removed (`batch/v1beta1` CronJob, `extensions/v1beta1` Deployment, `policy/v1beta1` \
PodDisruptionBudget), is not served yet, or never existed. The finding names the apiVersion to \
use instead. Set `kubernetes-version` under [workspace.metadata.xtask.lint] to your cluster's.",
};
pub const KIND: Rule = Rule {
    id: "SCHEMA-KIND",
    severity: Severity::Error,
    summary: "kind is not a kind of its API group (a typo)",
    explain: "The kind is unknown in a built-in API group, usually a typo or a case slip \
(`Cronjob`, `configMap`): the API server rejects the object, and until then every workload \
rule skips it silently. The finding suggests the kind it most likely means.",
};
pub const UNKNOWN_KIND: Rule = Rule {
    id: "SCHEMA-UNKNOWN-KIND",
    severity: Severity::Warning,
    summary: "kinds with no schema (one note per run, with counts)",
    explain: "Some objects' apiVersion and kind are neither built in, nor a CRD found in the \
manifests or in `lint.crds`, nor one of the CRDs the linter carries, so they are not validated. \
Instead of a warning per object, each run ends with one note on stderr that lists those kinds \
with their counts; it never changes the exit code. Add the CRDs (a file or folder under \
`[workspace.metadata.xtask.lint] crds`) to validate them, or set SCHEMA-UNKNOWN-KIND = \"off\" \
to silence the note. Only an apiVersion's group decides whether a kind is built in: \
`talos.dev/v1alpha1` ServiceAccount is a custom kind, not a misplaced core one.",
};
pub const NAME: Rule = Rule {
    id: "SCHEMA-NAME",
    severity: Severity::Error,
    summary: "name is not a valid RFC 1123 name",
    explain: "Object names must be RFC 1123 subdomains (lower-case letters, digits, `-` and \
`.`, at most 253 characters); Service and Namespace names, namespaces, container names and \
volume names must be RFC 1123 labels (no dots, at most 63). Upper case and `_` are the usual \
slips. The API server rejects the object.",
};
pub const CRONJOB_NAME: Rule = Rule {
    id: "SCHEMA-CRONJOB-NAME",
    severity: Severity::Error,
    summary: "CronJob name longer than 52 characters",
    explain: "The CronJob controller names each Job after the CronJob plus an 11-character \
suffix, and Job names must fit 63 characters, so the API server rejects CronJob names over 52.",
};
pub const DUPLICATE_CONTAINER: Rule = Rule {
    id: "SCHEMA-DUPLICATE-CONTAINER",
    severity: Severity::Error,
    summary: "two containers of a pod share a name",
    explain: "Container names must be unique within a pod, across initContainers, containers \
and ephemeralContainers; the API server rejects a duplicate. The finding is at the second name.",
};
pub const SELECTOR: Rule = Rule {
    id: "SCHEMA-SELECTOR",
    severity: Severity::Error,
    summary: "workload selector is empty or does not match its template labels",
    explain: "A Deployment, ReplicaSet, StatefulSet or DaemonSet (apps/v1) must have a \
non-empty `spec.selector` that selects its own pod template's labels; otherwise the API server \
rejects it (\"`selector` does not match template `labels`\"). The finding is at the selector \
entry that fails.",
};

pub const RULES: &[Rule] = &[
    UNKNOWN_FIELD,
    TYPE,
    FORMAT,
    REQUIRED,
    ENUM,
    API_VERSION,
    KIND,
    UNKNOWN_KIND,
    NAME,
    CRONJOB_NAME,
    DUPLICATE_CONTAINER,
    SELECTOR,
];

/// What [`check`] made of a document's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Validated, or reported as a wrong apiVersion or kind of a built-in group.
    Known,
    /// No schema: a custom kind (or one without an apiVersion).
    Unknown,
}

/// The SCHEMA rules of one document of `kind`. SCHEMA-REQUIRED findings go to `held`: the tree
/// pass drops them for files that are patches or generator inputs.
pub fn check(
    file: &Path,
    doc: &Doc,
    kind: &str,
    settings: &Settings,
    out: &mut Vec<Finding>,
    held: &mut Vec<Finding>,
) -> Checked {
    // An unsupported version is refused (exit 2) before the pass starts; see [`load`].
    let Ok(schema) = data::schema(&settings.kubernetes_version) else {
        return Checked::Known;
    };
    let root = doc.root;
    let kind_node = doc.get(root, "kind").unwrap_or(root);
    let Some(api_node) = doc.get(root, "apiVersion") else {
        return Checked::Known; // YAML-MISSING-FIELD
    };
    let Some(api) = api_node.as_str() else {
        return Checked::Known;
    };
    let emit = |rule: &Rule, node: &Node, msg: String| Finding::new(rule, file, node.start, msg);
    if let Some(def) = schema.kind(api, kind) {
        let mut v = validate::Validator {
            file,
            doc,
            schema,
            out,
            held,
            path: Vec::new(),
        };
        v.object(root, def, root.start);
        api_rules::check(file, doc, kind, out);
        return Checked::Known;
    }
    // Only the apiVersion's group says whether the kind is built in: a CRD may reuse a core
    // kind's name (`talos.dev/v1alpha1` ServiceAccount).
    if !is_builtin_group(schema, group_of(api)) {
        return Checked::Unknown;
    }
    let served: Vec<&str> = schema
        .kinds()
        .filter(|(_, k)| *k == kind)
        .map(|(a, _)| a)
        .collect();
    let version = schema.version;
    if !served.is_empty() {
        let also = other_versions(api, kind);
        let when = match (also.first(), also.last()) {
            (Some(first), Some(last)) if first == last => format!("; it is served in {first}"),
            (Some(first), Some(last)) => format!("; it is served in {first} to {last}"),
            _ => String::new(),
        };
        out.push(emit(
            &API_VERSION,
            api_node,
            format!(
                "`{api}` does not serve {kind} in Kubernetes {version} (removed, or not yet served){when}: use `{}`",
                preferred(&served)
            ),
        ));
        return Checked::Known;
    }
    // A kind this apiVersion serves only in other Kubernetes versions (MutatingAdmissionPolicy
    // in admissionregistration.k8s.io/v1 before 1.36) is a version mismatch, not a typo.
    let also = other_versions(api, kind);
    if let (Some(first), Some(last)) = (also.first(), also.last()) {
        let when = if first == last {
            format!("only in Kubernetes {first}")
        } else {
            format!("in Kubernetes {first} to {last}")
        };
        out.push(emit(
            &API_VERSION,
            api_node,
            format!(
                "`{api}` serves {kind} {when}, not in {version}: set `kubernetes-version` under [workspace.metadata.xtask.lint] to your cluster's"
            ),
        ));
        return Checked::Known;
    }
    let known = || schema.kinds().map(|(_, k)| k);
    if let Some(right) = known().find(|k| k.eq_ignore_ascii_case(kind)) {
        out.push(emit(
            &KIND,
            kind_node,
            format!("unknown kind `{kind}`; did you mean `{right}`? (kinds are case-sensitive)"),
        ));
        return Checked::Known;
    }
    let group_kinds: Vec<&str> = schema
        .kinds()
        .filter(|(a, _)| *a == api)
        .map(|(_, k)| k)
        .collect();
    if !group_kinds.is_empty() {
        let hint = validate::did_you_mean(kind, group_kinds.iter().copied());
        out.push(emit(
            &KIND,
            kind_node,
            format!("`{api}` has no kind `{kind}`{hint}"),
        ));
        return Checked::Known;
    }
    Checked::Unknown
}

/// `apps/v1` → `apps`; `v1` → `` (the core group).
pub fn group_of(api: &str) -> &str {
    api.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Groups the API server itself serves: those of the built-in kinds, and `extensions`, whose
/// kinds were all removed before the oldest version the schemas cover. The CRDs the linter
/// carries (`argoproj.io`...) are not built in.
fn is_builtin_group(schema: &data::Schema, group: &str) -> bool {
    group.is_empty() || group == "extensions" || schema.serves_group(group)
}

/// The one note of a run about kinds without a schema: each `(apiVersion, kind)` with its count,
/// most frequent first. `None` when every object had a schema.
pub fn unknown_kinds_note<'a>(kinds: impl Iterator<Item = (&'a str, &'a str)>) -> Option<String> {
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> = Default::default();
    for (api, kind) in kinds {
        *counts.entry((kind, api)).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let total: usize = counts.values().sum();
    let mut list: Vec<_> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = list
        .iter()
        .map(|((kind, api), n)| format!("{kind} ({api}) {n}"))
        .collect();
    let (objects, kinds, were) = (
        if total == 1 { "object" } else { "objects" },
        if list.len() == 1 { "kind" } else { "kinds" },
        if total == 1 { "was" } else { "were" },
    );
    Some(format!(
        "note: {total} {objects} of {} {kinds} with no schema {were} not validated: {}; add their CRDs under [workspace.metadata.xtask.lint] crds to validate them (SCHEMA-UNKNOWN-KIND)",
        list.len(),
        shown.join(", ")
    ))
}

/// Checks that the configured Kubernetes version has schemas (bad settings are exit 2).
pub fn load(settings: &Settings) -> anyhow::Result<()> {
    data::schema(&settings.kubernetes_version)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("[workspace.metadata.xtask.lint] {e}"))
}

/// The minors (of those the schemas cover) in which `api` serves `kind`.
fn other_versions(api: &str, kind: &str) -> Vec<&'static str> {
    data::versions()
        .iter()
        .copied()
        .filter(|v| data::schema(v).is_ok_and(|s| s.kind(api, kind).is_some()))
        .collect()
}

/// The most stable of `apis`: a GA version before beta before alpha.
fn preferred<'s>(apis: &[&'s str]) -> &'s str {
    let rank = |a: &str| {
        let v = a.rsplit('/').next().unwrap_or(a);
        if v.contains("alpha") {
            2
        } else if v.contains("beta") {
            1
        } else {
            0
        }
    };
    apis.iter()
        .copied()
        .min_by_key(|a| rank(a))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
