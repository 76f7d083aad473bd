//! End to end (XTASK_E2E=1) for `cargo xtask diff`: real git history in a fixture repo shaped
//! like this one, rendered by the real `kubectl kustomize` at both commits. Each test makes the
//! change a pull request would make and asserts what every format says about it.

use crate::support::diff::{DiffRepo, application, changes, cronjob};
use crate::support::require;
use serde_json::json;

const KUST: &str = "k8s-apps/iot-stack/kustomization.yaml";

fn head(r: &DiffRepo) -> String {
    r.git.head_commit().unwrap().id().to_string()
}

fn tuples<'a>(
    want: &'a [(&'a str, &'a str, &'a str, &'a str)],
) -> Vec<(String, String, String, String)> {
    want.iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect()
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_tag_bump_is_one_image_line_first_and_two_modified_cronjobs() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(KUST, "newTag: sha-aaaaaaa", "newTag: sha-bbbbbbb");
    let report = r.json(&first, &second);
    assert_eq!(
        (report["base"].as_str(), report["head"].as_str()),
        (Some(first.as_str()), Some(second.as_str()))
    );
    assert_eq!(
        changes(&report),
        tuples(&[
            ("iot-stack", "modified", "CronJob", "forecast"),
            ("iot-stack", "modified", "CronJob", "sunrise")
        ])
    );
    assert_eq!(
        report["images"],
        json!([{"image": "python-base", "from": "sha-aaaaaaa", "to": "sha-bbbbbbb", "objects": {"CronJob": 2}}])
    );
    let diff = report["apps"][0]["changes"][0]["diff"].as_str().unwrap();
    assert!(
        diff.contains(
            "-            image: ghcr.io/dcasati/python-base:sha-aaaaaaa\n+            image: ghcr.io/dcasati/python-base:sha-bbbbbbb\n"
        ),
        "{diff}"
    );
    assert_eq!(
        diff.lines().filter(|l| l.starts_with(['+', '-'])).count(),
        2,
        "{diff}"
    );
    // The unit of the app-of-apps folder is listed, unchanged.
    assert_eq!(report["apps"][0]["name"], "iot-stack");
    assert_eq!(report["apps"][1]["name"], "k8s-apps/argocd");

    let human = r.diff(&[&first, "--head", &second]).expect(0);
    let line = "python-base sha-aaaaaaa → sha-bbbbbbb in 2 CronJobs";
    assert!(
        human.stdout.starts_with(&format!(
            "diff {}..{}\nimages:\n  {line}\n",
            &first[..7],
            &second[..7]
        )),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains('\x1b'), "no colour off a terminal");
    let md = r
        .diff(&[&first, "--head", &second, "--format", "markdown"])
        .expect(0);
    assert!(md.stdout.contains(&format!("- {line}\n")), "{}", md.stdout);
    assert!(
        md.stdout
            .contains("| iot-stack | `k8s-apps/iot-stack` | 0 | 0 | 2 |"),
        "{}",
        md.stdout
    );
    // --exit-code: 1 on a change, 0 without.
    r.diff(&[&first, "--head", &second, "--exit-code"])
        .expect(1);
    r.diff(&[&second, "--head", &second, "--exit-code"])
        .expect(0);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_schedule_change_modifies_that_cronjob_only() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(
        "k8s-apps/iot-stack/sunrise/cronjob.yaml",
        "30 5 * * *",
        "45 6 * * *",
    );
    let report = r.json(&first, &second);
    assert_eq!(
        changes(&report),
        tuples(&[("iot-stack", "modified", "CronJob", "sunrise")])
    );
    let c = &report["apps"][0]["changes"][0];
    assert_eq!(c["namespace"], "iot-stack");
    let diff = c["diff"].as_str().unwrap();
    assert!(
        diff.contains("-  schedule: 30 5 * * *\n+  schedule: 45 6 * * *\n"),
        "{diff}"
    );
    assert_eq!(report["images"], json!([]));
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_script_change_renames_the_generated_configmap_which_is_modified_not_replaced() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(
        "k8s-apps/iot-stack/forecasting/forecast.py",
        "print('forecast')",
        "print('forecast v2')",
    );
    let report = r.json(&first, &second);
    let got = changes(&report);
    let kinds: Vec<(&str, &str)> = got.iter().map(|c| (c.1.as_str(), c.2.as_str())).collect();
    // The ConfigMap, and both CronJobs that mount it by its new name.
    assert_eq!(
        kinds,
        [
            ("modified", "ConfigMap"),
            ("modified", "CronJob"),
            ("modified", "CronJob")
        ],
        "{got:?}"
    );
    let cm = &report["apps"][0]["changes"][0];
    let name = cm["name"].as_str().unwrap();
    assert!(
        name.starts_with("forecast-script-") && name.len() == "forecast-script-".len() + 10,
        "{name}"
    );
    let diff = cm["diff"].as_str().unwrap();
    assert!(
        diff.contains("-    print('forecast')\n+    print('forecast v2')\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-  name: forecast-script-") && diff.contains("+  name: forecast-script-"),
        "{diff}"
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_secret_value_change_is_never_printed_in_any_format() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(
        KUST,
        "INFLUX_TOKEN=old-token-value-1",
        "INFLUX_TOKEN=new-token-value-2\n      - INFLUX_ORG=home-org-3",
    );
    let report = r.json(&first, &second);
    let secret = report["apps"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "Secret")
        .expect("the Secret is modified");
    assert_eq!(secret["action"], "modified");
    let diff = secret["diff"].as_str().unwrap();
    assert!(
        diff.contains("-  INFLUX_TOKEN: <secret>\n+  INFLUX_ORG: <secret added>\n+  INFLUX_TOKEN: <secret changed>\n"),
        "{diff}"
    );
    let forbidden = ["old-token-value-1", "new-token-value-2", "home-org-3"]
        .into_iter()
        .flat_map(|v| [v.to_string(), base64(v)])
        .collect::<Vec<_>>();
    for format in ["human", "markdown", "json"] {
        let out = r
            .diff(&[&first, "--head", &second, "--format", format])
            .expect(0);
        for f in &forbidden {
            assert!(
                !out.all().contains(f.as_str()),
                "{format} printed `{f}`:\n{}",
                out.all()
            );
        }
        assert!(
            out.stdout.contains("<secret changed>"),
            "{format}: {}",
            out.stdout
        );
    }
    // A new Secret shows only added markers.
    r.git.write("k8s-apps/iot-stack/extra-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  password: plain-text-pw-4\n");
    r.edit(
        KUST,
        "  - namespace.yaml\n",
        "  - namespace.yaml\n  - extra-secret.yaml\n",
    );
    let third = r.git.commit("extra");
    for format in ["human", "markdown", "json"] {
        let out = r
            .diff(&[&second, "--head", &third, "--format", format])
            .expect(0);
        assert!(
            !out.all().contains("plain-text-pw-4"),
            "{format}: {}",
            out.all()
        );
        assert!(
            out.stdout.contains("password: <secret added>"),
            "{format}: {}",
            out.stdout
        );
    }
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_removed_object_is_all_minus() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(KUST, "  - sunrise/cronjob.yaml\n", "");
    let report = r.json(&first, &second);
    assert_eq!(
        changes(&report),
        tuples(&[("iot-stack", "removed", "CronJob", "sunrise")])
    );
    let diff = report["apps"][0]["changes"][0]["diff"].as_str().unwrap();
    assert!(
        diff.starts_with("@@ -1,") && diff.lines().skip(1).all(|l| l.starts_with('-')),
        "{diff}"
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_pure_reordering_is_no_change() {
    require("kubectl");
    let r = DiffRepo::new();
    let first = head(&r);
    // Resources in another order, keys in another order, comments, flow style.
    r.edit(
        KUST,
        "  - forecasting/cronjob.yaml\n  - sunrise/cronjob.yaml\n",
        "  - sunrise/cronjob.yaml # the morning job\n  - forecasting/cronjob.yaml\n",
    );
    r.git.write(
        "k8s-apps/iot-stack/namespace.yaml",
        "# the namespace\nmetadata: {name: iot-stack}\nkind: Namespace\napiVersion: v1\n",
    );
    let job = cronjob("sunrise", "30 5 * * *")
        .replace("restartPolicy: Never\n          containers:", "containers:")
        .replace(
            "          volumes:",
            "          restartPolicy: Never\n          volumes:",
        );
    r.git.write("k8s-apps/iot-stack/sunrise/cronjob.yaml", job);
    let second = r.git.commit("reorder");
    let report = r.json(&first, &second);
    assert_eq!(changes(&report), tuples(&[]));
    let md = r
        .diff(&[&first, "--head", &second, "--format", "markdown"])
        .expect(0);
    assert!(
        md.stdout
            .contains("No change in the rendered manifests of 2 units."),
        "{}",
        md.stdout
    );
    let human = r.diff(&[&first, "--head", &second]).expect(0);
    assert!(
        human.stdout.ends_with("no change in 2 units rendered\n"),
        "{}",
        human.stdout
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_new_application_and_its_folder_are_all_added() {
    require("kubectl");
    let r = DiffRepo::new();
    let first = head(&r);
    r.git.write(
        "k8s-apps/argocd/weather-application.yaml",
        application("weather", "k8s-apps/weather"),
    );
    r.edit(
        "k8s-apps/argocd/kustomization.yaml",
        "  - iot-stack-application.yaml\n",
        "  - iot-stack-application.yaml\n  - weather-application.yaml\n",
    );
    r.git.write(
        "k8s-apps/weather/kustomization.yaml",
        "namespace: weather\nresources:\n  - cronjob.yaml\n",
    );
    r.git.write(
        "k8s-apps/weather/cronjob.yaml",
        cronjob("weather", "*/15 * * * *"),
    );
    let second = r.git.commit("weather");
    let report = r.json(&first, &second);
    assert_eq!(
        changes(&report),
        tuples(&[
            ("k8s-apps/argocd", "added", "Application", "weather"),
            ("weather", "added", "CronJob", "weather")
        ])
    );
    assert_eq!(report["apps"][2]["path"], "k8s-apps/weather");
    // And the other way round, the unit is all removed.
    let back = r.json(&second, &first);
    assert_eq!(
        changes(&back),
        tuples(&[
            ("k8s-apps/argocd", "removed", "Application", "weather"),
            ("weather", "removed", "CronJob", "weather")
        ])
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_huge_change_keeps_the_markdown_under_githubs_limit_with_a_complete_summary() {
    require("kubectl");
    let r = DiffRepo::new();
    let first = head(&r);
    let mut apps = String::from("resources:\n  - iot-stack-application.yaml\n");
    for i in 0..12 {
        let name = format!("bulk{i:02}");
        r.git.write(
            &format!("k8s-apps/argocd/{name}.yaml"),
            application(&name, &format!("k8s-apps/{name}")),
        );
        apps.push_str(&format!("  - {name}.yaml\n"));
        let script: String = (0..2_000)
            .map(|l| format!("print('{name} line {l}')\n"))
            .collect();
        r.git.write(&format!("k8s-apps/{name}/run.py"), script);
        r.git.write(
            &format!("k8s-apps/{name}/kustomization.yaml"),
            "configMapGenerator:\n  - name: script\n    files:\n      - run.py\n",
        );
    }
    r.git.write("k8s-apps/argocd/kustomization.yaml", apps);
    let second = r.git.commit("bulk");
    let out = r
        .diff(&[&first, "--head", &second, "--format", "markdown"])
        .expect(0);
    let md = &out.stdout;
    assert!(md.len() <= 65_536, "{} bytes", md.len());
    assert!(md.chars().count() <= 65_536);
    for i in 0..12 {
        assert!(
            md.contains(&format!(
                "| bulk{i:02} | `k8s-apps/bulk{i:02}` | 1 | 0 | 0 |"
            )),
            "bulk{i:02}:\n{md}"
        );
    }
    assert!(
        md.contains("| k8s-apps/argocd | `k8s-apps/argocd` | 12 | 0 | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("lines of this diff left out to stay within GitHub's comment limit"),
        "{md}"
    );
    // --output writes the same text, atomically, to a file.
    r.diff(&[
        &first,
        "--head",
        &second,
        "--format",
        "markdown",
        "--output",
        "target/diff.md",
    ])
    .expect(0);
    assert_eq!(&r.git.read("target/diff.md"), md);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_broken_render_is_exit_2_naming_the_unit_the_commit_and_kustomizes_message() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(
        KUST,
        "  - namespace.yaml\n",
        "  - namespace.yaml\n  - missing.yaml\n",
    );
    for format in ["human", "json", "markdown"] {
        let out = r
            .diff(&[&first, "--head", &second, "--format", format])
            .expect(2);
        assert_eq!(out.stdout, "", "nothing printed as a diff");
        out.assert_stderr_has_all(&[
            &format!(
                "unit `iot-stack` at commit {} failed to render",
                &second[..7]
            ),
            "missing.yaml",
            "nothing was compared",
        ]);
    }
    // Broken at BASE is the same.
    let out = r.diff(&[&second, "--head", &first]).expect(2);
    out.assert_stderr_has(&format!(
        "unit `iot-stack` at commit {} failed to render",
        &second[..7]
    ));
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn base_defaults_to_the_merge_base_and_the_working_tree_is_never_read_or_left_dirty() {
    require("kubectl");
    let r = DiffRepo::new();
    let first = r.git.head_commit().unwrap();
    r.git.git.branch("main", &first, false).unwrap();
    r.edit(KUST, "newTag: sha-aaaaaaa", "newTag: sha-ccccccc");
    r.git.commit("bump on a branch");
    // An uncommitted edit is not part of HEAD.
    r.edit(
        "k8s-apps/iot-stack/sunrise/cronjob.yaml",
        "30 5 * * *",
        "59 23 * * *",
    );
    let out = r.diff(&["--format", "json"]).expect(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["base"], first.id().to_string());
    assert_eq!(report["images"][0]["to"], "sha-ccccccc");
    assert!(!out.stdout.contains("59 23"), "{}", out.stdout);
    assert!(
        r.git
            .read("k8s-apps/iot-stack/sunrise/cronjob.yaml")
            .contains("59 23 * * *")
    );
    let scratch = r.git.root().join("target/xtask/diff");
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "the scratch folder is removed"
    );
    // origin/HEAD, when set, wins over main.
    let second = r.git.head_commit().unwrap();
    r.git
        .git
        .reference("refs/remotes/origin/trunk", second.id(), true, "t")
        .unwrap();
    r.git
        .git
        .reference_symbolic(
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/trunk",
            true,
            "t",
        )
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&r.diff(&["--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(report["base"], second.id().to_string());
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_remote_base_is_refused_unless_allowed() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(
        KUST,
        "  - namespace.yaml\n",
        "  - namespace.yaml\n  - https://github.com/example/remote//base?ref=v1\n",
    );
    let out = r.diff(&[&first, "--head", &second]).expect(2);
    out.assert_stderr_has_all(&[
        "unit `iot-stack`",
        "k8s-apps/iot-stack/kustomization.yaml",
        "https://github.com/example/remote//base?ref=v1",
        "--allow-remote",
    ]);
    assert_eq!(out.stdout, "");
    // Allowed, kustomize fetches it: here from a loopback port nothing listens on, so the
    // render fails with kustomize's own message.
    let port = crate::support::free_port();
    let url = format!("http://127.0.0.1:{port}/base.yaml");
    r.edit(KUST, "https://github.com/example/remote//base?ref=v1", &url);
    let third = r.git.commit("loopback remote");
    let out = r
        .diff(&[&first, "--head", &third, "--allow-remote"])
        .expect(2);
    out.assert_stderr_has_all(&[
        &format!(
            "unit `iot-stack` at commit {} failed to render",
            &third[..7]
        ),
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(!out.stderr.contains("refuses to fetch"), "{}", out.stderr);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_shallow_clone_without_base_is_exit_2_naming_the_fix() {
    require("kubectl");
    require("git");
    let (r, first, _) = DiffRepo::edited(KUST, "newTag: sha-aaaaaaa", "newTag: sha-bbbbbbb");
    let clone = crate::support::temp_dir("diff-shallow");
    let url = format!("file://{}", r.git.root().display());
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--depth", "1", &url])
        .arg(clone.path().join("c"))
        .status()
        .unwrap();
    assert!(status.success());
    let root = clone.path().join("c");
    let out = crate::support::xtask(&root, &["diff", &first], &[], None).expect(2);
    out.assert_stderr_has_all(&["shallow clone", "git fetch --unshallow", "fetch-depth: 0"]);
    // Without BASE and with no default branch to find it from, the same.
    let clone_git = git2::Repository::open(&root).unwrap();
    for name in [
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/master",
        "refs/remotes/origin/main",
    ] {
        if let Ok(mut r) = clone_git.find_reference(name) {
            r.delete().unwrap();
        }
    }
    let out = crate::support::xtask(&root, &["diff"], &[], None).expect(2);
    out.assert_stderr_has_all(&["git fetch --unshallow", "fetch-depth: 0"]);
}

/// Standard base64 with padding, as kustomize writes a Secret's `data`.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_the_rfc_examples() {
    assert_eq!(base64("f"), "Zg==");
    assert_eq!(base64("fo"), "Zm8=");
    assert_eq!(base64("foobar"), "Zm9vYmFy");
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_symlink_out_of_the_repository_is_refused_and_never_read() {
    require("kubectl");
    let r = DiffRepo::new();
    let first = head(&r);
    let script = r
        .git
        .root()
        .join("k8s-apps/iot-stack/forecasting/forecast.py");
    std::fs::remove_file(&script).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &script).unwrap();
    let second = r.git.commit("leak");
    let out = r
        .diff(&[&first, "--head", &second, "--format", "json"])
        .expect(2);
    out.assert_stderr_has_all(&[
        "k8s-apps/iot-stack/forecasting/forecast.py",
        &second[..7],
        "a symlink that leads outside the repository",
    ]);
    assert!(!out.all().contains("root:"), "{}", out.all());
    assert_eq!(out.stdout, "");
}

/// A `target` link that a clone brings (here: one in the work tree) would put the scratch
/// folder, both exported trees and the stale-folder removal outside the repository.
#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_target_link_out_of_the_repository_is_refused_and_nothing_is_written_through_it() {
    require("kubectl");
    let (r, first, second) = DiffRepo::edited(KUST, "  - sunrise/cronjob.yaml\n", "");
    let outside = crate::support::temp_dir("outside-target");
    std::fs::create_dir_all(outside.path().join("xtask/diff/999999999")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.git.root().join("target")).unwrap();
    let out = r.diff(&[&first, "--head", &second]).expect(2);
    out.assert_stderr_has("target is a symlink, not a folder");
    assert_eq!(out.stdout, "");
    let left: Vec<_> = std::fs::read_dir(outside.path().join("xtask/diff"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["999999999"],
        "nothing made or removed outside the repo"
    );
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn sigterm_mid_render_removes_the_scratch_folder_and_ends_by_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    require("kubectl");
    let r = DiffRepo::new();
    let first = head(&r);
    // 1,500 resources: kubectl kustomize takes seconds on them.
    let mut resources = String::from("resources:\n");
    for i in 0..1_500 {
        r.git.write(
            &format!("k8s-apps/slow/cm{i}.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{i}\n"),
        );
        resources.push_str(&format!("  - cm{i}.yaml\n"));
    }
    r.git.write("k8s-apps/slow/kustomization.yaml", resources);
    let second = r.git.commit("slow");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "--root",
            r.git.root().to_str().unwrap(),
            "diff",
            &first,
            "--head",
            &second,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let scratch = r
        .git
        .root()
        .join(format!("target/xtask/diff/{}", child.id()));
    let start = std::time::Instant::now();
    while !scratch
        .join("head/k8s-apps/slow/kustomization.yaml")
        .exists()
    {
        assert!(start.elapsed().as_secs() < 30, "diff never exported HEAD");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) of the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
    assert!(!scratch.exists(), "the scratch folder is removed");
    assert!(start.elapsed().as_secs() < 60);
}

#[test]
#[ignore = "e2e: runs with XTASK_E2E=1 against the real tools"]
fn a_change_in_an_included_folder_is_seen_and_units_whose_folders_did_not_change_are_not_rendered()
{
    require("kubectl");
    let r = DiffRepo::new();
    r.git.write(
        "k8s-apps/common/kustomization.yaml",
        "resources:\n  - settings.yaml\n",
    );
    r.git.write(
        "k8s-apps/common/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n",
    );
    r.edit(
        KUST,
        "  - namespace.yaml\n",
        "  - namespace.yaml\n  - ../common\n",
    );
    // A unit broken at both commits, which this change does not touch.
    r.git.write(
        "k8s-apps/untouched/kustomization.yaml",
        "resources:\n  - missing.yaml\n",
    );
    let first = r.git.commit("common");
    r.edit(
        "k8s-apps/common/settings.yaml",
        "level: info",
        "level: debug",
    );
    let second = r.git.commit("debug");
    let report = r.json(&first, &second);
    assert_eq!(
        changes(&report),
        tuples(&[("iot-stack", "modified", "ConfigMap", "settings")])
    );
    let names: Vec<&str> = report["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["iot-stack", "k8s-apps/argocd", "k8s-apps/untouched"]
    );
    // Once its folder changes, the broken unit is rendered, and fails.
    r.git
        .write("k8s-apps/untouched/other.yaml", "kind: ConfigMap\n");
    let third = r.git.commit("touch");
    r.diff(&[&second, "--head", &third])
        .expect(2)
        .assert_stderr_has("unit `k8s-apps/untouched` at commit");
}
