//! Issue 20, class 4: git as people really set it up, with the real git CLI (CI has it): a
//! partial clone is refused (its missing trees would make HEAD the tagged commit), a locked
//! branch ref in a linked worktree and a kustomization inside a submodule are refused before
//! any file is written, and `--commit` stores what `git add` would under `.gitattributes`
//! (`eol=crlf` normalised; a clean filter it cannot run is refused), leaving the tree clean.

use crate::support::update_images::*;
use crate::support::{self};
use std::path::Path;
use std::process::Command;

/// Runs `git ARGS` in `dir`; its stdout. Fails the test when git fails.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "protocol.file.allow=always"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(root: &Path, args: &[&str]) -> support::Outcome {
    support::xtask(root, args, &[], None)
}

#[test]
fn a_partial_clone_is_refused_instead_of_tagging_head() {
    let src = Fixture::new();
    iot_stack(&src);
    git(src.root(), &["config", "uploadpack.allowfilter", "true"]);
    let parent = support::temp_dir("partial");
    let url = format!("file://{}", src.root().display());
    git(
        parent.path(),
        &["clone", "-q", "--filter=tree:0", &url, "clone"],
    );
    let clone = parent.path().join("clone");
    let before = std::fs::read(clone.join(BASE_PATH)).unwrap();
    let out = run(&clone, &["update-images"]).expect(2);
    out.assert_stderr_has_all(&["partial clone", "--refetch", "pass the SHA"]);
    assert_eq!(std::fs::read(clone.join(BASE_PATH)).unwrap(), before);
}

#[test]
fn a_locked_branch_ref_of_a_linked_worktree_is_refused_before_writing() {
    let f = Fixture::new();
    iot_stack(&f);
    let parent = support::temp_dir("worktree");
    let wt = parent.path().join("wt");
    git(
        f.root(),
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feature",
            wt.to_str().unwrap(),
        ],
    );
    let lock = f.root().join(".git/refs/heads/feature.lock");
    std::fs::write(&lock, "").unwrap();
    let before = std::fs::read(wt.join(BASE_PATH)).unwrap();
    let out = run(&wt, &["update-images", "--commit"]).expect(2);
    out.assert_stderr_has_all(&["feature.lock", "another git command"]);
    assert_eq!(
        std::fs::read(wt.join(BASE_PATH)).unwrap(),
        before,
        "written before refusing"
    );
    std::fs::remove_file(&lock).unwrap();
    run(&wt, &["update-images", "--commit"]).expect(0);
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
}

#[test]
fn a_kustomization_inside_a_submodule_is_refused_before_writing() {
    let sub = Fixture::new();
    iot_stack(&sub);
    let f = Fixture::new();
    f.commit(&[("k8s-apps/base-images/Dockerfile", "FROM scratch\n")]);
    let url = sub.root().to_str().unwrap();
    git(f.root(), &["submodule", "add", "-q", url, "k8s-apps/stack"]);
    git(f.root(), &["commit", "-qm", "add the stack"]);
    let inside = f.root().join("k8s-apps/stack").join(BASE_PATH);
    let before = std::fs::read(&inside).unwrap();
    let out = run(f.root(), &["update-images", "--commit"]).expect(2);
    out.assert_stderr_has_all(&[
        "inside the submodule",
        "k8s-apps/stack",
        "no file was changed",
    ]);
    assert_eq!(std::fs::read(&inside).unwrap(), before);
}

#[test]
fn commit_stores_what_git_add_would_under_gitattributes_and_leaves_the_tree_clean() {
    let f = Fixture::new();
    iot_stack(&f);
    std::fs::write(f.root().join(".gitattributes"), "*.yaml text eol=crlf\n").unwrap();
    for path in [BASE_PATH, OVERLAY_PATH] {
        let text = f.read(path).replace('\n', "\r\n");
        std::fs::write(f.root().join(path), text).unwrap();
    }
    git(f.root(), &["add", "-A"]);
    git(f.root(), &["commit", "-qm", "crlf"]);
    assert_eq!(git(f.root(), &["status", "--porcelain"]), "");
    run(f.root(), &["update-images", "--commit"]).expect(0);
    let blob = git(f.root(), &["show", &format!("HEAD:{BASE_PATH}")]);
    assert!(!blob.contains('\r'), "the blob holds CRLF: {blob:?}");
    assert!(blob.contains("newTag:"), "{blob}");
    assert!(
        f.read(BASE_PATH).contains("\r\n"),
        "the work tree keeps CRLF"
    );
    assert_eq!(git(f.root(), &["status", "--porcelain"]), "");

    // A clean filter is a program: refused before any file is written.
    std::fs::write(f.root().join(".gitattributes"), "*.yaml filter=vault\n").unwrap();
    git(
        f.root(),
        &["config", "filter.vault.clean", "sed s/secret/CLEAN/"],
    );
    git(f.root(), &["config", "filter.vault.smudge", "cat"]);
    git(f.root(), &["commit", "-qam", "filter"]);
    f.commit(&[("k8s-apps/base-images/Dockerfile", "FROM scratch\n# newer\n")]);
    git(f.root(), &["reset", "-q", "--hard"]);
    let before = std::fs::read(f.root().join(BASE_PATH)).unwrap();
    let out = run(f.root(), &["update-images", "--commit"]).expect(2);
    out.assert_stderr_has_all(&["clean filter", "vault", "no file was changed"]);
    assert_eq!(std::fs::read(f.root().join(BASE_PATH)).unwrap(), before);
}

/// Concurrent `update-images --commit` runs: git's index and branch locks are taken first and
/// held, so exactly one run commits each new tag, every other one exits 2 (a lock is taken) or
/// 0 (already up to date, after the winner); no empty or duplicate commit, and the index
/// matches HEAD after every round. Runs in CI: plain processes on a temp repo.
#[test]
fn concurrent_commit_runs_make_one_commit_and_keep_the_index_consistent() {
    let f = Fixture::new();
    iot_stack(&f);
    for round in 0..4 {
        f.commit(&[(
            "k8s-apps/base-images/Dockerfile",
            &format!("FROM scratch\n# round {round}\n"),
        )]);
        let before = f.head();
        let runs: Vec<_> = (0..6)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
                    .arg("--root")
                    .arg(f.root())
                    .args(["update-images", "--commit"])
                    .current_dir(f.root())
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut committed = 0;
        for run in runs {
            let out = run.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            match out.status.code() {
                Some(0) if stderr.contains("committed ") => committed += 1,
                Some(0) => assert!(stderr.contains("already up to date"), "{stderr}"),
                Some(2) => assert!(stderr.contains("another git command"), "{stderr}"),
                other => panic!("exit {other:?}: {stderr}"),
            }
        }
        let log = git(f.root(), &["rev-list", &format!("{before}..HEAD")]);
        assert_eq!(log.lines().count(), committed, "round {round}: {log}");
        assert!(committed <= 1, "round {round}: {committed} commits");
        assert_eq!(
            git(f.root(), &["status", "--porcelain"]),
            "",
            "round {round}"
        );
        if committed == 0 {
            // Every run met another's lock: a run alone then commits.
            run(f.root(), &["update-images", "--commit"]).expect(0);
        }
        let diff = git(f.root(), &["diff", "--stat", "HEAD~1", "HEAD"]);
        assert!(
            diff.contains("kustomization.yaml"),
            "an empty commit: {diff}"
        );
    }
}
