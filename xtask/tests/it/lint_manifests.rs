//! `cargo xtask lint-manifests` against fixture trees: one firing fixture per rule (rule, file,
//! line, column), near-miss fixtures that must stay clean, suppression, settings, path filters,
//! bad input, and every output format with its exit code.

use crate::support::lint_manifests::{APP, Fixture, parse_findings, run};

/// An edit to the clean fixture: replace `from` by `to` in `file` (under the app folder), or
/// write `file` when `from` is empty.
type Edit = (&'static str, &'static str, &'static str);

struct Case {
    rule: &'static str,
    edits: &'static [Edit],
    /// (file under k8s-apps/apps, line, column).
    at: (&'static str, u64, u64),
}

fn apply(fx: &Fixture, edits: &[Edit]) {
    for (file, from, to) in edits {
        let rel = if file.starts_with("k8s-apps/") {
            file.to_string()
        } else {
            format!("{APP}/{file}")
        };
        if from.is_empty() {
            fx.write(&rel, to);
        } else {
            fx.edit(&rel, from, to);
        }
    }
}

/// Each case fires its rule exactly once, at the expected place.
fn check_cases(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let fx = Fixture::new();
        apply(&fx, case.edits);
        let found = fx.findings(&[]);
        let of_rule: Vec<_> = found
            .iter()
            .filter(|f| f.0 == case.rule)
            .map(|f| (f.1.clone(), f.2, f.3))
            .collect();
        let file = if case.at.0.starts_with("k8s-apps/") {
            case.at.0.to_string()
        } else {
            format!("{APP}/{}", case.at.0)
        };
        let expected = vec![(file, case.at.1, case.at.2)];
        if of_rule != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {of_rule:?} (all: {found:?})",
                case.rule
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Each near miss leaves the tree without any finding.
fn check_clean(cases: &[(&str, &[Edit])]) {
    let mut failures = Vec::new();
    for (what, edits) in cases {
        let fx = Fixture::new();
        apply(&fx, edits);
        let found = fx.findings(&[]);
        if !found.is_empty() {
            failures.push(format!("{what}: {found:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

const ADD_RESOURCE: &str = "  - configmap.yaml\n";

#[test]
fn the_clean_fixture_is_clean() {
    let fx = Fixture::new();
    let out = fx.lint(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stderr,
        "lint-manifests: 0 errors, 0 warnings in 7 files\n"
    );
    // A path filter: the summary counts the files it selects, not every file read.
    let one = fx.lint(&["k8s-apps/apps/kustomization.yaml"]);
    assert_eq!(one.code, 0, "{one:?}");
    assert_eq!(
        one.stderr,
        "lint-manifests: 0 errors, 0 warnings in 1 file\n"
    );
}

#[test]
fn yaml_rules_fire_at_their_position() {
    check_cases(&[
        Case {
            rule: "YAML-SYNTAX",
            edits: &[(
                "service.yaml",
                "  name: forecast-web\n",
                "  name: x\n    bad: 1\n",
            )],
            at: ("service.yaml", 5, 8),
        },
        Case {
            rule: "YAML-DUPLICATE-KEY",
            edits: &[(
                "service.yaml",
                "  name: forecast-web\n",
                "  name: forecast-web\n  name: other\n",
            )],
            at: ("service.yaml", 5, 3),
        },
        Case {
            rule: "YAML-NOT-MAPPING",
            edits: &[
                ("list.yaml", "", "- a\n- b\n"),
                (
                    "kustomization.yaml",
                    ADD_RESOURCE,
                    "  - configmap.yaml\n  - list.yaml\n",
                ),
            ],
            at: ("list.yaml", 1, 1),
        },
        Case {
            rule: "YAML-MISSING-FIELD",
            edits: &[("service.yaml", "apiVersion: v1\n", "# no apiVersion\n")],
            at: ("service.yaml", 2, 1),
        },
        Case {
            rule: "YAML-ALIAS-BOMB",
            edits: &[
                ("bomb.yaml", "", BOMB),
                (
                    "kustomization.yaml",
                    ADD_RESOURCE,
                    "  - configmap.yaml\n  - bomb.yaml\n",
                ),
            ],
            at: ("bomb.yaml", 15, 12),
        },
        Case {
            rule: "LINT-ALLOW-REASON",
            edits: &[(
                "cronjob.yaml",
                "restartPolicy: Never\n",
                "restartPolicy: Never # xtask-lint: allow WL-JOB-RESTART-ALWAYS\n",
            )],
            at: ("cronjob.yaml", 12, 34),
        },
        Case {
            rule: "LINT-ALLOW-UNKNOWN",
            edits: &[(
                "cronjob.yaml",
                "restartPolicy: Never\n",
                "restartPolicy: Never # xtask-lint: allow WL-NOPE reason here\n",
            )],
            at: ("cronjob.yaml", 12, 34),
        },
    ]);
}

/// 10 anchors of 10 aliases each: 10^11 nodes if expanded.
const BOMB: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: bomb}
a: &a [x, x, x, x, x, x, x, x, x, x]
a1: &a1 [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
a9: &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]
a10: &a10 [*a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9]
a11: &a11 [*a10, *a10, *a10, *a10, *a10, *a10, *a10, *a10, *a10, *a10]
";

#[test]
fn file_encoding_points_at_the_bad_byte() {
    let fx = Fixture::new();
    fx.write(&format!("{APP}/latin1.yaml"), b"a: 1\nb: caf\xe9\n");
    fx.write(&format!("{APP}/binary.yaml"), b"\x7fELF\x00\x01");
    let found = fx.findings(&[]);
    assert_eq!(
        found,
        [
            ("FILE-ENCODING".into(), format!("{APP}/binary.yaml"), 1, 5),
            ("FILE-ENCODING".into(), format!("{APP}/latin1.yaml"), 2, 7)
        ]
    );
}

#[test]
fn kustomize_rules_fire_at_their_position() {
    check_cases(&[
        Case {
            rule: "KUS-RESOURCE-MISSING",
            edits: &[(
                "kustomization.yaml",
                ADD_RESOURCE,
                "  - configmap.yaml\n  - nope.yaml\n",
            )],
            at: ("kustomization.yaml", 8, 5),
        },
        Case {
            rule: "KUS-RESOURCE-OUTSIDE",
            edits: &[(
                "kustomization.yaml",
                ADD_RESOURCE,
                "  - configmap.yaml\n  - ../../../../../etc/hosts\n",
            )],
            at: ("kustomization.yaml", 8, 5),
        },
        Case {
            rule: "KUS-RESOURCE-OUTSIDE",
            edits: &[
                (
                    "k8s-apps/apps/other.yaml",
                    "",
                    "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
                ),
                (
                    "k8s-apps/apps/kustomization.yaml",
                    "  - forecast\n",
                    "  - forecast\n  - other.yaml\n",
                ),
                (
                    "kustomization.yaml",
                    ADD_RESOURCE,
                    "  - configmap.yaml\n  - ../other.yaml\n",
                ),
            ],
            at: ("kustomization.yaml", 8, 5),
        },
        Case {
            rule: "KUS-RESOURCE-CYCLE",
            edits: &[(
                "kustomization.yaml",
                ADD_RESOURCE,
                "  - configmap.yaml\n  - ..\n",
            )],
            at: ("k8s-apps/apps/kustomization.yaml", 4, 5),
        },
        Case {
            rule: "KUS-GENERATOR-FILE-MISSING",
            edits: &[(
                "kustomization.yaml",
                "      - forecast.py\n",
                "      - forecast.py\n      - missing.py\n",
            )],
            at: ("kustomization.yaml", 12, 9),
        },
        Case {
            rule: "KUS-IMAGE-TAG",
            edits: &[(
                "kustomization.yaml",
                "newTag: sha-abc1234",
                "newTag: latest",
            )],
            at: ("kustomization.yaml", 14, 13),
        },
        Case {
            rule: "KUS-IMAGE-TAG",
            edits: &[("kustomization.yaml", "    newTag: sha-abc1234\n", "")],
            at: ("kustomization.yaml", 13, 11),
        },
        Case {
            rule: "KUS-IMAGE-TAG",
            edits: &[(
                "kustomization.yaml",
                "newTag: sha-abc1234",
                "newTag: v1.2.3",
            )],
            at: ("kustomization.yaml", 14, 13),
        },
        Case {
            rule: "KUS-IMAGE-UNUSED",
            edits: &[(
                "kustomization.yaml",
                "    newTag: sha-abc1234\n",
                "    newTag: sha-abc1234\n  - name: busybox\n    newTag: \"1.36\"\n",
            )],
            at: ("kustomization.yaml", 15, 11),
        },
        Case {
            rule: "KUS-UNTAGGED-IMAGE",
            edits: &[(
                "deployment.yaml",
                "image: ghcr.io/dcasati/python-base",
                "image: busybox",
            )],
            at: ("deployment.yaml", 18, 18),
        },
        Case {
            rule: "KUS-ORPHAN-MANIFEST",
            edits: &[(
                "extra.yaml",
                "",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
            )],
            at: ("extra.yaml", 1, 1),
        },
    ]);
}

#[test]
fn workload_rules_fire_at_their_position() {
    check_cases(&[
        Case {
            rule: "WL-BASE-IMAGE-TAGGED",
            edits: &[(
                "cronjob.yaml",
                "image: ghcr.io/dcasati/python-base",
                "image: ghcr.io/dcasati/python-base:sha-abc1234",
            )],
            at: ("cronjob.yaml", 19, 22),
        },
        Case {
            rule: "WL-LATEST",
            edits: &[(
                "deployment.yaml",
                "image: ghcr.io/dcasati/python-base",
                "image: busybox:latest",
            )],
            at: ("deployment.yaml", 18, 18),
        },
        Case {
            rule: "WL-CRON-SCHEDULE",
            edits: &[("cronjob.yaml", "\"5 * * * *\"", "\"61 * * * *\"")],
            at: ("cronjob.yaml", 6, 13),
        },
        Case {
            rule: "WL-TIMEZONE",
            edits: &[("cronjob.yaml", "Europe/Berlin", "Mars/Olympus")],
            at: ("cronjob.yaml", 7, 13),
        },
        Case {
            rule: "WL-JOB-RESTART-ALWAYS",
            edits: &[(
                "cronjob.yaml",
                "restartPolicy: Never",
                "restartPolicy: Always",
            )],
            at: ("cronjob.yaml", 12, 26),
        },
        Case {
            rule: "WL-CONFIGMAP-MISSING",
            edits: &[(
                "cronjob.yaml",
                "name: forecast-script\n",
                "name: forecast-scriptz\n",
            )],
            at: ("cronjob.yaml", 38, 23),
        },
        Case {
            rule: "WL-SCRIPT-NOT-IN-CONFIGMAP",
            edits: &[("cronjob.yaml", "/app/forecast.py", "/app/forcast.py")],
            at: ("cronjob.yaml", 20, 36),
        },
        Case {
            rule: "WL-SCRIPT-NOT-IN-CONFIGMAP",
            edits: &[("deployment.yaml", "/srv/serve.py", "/srv/serv.py")],
            at: ("deployment.yaml", 19, 29),
        },
    ]);
}

#[test]
fn security_rules_fire_at_their_position() {
    check_cases(&[
        Case {
            rule: "SEC-RUN-AS-NON-ROOT",
            edits: &[("cronjob.yaml", "runAsNonRoot: true", "runAsNonRoot: false")],
            at: ("cronjob.yaml", 14, 27),
        },
        Case {
            rule: "SEC-PRIVILEGED",
            edits: &[(
                "cronjob.yaml",
                "                allowPrivilegeEscalation: false\n",
                "                allowPrivilegeEscalation: false\n                privileged: true\n",
            )],
            at: ("cronjob.yaml", 29, 29),
        },
        Case {
            rule: "SEC-PRIVILEGE-ESCALATION",
            edits: &[(
                "cronjob.yaml",
                "allowPrivilegeEscalation: false",
                "allowPrivilegeEscalation: true",
            )],
            at: ("cronjob.yaml", 28, 43),
        },
        Case {
            rule: "SEC-READONLY-ROOTFS",
            edits: &[(
                "cronjob.yaml",
                "readOnlyRootFilesystem: true",
                "readOnlyRootFilesystem: false",
            )],
            at: ("cronjob.yaml", 29, 41),
        },
        Case {
            rule: "SEC-CAPABILITIES",
            edits: &[("cronjob.yaml", "drop: [ALL]", "drop: [NET_RAW]")],
            at: ("cronjob.yaml", 31, 19),
        },
        Case {
            rule: "SEC-SECCOMP",
            edits: &[("cronjob.yaml", "type: RuntimeDefault", "type: Unconfined")],
            at: ("cronjob.yaml", 16, 21),
        },
        Case {
            rule: "SEC-HOST-NAMESPACE",
            edits: &[(
                "cronjob.yaml",
                "          restartPolicy: Never\n",
                "          restartPolicy: Never\n          hostNetwork: true\n",
            )],
            at: ("cronjob.yaml", 13, 24),
        },
        Case {
            rule: "SEC-HOST-PATH",
            edits: &[(
                "cronjob.yaml",
                "                name: forecast-script\n",
                "                name: forecast-script\n            - name: host\n              hostPath: {path: /var/run}\n",
            )],
            at: ("cronjob.yaml", 40, 15),
        },
        Case {
            rule: "SEC-RESOURCES",
            edits: &[(
                "cronjob.yaml",
                "                limits: {cpu: 500m, memory: 128Mi}\n",
                "",
            )],
            at: ("cronjob.yaml", 25, 17),
        },
        Case {
            rule: "SEC-SECRET-IN-CONFIG",
            edits: &[(
                "configmap.yaml",
                "  LOG_LEVEL: info",
                "  DB_PASSWORD: hunter2hunter2",
            )],
            at: ("configmap.yaml", 9, 16),
        },
        Case {
            rule: "SEC-SECRET-IN-CONFIG",
            edits: &[(
                "cronjob.yaml",
                "- name: LOG_LEVEL\n                  value: info",
                "- name: GH_TOKEN\n                  value: ghp_0123456789abcdefghijABCDEFGHIJ012345",
            )],
            at: ("cronjob.yaml", 23, 26),
        },
        Case {
            rule: "SEC-SECRET-IN-CONFIG",
            edits: &[(
                "kustomization.yaml",
                "      - forecast.py\n",
                "      - forecast.py\n    literals:\n      - DB_PASSWORD=hunter2hunter2\n",
            )],
            at: ("kustomization.yaml", 13, 9),
        },
    ]);
}

#[test]
fn dockerfile_rules_are_wired_with_the_context_of_the_file() {
    check_cases(&[
        Case {
            rule: "DF-FROM-TAG",
            edits: &[("Dockerfile", "FROM python:3.11-slim", "FROM python")],
            at: ("Dockerfile", 1, 6),
        },
        Case {
            rule: "DF-COPY-MISSING",
            edits: &[(
                "Dockerfile",
                "COPY requirements.txt",
                "COPY requirement.txt",
            )],
            at: ("Dockerfile", 2, 6),
        },
        Case {
            rule: "DF-USER-ROOT",
            edits: &[("tools.Dockerfile", "", "FROM python:3.11-slim\nUSER root\n")],
            at: ("tools.Dockerfile", 2, 6),
        },
    ]);
}

#[test]
fn near_misses_stay_clean() {
    check_clean(&[
        (
            "a few aliases and an empty document",
            &[(
                "configmap.yaml",
                "  LOG_LEVEL: info\n",
                "  LOG_LEVEL: &level info\n  OTHER_LEVEL: *level\n---\n# nothing\n",
            )],
        ),
        ("an empty file", &[("empty.yaml", "", "")]),
        (
            "image pinned by digest without newTag",
            &[(
                "kustomization.yaml",
                "    newTag: sha-abc1234\n",
                "    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
            )],
        ),
        (
            "a 40-hex policy tag",
            &[(
                "kustomization.yaml",
                "sha-abc1234",
                "sha-0123456789abcdef0123456789abcdef01234567",
            )],
        ),
        (
            "a remote resource is not checked",
            &[(
                "kustomization.yaml",
                ADD_RESOURCE,
                "  - configmap.yaml\n  - https://github.com/example/repo//base?ref=v1\n",
            )],
        ),
        (
            "an optional ConfigMap volume",
            &[(
                "cronjob.yaml",
                "                name: forecast-script\n",
                "                name: forecast-script\n            - name: extra\n              configMap:\n                name: not-here\n                optional: true\n",
            )],
        ),
        (
            "a script projected through items",
            &[(
                "cronjob.yaml",
                "                name: forecast-script\n",
                "                name: forecast-script\n                items:\n                  - key: forecast.py\n                    path: forecast.py\n",
            )],
        ),
        (
            "runAsNonRoot and seccomp on the container instead of the pod",
            &[
                (
                    "cronjob.yaml",
                    "          securityContext:\n            runAsNonRoot: true\n            seccompProfile:\n              type: RuntimeDefault\n",
                    "",
                ),
                (
                    "cronjob.yaml",
                    "                allowPrivilegeEscalation: false\n",
                    "                allowPrivilegeEscalation: false\n                runAsNonRoot: true\n                seccompProfile: {type: Localhost, localhostProfile: p.json}\n",
                ),
            ],
        ),
        (
            "names about credentials and secretKeyRef are not secrets",
            &[
                (
                    "configmap.yaml",
                    "  LOG_LEVEL: info",
                    "  password_file: /etc/app/password",
                ),
                (
                    "cronjob.yaml",
                    "                  value: info",
                    "                  valueFrom: {secretKeyRef: {name: s, key: token}}",
                ),
            ],
        ),
        (
            "a suppressed finding with a reason",
            &[(
                "cronjob.yaml",
                "                allowPrivilegeEscalation: false\n",
                "                allowPrivilegeEscalation: false\n                # xtask-lint: allow SEC-PRIVILEGED needs /dev/gpio on the Pi\n                privileged: true\n",
            )],
        ),
        (
            "an untagged sidecar that images: tags",
            &[
                (
                    "deployment.yaml",
                    "image: ghcr.io/dcasati/python-base",
                    "image: busybox",
                ),
                (
                    "kustomization.yaml",
                    "    newTag: sha-abc1234\n",
                    "    newTag: sha-abc1234\n  - name: busybox\n    newTag: \"1.36\"\n",
                ),
            ],
        ),
        (
            "a pinned third-party image",
            &[(
                "deployment.yaml",
                "image: ghcr.io/dcasati/python-base",
                "image: busybox:1.36",
            )],
        ),
        (
            "a patch and a generator input are not orphans",
            &[
                (
                    "patch.yaml",
                    "",
                    "kind: CronJob\nmetadata: {name: forecast-forecast}\nspec: {suspend: true}\n",
                ),
                ("config.yaml", "", "threshold: 3\n"),
                (
                    "kustomization.yaml",
                    "      - forecast.py\n",
                    "      - forecast.py\n      - config.yaml\npatches:\n  - path: patch.yaml\n",
                ),
            ],
        ),
        (
            "a macro schedule and Etc/UTC",
            &[
                ("cronjob.yaml", "\"5 * * * *\"", "\"@hourly\""),
                ("cronjob.yaml", "Europe/Berlin", "Etc/UTC"),
            ],
        ),
        (
            "restartPolicy OnFailure",
            &[(
                "cronjob.yaml",
                "restartPolicy: Never",
                "restartPolicy: OnFailure",
            )],
        ),
    ]);
}

#[test]
fn a_symlink_loop_in_resources_is_reported_not_followed() {
    let fx = Fixture::new();
    std::os::unix::fs::symlink("loop", fx.path(&format!("{APP}/loop"))).unwrap();
    std::os::unix::fs::symlink("..", fx.path(&format!("{APP}/up"))).unwrap();
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        ADD_RESOURCE,
        "  - configmap.yaml\n  - loop\n",
    );
    let found = fx.findings(&[]);
    assert_eq!(
        found,
        [(
            "KUS-RESOURCE-MISSING".into(),
            format!("{APP}/kustomization.yaml"),
            8,
            5
        )]
    );
    let out = fx.lint(&["--format", "json"]);
    assert!(out.stdout.contains("cannot be resolved"), "{}", out.stdout);
}

#[test]
fn big_deep_and_empty_files_are_handled() {
    let fx = Fixture::new();
    let mut big = String::from("# filler\n");
    while big.len() <= 10 * 1024 * 1024 {
        big.push_str("# 0123456789012345678901234567890123456789012345678901234567890123456789\n");
    }
    fx.write(&format!("{APP}/big.yaml"), &big);
    fx.write(&format!("{APP}/deep.yaml"), "[".repeat(100_000));
    let block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    fx.write(&format!("{APP}/block.yaml"), block);
    fx.write(&format!("{APP}/empty.yaml"), "");
    let out = fx.lint(&["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let found = parse_findings(&out.stdout);
    let rules: Vec<_> = found.iter().map(|f| (f.0.as_str(), f.1.as_str())).collect();
    let big_file = format!("{APP}/big.yaml");
    let deep_file = format!("{APP}/deep.yaml");
    let block_file = format!("{APP}/block.yaml");
    assert_eq!(
        rules,
        [
            ("FILE-TOO-LARGE", big_file.as_str()),
            ("YAML-SYNTAX", block_file.as_str()),
            ("YAML-SYNTAX", deep_file.as_str()),
        ]
    );
    assert!(
        out.stdout.contains("over the 10 MiB limit"),
        "{}",
        out.stdout
    );
}

#[test]
fn paths_limit_the_report_but_not_the_relations() {
    let fx = Fixture::new();
    // The ConfigMap volume names what the kustomization generates: the CronJob alone is clean
    // only because the tree is still read.
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        ADD_RESOURCE,
        "  - configmap.yaml\n  - nope.yaml\n",
    );
    assert_eq!(fx.findings(&[&format!("{APP}/cronjob.yaml")]), []);
    fx.edit(
        &format!("{APP}/cronjob.yaml"),
        "/app/forecast.py",
        "/app/x.py",
    );
    let found = fx.findings(&[
        &format!("{APP}/cronjob.yaml"),
        "k8s-apps/apps/forecast/service.yaml",
    ]);
    assert_eq!(
        found,
        [(
            "WL-SCRIPT-NOT-IN-CONFIGMAP".into(),
            format!("{APP}/cronjob.yaml"),
            20,
            36
        )]
    );
    let found = fx.findings(&[APP]);
    assert_eq!(found.len(), 2, "{found:?}");
    // Relative to the current directory (the root, here) and absolute.
    let abs = fx.path(&format!("{APP}/kustomization.yaml"));
    let found = fx.findings(&[abs.to_str().unwrap()]);
    assert_eq!(found[0].0, "KUS-RESOURCE-MISSING");
    let out = fx.lint(&["k8s-apps/nope.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("k8s-apps/nope.yaml: no such file or directory")
    );
}

#[test]
fn settings_turn_rules_off_or_change_their_severity() {
    let fx = Fixture::new();
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "    newTag: sha-abc1234\n",
        "    newTag: sha-abc1234\n  - name: busybox\n    newTag: \"1.36\"\n",
    );
    fx.edit(
        &format!("{APP}/cronjob.yaml"),
        "                limits: {cpu: 500m, memory: 128Mi}\n",
        "",
    );
    assert_eq!(fx.lint(&[]).code, 1);
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint.rules]\nSEC-RESOURCES = \"off\"\nKUS-IMAGE-UNUSED = \"warning\"\n",
    );
    let out = fx.lint(&["--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("\"severity\": \"warning\""));
    assert!(!out.stdout.contains("SEC-RESOURCES"));
    assert_eq!(fx.lint(&["--deny-warnings"]).code, 1);
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint.rules]\nKUS-IMAGE-UNUSED = \"error\"\n",
    );
    assert_eq!(fx.lint(&[]).code, 1);
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint.rules]\nSEC-NOPE = \"off\"\n",
    );
    let out = fx.lint(&[]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("`SEC-NOPE` is not a rule id");
}

fn broken() -> Fixture {
    let fx = Fixture::new();
    fx.edit(
        &format!("{APP}/cronjob.yaml"),
        "runAsNonRoot: true",
        "runAsNonRoot: false",
    );
    fx.write(
        &format!("{APP}/extra.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
    );
    fx
}

#[test]
fn human_format_is_rustc_style_on_stderr() {
    let fx = broken();
    let out = fx.lint(&[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    let expected = format!(
        "error[SEC-RUN-AS-NON-ROOT]: container `forecast`: runAsNonRoot is not true (set securityContext.runAsNonRoot: true)
  --> {APP}/cronjob.yaml:14:27
   |
14 |             runAsNonRoot: false
   |                           ^
   = help: cargo xtask lint-manifests --explain SEC-RUN-AS-NON-ROOT
"
    );
    assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
    out.assert_stderr_has(&format!("warning[KUS-ORPHAN-MANIFEST]: no kustomization includes this file, so Argo CD never deploys it\n --> {APP}/extra.yaml:1:1\n"));
    assert!(
        out.stderr
            .ends_with("lint-manifests: 1 error, 1 warning in 8 files\n")
    );
    assert!(!out.stderr.contains('\x1b'), "no colour without a TTY");
}

#[test]
fn json_format_lists_findings_on_stdout() {
    let fx = broken();
    let out = fx.lint(&["--format", "json"]);
    assert_eq!(out.code, 1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"rule": "SEC-RUN-AS-NON-ROOT", "severity": "error", "file": format!("{APP}/cronjob.yaml"), "line": 14, "column": 27,
             "message": "container `forecast`: runAsNonRoot is not true (set securityContext.runAsNonRoot: true)"},
            {"rule": "KUS-ORPHAN-MANIFEST", "severity": "warning", "file": format!("{APP}/extra.yaml"), "line": 1, "column": 1,
             "message": "no kustomization includes this file, so Argo CD never deploys it"},
        ])
    );
    let clean = Fixture::new().lint(&["--format", "json"]);
    assert_eq!((clean.code, clean.stdout.trim()), (0, "[]"));
}

#[test]
fn github_format_prints_workflow_commands() {
    let fx = broken();
    fx.edit(
        &format!("{APP}/extra.yaml"),
        "kind: ConfigMap",
        "kind: ConfigMap\ndata: {a: \"50%\"}",
    );
    let out = fx.lint(&["--format", "github"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        format!(
            "::error file={APP}/cronjob.yaml,line=14,col=27,title=SEC-RUN-AS-NON-ROOT::container `forecast`: runAsNonRoot is not true (set securityContext.runAsNonRoot: true)\n\
             ::warning file={APP}/extra.yaml,line=1,col=1,title=KUS-ORPHAN-MANIFEST::no kustomization includes this file, so Argo CD never deploys it\n"
        )
    );
    assert!(out.stderr.contains("1 error, 1 warning"));
}

#[test]
fn sarif_format_has_rules_and_results() {
    let fx = broken();
    let out = fx.lint(&["--format", "sarif"]);
    assert_eq!(out.code, 1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "DF-USER-ROOT"));
    assert!(
        rules
            .iter()
            .all(|r| r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()))
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "SEC-RUN-AS-NON-ROOT");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[1]["level"], "warning");
    let index = results[0]["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "SEC-RUN-AS-NON-ROOT");
    let loc = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        format!("{APP}/cronjob.yaml")
    );
    assert_eq!(loc["region"]["startLine"], 14);
    assert_eq!(loc["region"]["startColumn"], 27);
}

#[test]
fn exit_codes_for_warnings_usage_and_explain() {
    let fx = Fixture::new();
    fx.write(
        &format!("{APP}/extra.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    assert_eq!(fx.lint(&[]).code, 0, "warnings alone pass");
    assert_eq!(fx.lint(&["--deny-warnings"]).code, 1);
    assert_eq!(fx.lint(&["--format", "xml"]).code, 2);
    let out = fx.lint(&["--explain", "kus-image-tag"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with("KUS-IMAGE-TAG (error by default)"),
        "{}",
        out.stdout
    );
    assert_eq!(fx.lint(&["--explain", "NOPE"]).code, 2);
    let out = fx.lint(&["--list-rules"]);
    assert!(out.stdout.contains("SEC-HOST-PATH") && out.stdout.contains("DF-FROM-TAG"));
    std::fs::remove_dir_all(fx.path("k8s-apps")).unwrap();
    let out = fx.lint(&[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("manifests root k8s-apps does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn render_without_a_renderer_exits_2_with_a_hint() {
    let fx = Fixture::new();
    let empty = tempfile::tempdir().unwrap();
    let out = run(
        fx.root(),
        &["--render"],
        &[("PATH", empty.path().to_str().unwrap())],
    );
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has_all(&[
        "kubectl or kustomize not found on PATH",
        "https://kubernetes.io/docs/tasks/tools/",
    ]);
}

#[test]
fn no_color_and_colour_only_on_a_tty() {
    // Without a TTY there is never colour, NO_COLOR or not; the TTY case is in report's unit test.
    let fx = broken();
    let out = run(fx.root(), &[], &[("NO_COLOR", "1")]);
    assert!(!out.stderr.contains('\x1b'));
    assert_eq!(out.code, 1);
}

/// An Argo CD folder beside the app: its kustomization, an ImageUpdater for the app's image
/// (write-back into the app's kustomization) and the Application.
const ARGOCD_KUSTOMIZATION: Edit = (
    "k8s-apps/argocd/kustomization.yaml",
    "",
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - updater.yaml\n  - application.yaml\n",
);
const UPDATER: Edit = (
    "k8s-apps/argocd/updater.yaml",
    "",
    "\
apiVersion: argocd-image-updater.argoproj.io/v1alpha1
kind: ImageUpdater
metadata:
  name: forecast
  namespace: argocd
spec:
  writeBackConfig:
    method: git
    gitConfig:
      writeBackTarget: kustomization:/k8s-apps/apps/forecast
  applicationRefs:
    - namePattern: forecast
      images:
        - alias: base
          imageName: ghcr.io/dcasati/python-base
          commonUpdateSettings:
            allowTags: regexp:^sha-[0-9a-f]{7}$
",
);
const APPLICATION: Edit = (
    "k8s-apps/argocd/application.yaml",
    "",
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: forecast\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/dcasati/homelab\n    path: k8s-apps/apps/forecast\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: forecast\n",
);
const U: &str = "k8s-apps/argocd/updater.yaml";

#[test]
fn gitops_rules_fire_at_their_position() {
    check_cases(&[
        Case {
            rule: "GITOPS-IMAGE-UNKNOWN",
            edits: &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (U, "dcasati/python-base", "dcasati/other-base"),
            ],
            at: (U, 15, 22),
        },
        Case {
            rule: "GITOPS-ALLOW-TAGS",
            edits: &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (U, "regexp:^sha-[0-9a-f]{7}$", "regexp:.*"),
            ],
            at: (U, 17, 24),
        },
        Case {
            rule: "GITOPS-ALLOW-TAGS",
            edits: &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (
                    U,
                    "          commonUpdateSettings:\n            allowTags: regexp:^sha-[0-9a-f]{7}$\n",
                    "",
                ),
            ],
            at: (U, 15, 22),
        },
        Case {
            rule: "GITOPS-WRITE-BACK",
            edits: &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (U, "/k8s-apps/apps/forecast", "/k8s-apps/apps/nope"),
            ],
            at: (U, 10, 24),
        },
        Case {
            rule: "GITOPS-WRITE-BACK",
            edits: &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (U, "kustomization:/k8s-apps/apps/forecast", "kustomization"),
                (U, "namePattern: forecast", "namePattern: elsewhere"),
            ],
            at: (U, 10, 24),
        },
    ]);
}

#[test]
fn gitops_near_misses_stay_clean() {
    check_clean(&[
        (
            "the ImageUpdater as written",
            &[ARGOCD_KUSTOMIZATION, UPDATER, APPLICATION],
        ),
        (
            "`any` with latest ignored",
            &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (
                    U,
                    "allowTags: regexp:^sha-[0-9a-f]{7}$",
                    "allowTags: any\n            ignoreTags: [latest]",
                ),
            ],
        ),
        (
            "bare `kustomization`, resolved through the Application's path",
            &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (U, "kustomization:/k8s-apps/apps/forecast", "kustomization"),
            ],
        ),
        (
            "imageName with a tag, and the tag setting on the applicationRef",
            &[
                ARGOCD_KUSTOMIZATION,
                UPDATER,
                APPLICATION,
                (
                    U,
                    "imageName: ghcr.io/dcasati/python-base\n",
                    "imageName: ghcr.io/dcasati/python-base:sha-abc1234\n",
                ),
            ],
        ),
    ]);
}

#[test]
fn gitops_rules_explain_themselves() {
    let fx = Fixture::new();
    for rule in [
        "GITOPS-IMAGE-UNKNOWN",
        "GITOPS-ALLOW-TAGS",
        "GITOPS-WRITE-BACK",
    ] {
        let out = fx.lint(&["--explain", rule]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stdout.contains(rule) || out.stderr.contains(rule),
            "{out:?}"
        );
        assert!(
            format!("{}{}", out.stdout, out.stderr).contains("ImageUpdater"),
            "{out:?}"
        );
    }
}

#[test]
fn lint_never_reads_a_manifest_symlinked_outside_the_repo() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yaml");
    std::fs::write(&secret, "token: canary-outside-4242\n").unwrap();
    std::os::unix::fs::symlink(&secret, fx.path(&format!("{APP}/leak.yaml"))).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", fx.path(&format!("{APP}/env.yaml"))).unwrap();
    let env = [("LEAK_CANARY", "canary-environ-4242")];
    let json = run(fx.root(), &["--format", "json"], &env);
    assert_eq!(
        parse_findings(&json.stdout),
        [
            ("FILE-OUTSIDE-REPO".into(), format!("{APP}/env.yaml"), 1, 1),
            ("FILE-OUTSIDE-REPO".into(), format!("{APP}/leak.yaml"), 1, 1),
        ]
    );
    let human = run(fx.root(), &[], &env);
    assert_eq!(human.code, 1, "{human:?}");
    human.assert_stderr_has("a symlink to a file outside the repository; it was not read");
    for out in [&json, &human] {
        assert!(!out.all().contains("canary"), "{}", out.all());
    }
}

#[test]
fn schema_rules_explain_suppress_and_follow_the_kubernetes_version() {
    let fx = Fixture::new();
    let out = fx.lint(&["--explain", "schema-unknown-field"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .starts_with("SCHEMA-UNKNOWN-FIELD (error by default)"),
        "{}",
        out.stdout
    );
    let out = fx.lint(&["--explain", "DF-COPY-FROM-STAGE"]);
    assert!(out.stdout.contains("DL3022"), "{}", out.stdout);
    // A typo in the fixture's CronJob, at its line and column, with the nearest field.
    fx.edit(
        &format!("{APP}/cronjob.yaml"),
        "              image: ghcr.io/dcasati/python-base\n",
        "              image: ghcr.io/dcasati/python-base\n              imagePullPolcy: Always\n",
    );
    let out = fx.lint(&["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let found = parse_findings(&out.stdout);
    assert_eq!(
        found,
        [(
            "SCHEMA-UNKNOWN-FIELD".to_string(),
            format!("{APP}/cronjob.yaml"),
            20,
            15
        )]
    );
    assert!(out.stdout.contains("did you mean `imagePullPolicy`?"));
    // An allow marker suppresses it.
    fx.edit(
        &format!("{APP}/cronjob.yaml"),
        "              imagePullPolcy: Always\n",
        "              # xtask-lint: allow SCHEMA-UNKNOWN-FIELD testing the marker\n              imagePullPolcy: Always\n",
    );
    let out = fx.lint(&["--format", "json"]);
    assert_eq!((out.code, out.stdout.trim()), (0, "[]"), "{out:?}");
    // The kubernetes-version setting picks the schemas; an unknown version is a usage error.
    fx.write(
        &format!("{APP}/extra.yaml"),
        "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: f}\nspec:\n  priorityLevelConfiguration: {name: p}\n",
    );
    fx.edit(
        &format!("{APP}/kustomization.yaml"),
        "  - configmap.yaml\n",
        "  - configmap.yaml\n  - extra.yaml\n",
    );
    assert_eq!(fx.lint(&[]).code, 0);
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint]\nkubernetes-version = \"1.32\"\n",
    );
    let out = fx.lint(&["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("SCHEMA-API-VERSION"), "{}", out.stdout);
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask.lint]\nkubernetes-version = \"1.12\"\n",
    );
    let out = fx.lint(&[]);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("kubernetes-version `1.12` is not supported");
}

#[test]
fn containerfiles_are_linted() {
    let fx = Fixture::new();
    fx.write(
        &format!("{APP}/Containerfile"),
        "FROM python:latest\nUSER app\n",
    );
    let out = fx.lint(&["--format", "json"]);
    let found = parse_findings(&out.stdout);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "DF-FROM-TAG" && f.1 == format!("{APP}/Containerfile") && f.2 == 1),
        "{found:?}"
    );
}

#[test]
fn lint_reports_a_fifo_named_like_a_manifest_and_never_opens_it() {
    let fx = Fixture::new();
    let fifo = format!("{APP}/pipe.yaml");
    crate::support::fifo(fx.root(), &fifo);
    let (json, human) = crate::support::unblocking_fifo(&fx.path(&fifo), || {
        (fx.lint(&["--format", "json"]), fx.lint(&[]))
    });
    assert_eq!(
        parse_findings(&json.stdout),
        [("FILE-SPECIAL".into(), fifo.clone(), 1, 1)]
    );
    assert!(json.elapsed.as_secs() < 5 && human.elapsed.as_secs() < 5);
    human.assert_stderr_has("a FIFO, not a regular file; it was not opened");
}

#[test]
fn settings_paths_outside_the_repo_exit_2() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("k8s-apps")).unwrap();
    std::os::unix::fs::symlink(outside.path(), fx.path("elsewhere")).unwrap();
    for (settings, key) in [
        ("manifests = \"../\"", "manifests"),
        ("manifests = \"elsewhere/k8s-apps\"", "manifests"),
        (
            "[[workspace.metadata.xtask.images]]\nname = \"python-base\"\ncontext = \"elsewhere\"",
            "context",
        ),
        (
            "[[workspace.metadata.xtask.images]]\nname = \"python-base\"\ncontext = \"k8s-apps\"\ndockerfile = \"/etc/passwd\"",
            "dockerfile",
        ),
    ] {
        fx.write(
            "Cargo.toml",
            format!("[workspace.metadata.xtask]\n{settings}\n"),
        );
        let out = fx.lint(&[]);
        assert_eq!(out.code, 2, "{settings}: {out:?}");
        out.assert_stderr_has(&format!("{key} `"));
        out.assert_stderr_has("resolves outside the repository");
    }
}

#[test]
fn a_manifests_setting_spelt_with_dot_and_slash_lints_like_the_plain_one() {
    let fx = Fixture::new();
    fx.write(
        "Cargo.toml",
        "[workspace.metadata.xtask]\nmanifests = \"./k8s-apps/\"\n",
    );
    assert_eq!(fx.findings(&[]), []);
    assert_eq!(fx.findings(&["k8s-apps/apps"]), []);
}

#[test]
fn a_resource_reached_through_a_symlinked_folder_outside_the_repo_is_reported() {
    let fx = Fixture::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.yaml"), "token: canary-folder-4242\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), fx.path(&format!("{APP}/shared"))).unwrap();
    let k = fx.path(&format!("{APP}/kustomization.yaml"));
    let text = std::fs::read_to_string(&k).unwrap();
    std::fs::write(
        &k,
        text.replace(
            "  - configmap.yaml\n",
            "  - configmap.yaml\n  - shared/x.yaml\n",
        ),
    )
    .unwrap();
    let out = fx.lint(&["--format", "json"]);
    let found = parse_findings(&out.stdout);
    assert!(
        found.iter().any(|f| f.0 == "KUS-RESOURCE-OUTSIDE"
            && f.1 == format!("{APP}/kustomization.yaml")
            && f.2 == 8),
        "{found:?}"
    );
    assert!(!out.all().contains("canary"), "{}", out.all());
}
