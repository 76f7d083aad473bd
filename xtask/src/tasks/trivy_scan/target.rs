//! What `trivy-scan` scans and how it reaches it: the image (`--image REF`, else resolved by
//! [`resolve::target`] from `--sha` or the build record, whose tag must still hold the recorded
//! digest) with the platforms of its index, registry credentials for trivy, and the repo's
//! checked `.trivyignore`.

use crate::engine::{Choice, read_tool};
use crate::exec::{Runner, Secret};
use crate::flags;
use crate::image_ref::ImageRef;
use crate::resolve::{self, FromRecord, Purpose, Wanted};
use crate::settings::Settings;
use crate::{Ctx, registry, trivy};
use anyhow::{Context, Result};
use std::path::Path;

/// The image to scan, and the platforms of its index (empty: scan what trivy picks).
pub struct ScanImage {
    pub reference: ImageRef,
    pub platforms: Vec<String>,
}

/// `<root>/.trivyignore` when there is one, after checking that each ID gives its reason.
pub fn ignorefile(root: &Path) -> Result<Option<String>> {
    let path = root.join(".trivyignore");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    trivy::check_ignorefile(".trivyignore", &text)?;
    Ok(Some(path.display().to_string()))
}

/// `--image REF`, else `--sha`'s tag, else the build record's image ([`resolve::ImageTarget::lookup`]):
/// by digest once pushed (its tag must still hold that digest), by tag (the local image) before.
/// An image in a registry is inspected for the platforms of its index.
pub fn image_target(
    given: Option<&str>,
    flags: &flags::TrivyScan,
    ctx: &Ctx,
    runner: &Runner,
) -> Result<ScanImage> {
    let wanted = Wanted {
        image: None,
        registry: flags.registry.as_deref(),
        sha: flags.sha.as_deref(),
        insecure: flags.insecure_registry,
    };
    if let Some(given) = given {
        let reference = ImageRef::parse(given).context("--image")?;
        return in_registry(runner, reference, &wanted);
    }
    let (target, _) = resolve::target(&ctx.root, &ctx.settings, &wanted, Purpose::Existing)?;
    if flags.sha.is_some() {
        let reference = target.reference().expect("--sha names a tag");
        return in_registry(runner, reference, &wanted);
    }
    match target.lookup(runner)? {
        Some(FromRecord::Digest(reference)) => in_registry(runner, reference, &wanted),
        Some(FromRecord::Unpushed(record) | FromRecord::Tagged(record)) => {
            eprintln!(
                "note: {} was built but not pushed: scanning the local image by its tag",
                record.reference()
            );
            Ok(ScanImage {
                reference: target.name.with_tag(&record.tag),
                platforms: Vec::new(),
            })
        }
        None => Err(target.no_record(&ctx.root, "build-base --push", "--image REF or --sha SHA")),
    }
}

/// `reference` with the platforms of its index, read from its registry.
fn in_registry(runner: &Runner, reference: ImageRef, wanted: &Wanted) -> Result<ScanImage> {
    let tool = read_tool(Choice::Auto, runner)?;
    let insecure = resolve::plain_http(&reference, wanted.insecure);
    let platforms = registry::index_platforms(runner, tool, &reference, insecure)?;
    Ok(ScanImage {
        reference,
        platforms,
    })
}

/// Loopback or `--insecure-registry` → `--insecure`; `GITHUB_TOKEN` (ghcr.io) or
/// `REGISTRY_TOKEN` with `GITHUB_ACTOR` (or the settings' registry-user) → trivy's
/// `TRIVY_USERNAME`/`TRIVY_PASSWORD` environment.
pub fn registry_access(
    settings: &Settings,
    reference: &ImageRef,
    insecure: bool,
) -> trivy::Registry {
    let host = reference.host().unwrap_or("docker.io");
    let user = std::env::var("GITHUB_ACTOR")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| settings.registry_user.clone());
    let login = match (user, Secret::from_env(registry::token_variable(host))) {
        (Some(user), Some(token)) => Some((user, token)),
        _ => None,
    };
    trivy::Registry {
        insecure: resolve::plain_http(reference, insecure),
        login,
    }
}
