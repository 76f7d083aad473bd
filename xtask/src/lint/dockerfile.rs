//! Dockerfile rules (`DF-*`): a small parser for Dockerfile instructions (parser directives,
//! `\` or `` ` `` line continuations, comments, heredocs, exec and shell form, `--flag=` options,
//! ARG substitution) and the checks on top of it. Every finding points at the instruction or at
//! the offending word.
//!
//! Scope choices: DF-BASE-NOT-SLIM checks only the final stage's base image (followed through
//! stage aliases), because builder stages do not ship. DF-USER-ROOT follows the final stage back
//! through `FROM <alias>` chains, since a stage inherits its parent's USER.

use super::{Finding, Rule, Severity};
use crate::image_ref::ImageRef;
use std::collections::HashMap;
use std::path::Path;

mod ignore;
pub mod parity;
mod parse;
use ignore::Ignore;
use parse::*;

pub const USER_ROOT: Rule = Rule {
    id: "DF-USER-ROOT",
    severity: Severity::Error,
    summary: "the final stage runs as root",
    explain: "The image's last USER (in the final stage, or inherited from the stage it is \
built FROM) is missing, `root` or `0`, so the container runs as root unless the pod overrides \
it. A process that escapes as root owns the node's files. Create an unprivileged user and end \
the final stage with `USER 10001:10001` (or a named non-root user).",
};

pub const FROM_TAG: Rule = Rule {
    id: "DF-FROM-TAG",
    severity: Severity::Error,
    summary: "a FROM image is unpinned (`latest` or no tag)",
    explain: "`FROM python` and `FROM python:latest` build from whatever the registry serves \
that day, so two builds of one commit differ. Pin a tag (`python:3.11-slim`) or a digest \
(`python:3.11-slim@sha256:...`). A FROM that depends on an ARG without a default counts as \
unpinned: give the ARG a pinned default. `scratch` and earlier stage names are fine.",
};

pub const BASE_NOT_SLIM: Rule = Rule {
    id: "DF-BASE-NOT-SLIM",
    severity: Severity::Warning,
    summary: "the final stage's base image is not slim, alpine or distroless",
    explain: "Full distribution images carry compilers, shells and hundreds of packages the \
service never uses: a bigger pull, and more CVEs for trivy to report. Base the final stage on a \
`-slim`, `alpine` or distroless image (or `scratch`), and do heavy builds in an earlier stage.",
};

pub const PIP_NO_CACHE: Rule = Rule {
    id: "DF-PIP-NO-CACHE",
    severity: Severity::Warning,
    summary: "`pip install` without `--no-cache-dir`",
    explain: "pip keeps a wheel cache under ~/.cache/pip, which is baked into the layer and \
never used again. Add `--no-cache-dir` to the command, set `ENV PIP_NO_CACHE_DIR=1` earlier in \
the stage, or use a BuildKit cache mount (`RUN --mount=type=cache,target=/root/.cache/pip`).",
};

pub const ADD_URL: Rule = Rule {
    id: "DF-ADD-URL",
    severity: Severity::Error,
    summary: "ADD fetches a URL or a git repository",
    explain: "`ADD https://...` downloads at build time with no checksum in the Dockerfile's \
review, and the layer changes whenever the remote does. Vendor the file into the context and \
COPY it, or download it in a RUN step that checks its sha256.",
};

pub const COPY_MISSING: Rule = Rule {
    id: "DF-COPY-MISSING",
    severity: Severity::Error,
    summary: "a COPY/ADD source is not in the build context",
    explain: "Sources are relative to the build context (a leading `/` is the context's \
root), and the build fails when one is missing. Fix the path, add the file, or remove it from \
.dockerignore. For a glob the checked part is the literal directory before the first wildcard.",
};

pub const RULES: &[Rule] = &[
    USER_ROOT,
    FROM_TAG,
    BASE_NOT_SLIM,
    PIP_NO_CACHE,
    ADD_URL,
    COPY_MISSING,
];

/// What the rules know of a Dockerfile's surroundings.
pub struct Context<'a> {
    /// Whether a path relative to the build context (no leading `./` or `/`, `/`-separated)
    /// exists.
    pub has: &'a dyn Fn(&str) -> bool,
    /// The context's ignore file, and its name for messages.
    pub ignore: Ignore,
    pub ignore_name: &'static str,
    /// Whether an image name is one this repo builds (settings `images`).
    pub own_image: &'a dyn Fn(&str) -> bool,
}

/// Checks one Dockerfile. `file` is the repo-relative path put in findings; `context_has` answers
/// whether a path relative to the build context (no leading `./` or `/`, `/`-separated) exists.
pub fn check(file: &Path, src: &str, context_has: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let context = Context {
        has: context_has,
        ignore: Ignore::default(),
        ignore_name: ".dockerignore",
        own_image: &|_| false,
    };
    check_with(file, src, &context)
}

/// Checks the Dockerfile `file` (repo-relative) under `root`, whose build context is its own
/// folder, with that folder's ignore file and the settings' images.
pub fn check_file(
    root: &Path,
    file: &Path,
    src: &str,
    settings: &crate::settings::Settings,
) -> Vec<Finding> {
    let dir = root.join(file.parent().unwrap_or(Path::new("")));
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("Dockerfile");
    let (ignore, ignore_name) = Ignore::for_context(&dir, name);
    let has = |p: &str| dir.join(p).exists();
    let own = |image: &str| super::workload::is_configured(settings, image);
    let context = Context {
        has: &has,
        ignore,
        ignore_name,
        own_image: &own,
    };
    check_with(file, src, &context)
}

/// Checks one Dockerfile in `context`.
pub fn check_with(file: &Path, src: &str, context: &Context) -> Vec<Finding> {
    let (instrs, directive_errors) = parse_with_directives(src);
    let mut out = Vec::new();
    let mut emit = |rule: &'static Rule, line, column, message: String| {
        out.push(Finding {
            rule: rule.id,
            severity: rule.severity,
            file: file.to_path_buf(),
            line,
            column,
            message,
        })
    };
    for e in directive_errors {
        emit(&parity::SYNTAX, e.line, 1, e.message);
    }
    parity::check(&instrs, &mut emit);
    let mut global_args: HashMap<String, Option<String>> = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();

    for ins in &instrs {
        if ins.keyword == "FROM" {
            let stage = check_from(ins, &global_args, &stages, &mut emit);
            stages.push(stage);
            continue;
        }
        let Some(stage) = stages.last_mut() else {
            if ins.keyword == "ARG" {
                declare(&mut global_args, &words(&ins.args));
            }
            continue;
        };
        match ins.keyword.as_str() {
            "ARG" => {
                for w in words(&ins.args) {
                    let (name, default) = split_decl(&w.text);
                    let value = match default {
                        Some(d) => Some(substitute(d, &stage.vars).unwrap_or_default()),
                        None => global_args.get(name).cloned().flatten(),
                    };
                    stage.vars.insert(name.to_string(), value);
                }
            }
            "ENV" => {
                for (name, value) in env_pairs(&ins.args) {
                    let value = substitute(&value, &stage.vars);
                    stage.vars.insert(name, value);
                }
            }
            "USER" => {
                if let Some(w) = words(&ins.args).into_iter().next() {
                    stage.user = Some(w);
                }
            }
            "RUN" => check_run(ins, stage, &mut emit),
            "COPY" | "ADD" => check_copy(ins, stage, context, &mut emit),
            _ => {}
        }
    }

    if let Some(last) = stages.len().checked_sub(1) {
        check_final_stage(&stages, last, context.own_image, &mut emit);
    }
    out
}

/// BuildKit's automatic platform ARGs, with a representative value each.
const AUTOMATIC_ARGS: [(&str, &str); 8] = [
    ("TARGETPLATFORM", "linux/amd64"),
    ("TARGETOS", "linux"),
    ("TARGETARCH", "amd64"),
    ("TARGETVARIANT", ""),
    ("BUILDPLATFORM", "linux/amd64"),
    ("BUILDOS", "linux"),
    ("BUILDARCH", "amd64"),
    ("BUILDVARIANT", ""),
];

type Emit<'a> = dyn FnMut(&'static Rule, usize, usize, String) + 'a;

/// One build stage, as far as the rules need it.
struct Stage {
    from_line: usize,
    /// The image word after substitution, and where it was.
    image: Word,
    alias: Option<String>,
    /// Index of the earlier stage this one is built FROM.
    parent: Option<usize>,
    /// ARG and ENV values visible in this stage (`None`: declared without a value).
    vars: HashMap<String, Option<String>>,
    user: Option<Word>,
}

fn check_from(
    ins: &Instr,
    global_args: &HashMap<String, Option<String>>,
    stages: &[Stage],
    emit: &mut Emit,
) -> Stage {
    let ws = words(&ins.args);
    let rest: Vec<&Word> = ws.iter().filter(|w| !w.text.starts_with("--")).collect();
    let image_word = rest.first().map_or_else(
        || Word {
            text: String::new(),
            line: ins.line,
            col: ins.col,
        },
        |w| (*w).clone(),
    );
    let alias = match rest.get(1) {
        Some(w) if w.text.eq_ignore_ascii_case("as") => rest.get(2).map(|w| w.text.to_lowercase()),
        _ => None,
    };
    // BuildKit's automatic platform ARGs are in scope for FROM, declared or not, and set by the
    // builder like build args (over any default); any value will do to see whether the rest of
    // the reference is pinned.
    let mut scope = global_args.clone();
    for (name, value) in AUTOMATIC_ARGS {
        scope.insert(name.to_string(), Some(value.to_string()));
    }
    let resolved = substitute(&image_word.text, &scope);
    let image = Word {
        text: resolved.clone().unwrap_or_default(),
        ..image_word.clone()
    };
    let lower = image.text.to_lowercase();
    let parent = stages
        .iter()
        .position(|s| s.alias.as_deref() == Some(lower.as_str()));
    // A derived stage starts with its parent's variables (ENV carries over).
    let vars = parent.map(|p| stages[p].vars.clone()).unwrap_or_default();
    let at = |msg: String, emit: &mut Emit| {
        emit(&FROM_TAG, image.line, image.col, msg);
    };
    match resolved {
        None => at(
            format!(
                "FROM `{}` uses an ARG that has no default, so the image is not pinned",
                image_word.text
            ),
            emit,
        ),
        Some(_) if parent.is_some() || lower == "scratch" => {}
        Some(text) if text.is_empty() => at("FROM names no image".to_string(), emit),
        Some(text) => match ImageRef::parse(&text) {
            Err(e) => at(e.to_string(), emit),
            Ok(r) if r.digest.is_some() => {}
            Ok(r) => match r.tag.as_deref() {
                None => at(
                    format!("FROM `{text}` has no tag, so it means `latest`: pin a version"),
                    emit,
                ),
                Some("latest") => at(format!("FROM `{text}` uses `latest`: pin a version"), emit),
                Some(_) => {}
            },
        },
    }
    Stage {
        from_line: ins.line,
        image,
        alias,
        parent,
        vars,
        user: None,
    }
}

fn check_final_stage(
    stages: &[Stage],
    last: usize,
    own_image: &dyn Fn(&str) -> bool,
    emit: &mut Emit,
) {
    let fin = &stages[last];
    // USER and the base image are inherited through `FROM <alias>` chains.
    let mut user = None;
    let mut base = last;
    let mut i = Some(last);
    while let Some(s) = i {
        if user.is_none() {
            user = stages[s].user.as_ref().map(|u| (s, u));
        }
        base = s;
        i = stages[s].parent;
    }
    match user {
        None => emit(
            &USER_ROOT,
            fin.from_line,
            1,
            "the final stage never sets USER, so it runs as root: add `USER <non-root>`"
                .to_string(),
        ),
        Some((s, u)) => {
            let name = substitute(&u.text, &stages[s].vars).unwrap_or_else(|| u.text.clone());
            let who = name.split(':').next().unwrap_or("");
            if who == "root" || who.trim_start_matches('0').is_empty() && !who.is_empty() {
                emit(
                    &USER_ROOT,
                    u.line,
                    u.col,
                    format!("the final stage runs as `USER {name}`: use a non-root user"),
                );
            }
        }
    }
    let img = &stages[base].image;
    let lower = img.text.to_lowercase();
    let slim = ["slim", "alpine", "distroless"]
        .iter()
        .any(|k| lower.contains(k));
    // The repo's own images are built FROM slim bases.
    if !slim && lower != "scratch" && !lower.is_empty() && !own_image(&img.text) {
        emit(
            &BASE_NOT_SLIM,
            img.line,
            img.col,
            format!(
                "the final stage is based on `{}`, which is not slim, alpine or distroless",
                img.text
            ),
        );
    }
}

fn check_run(ins: &Instr, stage: &Stage, emit: &mut Emit) {
    let ws = words(&ins.args);
    let flags: Vec<&Word> = ws.iter().take_while(|w| w.text.starts_with("--")).collect();
    let cache_mount = flags
        .iter()
        .any(|f| f.text.starts_with("--mount=") && pip_cache_mount(&f.text));
    // pip disables its cache for any boolean PIP_NO_CACHE_DIR, `0` and `false` included.
    let env_off = stage
        .vars
        .get("PIP_NO_CACHE_DIR")
        .cloned()
        .flatten()
        .is_some_and(|v| is_bool(&v));
    if cache_mount || env_off {
        return;
    }
    let mut commands = match exec_form(&ins.args) {
        Some(arr) => {
            let shell = arr.len() == 3
                && matches!(base_name(&arr[0].text), "sh" | "bash" | "ash" | "dash")
                && arr[1].text == "-c";
            if shell {
                let w = &arr[2];
                let chars: Vec<Ch> = w
                    .text
                    .chars()
                    .enumerate()
                    .map(|(i, c)| Ch {
                        c,
                        line: w.line,
                        col: w.col + i,
                    })
                    .collect();
                shell_commands(&chars)
            } else {
                vec![arr]
            }
        }
        None => {
            let skip = ins
                .args
                .iter()
                .position(|c| !c.c.is_whitespace())
                .unwrap_or(0);
            let mut start = skip;
            for f in &flags {
                start = ins
                    .args
                    .iter()
                    .position(|c| c.line == f.line && c.col == f.col)
                    .map_or(start, |p| p + f.text.chars().count());
            }
            shell_commands(&ins.args[start.min(ins.args.len())..])
        }
    };
    let first = ws.get(flags.len()).map(|w| w.text.as_str()).unwrap_or("");
    let body_is_shell =
        first.starts_with("<<") || matches!(base_name(first), "sh" | "bash" | "ash" | "dash");
    if body_is_shell {
        for h in &ins.heredocs {
            commands.extend(shell_commands(&h.body));
        }
    }
    for cmd in commands {
        if let Some(pip) = pip_install_without_no_cache(&cmd) {
            emit(
                &PIP_NO_CACHE,
                pip.line,
                pip.col,
                "`pip install` without `--no-cache-dir` leaves pip's cache in the layer"
                    .to_string(),
            );
        }
    }
}

/// The `pip` word of a `pip install` that keeps its cache, if `cmd` is one.
fn pip_install_without_no_cache(cmd: &[Word]) -> Option<&Word> {
    // Skip `VAR=value` prefixes, and note PIP_NO_CACHE_DIR among them.
    let mut i = 0;
    while let Some(w) = cmd.get(i) {
        match w.text.split_once('=') {
            Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                if k == "PIP_NO_CACHE_DIR" && is_bool(v) {
                    return None;
                }
                i += 1;
            }
            _ => break,
        }
    }
    // Shell keywords and wrappers before the command: `if ... then pip ...`, `do pip ...`,
    // `sudo -H pip ...`, `env A=1 pip ...`.
    while let Some(w) = cmd.get(i) {
        match w.text.as_str() {
            "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "time"
            | "exec" | "command" | "nohup" => i += 1,
            "sudo" | "env" => {
                i += 1;
                while let Some(o) = cmd.get(i) {
                    let t = o.text.as_str();
                    if matches!(t, "-u" | "-g" | "-C" | "-h" | "-p" | "-U" | "-r" | "-t") {
                        i += 2;
                    } else if t.starts_with('-') || (t.contains('=') && !t.starts_with('=')) {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            _ => break,
        }
    }
    let prog = cmd.get(i)?;
    let name = base_name(&prog.text);
    let mut rest = &cmd[i + 1..];
    if name.starts_with("python") && is_versioned(name, "python") {
        let m = rest.iter().position(|w| w.text == "-m")?;
        if rest.get(m + 1).map(|w| w.text.as_str()) != Some("pip") {
            return None;
        }
        rest = &rest[m + 2..];
    } else if !(name.starts_with("pip") && is_versioned(name, "pip")) {
        return None;
    }
    let sub = pip_subcommand(rest)?;
    if sub.text != "install" {
        return None;
    }
    let has = cmd
        .iter()
        .any(|w| w.text == "--no-cache-dir" || w.text.starts_with("--no-cache-dir="));
    (!has).then_some(prog)
}

/// pip's subcommand: the first word that is not a global option or an option's value.
fn pip_subcommand(rest: &[Word]) -> Option<&Word> {
    const WITH_VALUE: [&str; 16] = [
        "-i",
        "--index-url",
        "--extra-index-url",
        "--proxy",
        "--retries",
        "--timeout",
        "--log",
        "--log-file",
        "--cache-dir",
        "--cert",
        "--client-cert",
        "--exists-action",
        "--trusted-host",
        "--python",
        "--use-feature",
        "--root-user-action",
    ];
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        if WITH_VALUE.contains(&w.text.as_str()) {
            i += 2;
        } else if w.text.starts_with('-') {
            i += 1;
        } else {
            return Some(w);
        }
    }
    None
}

/// `pip`, `pip3`, `pip3.11`; `python`, `python3`, `python3.11`.
fn is_versioned(name: &str, stem: &str) -> bool {
    name[stem.len()..]
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
}

fn base_name(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A value pip's strtobool accepts.
fn is_bool(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "1" | "true" | "t" | "yes" | "y" | "on" | "0" | "false" | "f" | "no" | "n" | "off"
    )
}

/// `--mount=type=cache,target=...` over pip's cache: a target naming pip, or `~/.cache` itself.
fn pip_cache_mount(flag: &str) -> bool {
    let opts = flag.trim_start_matches("--mount=");
    let cache = opts.split(',').any(|o| o == "type=cache");
    let target = opts.split(',').find_map(|o| {
        o.strip_prefix("target=")
            .or_else(|| o.strip_prefix("dst="))
            .or_else(|| o.strip_prefix("destination="))
    });
    cache
        && target.is_some_and(|t| {
            let t = t.trim_end_matches('/');
            t.contains("pip") || t.ends_with("/.cache")
        })
}

fn check_copy(ins: &Instr, stage: &Stage, context: &Context, emit: &mut Emit) {
    let (flags, rest): (Vec<Word>, Vec<Word>) = match exec_form_after_flags(&ins.args) {
        Some(x) => x,
        None => {
            let ws = words(&ins.args);
            let n = ws.iter().take_while(|w| w.text.starts_with("--")).count();
            let (f, r) = ws.split_at(n);
            (f.to_vec(), r.to_vec())
        }
    };
    if flags.iter().any(|f| f.text.starts_with("--from=")) {
        return;
    }
    let Some((_dest, sources)) = rest.split_last() else {
        return;
    };
    for src in sources {
        let t = src.text.as_str();
        if t.starts_with("<<") {
            continue; // a heredoc: the file's text is inline
        }
        // ARG and ENV values are expanded first: `ADD $URL /dest` with `ARG URL=https://…` is a
        // download, not a context path.
        let Some(path) = substitute(t, &stage.vars) else {
            continue; // depends on a build arg we cannot know
        };
        let is_url = path.starts_with("http://") || path.starts_with("https://");
        let is_git = path.starts_with("git@") || path.starts_with("git://");
        if is_url || is_git {
            let pinned = flags.iter().any(|f| f.text.starts_with("--checksum="));
            if ins.keyword == "ADD" && !pinned {
                let shown = if path == t {
                    format!("`{t}`")
                } else {
                    format!("`{t}` (`{path}`)")
                };
                emit(
                    &ADD_URL,
                    src.line,
                    src.col,
                    format!(
                        "ADD fetches {shown} at build time: vendor it and COPY it, or download it in RUN with a checksum"
                    ),
                );
            }
            continue;
        }
        match context_path(&path) {
            Err(why) => emit(&COPY_MISSING, src.line, src.col, why),
            Ok(p) if p.is_empty() => {}
            Ok(p)
                if let Some((line, pattern)) = context.ignore.excluded_by(&p)
                    && !context.ignore.may_include_under(&p) =>
            {
                emit(
                    &COPY_MISSING,
                    src.line,
                    src.col,
                    format!(
                        "{} source `{path}` is excluded by {} (line {line}: `{pattern}`), so it is not in the build context",
                        ins.keyword, context.ignore_name
                    ),
                )
            }
            Ok(p) if !(context.has)(&p) => emit(
                &COPY_MISSING,
                src.line,
                src.col,
                if p == path.trim_end_matches('/') {
                    format!(
                        "{} source `{path}` is not in the build context",
                        ins.keyword
                    )
                } else {
                    format!(
                        "{} source `{path}`: `{p}` is not in the build context",
                        ins.keyword
                    )
                },
            ),
            Ok(_) => {}
        }
    }
}

/// The context-relative path to check for a COPY source: normalised, and for a glob the literal
/// directories before the first wildcard (empty: nothing to check).
fn context_path(src: &str) -> Result<String, String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in src.split('/') {
        if seg.contains(['*', '?', '[']) {
            break;
        }
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "COPY source `{src}` points outside the build context"
                    ));
                }
            }
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests;
