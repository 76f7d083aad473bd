//! CLI tests of `cargo xtask diff` that need no renderer: what it refuses before rendering
//! anything (an unknown BASE, no default branch to compare with), and that it touches nothing.
//! The renders themselves are in `diff_e2e`.

use crate::support::diff::DiffRepo;

#[test]
fn an_unknown_base_is_exit_2_naming_it() {
    let r = DiffRepo::new();
    let out = r.diff(&["no-such-branch"]).expect(2);
    out.assert_stderr_has("`no-such-branch` names no commit");
    assert_eq!(out.stdout, "");
    let out = r.diff(&["--head", "nope"]).expect(2);
    out.assert_stderr_has("`nope` names no commit");
}

#[test]
fn without_a_default_branch_base_must_be_named() {
    let r = DiffRepo::new();
    // The only branch is `feature` (whatever init.defaultBranch made the first one).
    let head = r.git.head_commit().unwrap();
    r.git.git.branch("feature", &head, true).unwrap();
    r.git.git.set_head("refs/heads/feature").unwrap();
    for name in ["main", "master"] {
        if let Ok(mut b) = r.git.git.find_branch(name, git2::BranchType::Local) {
            b.delete().unwrap();
        }
    }
    drop(head);
    let out = r.diff(&[]).expect(2);
    out.assert_stderr_has_all(&["neither origin/HEAD nor main exists", "name BASE"]);
    assert!(!r.git.root().join("target/xtask/diff").exists());
}

#[test]
fn a_bad_format_is_a_usage_error() {
    let r = DiffRepo::new();
    let out = r.diff(&["HEAD", "--format", "yaml"]).expect(2);
    out.assert_stderr_has("invalid value 'yaml'");
}
