//! Property tests: the Dockerfile, cron and secret rules never panic, on arbitrary text and on
//! text built from their own syntax (continuations, heredocs, flags, `${...}`, cron fields).
//! Cases per property: `XTASK_FUZZ_CASES` if set; else 10,000 under `XTASK_E2E=1`, 1,000
//! otherwise (as in yaml_fuzz.rs).

use crate::support;
use proptest::prelude::*;

use std::path::Path;
use xtask::lint::{cron, dockerfile, secrets};

const DOCKERFILE_PIECES: &[&str] = &[
    "FROM ",
    "from ",
    "RUN ",
    "COPY ",
    "ADD ",
    "USER ",
    "ARG ",
    "ENV ",
    "ONBUILD ",
    " AS ",
    " as ",
    "python:3.11-slim",
    "python",
    ":latest",
    "@sha256:",
    "scratch",
    "b",
    "--from=b ",
    "--chown=1:1 ",
    "--platform=$P ",
    "--mount=type=cache,target=/root/.cache/pip ",
    "pip install ",
    "python -m pip ",
    "--no-cache-dir ",
    "&& ",
    "; ",
    "| ",
    "\\\n",
    "`\n",
    "\\",
    "`",
    "\n",
    "\r\n",
    "\t",
    " ",
    "# escape=`\n",
    "# syntax=x\n",
    "# c\n",
    "<<EOF",
    "<<-EOT",
    "<<'X'",
    "EOF\n",
    "\tEOT\n",
    "X\n",
    "[\"",
    "\", \"",
    "\"]",
    "[",
    "]",
    "\"",
    "'",
    "$",
    "${",
    "}",
    "${A:-",
    "${A:+",
    "A=1 ",
    "PY=3.11",
    "$PY",
    "root",
    "0:0",
    "10001",
    "./",
    "../",
    "/",
    "*",
    "?",
    "[a]",
    "http://x/y",
    "git@h:r.git",
    "é",
    "日本",
    "\u{feff}",
    "\u{0}",
];

fn dockerfile_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(DOCKERFILE_PIECES), 0..120)
        .prop_map(|p| p.concat())
}

const CRON_PIECES: &[&str] = &[
    "*",
    "?",
    "/",
    "-",
    ",",
    " ",
    "\t",
    "0",
    "7",
    "59",
    "60",
    "+",
    "jan",
    "SUN",
    "@",
    "@every ",
    "@daily",
    "1h",
    "1.5",
    "ms",
    "µs",
    "TZ=",
    "CRON_TZ=",
    "9223372036854775808",
    "é",
];

fn cron_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(CRON_PIECES), 0..30).prop_map(|p| p.concat())
}

fn check_dockerfile(src: &str) {
    let has = |p: &str| p.len().is_multiple_of(2);
    for f in dockerfile::check(Path::new("Dockerfile"), src, &has) {
        assert!(f.line >= 1 && f.column >= 1, "{f:?}");
        assert!(
            f.line <= src.lines().count().max(1),
            "{f:?} past the end of {src:?}"
        );
    }
}

proptest! {
    #![proptest_config(support::fuzz_config())]

    #[test]
    fn dockerfile_arbitrary(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_dockerfile(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn dockerfile_structured(src in dockerfile_like()) {
        check_dockerfile(&src);
    }

    #[test]
    fn cron_arbitrary(s in any::<String>()) {
        let _ = cron::check_schedule(&s);
        let _ = cron::is_iana_zone(&s);
    }

    #[test]
    fn cron_structured(s in cron_like()) {
        if let Err(why) = cron::check_schedule(&s) {
            prop_assert!(!why.is_empty());
        }
    }

    #[test]
    fn secrets_arbitrary(key in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = secrets::looks_like_secret(&key, &String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn secrets_structured(key in dockerfile_like(), value in dockerfile_like()) {
        let _ = secrets::looks_like_secret(&key, &value);
    }
}
