//! Security rules (SEC-*), in agreement with trivy's KSV checks and kube-linter: pod and
//! container security contexts, host namespaces and paths, resources, and secrets in ConfigMaps
//! and env literals (through the `secrets` family).

use super::workload::{Pod, containers};
use super::{Doc, Finding, Rule, Severity};
use crate::yaml::{Node, Pos, Value};
use std::path::Path;

pub const RUN_AS_NON_ROOT: Rule = Rule {
    id: "SEC-RUN-AS-NON-ROOT",
    severity: Severity::Error,
    summary: "runAsNonRoot is not true",
    explain: "Each container must run with `securityContext.runAsNonRoot: true`, set on the \
container or inherited from the pod's securityContext (a container's own value wins). The base \
image runs as a non-root user; this makes the kubelet refuse to start it as root. \
trivy KSV012 (Runs as root user); kube-linter run-as-non-root.",
};
pub const PRIVILEGED: Rule = Rule {
    id: "SEC-PRIVILEGED",
    severity: Severity::Error,
    summary: "privileged container",
    explain: "`securityContext.privileged: true` gives the container every capability and the \
host's devices; it is root on the node. trivy KSV017 (Privileged); kube-linter \
privileged-container.",
};
pub const PRIVILEGE_ESCALATION: Rule = Rule {
    id: "SEC-PRIVILEGE-ESCALATION",
    severity: Severity::Error,
    summary: "allowPrivilegeEscalation is not false",
    explain: "Without `securityContext.allowPrivilegeEscalation: false` a process can gain more \
privileges than its parent (setuid binaries). Set it on every container. trivy KSV001 (Can \
elevate its own privileges); kube-linter privilege-escalation-container.",
};
pub const READONLY_ROOTFS: Rule = Rule {
    id: "SEC-READONLY-ROOTFS",
    severity: Severity::Error,
    summary: "readOnlyRootFilesystem is not true",
    explain: "Set `securityContext.readOnlyRootFilesystem: true` on every container and mount an \
emptyDir where a script needs to write (e.g. /tmp). trivy KSV014 (Root file system is not \
read-only); kube-linter no-read-only-root-fs.",
};
pub const CAPABILITIES: Rule = Rule {
    id: "SEC-CAPABILITIES",
    severity: Severity::Error,
    summary: "capabilities do not drop ALL",
    explain: "Every container must set `securityContext.capabilities.drop: [ALL]` and add back \
only what it needs. trivy KSV003 (Default capabilities not dropped) and KSV106 (capabilities \
must only include NET_BIND_SERVICE); kube-linter drop-net-raw-capability.",
};
pub const SECCOMP: Rule = Rule {
    id: "SEC-SECCOMP",
    severity: Severity::Error,
    summary: "seccompProfile is not RuntimeDefault or Localhost",
    explain: "Set `securityContext.seccompProfile.type: RuntimeDefault` (or Localhost) on the pod \
or on each container; without it, or with Unconfined, every syscall is allowed. trivy KSV030 \
(Runtime/Default Seccomp profile not set) and KSV104 (Seccomp policies disabled).",
};
pub const HOST_NAMESPACE: Rule = Rule {
    id: "SEC-HOST-NAMESPACE",
    severity: Severity::Error,
    summary: "hostNetwork, hostPID or hostIPC",
    explain: "A pod that shares the node's network, process or IPC namespace can see and \
disturb everything on the node. trivy KSV009 (hostNetwork), KSV010 (hostPID), KSV008 (hostIPC); \
kube-linter host-network, host-pid, host-ipc.",
};
pub const HOST_PATH: Rule = Rule {
    id: "SEC-HOST-PATH",
    severity: Severity::Error,
    summary: "hostPath volume",
    explain: "A hostPath volume mounts a folder of the node into the pod; with it a container can \
read or change the node. Use a ConfigMap, a PersistentVolumeClaim or an emptyDir. trivy KSV023 \
(hostPath volumes mounted); kube-linter host-mounts.",
};
pub const RESOURCES: Rule = Rule {
    id: "SEC-RESOURCES",
    severity: Severity::Error,
    summary: "CPU or memory requests or limits missing",
    explain: "Every container needs `resources.requests` and `resources.limits` for both cpu and \
memory, so that one job cannot starve the node. trivy KSV011 (CPU not limited), KSV015 (CPU \
requests not specified), KSV016 (Memory requests not specified), KSV018 (Memory not limited); \
kube-linter unset-cpu-requirements, unset-memory-requirements.",
};
pub const SECRET_IN_CONFIG: Rule = Rule {
    id: "SEC-SECRET-IN-CONFIG",
    severity: Severity::Error,
    summary: "secret in a ConfigMap or an env literal",
    explain: "A ConfigMap value, a configMapGenerator literal or a container env `value` looks \
like a secret (a password, token or key by its name or by its shape). ConfigMaps are not \
encrypted and the repo is public: use a Secret (sealed or external) and `valueFrom.secretKeyRef`. \
trivy KSV01010 (ConfigMap with sensitive content) and KSV0109 (ConfigMap with secrets); \
kube-linter env-var-secret.",
};

pub const RULES: &[Rule] = &[
    RUN_AS_NON_ROOT,
    PRIVILEGED,
    PRIVILEGE_ESCALATION,
    READONLY_ROOTFS,
    CAPABILITIES,
    SECCOMP,
    HOST_NAMESPACE,
    HOST_PATH,
    RESOURCES,
    SECRET_IN_CONFIG,
];

/// SEC-SECRET-IN-CONFIG for one key and value.
pub fn secret_in_config(file: &Path, key: &str, value: &str, pos: Pos, out: &mut Vec<Finding>) {
    if let Some(reason) = super::secrets::looks_like_secret(key, value) {
        out.push(Finding::new(
            &SECRET_IN_CONFIG,
            file,
            pos,
            format!("`{key}` looks like a secret ({reason}); use a Secret and secretKeyRef"),
        ));
    }
}

/// SEC-SECRET-IN-CONFIG for a key and its scalar `node` of `doc`: at the evidence's own line
/// and column inside the scalar when the document has its source.
pub fn secret_in_scalar(file: &Path, doc: &Doc, key: &str, node: &Node, out: &mut Vec<Finding>) {
    let value = doc.resolve(node);
    let text = value.as_str().unwrap_or_default();
    if let Some((reason, range)) = super::secrets::find_secret(key, text) {
        let pos = super::secrets::context::locate(doc.src, value.start, value.end, text, range);
        out.push(Finding::new(
            &SECRET_IN_CONFIG,
            file,
            pos,
            format!("`{key}` looks like a secret ({reason}); use a Secret and secretKeyRef"),
        ));
    }
}

/// Checks a ConfigMap's values for secrets and returns its keys.
pub fn check_config_map(file: &Path, doc: &Doc, out: &mut Vec<Finding>) -> Vec<String> {
    let mut keys = Vec::new();
    for section in ["data", "binaryData"] {
        let Some(entries) = doc.get(doc.root, section).and_then(Node::as_map) else {
            continue;
        };
        for e in entries {
            let Some(key) = e.key.as_str() else { continue };
            keys.push(key.to_string());
            if section == "data" {
                secret_in_scalar(file, doc, key, &e.value, out);
            }
        }
    }
    keys
}

/// The security rules of one workload.
pub fn check_pod(file: &Path, doc: &Doc, pod: &Pod, out: &mut Vec<Finding>) {
    let spec = pod.spec;
    let what = format!("{} `{}`", pod.facts.kind, pod.facts.name);
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if doc.is_true(spec, key) == Some(true) {
            let node = doc.get(spec, key).expect("checked");
            out.push(Finding::new(
                &HOST_NAMESPACE,
                file,
                node.start,
                format!("{what} sets {key}: true"),
            ));
        }
    }
    for v in doc.seq(spec, "volumes") {
        if let Some(e) = doc.resolve(v).entry("hostPath") {
            let path = doc.str(&e.value, "path").unwrap_or("?");
            out.push(Finding::new(
                &HOST_PATH,
                file,
                e.key.start,
                format!(
                    "{what} mounts the node's {path} (volume `{}`)",
                    doc.str(v, "name").unwrap_or_default()
                ),
            ));
        }
    }
    let pod_sc = doc.get(spec, "securityContext");
    for c in containers(doc, spec) {
        container(file, doc, c, pod_sc, out);
    }
}

fn container(file: &Path, doc: &Doc, c: &Node, pod_sc: Option<&Node>, out: &mut Vec<Finding>) {
    let name = doc.str(c, "name").unwrap_or("?");
    let who = format!("container `{name}`");
    let sc = doc.get(c, "securityContext");
    let at = |node: Option<&Node>| node.map_or(c.start, |n| n.start);
    let mut push = |rule: &Rule, pos: Pos, msg: String| {
        out.push(Finding::new(rule, file, pos, format!("{who}: {msg}")));
    };
    let own = |key: &str| sc.and_then(|sc| doc.get(sc, key));
    let inherited = |key: &str| pod_sc.and_then(|sc| doc.get(sc, key));
    let is_true = |n: Option<&Node>| n.and_then(Node::as_str).is_some_and(is_yaml_true);
    let is_false = |n: Option<&Node>| n.and_then(Node::as_str).is_some_and(is_yaml_false);

    let non_root = own("runAsNonRoot").or_else(|| inherited("runAsNonRoot"));
    if !is_true(non_root) {
        push(
            &RUN_AS_NON_ROOT,
            at(non_root),
            "runAsNonRoot is not true (set securityContext.runAsNonRoot: true)".into(),
        );
    }
    if is_true(own("privileged")) {
        push(
            &PRIVILEGED,
            at(own("privileged")),
            "privileged: true".into(),
        );
    }
    let escalation = own("allowPrivilegeEscalation");
    if !is_false(escalation) {
        push(
            &PRIVILEGE_ESCALATION,
            at(escalation.or(sc)),
            "allowPrivilegeEscalation is not false".into(),
        );
    }
    let read_only = own("readOnlyRootFilesystem");
    if !is_true(read_only) {
        push(
            &READONLY_ROOTFS,
            at(read_only.or(sc)),
            "readOnlyRootFilesystem is not true".into(),
        );
    }
    let caps = own("capabilities");
    let drops_all = caps.is_some_and(|caps| {
        doc.seq(caps, "drop")
            .iter()
            .any(|d| d.as_str().is_some_and(|s| s.eq_ignore_ascii_case("ALL")))
    });
    if !drops_all {
        push(
            &CAPABILITIES,
            at(caps.or(sc)),
            "capabilities do not drop ALL".into(),
        );
    }
    let seccomp = own("seccompProfile").or_else(|| inherited("seccompProfile"));
    let seccomp_type = seccomp.and_then(|s| doc.get(s, "type"));
    if !seccomp_type
        .and_then(Node::as_str)
        .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
    {
        let msg = match seccomp_type.and_then(Node::as_str) {
            Some(t) => format!("seccompProfile type is {t}; use RuntimeDefault or Localhost"),
            None => "no seccompProfile (set type: RuntimeDefault on the pod or container)".into(),
        };
        push(&SECCOMP, at(seccomp_type.or(sc)), msg);
    }
    let resources = doc.get(c, "resources");
    let mut missing = Vec::new();
    for section in ["requests", "limits"] {
        for r in ["cpu", "memory"] {
            let set = resources
                .and_then(|res| doc.get(res, section))
                .and_then(|s| doc.get(s, r))
                .is_some_and(
                    |v| !matches!(&v.value, Value::Scalar { text, .. } if text.is_empty()),
                );
            if !set {
                missing.push(format!("{section}.{r}"));
            }
        }
    }
    if !missing.is_empty() {
        push(
            &RESOURCES,
            at(resources),
            format!("resources missing {}", missing.join(", ")),
        );
    }
    for e in doc.seq(c, "env") {
        if let (Some(key), Some(value)) = (doc.str(e, "name"), doc.get(e, "value")) {
            secret_in_scalar(file, doc, key, value, out);
        }
    }
}

fn is_yaml_true(s: &str) -> bool {
    matches!(s, "true" | "True" | "TRUE")
}

fn is_yaml_false(s: &str) -> bool {
    matches!(s, "false" | "False" | "FALSE")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::yaml_rules::check_document;
    use crate::settings::Settings;

    fn run(src: &str) -> Vec<(&'static str, usize, usize)> {
        let docs = crate::yaml::load(src).unwrap();
        let mut out = Vec::new();
        let doc = check_document(Path::new("w.yaml"), &docs[0].root, &mut out);
        let kind = doc.str(doc.root, "kind").unwrap();
        let pod = super::super::workload::check(
            Path::new("w.yaml"),
            &doc,
            kind,
            &Settings::default(),
            &mut out,
        )
        .unwrap();
        out.clear();
        check_pod(Path::new("w.yaml"), &doc, &pod, &mut out);
        out.iter().map(|f| (f.rule, f.line, f.column)).collect()
    }

    const HARDENED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {cpu: 100m, memory: 64Mi}
";

    #[test]
    fn hardened_pod_is_clean() {
        assert_eq!(run(HARDENED), []);
    }

    #[test]
    fn each_weakness_is_reported_where_it_is() {
        let src = HARDENED
            .replace("runAsNonRoot: true", "runAsNonRoot: false")
            .replace("type: RuntimeDefault", "type: Unconfined")
            .replace("allowPrivilegeEscalation: false", "privileged: true")
            .replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
            .replace("drop: [ALL]", "add: [NET_ADMIN]")
            .replace("            limits: {cpu: 100m, memory: 64Mi}\n", "")
            .replace(
                "      containers:",
                "      hostPID: true\n      volumes:\n        - name: h\n          hostPath: {path: /var}\n      containers:",
            );
        assert_eq!(
            run(&src),
            [
                ("SEC-HOST-NAMESPACE", 12, 16),
                ("SEC-HOST-PATH", 15, 11),
                ("SEC-RUN-AS-NON-ROOT", 9, 23),
                ("SEC-PRIVILEGED", 20, 25),
                ("SEC-PRIVILEGE-ESCALATION", 20, 13),
                ("SEC-READONLY-ROOTFS", 21, 37),
                ("SEC-CAPABILITIES", 23, 15),
                ("SEC-SECCOMP", 11, 17),
                ("SEC-RESOURCES", 25, 13),
            ]
        );
    }

    #[test]
    fn bare_container_gets_every_container_rule_at_its_start() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: busybox:1\n";
        let got = run(src);
        assert_eq!(got.len(), 6, "{got:?}");
        assert!(got.iter().all(|(_, l, c)| (*l, *c) == (7, 7)), "{got:?}");
    }

    #[test]
    fn container_context_overrides_the_pod() {
        let src = HARDENED.replace(
            "            allowPrivilegeEscalation: false",
            "            allowPrivilegeEscalation: false\n            runAsNonRoot: false",
        );
        assert_eq!(run(&src), [("SEC-RUN-AS-NON-ROOT", 17, 27)]);
    }
}
