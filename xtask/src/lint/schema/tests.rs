//! One firing fixture and one clean near-miss per SCHEMA rule, through the per-file pass, with
//! line and column asserted.

use crate::lint::yaml_rules;
use crate::settings::Settings;
use std::path::Path;

/// The SCHEMA findings of `src` (held-back SCHEMA-REQUIRED ones included).
fn lint(src: &str) -> Vec<(&'static str, usize, usize)> {
    lint_with(src, &Settings::default())
}

fn lint_with(src: &str, settings: &Settings) -> Vec<(&'static str, usize, usize)> {
    let mut out = Vec::new();
    let facts = yaml_rules::check(Path::new("k8s-apps/x.yaml"), src, settings, &mut out);
    let mut got: Vec<_> = out
        .iter()
        .chain(&facts.missing_fields)
        .filter(|f| f.rule.starts_with("SCHEMA-"))
        .map(|f| (f.rule, f.line, f.column))
        .collect();
    got.sort();
    got
}

fn messages(src: &str) -> String {
    let mut out = Vec::new();
    let facts = yaml_rules::check(Path::new("x.yaml"), src, &Settings::default(), &mut out);
    out.iter()
        .chain(&facts.missing_fields)
        .map(|f| f.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n";

#[test]
fn a_valid_pod_is_clean() {
    assert_eq!(lint(POD), []);
}

#[test]
fn unknown_field_with_the_nearest_one() {
    let src = POD.replace("      image:", "      imagePullPolcy: Always\n      image:");
    assert_eq!(lint(&src), [("SCHEMA-UNKNOWN-FIELD", 8, 7)]);
    assert!(messages(&src).contains("did you mean `imagePullPolicy`?"));
    // Near miss: the right spelling, and a field at its right depth.
    let ok = POD.replace(
        "      image:",
        "      imagePullPolicy: Always\n      image:",
    );
    assert_eq!(lint(&ok), []);
    let deep = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  backofflimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: 'b:1', env: [{name: X, vaule: y}]}]\n";
    assert_eq!(
        lint(deep),
        [
            ("SCHEMA-UNKNOWN-FIELD", 5, 3),
            ("SCHEMA-UNKNOWN-FIELD", 9, 60)
        ]
    );
    assert!(
        messages(deep).contains("`backofflimit` in `spec` (JobSpec); did you mean `backoffLimit`?")
    );
}

#[test]
fn types_are_read_as_yaml_1_1() {
    let sc = |v: &str| {
        POD.replace(
            "spec:\n  containers:",
            &format!("spec:\n  securityContext:\n    runAsNonRoot: {v}\n  containers:"),
        )
    };
    // `yes` is a boolean to sigs.k8s.io/yaml; "true" quoted is a string.
    assert_eq!(lint(&sc("yes")), []);
    assert_eq!(lint(&sc("true")), []);
    assert_eq!(lint(&sc("\"true\"")), [("SCHEMA-TYPE", 7, 19)]);
    assert!(messages(&sc("\"true\"")).contains("remove the quotes"));
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: REPLICAS\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers: CONTAINERS\n";
    let fill = |r: &str, c: &str| dep.replace("REPLICAS", r).replace("CONTAINERS", c);
    assert_eq!(lint(&fill("3", "[{name: a, image: 'b:1'}]")), []);
    assert_eq!(
        lint(&fill("\"3\"", "[{name: a, image: 'b:1'}]")),
        [("SCHEMA-TYPE", 5, 13)]
    );
    assert_eq!(
        lint(&fill("3", "{name: a, image: 'b:1'}")),
        [("SCHEMA-TYPE", 10, 19)]
    );
    let cmd = POD.replace("      image:", "      command: python app.py\n      image:");
    assert_eq!(lint(&cmd), [("SCHEMA-TYPE", 8, 16)]);
    let env = POD.replace(
        "      image:",
        "      env: [{name: PORT, value: 8086}]\n      image:",
    );
    assert_eq!(lint(&env), [("SCHEMA-TYPE", 8, 33)]);
    let env = POD.replace(
        "      image:",
        "      env: [{name: PORT, value: '8086'}]\n      image:",
    );
    assert_eq!(lint(&env), []);
}

#[test]
fn formats_int_or_string_and_quantity() {
    let res = |v: &str| {
        POD.replace(
            "      image:",
            &format!("      resources: {{limits: {{memory: {v}}}}}\n      image:"),
        )
    };
    assert_eq!(lint(&res("128MB")), [("SCHEMA-FORMAT", 8, 36)]);
    assert_eq!(lint(&res("128Mi")), []);
    assert_eq!(lint(&res("0.5")), []);
    let port = |v: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec:\n  ports:\n    - port: 80\n      targetPort: {v}\n"
        )
    };
    assert_eq!(lint(&port("8080")), []);
    assert_eq!(lint(&port("http")), []);
    assert_eq!(lint(&port("[8080]")), [("SCHEMA-TYPE", 7, 19)]);
    assert_eq!(lint(&port("80.5")), [("SCHEMA-TYPE", 7, 19)]);
    let secret =
        |v: &str| format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  k: {v}\n");
    assert_eq!(lint(&secret("aGVsbG8=")), []);
    assert_eq!(lint(&secret("hello world")), [("SCHEMA-FORMAT", 5, 6)]);
    let replicas = "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  replicas: 4294967296\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}}\n";
    assert_eq!(lint(replicas), [("SCHEMA-FORMAT", 5, 13)]);
}

#[test]
fn required_fields_at_the_key_that_lacks_them() {
    let src = POD.replace("    - name: app\n      image", "    - image");
    assert_eq!(lint(&src), [("SCHEMA-REQUIRED", 7, 7)]);
    assert!(messages(&src).contains("`spec.containers[0]` lacks the required field `name`"));
    let dep = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers: [{name: a, image: 'b:1'}]\n";
    assert_eq!(lint(dep), [("SCHEMA-REQUIRED", 4, 1)]);
    // Near miss: the field given through a merge key counts.
    let merged = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - &c {name: a, image: 'b:1'}\n    - <<: *c\n      name: b\n";
    assert_eq!(lint(merged), []);
}

#[test]
fn enums_from_api_validation() {
    let src = POD.replace("spec:\n", "spec:\n  restartPolicy: Sometimes\n");
    assert_eq!(lint(&src), [("SCHEMA-ENUM", 6, 18)]);
    let ok = POD.replace("spec:\n", "spec:\n  restartPolicy: OnFailure\n");
    assert_eq!(lint(&ok), []);
    let svc = |t: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec:\n  type: {t}\n  ports: [{{port: 80, protocol: TCP}}]\n"
        )
    };
    assert_eq!(lint(&svc("Nodeport")), [("SCHEMA-ENUM", 5, 9)]);
    assert!(messages(&svc("Nodeport")).contains("did you mean `NodePort`?"));
    assert_eq!(lint(&svc("NodePort")), []);
    let access = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec:\n  accessModes: [ReadWriteOnce, ReadWriteAll]\n";
    assert_eq!(lint(access), [("SCHEMA-ENUM", 5, 32)]);
}

#[test]
fn removed_api_versions_name_the_replacement() {
    let src = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n";
    assert_eq!(lint(src), [("SCHEMA-API-VERSION", 1, 13)]);
    assert!(
        messages(src).contains("use `batch/v1`"),
        "{}",
        messages(src)
    );
    // FlowSchema v1beta3 is served by 1.31 and gone in 1.32: the setting decides.
    let fs = "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\nspec:\n  priorityLevelConfiguration: {name: p}\n";
    assert_eq!(lint(fs), []);
    let s = Settings {
        kubernetes_version: "1.32".into(),
        ..Settings::default()
    };
    assert_eq!(lint_with(fs, &s), [("SCHEMA-API-VERSION", 1, 13)]);
    let mut out = Vec::new();
    yaml_rules::check(Path::new("x.yaml"), fs, &s, &mut out);
    assert!(
        out[0].message.contains("served in 1.26 to 1.31"),
        "{}",
        out[0].message
    );
}

#[test]
fn kind_typos_suggest_the_kind() {
    let src = "apiVersion: batch/v1\nkind: Cronjob\nmetadata: {name: c}\n";
    assert_eq!(lint(src), [("SCHEMA-KIND", 2, 7)]);
    assert!(messages(src).contains("did you mean `CronJob`?"));
    let src = "apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: c}\n";
    assert_eq!(lint(src), [("SCHEMA-KIND", 2, 7)]);
    assert!(messages(src).contains("did you mean `Deployment`?"));
    // Near miss: the right case is clean.
    let ok = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    assert_eq!(lint(ok), []);
}

#[test]
fn crds_with_schemas_are_validated_and_others_warned_once() {
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a, namespace: argocd}\nspec:\n  project: default\n  source: {repoURL: 'https://x/y.git', path: k8s-apps, targetRevision: main}\n  destination: {server: 'https://kubernetes.default.svc', namespace: iot}\n  syncPolicy: {automated: {prune: true, selfHeal: true}}\n";
    assert_eq!(lint(app), []);
    let typo = app.replace("selfHeal", "selfheal");
    assert_eq!(lint(&typo), [("SCHEMA-UNKNOWN-FIELD", 8, 41)]);
    let iu = "apiVersion: argocd-image-updater.argoproj.io/v1alpha1\nkind: ImageUpdater\nmetadata: {name: u}\nspec:\n  applicationRefs:\n    - namePattern: iot-stack\n      images:\n        - alias: base\n          imageName: ghcr.io/dcasati/python-base\n";
    assert_eq!(lint(iu), []);
    let missing = iu.replace("          imageName: ghcr.io/dcasati/python-base\n", "");
    assert_eq!(lint(&missing), [("SCHEMA-REQUIRED", 8, 11)]);
    let sm = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: s}\nspec: {anything: goes}\n";
    assert_eq!(lint(sm), []);
    assert_eq!(
        unknown(sm),
        [("monitoring.coreos.com/v1".into(), "ServiceMonitor".into())]
    );
    // An Argo CD kind the linter carries no CRD for is unknown, not a typo of Application.
    let project = "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: p}\n";
    assert_eq!(lint(project), []);
    assert_eq!(
        unknown(project),
        [("argoproj.io/v1alpha1".into(), "AppProject".into())]
    );
}

fn unknown(src: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    yaml_rules::check(Path::new("x.yaml"), src, &Settings::default(), &mut out).unknown_kinds
}

#[test]
fn only_the_api_group_makes_a_kind_built_in() {
    // Talos' ServiceAccount is its own kind, not a core one at the wrong apiVersion.
    let talos = "apiVersion: talos.dev/v1alpha1\nkind: ServiceAccount\nmetadata: {name: s}\nspec: {roles: [os:reader]}\n";
    assert_eq!(lint(talos), []);
    assert_eq!(
        unknown(talos),
        [("talos.dev/v1alpha1".into(), "ServiceAccount".into())]
    );
    let cased = talos.replace("ServiceAccount", "Serviceaccount");
    assert_eq!(lint(&cased), []);
    // A built-in group still gets SCHEMA-API-VERSION and SCHEMA-KIND.
    let old = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n";
    assert_eq!(lint(old), [("SCHEMA-API-VERSION", 1, 13)]);
    let typo = "apiVersion: batch/v1\nkind: Cronjob\nmetadata: {name: c}\n";
    assert_eq!(lint(typo), [("SCHEMA-KIND", 2, 7)]);
    assert!(unknown(old).is_empty() && unknown(typo).is_empty());
}

#[test]
fn unknown_kinds_make_one_note_with_counts() {
    let kinds = [
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ];
    let note = super::unknown_kinds_note(kinds.into_iter()).unwrap();
    assert!(
        note.starts_with("note: 3 objects of 2 kinds with no schema were not validated: HelmRelease (helm.toolkit.fluxcd.io/v2) 2, ServiceMonitor (monitoring.coreos.com/v1) 1; "),
        "{note}"
    );
    assert_eq!(super::unknown_kinds_note(std::iter::empty()), None);
}

#[test]
fn names_are_rfc_1123() {
    let bad = POD.replace("name: web", "name: Web_1");
    assert_eq!(lint(&bad), [("SCHEMA-NAME", 4, 9)]);
    let dotted = POD.replace("name: web", "name: web.v2");
    assert_eq!(lint(&dotted), []);
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web.v2}\n";
    assert_eq!(lint(svc), [("SCHEMA-NAME", 3, 18)]);
    let container = POD.replace("- name: app", "- name: App");
    assert_eq!(lint(&container), [("SCHEMA-NAME", 7, 13)]);
}

#[test]
fn cronjob_names_fit_52_characters() {
    let cj = |name: &str| {
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\nspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{{name: a, image: 'b:1'}}]\n"
        )
    };
    assert_eq!(lint(&cj(&"a".repeat(53))), [("SCHEMA-CRONJOB-NAME", 4, 9)]);
    assert_eq!(lint(&cj(&"a".repeat(52))), []);
}

#[test]
fn duplicate_container_names() {
    let src = POD.replace(
        "spec:\n",
        "spec:\n  initContainers:\n    - name: app\n      image: busybox:1.36\n",
    );
    assert_eq!(lint(&src), [("SCHEMA-DUPLICATE-CONTAINER", 10, 13)]);
    let ok = src.replacen("- name: app", "- name: init", 1);
    assert_eq!(lint(&ok), []);
}

#[test]
fn selectors_match_template_labels() {
    let dep = |sel: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  selector: {sel}\n  template:\n    metadata: {{labels: {{app: web, tier: front}}}}\n    spec:\n      containers: [{{name: a, image: 'b:1'}}]\n"
        )
    };
    assert_eq!(lint(&dep("{matchLabels: {app: web}}")), []);
    assert_eq!(
        lint(&dep("{matchLabels: {app: webb}}")),
        [("SCHEMA-SELECTOR", 5, 28)]
    );
    assert_eq!(lint(&dep("{}")), [("SCHEMA-SELECTOR", 5, 3)]);
    assert_eq!(
        lint(&dep(
            "{matchExpressions: [{key: tier, operator: In, values: [back]}]}"
        )),
        [("SCHEMA-SELECTOR", 5, 33)]
    );
    assert_eq!(
        lint(&dep(
            "{matchExpressions: [{key: tier, operator: NotIn, values: [back]}]}"
        )),
        []
    );
}

#[test]
fn an_unsupported_version_is_a_settings_error() {
    let s = Settings {
        kubernetes_version: "1.12".into(),
        ..Settings::default()
    };
    let err = super::load(&s).unwrap_err().to_string();
    assert!(
        err.contains("kubernetes-version `1.12` is not supported"),
        "{err}"
    );
    assert!(super::load(&Settings::default()).is_ok());
}

#[test]
fn flux_substitutions_are_left_to_flux() {
    let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [\"${ACCESS_MODES:=ReadWriteOnce}\"]\n  resources:\n    requests:\n      storage: ${CAPACITY:=5Gi}\n";
    assert_eq!(lint(pvc), []);
    let deploy = POD.replace("spec:\n", "spec:\n  priority: ${PRIORITY}\n");
    assert_eq!(lint(&deploy), []);
    // Only a whole `${NAME}`, `${NAME:=…}` or `${NAME:-…}` is a substitution.
    let partial = pvc.replace("${CAPACITY:=5Gi}", "${CAPACITY}Gi");
    assert_eq!(lint(&partial), [("SCHEMA-FORMAT", 8, 16)]);
    assert!(super::scalar::is_substitution("${A_1:-x y}"));
    assert!(!super::scalar::is_substitution("${}"));
    assert!(!super::scalar::is_substitution("${A}${B}"));
    assert!(!super::scalar::is_substitution("$(A)"));
}

#[test]
fn a_kind_served_only_in_other_versions_is_a_version_mismatch_not_a_typo() {
    // MutatingAdmissionPolicy is not served at all in 1.31; at admissionregistration v1, later.
    let src = "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingAdmissionPolicy\nmetadata: {name: m}\nspec: {}\n";
    assert_eq!(lint(src), [("SCHEMA-API-VERSION", 1, 13)]);
    let msg = messages(src);
    assert!(
        msg.starts_with(
            "`admissionregistration.k8s.io/v1` serves MutatingAdmissionPolicy in Kubernetes 1."
        ) && msg.contains(" to 1.37, not in 1.31: set `kubernetes-version`"),
        "{msg}"
    );
}
