//! `cargo xtask smoke` without tools: bad input exits 2, naming what to do, before any engine
//! or registry is asked anything (PATH is empty).

use crate::support::build_push::*;

#[test]
fn smoke_bad_input_exits_2_before_any_tool_runs() {
    let no_tools = crate::support::temp_dir("no-tools");
    let path = Some(no_tools.path().to_str().unwrap());
    let f = Fixture::new("smoke-input", "", "FROM scratch\n");
    f.commit("base");
    let digest = format!("sha256:{}", "a".repeat(64));
    for (args, want) in [
        (&["smoke"][..], "no build record for python-base ("),
        (
            &["smoke"],
            "run `cargo xtask build-base --push` first, or pass --digest or --sha",
        ),
        (
            &["smoke", "--digest", "sha256:short"],
            "--digest sha256:short: not a digest",
        ),
        (&["smoke", "--image", "nope"], "unknown image `nope`"),
        (
            &["smoke", "--sha", "abc1234", "--digest", &digest],
            "cannot be used with",
        ),
    ] {
        let out = xtask(f.root(), args, &[], path);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        out.assert_stderr_has(want);
    }
    // A smoke command must name a program.
    let bad = Fixture::new(
        "smoke-setting",
        "[[workspace.metadata.xtask.images]]\nname = \"python-base\"\n\
         context = \"k8s-apps/base-images\"\nsmoke = [\"\", \"x\"]\n",
        "FROM scratch\n",
    );
    bad.commit("base");
    let out = xtask(bad.root(), &["smoke", "--digest", &digest], &[], path);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("image python-base: smoke: the first word is the program to run");
}
