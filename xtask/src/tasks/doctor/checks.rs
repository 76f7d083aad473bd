//! `doctor`'s pure core, part one: a [`Check`] and its [`Level`], which tools each subcommand
//! needs and which versions we support, and the tool checks. Registries and deployed tags are in
//! `deploy_checks.rs`; the probing that gathers the facts is in `doctor.rs`.

use crate::tools::{self, Tool};
use serde::Serialize;

/// How a check came out. Only `Fail` turns the exit code to 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Skip,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// tools, settings, registry or deploy.
    pub area: &'static str,
    pub subject: String,
    pub level: Level,
    pub message: String,
    /// The command (or step) that fixes it.
    pub fix: Option<String>,
}

pub fn check(
    area: &'static str,
    subject: impl Into<String>,
    level: Level,
    message: impl Into<String>,
) -> Check {
    Check {
        area,
        subject: subject.into(),
        level,
        message: message.into(),
        fix: None,
    }
}

impl Check {
    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// A tool, how to read its version, and the oldest (and newest major) version we support.
pub struct Spec {
    pub tool: Tool,
    pub version_args: &'static [&'static str],
    pub min: (u64, u64),
    pub max_major: Option<u64>,
}

pub const SPECS: &[Spec] = &[
    Spec {
        tool: tools::GIT,
        version_args: &["--version"],
        min: (2, 30),
        max_major: None,
    },
    Spec {
        tool: tools::DOCKER,
        version_args: &["--version"],
        min: (20, 10),
        max_major: None,
    },
    Spec {
        tool: tools::PODMAN,
        version_args: &["--version"],
        min: (4, 0),
        max_major: None,
    },
    Spec {
        tool: tools::SKOPEO,
        version_args: &["--version"],
        min: (1, 9),
        max_major: None,
    },
    Spec {
        tool: tools::COSIGN,
        version_args: &["version"],
        min: (2, 5),
        max_major: Some(3),
    },
    Spec {
        tool: tools::TRIVY,
        version_args: &["--version"],
        min: (0, 59),
        max_major: None,
    },
    Spec {
        tool: tools::KUBECTL,
        version_args: &["version", "--client"],
        min: (1, 27),
        max_major: None,
    },
    Spec {
        tool: tools::PYTHON3,
        version_args: &["--version"],
        min: (3, 11),
        max_major: Some(3),
    },
    Spec {
        tool: tools::NEXTEST,
        version_args: &["--version"],
        min: (0, 9),
        max_major: None,
    },
    Spec {
        tool: tools::KUSTOMIZE,
        version_args: &["version"],
        min: (5, 0),
        max_major: None,
    },
];

/// What each subcommand needs, by tool name: [`tools::needed_by`], the one table.
pub fn needs(subcommand: &str) -> Vec<Vec<&'static str>> {
    tools::needed_by(subcommand)
        .iter()
        .map(|group| group.iter().map(|t| t.name).collect())
        .collect()
}

/// The subcommands that use `tool`, from [`needs`] plus the optional uses.
pub fn used_by(tool: &str, subcommands: &[String]) -> Vec<String> {
    let optional: &[&str] = match tool {
        "skopeo" => &["push --mirror", "update-images --verify", "doctor"],
        "git" => &["pre-commit hooks (cargo xtask reads history itself)"],
        "cargo-nextest" => &["test (without it: cargo test)"],
        _ => &[],
    };
    let mut out: Vec<String> = subcommands
        .iter()
        .filter(|s| needs(s).iter().any(|group| group.contains(&tool)))
        .cloned()
        .collect();
    out.extend(optional.iter().map(|s| s.to_string()));
    out
}

/// A found tool: its version and, for docker, whether buildx works and its builder's platforms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Found {
    pub name: String,
    pub path: Option<String>,
    pub version: Option<String>,
    /// docker: `docker buildx version` works. Other tools: found.
    pub usable: bool,
    /// docker: the platforms of the current builder.
    pub platforms: Vec<String>,
    /// docker: the builder's nodes (`docker buildx inspect`).
    pub nodes: Vec<crate::buildx_nodes::BuilderNode>,
}

/// The first `N.N[.N]` in `text` (an optional `v` before it), e.g. of `podman version 4.3.1`.
pub fn first_version(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '"')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            let parts: Vec<&str> = w.split(['.', '-', '+']).take(2).collect();
            parts.len() == 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
}

pub fn supported(version: &str, spec: &Spec) -> bool {
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= spec.min && spec.max_major.is_none_or(|max| major <= max)
}

fn range(spec: &Spec) -> String {
    match spec.max_major {
        Some(max) => format!("{}.{} to {max}.x", spec.min.0, spec.min.1),
        None => format!(">= {}.{}", spec.min.0, spec.min.1),
    }
}

/// `docker buildx inspect`'s `Platforms:` line.
pub fn builder_platforms(inspect: &str) -> Vec<String> {
    inspect
        .lines()
        .find_map(|l| l.trim().strip_prefix("Platforms:"))
        .map(|p| {
            p.split(',')
                .map(|s| s.trim().trim_end_matches('*').to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// One check a tool, then the verdicts: no build engine at all, or a `--for` need unmet, fail.
pub fn tool_checks(
    found: &[Found],
    for_command: Option<&str>,
    platforms: &[String],
    subcommands: &[String],
) -> Vec<Check> {
    let has = |name: &str| found.iter().any(|f| f.name == name && f.usable);
    let mut out = Vec::new();
    for (spec, f) in SPECS.iter().zip(found) {
        let name = spec.tool.name;
        let users = used_by(name, subcommands).join(", ");
        let Some(path) = &f.path else {
            out.push(
                check(
                    "tools",
                    name,
                    Level::Warn,
                    format!("not found (used by {users})"),
                )
                .fix(spec.tool.hint),
            );
            continue;
        };
        let version = f.version.as_deref().unwrap_or("unknown");
        let ok = f.version.as_deref().is_some_and(|v| supported(v, spec));
        let mut c = check(
            "tools",
            name,
            if ok { Level::Ok } else { Level::Warn },
            format!(
                "{version} at {path} (supported {}; used by {users})",
                range(spec)
            ),
        );
        if !ok {
            c = c.fix(spec.tool.hint);
        }
        out.push(c);
        if name == "docker" && !f.usable {
            out.push(
                check(
                    "tools",
                    "docker buildx",
                    Level::Warn,
                    "`docker buildx version` fails: docker cannot build our images",
                )
                .fix(spec.tool.hint),
            );
        } else if name == "docker" {
            let missing: Vec<&String> = platforms
                .iter()
                .filter(|p| !f.platforms.contains(p))
                .collect();
            if !missing.is_empty() {
                out.push(
                    check(
                        "tools",
                        "docker buildx",
                        Level::Warn,
                        format!(
                            "the builder lacks {} (it has {})",
                            join(&missing),
                            f.platforms.join(", ")
                        ),
                    )
                    .fix("docker run --privileged --rm tonistiigi/binfmt --install all"),
                );
            }
        }
    }
    if !has("docker") && !has("podman") {
        out.push(
            check(
                "tools",
                "build engine",
                Level::Fail,
                "neither docker with buildx nor podman is found: nothing can build the base image",
            )
            .fix(format!(
                "{} ; or {}",
                tools::PODMAN.hint,
                tools::DOCKER.hint
            )),
        );
    }
    if let Some(sub) = for_command {
        for group in needs(sub) {
            if !group.iter().any(|t| has(t)) {
                out.push(check(
                    "tools",
                    format!("--for {sub}"),
                    Level::Fail,
                    format!("`cargo xtask {sub}` needs {}", group.join(" or ")),
                ));
            }
        }
    }
    out
}

pub fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Exit 1 when any check failed.
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.level == Level::Fail)
}

#[cfg(test)]
mod tests;
