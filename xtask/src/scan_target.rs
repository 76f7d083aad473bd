//! What `trivy-scan` scans and how it reaches it: the image (from `--image`, `--sha` or the
//! build record, whose tag must still hold the recorded digest) with the platforms of its
//! index, registry credentials for trivy, and the repo's checked `.trivyignore`.

use crate::exec::{Runner, Secret};
use crate::flags::{self, EngineChoice};
use crate::image_ref::ImageRef;
use crate::registry::read_tool;
use crate::resolve::{FromRecord, Recorded, no_record, sha_tag};
use crate::{Ctx, registry, trivy};
use anyhow::{Context, Result};
use std::path::Path;

/// The image to scan, and the platforms of its index (empty: scan what trivy picks).
pub struct ImageTarget {
    pub reference: ImageRef,
    pub platforms: Vec<String>,
}

/// `<root>/.trivyignore` when there is one, after checking that each ID gives its reason.
pub fn ignorefile(root: &Path) -> Result<Option<String>> {
    let path = root.join(".trivyignore");
    let Some((text, _)) =
        crate::files::read_in_repo(root, Path::new(".trivyignore"), crate::files::READ_LIMIT)?
    else {
        return Ok(None);
    };
    trivy::check_ignorefile(".trivyignore", &text)?;
    Ok(Some(path.display().to_string()))
}

/// `--image REF`, else `--sha`'s tag, else the build record's image ([`Recorded::lookup`]): by
/// digest once pushed (its tag must still hold that digest), by tag (the local image) before.
/// An image in a registry is inspected for the platforms of its index.
pub fn image_target(
    given: Option<&str>,
    flags: &flags::TrivyScan,
    ctx: &Ctx,
    runner: &Runner,
) -> Result<ImageTarget> {
    let insecure = flags.insecure_registry;
    if let Some(given) = given {
        let reference = ImageRef::parse(given).context("--image")?;
        return in_registry(runner, reference, insecure);
    }
    let target = Recorded::load(ctx, None, flags.registry.as_deref())?;
    if let Some(sha) = &flags.sha {
        let tag = sha_tag(&ctx.root, target.image, sha)?;
        return in_registry(runner, target.name.with_tag(&tag), insecure);
    }
    match target.lookup(runner, insecure)? {
        Some(FromRecord::Digest(reference)) => in_registry(runner, reference, insecure),
        Some(FromRecord::Unpushed(record) | FromRecord::Tagged(record)) => {
            crate::sayln!(
                "note: {} was built but not pushed: scanning the local image by its tag",
                record.reference()
            );
            Ok(ImageTarget {
                reference: target.name.with_tag(&record.tag),
                platforms: Vec::new(),
            })
        }
        None => Err(no_record(
            &ctx.root,
            &target.image.name,
            "build-base --push",
            "--image REF or --sha SHA",
        )),
    }
}

/// `reference` with the platforms of its index, read from its registry.
fn in_registry(runner: &Runner, reference: ImageRef, insecure: bool) -> Result<ImageTarget> {
    let tool = read_tool(EngineChoice::Auto, runner)?;
    let insecure = reference.is_loopback() || insecure;
    let platforms = registry::index_platforms(runner, tool, &reference, insecure)?;
    Ok(ImageTarget {
        reference,
        platforms,
    })
}

/// Loopback or `--insecure-registry` → `--insecure`; `GITHUB_TOKEN` (ghcr.io) or
/// `REGISTRY_TOKEN` with `GITHUB_ACTOR` (or the settings' registry-user) → trivy's
/// `TRIVY_USERNAME`/`TRIVY_PASSWORD` environment.
/// The user is checked as for a login ([`registry::login_user`]): a bidi or control character
/// in it is refused, never passed on.
pub fn registry_access(ctx: &Ctx, reference: &ImageRef, insecure: bool) -> Result<trivy::Registry> {
    let host = reference.host().unwrap_or("docker.io");
    let actor = std::env::var("GITHUB_ACTOR").ok().filter(|u| !u.is_empty());
    let configured = ctx.settings.registry_user.clone();
    let login = match Secret::from_env(registry::token_variable(host)) {
        Some(token) if actor.is_some() || configured.is_some() => {
            Some((registry::login_user(actor, configured)?, token))
        }
        _ => None,
    };
    Ok(trivy::Registry {
        insecure: insecure || reference.is_loopback(),
        login,
    })
}
