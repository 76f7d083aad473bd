//! End to end (XTASK_E2E=1) for `lint-manifests`: `--render` against the real `kubectl
//! kustomize` on a good tree and on broken ones, and our SEC findings against `trivy config`'s
//! KSV findings on a shared corpus, with the agreement table printed.

use crate::support::lint_manifests::{APP, Fixture, parse_findings, run};
use crate::support::{self, e2e, require};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn rules_at(found: &[(String, String, u64, u64)]) -> Vec<(&str, &str, u64, u64)> {
    found
        .iter()
        .map(|f| (f.0.as_str(), f.1.as_str(), f.2, f.3))
        .collect()
}

#[test]
fn render_with_real_kubectl() {
    if !e2e() {
        return;
    }
    require("kubectl");
    let root_k = "k8s-apps/apps/kustomization.yaml";
    let app_k = format!("{APP}/kustomization.yaml");

    let good = Fixture::new();
    let out = good.lint(&["--render", "--format", "json"]);
    assert_eq!((out.code, out.stdout.trim()), (0, "[]"), "{}", out.stderr);

    let missing = Fixture::new();
    missing.edit(
        &app_k,
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - nope.yaml\n",
    );
    let out = missing.lint(&["--render", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let found = parse_findings(&out.stdout);
    assert_eq!(
        rules_at(&found),
        [
            ("KUS-RESOURCE-MISSING", app_k.as_str(), 8, 5),
            ("RENDER-FAILED", root_k, 4, 5)
        ]
    );
    assert!(out.stdout.contains("nope.yaml"), "{}", out.stdout);

    let generator = Fixture::new();
    std::fs::remove_file(generator.path(&format!("{APP}/forecast.py"))).unwrap();
    let out = generator.lint(&["--render", "--format", "json"]);
    let found = parse_findings(&out.stdout);
    assert_eq!(
        rules_at(&found),
        [
            ("KUS-GENERATOR-FILE-MISSING", app_k.as_str(), 11, 9),
            ("RENDER-FAILED", root_k, 4, 5)
        ]
    );
    assert!(out.stdout.contains("forecast.py"), "{}", out.stdout);

    // An images: entry that names the image differently leaves the rendered image untagged.
    let renamed = Fixture::new();
    renamed.edit(
        &app_k,
        "  - name: ghcr.io/dcasati/python-base",
        "  - name: python-base",
    );
    let out = renamed.lint(&["--render", "--format", "json"]);
    let found = parse_findings(&out.stdout);
    let rendered: Vec<_> = rules_at(&found)
        .into_iter()
        .filter(|f| f.0.starts_with("RENDER"))
        .collect();
    assert_eq!(
        rendered,
        [
            ("RENDER-IMAGE-TAG", root_k, 1, 1),
            ("RENDER-IMAGE-TAG", root_k, 1, 1)
        ],
        "{found:?}"
    );
    assert!(found.iter().any(|f| f.0 == "KUS-UNTAGGED-IMAGE"));
}

/// The shared corpus: one resource per file, each with known weaknesses.
const CORPUS: &[(&str, &str)] = &[
    (
        "hardened.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: hardened}\nspec:\n  selector: {matchLabels: {app: h}}\n  template:\n    metadata: {labels: {app: h}}\n    spec:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 20000\n        runAsGroup: 20000\n        seccompProfile: {type: RuntimeDefault}\n      containers:\n        - name: app\n          image: registry.example/app:1.0\n          securityContext:\n            runAsNonRoot: true\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities: {drop: [ALL]}\n          resources:\n            requests: {cpu: 10m, memory: 32Mi}\n            limits: {cpu: 100m, memory: 64Mi}\n",
    ),
    (
        "bare.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bare}\nspec:\n  selector: {matchLabels: {app: b}}\n  template:\n    metadata: {labels: {app: b}}\n    spec:\n      containers:\n        - name: app\n          image: registry.example/app:1.0\n",
    ),
    (
        "privileged.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: privileged}\nspec:\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: RuntimeDefault}\n  containers:\n    - name: app\n      image: registry.example/app:1.0\n      securityContext:\n        privileged: true\n        allowPrivilegeEscalation: true\n        readOnlyRootFilesystem: true\n        capabilities: {drop: [ALL]}\n      resources:\n        requests: {cpu: 10m, memory: 32Mi}\n        limits: {cpu: 100m, memory: 64Mi}\n",
    ),
    (
        "host.yaml",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: host}\nspec:\n  selector: {matchLabels: {app: n}}\n  template:\n    metadata: {labels: {app: n}}\n    spec:\n      hostNetwork: true\n      hostPID: true\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n      containers:\n        - name: app\n          image: registry.example/app:1.0\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities: {drop: [ALL]}\n          resources:\n            requests: {cpu: 10m, memory: 32Mi}\n            limits: {cpu: 100m, memory: 64Mi}\n          volumeMounts: [{name: h, mountPath: /host}]\n      volumes:\n        - name: h\n          hostPath: {path: /var/log}\n",
    ),
    (
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: job}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: Unconfined}\n      containers:\n        - name: app\n          image: registry.example/app:1.0\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: false\n            capabilities: {drop: [NET_RAW], add: [SYS_ADMIN]}\n",
    ),
    (
        "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata:\n  DB_PASSWORD: hunter2hunter2\n  LOG_LEVEL: info\n",
    ),
    (
        "plain-config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain-config}\ndata:\n  LOG_LEVEL: info\n  INFLUX_URL: http://influxdb:8086\n",
    ),
];

/// Our SEC rule and the trivy KSV checks it stands for.
const MAPPING: &[(&str, &[&str])] = &[
    ("SEC-RUN-AS-NON-ROOT", &["KSV012"]),
    ("SEC-PRIVILEGED", &["KSV017"]),
    ("SEC-PRIVILEGE-ESCALATION", &["KSV001"]),
    ("SEC-READONLY-ROOTFS", &["KSV014"]),
    ("SEC-CAPABILITIES", &["KSV003", "KSV106"]),
    ("SEC-SECCOMP", &["KSV030", "KSV104"]),
    ("SEC-HOST-NAMESPACE", &["KSV008", "KSV009", "KSV010"]),
    ("SEC-HOST-PATH", &["KSV023"]),
    ("SEC-RESOURCES", &["KSV011", "KSV015", "KSV016", "KSV018"]),
    ("SEC-SECRET-IN-CONFIG", &["KSV01010", "KSV0109"]),
];

/// `AVD-KSV-0109` and `KSV0109` alike.
fn ksv(id: &str) -> String {
    id.trim_start_matches("AVD-").replace("KSV-", "KSV")
}

#[test]
fn security_findings_agree_with_trivy() {
    if !e2e() {
        return;
    }
    require("trivy");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut k = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for (file, text) in CORPUS {
        support::write(root, &format!("k8s-apps/corpus/{file}"), text);
        k.push_str(&format!("  - {file}\n"));
    }
    support::write(root, "k8s-apps/corpus/kustomization.yaml", &k);

    let ours = run(root, &["--format", "json"], &[]);
    assert!(ours.code <= 1, "{ours:?}");
    let mut our_rules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rule, file, _, _) in parse_findings(&ours.stdout) {
        if rule.starts_with("SEC-") {
            let name = Path::new(&file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            our_rules.entry(name).or_default().insert(rule);
        }
    }

    let cache = tempfile::tempdir().unwrap();
    let out = Command::new("trivy")
        .args([
            "config",
            "--quiet",
            "--format",
            "json",
            "--skip-check-update",
        ])
        .arg("--cache-dir")
        .arg(cache.path())
        .arg(root.join("k8s-apps/corpus"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mapped: BTreeSet<String> = MAPPING
        .iter()
        .flat_map(|(_, ids)| ids.iter().map(|i| i.to_string()))
        .collect();
    let mut trivy_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unmapped: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for result in report["Results"].as_array().into_iter().flatten() {
        let target = result["Target"].as_str().unwrap_or_default();
        let name = Path::new(target)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for m in result["Misconfigurations"].as_array().into_iter().flatten() {
            let id = ksv(m["ID"].as_str().unwrap_or_default());
            if mapped.contains(&id) {
                trivy_ids.entry(name.clone()).or_default().insert(id);
            } else {
                unmapped.entry(name.clone()).or_default().insert(id);
            }
        }
    }

    println!(
        "\nresource           | our SEC rules -> KSV                         | trivy KSV (mapped)            | agree"
    );
    println!(
        "-------------------|----------------------------------------------|-------------------------------|------"
    );
    let mut disagreements = Vec::new();
    for (file, _) in CORPUS {
        let ours: BTreeSet<String> = our_rules.get(*file).cloned().unwrap_or_default();
        let theirs: BTreeSet<String> = trivy_ids.get(*file).cloned().unwrap_or_default();
        // Our rules, as the KSV ids trivy reported for them; a rule trivy did not report shows as `RULE?`.
        let mut explained = BTreeSet::new();
        let mut shown = Vec::new();
        for rule in &ours {
            let ids = MAPPING
                .iter()
                .find(|(r, _)| r == rule)
                .map_or(&[][..], |(_, ids)| *ids);
            let hit: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|i| theirs.contains(*i))
                .collect();
            explained.extend(hit.iter().map(|s| s.to_string()));
            if hit.is_empty() {
                shown.push(format!("{rule}?"));
                disagreements.push(format!("{file}: {rule} has no trivy counterpart"));
            } else {
                shown.push(format!(
                    "{}={}",
                    rule.trim_start_matches("SEC-"),
                    hit.join("+")
                ));
            }
        }
        let trivy_only: Vec<&String> = theirs.difference(&explained).collect();
        for id in &trivy_only {
            disagreements.push(format!("{file}: trivy {id} has no SEC rule firing"));
        }
        let agree = trivy_only.is_empty() && !shown.iter().any(|s| s.ends_with('?'));
        println!(
            "{:<19}| {:<45}| {:<30}| {}",
            file,
            shown.join(" "),
            theirs.iter().cloned().collect::<Vec<_>>().join(" "),
            if agree { "yes" } else { "NO" }
        );
    }
    println!("\ntrivy checks outside our SEC rules, per resource: {unmapped:?}\n");
    // The same resources are named by both tools...
    let ours_named: BTreeSet<&String> = our_rules.keys().collect();
    let trivy_named: BTreeSet<&String> = trivy_ids.keys().collect();
    assert_eq!(
        ours_named, trivy_named,
        "resources named by our SEC rules vs trivy"
    );
    assert!(!ours_named.contains(&"hardened.yaml".to_string()));
    // ...and rule for rule.
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_repos_own_manifests_lint_and_render_clean() {
    if !e2e() {
        return;
    }
    require("kubectl");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo.join("k8s-apps"), &dir.path().join("k8s-apps"));
    std::fs::copy(repo.join("Cargo.toml"), dir.path().join("Cargo.toml")).unwrap();
    let out = run(dir.path(), &["--render", "--format", "json"], &[]);
    assert_eq!((out.code, out.stdout.trim()), (0, "[]"), "{}", out.stderr);
}
