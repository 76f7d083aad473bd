//! Unit tests of the DF rules on inline Dockerfiles, asserting rule id, line and column.

use super::*;

/// Runs the check with a context that holds `files` (and their parent directories).
fn run(src: &str, files: &[&str]) -> Vec<(&'static str, usize, usize)> {
    findings(src, files)
        .into_iter()
        .map(|f| (f.rule, f.line, f.column))
        .collect()
}

fn findings(src: &str, files: &[&str]) -> Vec<Finding> {
    let has = |p: &str| {
        files
            .iter()
            .any(|f| *f == p || f.starts_with(&format!("{p}/")))
    };
    check(Path::new("k8s-apps/base-images/Dockerfile"), src, &has)
}

const GOOD: &str = "\
FROM python:3.11-slim
ARG UID=10001
ENV PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/
RUN pip install --require-hashes -r /tmp/requirements.txt
USER ${UID}:${UID}
";

#[test]
fn the_repos_shape_is_clean() {
    assert_eq!(run(GOOD, &["requirements.txt"]), vec![]);
}

#[test]
fn findings_carry_file_severity_and_message() {
    let f = findings("FROM python\nUSER app\n", &[]);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].rule, FROM_TAG.id);
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(f[0].file, Path::new("k8s-apps/base-images/Dockerfile"));
    assert!(
        f[0].message.contains("`python` has no tag"),
        "{}",
        f[0].message
    );
    assert_eq!(f[1].rule, BASE_NOT_SLIM.id);
    assert_eq!(f[1].severity, Severity::Warning);
}

#[test]
fn rules_have_unique_ids_and_explanations() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    assert!(
        RULES
            .iter()
            .all(|r| r.explain.len() > 80 && r.id.starts_with("DF-"))
    );
}

// --- DF-USER-ROOT

#[test]
fn missing_user_is_reported_at_the_final_from() {
    let src = "FROM python:3.11-slim AS build\nUSER app\n\nFROM python:3.11-slim\nRUN true\n";
    assert_eq!(run(src, &[]), vec![(USER_ROOT.id, 4, 1)]);
}

#[test]
fn root_users_are_reported_at_the_user_word() {
    for user in ["root", "0", "root:root", "0:0", "root:1000", "00"] {
        let src = format!("FROM python:3.11-slim\nUSER app\nUSER   {user}\n");
        assert_eq!(run(&src, &[]), vec![(USER_ROOT.id, 3, 8)], "USER {user}");
    }
}

#[test]
fn non_root_users_pass() {
    for user in ["app", "10001", "1000:0", "nobody:nogroup", "root2"] {
        let src = format!("FROM python:3.11-slim\nUSER root\nUSER {user}\n");
        assert_eq!(run(&src, &[]), vec![], "USER {user}");
    }
}

#[test]
fn user_from_arg_is_resolved() {
    let src = "FROM python:3.11-slim\nARG U=0\nUSER $U\n";
    assert_eq!(run(src, &[]), vec![(USER_ROOT.id, 3, 6)]);
    let src = "FROM python:3.11-slim\nARG U=1000\nUSER ${U}\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn user_is_inherited_through_stage_aliases() {
    let src = "FROM python:3.11-slim AS base\nUSER app\nFROM base\nRUN true\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM python:3.11-slim AS base\nUSER root\nFROM BASE\nRUN true\n";
    assert_eq!(run(src, &[]), vec![(USER_ROOT.id, 2, 6)]);
}

#[test]
fn only_the_final_stage_counts_for_user() {
    let src = "FROM python:3.11-slim AS build\nUSER root\nFROM python:3.11-slim\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

// --- DF-FROM-TAG

#[test]
fn unpinned_from_is_reported_at_the_image_word() {
    let src = "FROM --platform=$BUILDPLATFORM python AS build\nFROM python:latest\nUSER app\n";
    let got = run(src, &[]);
    assert_eq!(
        got,
        vec![
            (FROM_TAG.id, 1, 32),
            (FROM_TAG.id, 2, 6),
            (BASE_NOT_SLIM.id, 2, 6)
        ]
    );
}

#[test]
fn pinned_scratch_and_stage_froms_pass() {
    let digest = format!("sha256:{}", "a".repeat(64));
    let src = format!(
        "FROM python:3.11-slim AS build\nFROM python@{digest} AS d\nFROM python:latest@{digest} AS e\n\
         FROM scratch AS s\nFROM build\nUSER app\n"
    );
    assert_eq!(run(&src, &[]), vec![]);
}

#[test]
fn registry_ports_are_not_tags() {
    let src = "FROM localhost:32000/homelab/python-base\nUSER app\n";
    let got = run(src, &[]);
    assert_eq!(got[0], (FROM_TAG.id, 1, 6));
    let src = "FROM localhost:32000/homelab/python-base:sha-abc1234-slim\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn from_args_are_substituted() {
    let src = "ARG PY=3.11\nFROM python:${PY}-slim\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "ARG TAG=latest\nFROM python:$TAG\nUSER app\n";
    assert_eq!(run(src, &[])[0], (FROM_TAG.id, 2, 6));
    let src = "ARG PY\nFROM python:${PY:-3.12}-slim\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn from_with_an_arg_without_default_is_unpinned() {
    let src = "ARG BASE\nFROM ${BASE}\nUSER app\n";
    let f = findings(src, &[]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].rule, f[0].line, f[0].column), (FROM_TAG.id, 2, 6));
    assert!(f[0].message.contains("no default"), "{}", f[0].message);
}

#[test]
fn stage_args_do_not_reach_from() {
    // An ARG declared inside a stage is not in scope for the next FROM.
    let src = "FROM python:3.11-slim\nARG T=3.11\nFROM python:$T\nUSER app\n";
    assert_eq!(run(src, &[])[0], (FROM_TAG.id, 3, 6));
}

// --- DF-BASE-NOT-SLIM

#[test]
fn only_the_final_stage_base_must_be_slim() {
    let src = "FROM python:3.11 AS build\nRUN true\nFROM gcr.io/distroless/python3-debian12:nonroot\nUSER 65532\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM python:3.11-alpine\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM alpine:3.20\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM scratch\nUSER 1000\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn a_fat_base_reached_through_an_alias_is_reported_where_it_is_named() {
    let src = "FROM python:3.11 AS base\nUSER app\nFROM base\n";
    assert_eq!(run(src, &[]), vec![(BASE_NOT_SLIM.id, 1, 6)]);
}

// --- DF-PIP-NO-CACHE

#[test]
fn pip_install_without_no_cache_dir() {
    let src = "FROM python:3.11-slim\nRUN apt-get update && pip install requests\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 2, 23)]);
}

#[test]
fn pip_variants_are_recognised() {
    for cmd in [
        "pip3 install x",
        "pip3.11 install -U x",
        "/usr/local/bin/pip install x",
        "python -m pip install x",
        "python3 -m pip --quiet install x",
        "python3.11 -m pip install x",
    ] {
        let src = format!("FROM python:3.11-slim\nRUN {cmd}\nUSER app\n");
        assert_eq!(run(&src, &[]), vec![(PIP_NO_CACHE.id, 2, 5)], "{cmd}");
    }
}

#[test]
fn pip_with_no_cache_or_not_installing_passes() {
    for cmd in [
        "pip install --no-cache-dir x",
        "python -m pip install --no-cache-dir -r r.txt",
        "PIP_NO_CACHE_DIR=1 pip install x",
        "pip download x",
        "pip --version",
        "echo pip install x",
        "pipx install x",
        "python -c 'print(1)'",
    ] {
        let src = format!("FROM python:3.11-slim\nRUN {cmd}\nUSER app\n");
        assert_eq!(run(&src, &[]), vec![], "{cmd}");
    }
}

#[test]
fn pip_no_cache_dir_env_counts_only_when_set_earlier_in_the_stage() {
    let src = "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR true\nRUN pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM python:3.11-slim\nRUN pip install x\nENV PIP_NO_CACHE_DIR=1\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 2, 5)]);
    let src = "FROM python:3.11-slim AS a\nENV PIP_NO_CACHE_DIR=1\nFROM python:3.11-slim\nRUN pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 4, 5)]);
    // ...but a stage built FROM one that set it inherits the ENV.
    let src =
        "FROM python:3.11-slim AS a\nENV PIP_NO_CACHE_DIR=1\nFROM a\nRUN pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn pip_cache_mount_passes() {
    let src = "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn pip_over_continuation_lines_is_reported_on_its_own_line() {
    let src = "FROM python:3.11-slim\nRUN set -eux; \\\n    # a comment inside\n    \\\n    apt-get update; \\\n    pip install \\\n      requests\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 6, 5)]);
}

#[test]
fn pip_in_exec_form() {
    let src = "FROM python:3.11-slim\nRUN [\"pip\", \"install\", \"x\"]\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 2, 7)]);
    let src =
        "FROM python:3.11-slim\nRUN [\"/bin/sh\", \"-c\", \"cd /x && pip install .\"]\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 2, 33)]);
    let src =
        "FROM python:3.11-slim\nRUN [\"pip\", \"install\", \"--no-cache-dir\", \"x\"]\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn pip_in_a_heredoc_and_the_heredoc_is_not_parsed_as_instructions() {
    let src =
        "FROM python:3.11-slim\nRUN <<EOF\nset -e\nFROM ubuntu\npip install x\nEOF\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 5, 1)]);
    let src =
        "FROM python:3.11-slim\nRUN <<-EOT bash\n\tpip install --no-cache-dir x\n\tEOT\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    // A python heredoc body is not shell.
    let src = "FROM python:3.11-slim\nRUN python3 <<EOF\nprint('pip install x')\nEOF\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

// --- DF-ADD-URL

#[test]
fn add_of_a_url_is_reported_at_the_url() {
    let src = "FROM python:3.11-slim\nADD --chown=app https://example.com/x.tgz /opt/\nADD git@github.com:a/b.git /src\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(ADD_URL.id, 2, 17), (ADD_URL.id, 3, 5)]);
}

#[test]
fn add_through_an_arg_with_a_url_default_is_add_url() {
    let src =
        "FROM python:3.11-slim\nARG URL=https://example.com/tool.tgz\nADD $URL /opt/\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(ADD_URL.id, 3, 5)]);
    let f = findings(src, &[]);
    assert!(
        f[0].message
            .contains("`$URL` (`https://example.com/tool.tgz`)"),
        "{}",
        f[0].message
    );
    // A global ARG redeclared in the stage, and ENV, expand the same way.
    let src = "ARG BASE=https://example.com\nFROM python:3.11-slim\nARG BASE\nENV REPO=${BASE}/repo.git\nADD ${BASE}/x.tgz /opt/\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d $BASE/y.tgz /opt/\nCOPY $BASE/z.tgz /opt/\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(ADD_URL.id, 5, 5)]);
    // An ARG without a default is unknown: neither a URL nor a missing file.
    let src = "FROM python:3.11-slim\nARG URL\nADD $URL /opt/\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn copy_of_a_url_is_not_add_url() {
    let src = "FROM python:3.11-slim\nADD x.tgz /opt/\nUSER app\n";
    assert_eq!(run(src, &["x.tgz"]), vec![]);
}

// --- DF-COPY-MISSING

#[test]
fn missing_copy_sources_are_reported_at_the_word() {
    let src =
        "FROM python:3.11-slim\nCOPY --chown=app:app requirements.txt app.py /app/\nUSER app\n";
    assert_eq!(
        run(src, &["requirements.txt"]),
        vec![(COPY_MISSING.id, 2, 39)]
    );
}

#[test]
fn copy_paths_are_relative_to_the_context() {
    let src = "FROM python:3.11-slim\nCOPY ./src/ /app/\nCOPY /requirements.txt /tmp/\nCOPY . /all\nCOPY src/../requirements.txt /x\nUSER app\n";
    assert_eq!(run(src, &["src/app.py", "requirements.txt"]), vec![]);
    let src = "FROM python:3.11-slim\nCOPY ../secrets /x\nUSER app\n";
    let f = findings(src, &[]);
    assert_eq!((f[0].rule, f[0].line, f[0].column), (COPY_MISSING.id, 2, 6));
    assert!(f[0].message.contains("outside the build context"));
}

#[test]
fn copy_globs_check_their_literal_directory() {
    let src = "FROM python:3.11-slim\nCOPY src/*.py /app/\nCOPY *.txt /app/\nUSER app\n";
    assert_eq!(run(src, &["src/a.py"]), vec![]);
    let f = findings(src, &[]);
    assert_eq!((f[0].rule, f[0].line, f[0].column), (COPY_MISSING.id, 2, 6));
    assert!(
        f[0].message.contains("`src` is not in the build context"),
        "{}",
        f[0].message
    );
    assert_eq!(f.len(), 1);
}

#[test]
fn copy_from_stages_urls_heredocs_and_unknown_args_are_skipped() {
    let src = "FROM python:3.11-slim AS b\nFROM python:3.11-slim\nCOPY --from=b /venv /venv\n\
               COPY <<EOF /etc/app.conf\nmissing.txt\nEOF\nARG F\nCOPY $F /x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn copy_in_exec_form_with_spaces() {
    let src = "FROM python:3.11-slim\nCOPY --chown=1:1 [\"my dir/a b.txt\", \"b.txt\", \"/dst/\"]\nUSER app\n";
    assert_eq!(
        run(src, &["my dir/a b.txt"]),
        vec![(COPY_MISSING.id, 2, 38)]
    );
}

#[test]
fn copy_source_with_arg_is_substituted() {
    let src = "FROM python:3.11-slim\nARG REQ=requirements.txt\nCOPY ${REQ} /tmp/\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(COPY_MISSING.id, 3, 6)]);
    assert_eq!(run(src, &["requirements.txt"]), vec![]);
}

// --- parser

#[test]
fn escape_directive_changes_the_continuation_character() {
    let src = "# escape=`\nFROM python:3.11-slim\nRUN echo a `\n    && pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![(PIP_NO_CACHE.id, 4, 8)]);
}

#[test]
fn directives_stop_at_the_first_other_line() {
    // After a blank line `# escape=` is a comment, and `\` still continues.
    let src = "\n# escape=`\nFROM python:3.11-slim\nRUN echo a \\\n  pip install x\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn comments_lowercase_keywords_and_crlf() {
    let src = "# FROM python\r\nfrom python:3.11-slim\r\n  # USER root\r\nuser app\r\n";
    assert_eq!(run(src, &[]), vec![]);
}

#[test]
fn empty_and_comment_only_files_have_no_findings() {
    assert_eq!(run("", &[]), vec![]);
    assert_eq!(run("# nothing\n\n", &[]), vec![]);
}

#[test]
fn substitute_handles_forms() {
    let vars: HashMap<String, Option<String>> = [
        ("A".to_string(), Some("1".to_string())),
        ("E".to_string(), Some(String::new())),
        ("N".to_string(), None),
    ]
    .into();
    assert_eq!(substitute("x$A-${A}", &vars).as_deref(), Some("x1-1"));
    assert_eq!(substitute("${E:-d}${N:-e}", &vars).as_deref(), Some("de"));
    assert_eq!(substitute("${A:+y}${E:+z}", &vars).as_deref(), Some("y"));
    assert_eq!(substitute("${N}", &vars), None);
    assert_eq!(substitute("$ $", &vars).as_deref(), Some("$ $"));
}

#[test]
fn a_lone_continuation_at_the_end_is_not_an_instruction() {
    // Found by reading the parser; lint_rules_fuzz.rs finds it too since it has a `\\\n` piece
    // (minimal input `FROM \n\\\n`). This used to index an empty line.
    assert_eq!(run("\\", &[]), vec![]);
    assert_eq!(
        run("FROM python:3.11-slim\nUSER app\n  \\\n\n# c\n", &[]),
        vec![]
    );
    assert_eq!(run("# escape=`\n`", &[]), vec![]);
}

#[test]
fn automatic_platform_args_resolve_in_from() {
    let src = "FROM ${TARGETARCH}/python:3.11-slim\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "FROM ${TARGETARCH}/python\nUSER app\n";
    assert_eq!(run(src, &[])[0], (FROM_TAG.id, 1, 6));
    let src = "ARG TARGETARCH\nFROM ${TARGETARCH}/python:3.11-slim\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    // Other global ARGs still need a default.
    let src = "FROM ${TARGETARCH}/python:${PY}-slim\nUSER app\n";
    assert_eq!(run(src, &[])[0], (FROM_TAG.id, 1, 6));
}

#[test]
fn global_args_build_on_earlier_ones() {
    let src = "ARG V=3.11\nARG IMG=python:${V}-slim\nFROM $IMG\nUSER app\n";
    assert_eq!(run(src, &[]), vec![]);
    let src = "ARG V=latest\nARG IMG=python:${V}\nFROM $IMG\nUSER app\n";
    assert_eq!(run(src, &[])[0], (FROM_TAG.id, 3, 6));
}

// --- hadolint parity (build-breakers) and the misses and false positives of issue 10 ---

use super::parity::{
    CMD_SHELL_FORM, COPY_DEST, COPY_FROM_STAGE, DUPLICATE_STAGE, EXPOSE_PORT, SYNTAX,
};

/// The findings of `rules` only.
fn only(src: &str, rules: &[&str]) -> Vec<(&'static str, usize, usize)> {
    run(src, &["app.py", "requirements.txt", "a", "b"])
        .into_iter()
        .filter(|f| rules.contains(&f.0))
        .collect()
}

#[test]
fn copy_from_must_name_an_earlier_stage() {
    let src = "FROM python:3.11-slim AS build\nFROM python:3.11-slim\nCOPY --from=builder /a /b\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\nCOPY --from=2 /a /b\nUSER app\n";
    assert_eq!(
        only(src, &[COPY_FROM_STAGE.id]),
        [(COPY_FROM_STAGE.id, 3, 6), (COPY_FROM_STAGE.id, 6, 6)]
    );
    let msg = findings(src, &[])
        .into_iter()
        .find(|f| f.rule == COPY_FROM_STAGE.id)
        .unwrap()
        .message;
    assert!(msg.contains("did you mean `build`?"), "{msg}");
}

#[test]
fn copy_from_an_image_must_be_pinned() {
    for (from, hit) in [
        ("python:latest", true),
        ("ghcr.io/astral-sh/uv", true),
        ("ghcr.io/astral-sh/uv:0.5.11", false),
        (
            "python@sha256:0123456789012345678901234567890123456789012345678901234567890123",
            false,
        ),
    ] {
        let src = format!("FROM python:3.11-slim\nCOPY --from={from} /x /y\nUSER app\n");
        let want = if hit {
            vec![(FROM_TAG.id, 2, 6)]
        } else {
            vec![]
        };
        assert_eq!(
            only(&src, &[FROM_TAG.id, COPY_FROM_STAGE.id]),
            want,
            "{from}"
        );
    }
}

#[test]
fn unknown_instructions_and_duplicate_stages() {
    let src = "FROM python:3.11-slim AS app\nCOPPY app.py /app/\nFROM python:3.11-slim AS APP\nUSER app\n";
    assert_eq!(
        only(src, &[SYNTAX.id, DUPLICATE_STAGE.id]),
        [(SYNTAX.id, 2, 1), (DUPLICATE_STAGE.id, 3, 26)]
    );
    let msg = findings(src, &[])
        .into_iter()
        .find(|f| f.rule == SYNTAX.id)
        .unwrap()
        .message;
    assert!(msg.contains("did you mean `COPY`?"), "{msg}");
    let ok =
        "FROM python:3.11-slim AS app\ncopy app.py /app/\nFROM python:3.11-slim AS web\nUSER app\n";
    assert_eq!(only(ok, &[SYNTAX.id, DUPLICATE_STAGE.id]), []);
}

#[test]
fn several_sources_need_a_directory_destination() {
    let src = "FROM python:3.11-slim\nCOPY a b /app\nCOPY a b /app/\nCOPY [\"a\", \"b\", \"/srv\"]\nADD a /app\nUSER app\n";
    assert_eq!(
        only(src, &[COPY_DEST.id]),
        [(COPY_DEST.id, 2, 10), (COPY_DEST.id, 4, 18)]
    );
}

#[test]
fn expose_ports_in_range() {
    let src = "FROM python:3.11-slim\nEXPOSE 80 8080/tcp 53/udp 8000-8010 70000 80/http $PORT\nUSER app\n";
    assert_eq!(
        only(src, &[EXPOSE_PORT.id]),
        [(EXPOSE_PORT.id, 2, 37), (EXPOSE_PORT.id, 2, 43)]
    );
}

#[test]
fn cmd_and_entrypoint_in_shell_form() {
    let src = "FROM python:3.11-slim\nCMD python app.py\nENTRYPOINT ['python', 'app.py']\nCMD [\"python\", \"app.py\"]\nUSER app\n";
    assert_eq!(
        only(src, &[CMD_SHELL_FORM.id]),
        [(CMD_SHELL_FORM.id, 2, 1), (CMD_SHELL_FORM.id, 3, 1)]
    );
    let msg = &findings(src, &[])
        .into_iter()
        .filter(|f| f.rule == CMD_SHELL_FORM.id)
        .nth(1)
        .unwrap()
        .message;
    assert!(msg.contains("not valid JSON"), "{msg}");
}

#[test]
fn pip_behind_if_for_sudo_and_global_options() {
    for cmd in [
        "if [ -f r.txt ]; then pip install -r r.txt; fi",
        "for p in a b; do pip install $p; done",
        "sudo -H pip install x",
        "sudo -u app pip install x",
        "env PYTHONDONTWRITEBYTECODE=1 pip install x",
        "pip --disable-pip-version-check install x",
        "pip --index-url https://pypi.internal/simple install x",
        "pip install flask # --no-cache-dir",
    ] {
        let src = format!("FROM python:3.11-slim\nRUN {cmd}\nUSER app\n");
        assert_eq!(only(&src, &[PIP_NO_CACHE.id]).len(), 1, "{cmd}");
    }
    // Near misses: the option given, globally or in the loop.
    for cmd in [
        "for p in a b; do pip install --no-cache-dir $p; done",
        "pip --no-cache-dir install x",
        "sudo pip install --no-cache-dir x # cached? no",
    ] {
        let src = format!("FROM python:3.11-slim\nRUN {cmd}\nUSER app\n");
        assert_eq!(only(&src, &[PIP_NO_CACHE.id]), [], "{cmd}");
    }
}

#[test]
fn pip_no_cache_dir_any_boolean_and_cache_mounts() {
    for v in ["0", "false", "off", "1", "yes"] {
        let src = format!(
            "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR={v}\nRUN pip install x\nUSER app\n"
        );
        assert_eq!(only(&src, &[PIP_NO_CACHE.id]), [], "{v}");
    }
    let src = "FROM python:3.11-slim\nENV PIP_NO_CACHE_DIR=maybe\nRUN pip install x\nUSER app\n";
    assert_eq!(only(src, &[PIP_NO_CACHE.id]), [(PIP_NO_CACHE.id, 3, 5)]);
    let src = "FROM python:3.11-slim\nRUN --mount=type=cache,target=/root/.cache pip install x\nUSER app\n";
    assert_eq!(only(src, &[PIP_NO_CACHE.id]), []);
    let src = "FROM python:3.11-slim\nRUN --mount=type=cache,target=/var/cache/apt pip install x\nUSER app\n";
    assert_eq!(only(src, &[PIP_NO_CACHE.id]).len(), 1);
}

#[test]
fn a_byte_order_mark_is_stripped() {
    let src = "\u{feff}FROM python:latest\nUSER root\n";
    assert_eq!(
        only(src, &[FROM_TAG.id, USER_ROOT.id, SYNTAX.id]),
        [(FROM_TAG.id, 1, 6), (USER_ROOT.id, 2, 6)]
    );
}

#[test]
fn parser_directives_as_buildkit_reads_them() {
    // `# escape` after an unknown directive is a comment: `\` stays the escape, so the
    // backtick line does not continue and `RUN` on line 5 is its own instruction.
    let src =
        "# foo=bar\n# escape=`\nFROM python:3.11-slim\nRUN echo a `\nRUN pip install x\nUSER app\n";
    assert_eq!(only(src, &[PIP_NO_CACHE.id]), [(PIP_NO_CACHE.id, 5, 5)]);
    // As the first directive it applies: line 5 continues line 4 (`echo a pip install x`).
    let src = "# escape=`\n# syntax=docker/dockerfile:1\nFROM python:3.11-slim\nRUN echo a `\nRUN pip install x\nUSER app\n";
    assert_eq!(only(src, &[PIP_NO_CACHE.id]), []);
    let src = "# escape=`\n# Escape=\\\n# escape=x\nFROM python:3.11-slim\nUSER app\n";
    assert_eq!(only(src, &[SYNTAX.id]), [(SYNTAX.id, 2, 1)]);
    let src = "# escape=x\nFROM python:3.11-slim\nUSER app\n";
    assert_eq!(only(src, &[SYNTAX.id]), [(SYNTAX.id, 1, 1)]);
}

#[test]
fn add_with_a_checksum_is_pinned() {
    let src = "FROM python:3.11-slim\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tgz /tmp/\nADD https://example.com/tool.tgz /tmp/\nUSER app\n";
    assert_eq!(only(src, &[ADD_URL.id]), [(ADD_URL.id, 3, 5)]);
}

#[test]
fn the_repos_own_images_are_not_fat_bases() {
    let settings = crate::settings::Settings::default();
    let dir = tempfile::tempdir().unwrap();
    let src = "FROM ghcr.io/dcasati/python-base:sha-abc1234\nUSER app\n";
    let got: Vec<_> = check_file(dir.path(), Path::new("Dockerfile"), src, &settings)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(got, Vec::<&str>::new());
    let src = "FROM python:3.11\nUSER app\n";
    let got: Vec<_> = check_file(dir.path(), Path::new("Dockerfile"), src, &settings)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(got, [BASE_NOT_SLIM.id]);
}

#[test]
fn copy_missing_honours_dockerignore_allow_lists() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["requirements.txt", "app.py", "notes.md", "src/main.py"] {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }
    std::fs::write(
        dir.path().join(".dockerignore"),
        "# allow-list\n*\n!requirements.txt\n!app.py\n!src/main.py\n",
    )
    .unwrap();
    let src = "FROM python:3.11-slim\nCOPY requirements.txt app.py /app/\nCOPY notes.md /app/\nCOPY src/ /app/src/\nUSER app\n";
    let s = crate::settings::Settings::default();
    let got: Vec<_> = check_file(dir.path(), Path::new("Dockerfile"), src, &s)
        .into_iter()
        .filter(|f| f.rule == COPY_MISSING.id)
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].line, got[0].column), (3, 6));
    assert!(
        got[0]
            .message
            .contains("excluded by .dockerignore (line 2: `*`)"),
        "{}",
        got[0].message
    );
    // A Dockerfile-specific ignore file wins.
    std::fs::write(dir.path().join("Containerfile.dockerignore"), "app.py\n").unwrap();
    let got: Vec<_> = check_file(dir.path(), Path::new("Containerfile"), src, &s)
        .into_iter()
        .filter(|f| f.rule == COPY_MISSING.id)
        .map(|f| (f.line, f.column))
        .collect();
    assert_eq!(got, [(2, 23)]);
}
