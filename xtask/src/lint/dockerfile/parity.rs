//! The Dockerfile mistakes that break a build, as hadolint 2.15.1 reports them (its rule ids
//! in brackets), checked the way BuildKit reads the file: an unknown instruction or a bad
//! parser directive (DL1000), `COPY --from` naming no earlier stage (DL3022), a repeated stage
//! name (DL3024), several COPY/ADD sources into a destination without a trailing `/` (DL3021),
//! an EXPOSE port out of range (DL3011), CMD/ENTRYPOINT in shell form (DL3025), and a
//! `COPY --from=image` that is not pinned (what DF-FROM-TAG is for FROM).

use super::parse::{Instr, Word, exec_form, words};
use super::{Emit, FROM_TAG};
use crate::image_ref::ImageRef;
use crate::lint::{Rule, Severity};

pub const SYNTAX: Rule = Rule {
    id: "DF-SYNTAX",
    severity: Severity::Error,
    summary: "BuildKit cannot parse the Dockerfile (unknown instruction, bad directive)",
    explain: "An instruction BuildKit does not know (`COPPY`, `RUN:`), a parser directive \
given twice, or an `# escape=` other than ` or \\ stops the build before its first step \
(hadolint DL1000). Parser directives are read as BuildKit reads them: only at the top, and the \
first line that is not a known directive (`syntax`, `escape`, `check`) ends them, so a later \
`# escape=` is a plain comment.",
};

pub const COPY_FROM_STAGE: Rule = Rule {
    id: "DF-COPY-FROM-STAGE",
    severity: Severity::Error,
    summary: "`COPY --from` names no earlier stage",
    explain: "`COPY --from=NAME` copies from an earlier stage `FROM ... AS NAME` (or stage \
number N). A name that is no earlier stage is pulled as an image (`docker.io/library/NAME`), \
which fails or, worse, copies from a stranger's image. Fix the stage name (hadolint DL3022); an \
image in --from must be a full reference with a tag (`python:3.11-slim`).",
};

pub const DUPLICATE_STAGE: Rule = Rule {
    id: "DF-DUPLICATE-STAGE",
    severity: Severity::Error,
    summary: "two stages share a name",
    explain: "Stage names (`FROM ... AS name`, compared ignoring case) must be unique; \
BuildKit refuses the Dockerfile (hadolint DL3024).",
};

pub const COPY_DEST: Rule = Rule {
    id: "DF-COPY-DEST",
    severity: Severity::Error,
    summary: "several COPY/ADD sources into a destination without a trailing `/`",
    explain: "With more than one source, the destination must be a directory written with a \
trailing `/`; BuildKit fails the step otherwise (\"When using COPY with more than one source \
file, the destination must be a directory and end with a /\"; hadolint DL3021).",
};

pub const EXPOSE_PORT: Rule = Rule {
    id: "DF-EXPOSE-PORT",
    severity: Severity::Error,
    summary: "EXPOSE port out of range or malformed",
    explain: "Ports run from 0 to 65535, optionally with `/tcp`, `/udp` or `/sctp`, or a \
range `8000-8010`. Anything else fails the build (hadolint DL3011).",
};

pub const CMD_SHELL_FORM: Rule = Rule {
    id: "DF-CMD-SHELL-FORM",
    severity: Severity::Warning,
    summary: "CMD or ENTRYPOINT in shell form (or with single-quoted \"JSON\")",
    explain: "In shell form the process runs under `/bin/sh -c`, which does not pass \
SIGTERM on, so the container is killed after the grace period instead of stopping cleanly. \
Use the JSON form, `CMD [\"python\", \"app.py\"]`. Single quotes are not JSON: \
`CMD ['python', 'app.py']` is shell form, and the shell tries to run `[python,` (hadolint \
DL3025).",
};

pub const RULES: &[Rule] = &[
    SYNTAX,
    COPY_FROM_STAGE,
    DUPLICATE_STAGE,
    COPY_DEST,
    EXPOSE_PORT,
    CMD_SHELL_FORM,
];

/// The instructions BuildKit knows.
const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The parity rules over all instructions.
pub(super) fn check(instrs: &[Instr], emit: &mut Emit) {
    // Stage names so far, lower-case (BuildKit compares them so), and the number of stages.
    let mut stages: Vec<Option<String>> = Vec::new();
    for ins in instrs {
        let kw = ins.keyword.as_str();
        if !INSTRUCTIONS.contains(&kw) {
            let hint = crate::lint::schema::validate::did_you_mean(kw, INSTRUCTIONS.into_iter());
            emit(
                &SYNTAX,
                ins.line,
                ins.col,
                format!("unknown instruction `{kw}`{hint}"),
            );
            continue;
        }
        match kw {
            "FROM" => {
                let ws: Vec<Word> = words(&ins.args)
                    .into_iter()
                    .filter(|w| !w.text.starts_with("--"))
                    .collect();
                let alias = match ws.get(1) {
                    Some(w) if w.text.eq_ignore_ascii_case("as") => ws.get(2),
                    _ => None,
                };
                if let Some(a) = alias {
                    let lower = a.text.to_lowercase();
                    if stages.iter().flatten().any(|s| *s == lower) {
                        emit(
                            &DUPLICATE_STAGE,
                            a.line,
                            a.col,
                            format!(
                                "stage name `{}` is already used by an earlier stage",
                                a.text
                            ),
                        );
                    }
                }
                stages.push(alias.map(|a| a.text.to_lowercase()));
            }
            "COPY" | "ADD" => copy(ins, &stages, emit),
            "EXPOSE" => expose(ins, emit),
            "CMD" | "ENTRYPOINT" => shell_form(ins, emit),
            _ => {}
        }
    }
}

fn copy(ins: &Instr, stages: &[Option<String>], emit: &mut Emit) {
    let ws = words(&ins.args);
    let flags: Vec<&Word> = ws.iter().take_while(|w| w.text.starts_with("--")).collect();
    if let Some(from) = flags
        .iter()
        .find_map(|f| f.text.strip_prefix("--from=").map(|v| (v, f)))
    {
        from_source(from.0, from.1, stages, emit);
    }
    let args: Vec<Word> = match exec_form(&ins.args[offset_after(&ins.args, &flags)..]) {
        Some(arr) => arr,
        None => ws[flags.len()..].to_vec(),
    };
    if args.len() > 2
        && let Some(dest) = args.last()
        && !dest.text.ends_with('/')
        && !dest.text.starts_with('$')
    {
        emit(
            &COPY_DEST,
            dest.line,
            dest.col,
            format!(
                "{} of {} sources needs a directory destination ending in `/`: write `{}/`",
                ins.keyword,
                args.len() - 1,
                dest.text
            ),
        );
    }
}

/// The index in `args` just past the flags (for the exec form after them).
fn offset_after(args: &[super::parse::Ch], flags: &[&Word]) -> usize {
    flags.last().map_or(0, |f| {
        args.iter()
            .position(|c| c.line == f.line && c.col == f.col)
            .map_or(0, |p| p + f.text.chars().count())
    })
}

fn from_source(value: &str, word: &Word, stages: &[Option<String>], emit: &mut Emit) {
    let lower = value.to_lowercase();
    if value.contains('$') || stages.iter().flatten().any(|s| *s == lower) {
        return;
    }
    if let Ok(n) = value.parse::<usize>() {
        if n >= stages.len() {
            emit(
                &COPY_FROM_STAGE,
                word.line,
                word.col,
                format!(
                    "`--from={n}` names stage {n}, but only {} stage(s) come before it",
                    stages.len()
                ),
            );
        }
        return;
    }
    // A bare name is a stage that does not exist; a reference with a registry, path, tag or
    // digest is an image, which must be pinned like a FROM.
    if !value.contains([':', '/', '@']) {
        let known: Vec<&str> = stages.iter().flatten().map(String::as_str).collect();
        let hint = crate::lint::schema::validate::did_you_mean(value, known.into_iter());
        emit(
            &COPY_FROM_STAGE,
            word.line,
            word.col,
            format!(
                "`--from={value}` names no earlier stage, so BuildKit pulls it as the image `docker.io/library/{value}:latest`{hint}"
            ),
        );
        return;
    }
    let message = match ImageRef::parse(value) {
        Ok(r) if r.digest.is_some() => return,
        Ok(r) => match r.tag.as_deref() {
            None => {
                format!("`COPY --from={value}` has no tag, so it pulls `latest`: pin a version")
            }
            Some("latest") => format!("`COPY --from={value}` uses `latest`: pin a version"),
            Some(_) => return,
        },
        Err(e) => e.to_string(),
    };
    emit(&FROM_TAG, word.line, word.col, message);
}

fn expose(ins: &Instr, emit: &mut Emit) {
    for w in words(&ins.args) {
        if w.text.contains('$') {
            continue; // set by a build argument
        }
        let (ports, proto) = match w.text.split_once('/') {
            Some((p, proto)) => (p, Some(proto)),
            None => (w.text.as_str(), None),
        };
        let port_ok = |p: &str| p.parse::<u32>().is_ok_and(|n| n <= 65535);
        let range_ok = match ports.split_once('-') {
            Some((a, b)) => port_ok(a) && port_ok(b),
            None => port_ok(ports),
        };
        let proto_ok =
            proto.is_none_or(|p| matches!(p.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp"));
        if !(range_ok && proto_ok) {
            emit(
                &EXPOSE_PORT,
                w.line,
                w.col,
                format!(
                    "EXPOSE `{}`: ports run from 0 to 65535, with an optional /tcp, /udp or /sctp",
                    w.text
                ),
            );
        }
    }
}

fn shell_form(ins: &Instr, emit: &mut Emit) {
    if exec_form(&ins.args).is_some() {
        return;
    }
    let text: String = ins.args.iter().map(|c| c.c).collect();
    let t = text.trim();
    if t.is_empty() {
        return;
    }
    let message = if t.starts_with('[') {
        format!(
            "{} `{t}` is not valid JSON (single quotes?), so it runs in shell form as `/bin/sh -c '{t}'`: write it with double quotes",
            ins.keyword
        )
    } else {
        format!(
            "{} in shell form runs under /bin/sh, which does not pass SIGTERM on: write `{} [\"...\", \"...\"]`",
            ins.keyword, ins.keyword
        )
    };
    emit(&CMD_SHELL_FORM, ins.line, ins.col, message);
}
