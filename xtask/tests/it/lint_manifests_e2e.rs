//! End to end (XTASK_E2E=1) for `lint-manifests`: `--render` against the real `kubectl
//! kustomize` on a good tree and on broken ones, and our SEC findings against `trivy config`'s
//! KSV findings on a shared corpus, with the agreement table printed.

use crate::support::lint_manifests::{APP, Fixture, parse_findings, run};
use crate::support::{self, require};
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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn render_with_real_kubectl() {
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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn security_findings_agree_with_trivy() {
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
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn the_repos_own_manifests_lint_and_render_clean() {
    require("kubectl");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo.join("k8s-apps"), &dir.path().join("k8s-apps"));
    std::fs::copy(repo.join("Cargo.toml"), dir.path().join("Cargo.toml")).unwrap();
    let out = run(dir.path(), &["--render", "--format", "json"], &[]);
    assert_eq!((out.code, out.stdout.trim()), (0, "[]"), "{}", out.stderr);
}

/// The SCHEMA rules against kubernetes-validate 1.37 (`--strict`, Kubernetes 1.31) on the
/// hand-written corpus in `data/schema_corpus/`: `bad-*` files hold one defect
/// each, its line marked `# defect: RULE`; `good-*` files are valid.
///
/// Wherever kubernetes-validate reports an error, we report the marked rule at the marked line
/// (and no SCHEMA finding on any other line); on the valid files neither tool reports one.
/// Where the two legitimately disagree, the file's header says why, starting
/// `# kubernetes-validate: passes`, and the test holds kubernetes-validate to that too. The
/// disagreements, all where kubernetes-validate is weaker:
/// - quantity formats (`512MB`, `half`, `10 GB`) and Secret base64: its schema says only
///   string-or-number / string, and jsonschema checks no `format` by default;
/// - enums (restartPolicy, concurrencyPolicy, Service type, imagePullPolicy, protocol,
///   pathType): the OpenAPI spec has none; ours come from the API server's validation;
/// - removed apiVersions and unknown kinds in a built-in group: it only warns "Couldn't find
///   schema" and passes;
/// - RFC 1123 names, CronJob names over 52, duplicate container names, a selector that misses
///   its template, a Job with restartPolicy Always: API-server validation, not schema;
/// - the Argo CD Application and ImageUpdater CRDs: it has no CRD schemas.
///
/// Not in the corpus: `y`/`n` are booleans to sigs.k8s.io/yaml (go-yaml v2) but strings to PyYAML.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn schema_findings_agree_with_kubernetes_validate() {
    require("kubernetes-validate");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/schema_corpus");
    let mut files: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let bad = files.iter().filter(|f| f.starts_with("bad-")).count();
    let good = files.iter().filter(|f| f.starts_with("good-")).count();
    assert!(
        bad >= 40 && good >= 15,
        "{bad} invalid and {good} valid manifests"
    );

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for f in &files {
        let text = std::fs::read_to_string(corpus.join(f)).unwrap();
        support::write(root, &format!("k8s-apps/corpus/{f}"), text);
    }
    let ours = run(root, &["--format", "json"], &[]);
    assert!(ours.code <= 1, "{ours:?}");
    let mut found: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (rule, file, line, _) in parse_findings(&ours.stdout) {
        if rule.starts_with("SCHEMA-") || rule == "WL-JOB-RESTART-ALWAYS" {
            let name = file.rsplit('/').next().unwrap().to_string();
            found.entry(name).or_default().push((rule, line));
        }
    }

    let out = Command::new("kubernetes-validate")
        .args(["-k", "1.31", "--strict"])
        .args(files.iter().map(|f| corpus.join(f)))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let kv_error = |f: &str| {
        report
            .lines()
            .any(|l| l.starts_with("ERROR ") && l.contains(&format!("/{f} ")))
    };
    assert!(
        files.iter().all(|f| report.contains(&format!("/{f} "))),
        "kubernetes-validate did not report every file:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    println!(
        "\nmanifest                                      | defect line: rule           | ours | kubernetes-validate"
    );
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(corpus.join(f)).unwrap();
        let defects: Vec<(u64, &str)> = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| Some((i as u64 + 1, l.split("# defect: ").nth(1)?.trim())))
            .collect();
        let documented_pass = text.contains("# kubernetes-validate: passes");
        let theirs = kv_error(f);
        let mine = found.get(f).cloned().unwrap_or_default();
        let hit = defects
            .iter()
            .all(|(line, rule)| mine.iter().any(|(r, l)| r == rule && l == line));
        let stray: Vec<_> = mine
            .iter()
            .filter(|(_, l)| !defects.iter().any(|(d, _)| d == l))
            .collect();
        if f.starts_with("bad-") && (defects.len() != 1 || !hit) {
            failures.push(format!("{f}: expected {defects:?}, we found {mine:?}"));
        }
        if !stray.is_empty() {
            failures.push(format!(
                "{f}: SCHEMA findings off the defect line: {stray:?}"
            ));
        }
        if theirs == (documented_pass || f.starts_with("good-")) {
            failures.push(format!(
                "{f}: kubernetes-validate {} but the file says otherwise:\n{}",
                if theirs { "reports an error" } else { "passes" },
                report
                    .lines()
                    .filter(|l| l.contains(&format!("/{f} ")))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        println!(
            "{:<46}| {:<28}| {:<5}| {}",
            f,
            defects
                .first()
                .map_or("-".to_string(), |(l, r)| format!("{l}: {r}")),
            if mine.is_empty() { "-" } else { "yes" },
            if theirs {
                "error"
            } else if documented_pass {
                "passes (documented)"
            } else {
                "passes"
            }
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// `xtask/schemas/k8s.schema` is what `gen.py` makes from the pinned kubernetes-validate (as
/// requirements-e2e.txt installs it) and the CRD schemas of `crds.json`, checksums checked.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn schemas_are_generated_from_the_pinned_sources() {
    require("python3");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/gen.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our DF rules and the hadolint rule each stands for.
const HADOLINT: &[(&str, &[&str])] = &[
    ("DF-SYNTAX", &["DL1000"]),
    ("DF-COPY-FROM-STAGE", &["DL3022"]),
    ("DF-DUPLICATE-STAGE", &["DL3024"]),
    ("DF-COPY-DEST", &["DL3021"]),
    ("DF-EXPOSE-PORT", &["DL3011"]),
    ("DF-CMD-SHELL-FORM", &["DL3025"]),
    ("DF-FROM-TAG", &["DL3006", "DL3007"]),
    ("DF-PIP-NO-CACHE", &["DL3042"]),
];

/// The line each line of a Dockerfile belongs to: the first line of its instruction (hadolint
/// reports there; we report at the offending word, which may be on a continuation line).
fn instruction_starts(text: &str) -> Vec<u64> {
    let mut starts = Vec::new();
    let mut current = 0;
    let mut continued = false;
    let escape = if text.starts_with("# escape=`") {
        '`'
    } else {
        '\\'
    };
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if !continued && !t.is_empty() && !t.starts_with('#') {
            current = i as u64 + 1;
        }
        if !t.starts_with('#') && !t.is_empty() {
            continued = t.ends_with(escape);
        }
        starts.push(if current == 0 { i as u64 + 1 } else { current });
    }
    starts
}

/// The Dockerfile build-breakers (and the pin and pip rules) against hadolint 2.15.1 on the
/// corpus in `data/dockerfile_corpus/` (45 Dockerfiles and one Containerfile).
/// Per file, the (rule, instruction line) pairs of both tools must be equal, except the ones a
/// `# disagree: RULE LINE ours|hadolint: why` header lists, which must be exactly the
/// difference (so every comment stays true). The disagreements: BuildKit compares stage names
/// ignoring case (hadolint does not); ADD of several files needs a `/` destination like COPY;
/// `COPY --from=image` is pinned like FROM (hadolint skips any --from with `:`, and calls one
/// with `/` a stage); a HEALTHCHECK in shell form is fine; pip's cache is off for any boolean
/// PIP_NO_CACHE_DIR and under a cache mount at ~/.cache; hadolint misses pip behind `sudo`.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn dockerfile_findings_agree_with_hadolint() {
    require("hadolint");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dockerfile_corpus");
    let mut files: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".Dockerfile") || f == "Containerfile")
        .collect();
    files.sort();
    assert!(files.len() >= 40, "{} Dockerfiles", files.len());

    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let text = std::fs::read(corpus.join(&name)).unwrap();
        support::write(dir.path(), &format!("k8s-apps/docker/{name}"), text);
    }
    let ours = run(dir.path(), &["--format", "json"], &[]);
    assert!(ours.code <= 1, "{ours:?}");
    let out = Command::new("hadolint")
        .args(["--no-fail", "--format", "json"])
        .args(&files)
        .current_dir(&corpus)
        .output()
        .unwrap();
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));

    let mut failures = Vec::new();
    let mut agreed: BTreeSet<String> = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(corpus.join(f)).unwrap();
        let starts = instruction_starts(&text);
        let at = |line: u64| starts.get(line as usize - 1).copied().unwrap_or(line);
        let mine: BTreeSet<(String, u64)> = parse_findings(&ours.stdout)
            .into_iter()
            .filter(|(rule, file, _, _)| {
                file.ends_with(&format!("/{f}")) && HADOLINT.iter().any(|(r, _)| r == rule)
            })
            .map(|(rule, _, line, _)| (rule, at(line)))
            .collect();
        let hadolint: BTreeSet<(String, u64)> = theirs
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["file"].as_str() == Some(f.as_str()))
            .filter_map(|x| {
                let code = x["code"].as_str()?;
                let (rule, _) = HADOLINT.iter().find(|(_, codes)| codes.contains(&code))?;
                Some((rule.to_string(), x["line"].as_u64()?))
            })
            .collect();
        let documented: BTreeSet<(String, u64, String)> = text
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("# disagree: ")?;
                let mut w = rest.split_whitespace();
                let (rule, line, who) = (w.next()?, w.next()?.parse().ok()?, w.next()?);
                Some((
                    rule.to_string(),
                    line,
                    who.trim_end_matches(':').to_string(),
                ))
            })
            .collect();
        let actual: BTreeSet<(String, u64, String)> = mine
            .difference(&hadolint)
            .map(|(r, l)| (r.clone(), *l, "ours".to_string()))
            .chain(
                hadolint
                    .difference(&mine)
                    .map(|(r, l)| (r.clone(), *l, "hadolint".to_string())),
            )
            .collect();
        agreed.extend(mine.intersection(&hadolint).map(|(r, _)| r.clone()));
        println!("{f:<45} ours {mine:?} hadolint {hadolint:?}");
        if actual != documented {
            failures.push(format!(
                "{f}: the tools differ by {actual:?}; the file documents {documented:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Every mapped rule, each build-breaker among them, is caught by both tools somewhere.
    let all: BTreeSet<String> = HADOLINT.iter().map(|(r, _)| r.to_string()).collect();
    assert_eq!(agreed, all);
}
