//! `doctor`'s pure core, part two: how a registry's answer reads (found, missing, unreachable,
//! refused), the registries' own checks, which tags the kustomizations deploy, and each deployed
//! tag's checks, with the command that fixes each problem.

use super::checks::{Check, Level, check, join};
use crate::exec::Output;
use crate::registry_error;
use crate::resolve;
use crate::settings::Settings;
use crate::tools;
use serde::Serialize;
use std::path::PathBuf;

/// A registry's answer for one reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Found(String),
    Missing,
    Unreachable(String),
    Denied(String),
}

/// Reads an inspect's outcome: a digest, "not found" (the registry answered), a refusal (log
/// in), or no answer at all.
pub fn classify(out: &Output, digest: impl Fn(&str) -> Option<String>) -> Probe {
    let err = out.stderr.trim().to_string();
    if out.success() {
        return digest(&out.stdout).map_or(
            Probe::Unreachable(format!("no digest in `{}`", out.stdout.trim())),
            Probe::Found,
        );
    }
    match registry_error::classify(&err) {
        registry_error::Cause::NotFound => Probe::Missing,
        registry_error::Cause::Denied => Probe::Denied(err),
        _ => Probe::Unreachable(err),
    }
}

/// Primary or backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Backup,
}

/// The registry's own check, from its first probe that was not a found or missing tag.
pub fn registry_check(
    role: Role,
    registry: &str,
    failure: Option<&Probe>,
    timeout_secs: u64,
) -> Check {
    let what = match role {
        Role::Primary => "primary",
        Role::Backup => "backup",
    };
    let host = registry.split('/').next().unwrap_or(registry);
    let err = match failure {
        Some(Probe::Unreachable(err) | Probe::Denied(err)) => err,
        _ => {
            return check(
                "registry",
                registry,
                Level::Ok,
                format!("the {what} registry answers"),
            );
        }
    };
    let backup = role == Role::Backup;
    let cause = registry_error::classify(err);
    let detail = registry_error::detail(err);
    match registry_error::explain(cause, host, backup) {
        Some((sentence, fix)) => {
            let limit = if cause == registry_error::Cause::Timeout {
                format!(" ({timeout_secs} s)")
            } else {
                String::new()
            };
            check(
                "registry",
                registry,
                Level::Fail,
                format!("the {what} registry: {sentence}{limit}: {detail}"),
            )
            .fix(fix)
        }
        None => {
            let c = check(
                "registry",
                registry,
                Level::Fail,
                format!("the {what} registry {host} does not answer /v2/: {detail}"),
            );
            match role {
                Role::Backup => c.fix(format!("start the MicroK8s registry that serves {host}: `microk8s enable registry`")),
                Role::Primary => c.fix(format!("check the network and the registry address ({registry} in [workspace.metadata.xtask])")),
            }
        }
    }
}

/// A tag that a kustomization deploys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployed {
    /// The configured short name: `python-base`.
    pub image: String,
    pub tag: String,
    pub file: PathBuf,
    pub line: usize,
}

/// Every `newTag` of an `images:` entry naming a configured image (in the primary or the
/// backup), once per image and tag, in file order. `files` are (repo-relative path, text).
pub fn deployed(settings: &Settings, files: &[(PathBuf, String)]) -> Vec<Deployed> {
    let mut out: Vec<Deployed> = Vec::new();
    for (file, text) in files {
        let Ok(entries) = crate::kustomize::load_images(text) else {
            continue;
        };
        for (_, entry) in entries {
            // Full names only: a short name is not deployed from a registry of ours.
            let image = [entry.name(), entry.new_name()]
                .into_iter()
                .flatten()
                .filter(|n| n.contains('/'))
                .find_map(|n| resolve::named_exactly(settings, n));
            let (Some(image), Some(tag)) = (image, entry.new_tag()) else {
                continue;
            };
            if out.iter().any(|d| d.image == image.name && d.tag == tag) {
                continue;
            }
            let line = entry.new_tag.as_ref().map_or(0, |e| e.value.start.line);
            out.push(Deployed {
                image: image.name.clone(),
                tag: tag.to_string(),
                file: file.clone(),
                line,
            });
        }
    }
    out
}

/// What the registries said about one deployed tag; `None` where the check was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFacts {
    pub primary: Probe,
    pub backup: Option<Probe>,
    pub platforms: Option<Result<Vec<String>, String>>,
    pub signed: Option<Result<bool, String>>,
}

/// The deploy checks of one tag, each problem with the command that fixes it.
pub fn tag_checks(d: &Deployed, f: &TagFacts, settings: &Settings) -> Vec<Check> {
    let sha = d.tag.strip_prefix("sha-").unwrap_or(&d.tag);
    let [primary, backup] = resolve::names(settings, &d.image).map(|n| n.with_tag(&d.tag));
    let at = format!("{}:{}", d.file.display(), d.line);
    let subject = primary.to_string();
    let mut out = Vec::new();
    let digest = match &f.primary {
        Probe::Found(digest) => {
            out.push(check(
                "deploy",
                &subject,
                Level::Ok,
                format!("in the primary as {digest} (deployed by {at})"),
            ));
            Some(digest)
        }
        Probe::Missing => {
            out.push(check("deploy", &subject, Level::Fail, format!("{at} deploys {primary}, which is not in the primary registry: Argo CD cannot pull it"))
                .fix(format!("cargo xtask release (builds the context's latest commit), or cargo xtask build-base --sha {sha} --push")));
            None
        }
        _ => None,
    };
    match (&f.backup, digest) {
        (Some(Probe::Missing), _) => out.push(
            check(
                "deploy",
                backup.to_string(),
                Level::Fail,
                format!("{backup} is not in the backup registry"),
            )
            .fix(format!("cargo xtask push --mirror --sha {sha}")),
        ),
        (Some(Probe::Found(b)), Some(p)) if b != p => out.push(
            check(
                "deploy",
                backup.to_string(),
                Level::Fail,
                format!("the backup holds {b}, the primary {p}: not the same image"),
            )
            .fix(format!("cargo xtask push --mirror --sha {sha}")),
        ),
        (Some(Probe::Found(b)), _) => out.push(check(
            "deploy",
            backup.to_string(),
            Level::Ok,
            format!("in the backup as {b}"),
        )),
        _ => {}
    }
    match &f.platforms {
        Some(Ok(have)) => {
            let missing: Vec<&String> = settings
                .platforms
                .iter()
                .filter(|p| !have.contains(p))
                .collect();
            let c = if missing.is_empty() {
                check(
                    "deploy",
                    &subject,
                    Level::Ok,
                    format!("carries {}", settings.platforms.join(", ")),
                )
            } else {
                check("deploy", &subject, Level::Fail, format!("lacks {} (has {})", join(&missing), if have.is_empty() { "a single image, not an index".into() } else { have.join(", ") }))
                    .fix(format!("rebuild for every platform: cargo xtask build-base --sha {sha} --push, then cargo xtask push --mirror --sha {sha}"))
            };
            out.push(c);
        }
        Some(Err(why)) => out.push(check(
            "deploy",
            &subject,
            Level::Warn,
            format!("cannot list its platforms: {why}"),
        )),
        None => {}
    }
    match &f.signed {
        Some(Ok(true)) => out.push(check(
            "deploy",
            &subject,
            Level::Ok,
            "has a cosign signature",
        )),
        Some(Ok(false)) => out.push(
            check(
                "deploy",
                &subject,
                Level::Fail,
                "has no cosign signature: Image Updater (imagesVerification) will not move to it",
            )
            .fix(format!("cargo xtask sign --sha {sha}")),
        ),
        Some(Err(why)) => out.push(check(
            "deploy",
            &subject,
            Level::Warn,
            format!("cannot read its signatures: {why}"),
        )),
        None if digest.is_some() => out.push(
            check(
                "deploy",
                &subject,
                Level::Skip,
                "signature not checked: cosign not found",
            )
            .fix(tools::COSIGN.hint),
        ),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests;
