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
    // --digests: one platform configured, its file present.
    let digests = ["smoke", "--digests", "target/xtask/digests"];
    let out = xtask(f.root(), &digests, &[], path);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("but 2 are configured (linux/amd64, linux/arm64): set XTASK_PLATFORMS");
    f.write("target/xtask/digests/linux-arm64", format!("{digest}\n"));
    let amd64 = [("XTASK_PLATFORMS", "linux/amd64")];
    let out = xtask(f.root(), &digests, &amd64, path);
    assert_eq!(out.code, 2, "{out:?}");
    out.assert_stderr_has("holds no digest file for linux/amd64 (expected linux-amd64)");
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
