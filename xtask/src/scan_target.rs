//! What `trivy-scan` scans and how it reaches it: the image (from `--image`, `--sha` or the
//! build record, whose tag must still hold the recorded digest) with the platforms of its
//! index, registry credentials for trivy, and the repo's checked `.trivyignore`.

use crate::build_record::{self, BuildRecord};
use crate::exec::{Runner, Secret};
use crate::flags::{self, EngineChoice};
use crate::image_ref::ImageRef;
use crate::registry::read_tool;
use crate::repo::Repo;
use crate::{Ctx, engine, trivy};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The image to scan, and the platforms of its index (empty: scan what trivy picks).
pub struct ImageTarget {
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

/// `--image REF`, else `--sha`'s tag, else the build record's image: by digest once pushed (its
/// tag must still hold that digest), by tag (the local image) before. An image in a registry is
/// inspected for the platforms of its index.
pub fn image_target(
    given: Option<&str>,
    flags: &flags::TrivyScan,
    ctx: &Ctx,
    runner: &Runner,
) -> Result<ImageTarget> {
    let in_registry = |reference: ImageRef| -> Result<ImageTarget> {
        let tool = read_tool(EngineChoice::Auto, runner)?;
        let insecure = reference.is_loopback() || flags.insecure_registry;
        let raw = runner
            .read(&engine::inspect_raw(tool, &reference, insecure))
            .with_context(|| format!("cannot read the platforms of {reference}"))?;
        let platforms = engine::parse_index_platforms(&raw)
            .with_context(|| format!("the manifest of {reference}"))?;
        Ok(ImageTarget {
            reference,
            platforms,
        })
    };
    if let Some(given) = given {
        let reference = ImageRef::parse(given)
            .map_err(anyhow::Error::msg)
            .context("--image")?;
        return in_registry(reference);
    }
    let image = &ctx.settings.images[0];
    let (record, registry, name) = build_record::record_and_name(
        &ctx.root,
        &ctx.settings,
        &image.name,
        flags.registry.as_deref(),
    )?;
    if let Some(sha) = &flags.sha {
        let tag = Repo::open(&ctx.root)?
            .tag_commit(&image.context, Some(sha))
            .context("--sha")?
            .tag();
        return in_registry(name.with_tag(&tag));
    }
    match record {
        Some(BuildRecord {
            digest: Some(digest),
            pushed,
            registry: built_in,
            tag,
            ..
        }) if pushed || built_in != registry => {
            let insecure = flags.insecure_registry;
            in_registry(build_record::confirm_recorded_digest(
                runner, &name, &tag, &digest, insecure,
            )?)
        }
        Some(record) => {
            eprintln!(
                "note: {} was built but not pushed: scanning the local image by its tag",
                record.reference()
            );
            Ok(ImageTarget {
                reference: name.with_tag(&record.tag),
                platforms: Vec::new(),
            })
        }
        None => bail!(
            "no build record for {} ({}): run `cargo xtask build-base --push` first, or pass \
             --image REF or --sha SHA",
            image.name,
            crate::build_record::path(&ctx.root, &image.name).display()
        ),
    }
}

/// Loopback or `--insecure-registry` → `--insecure`; `GITHUB_TOKEN` (ghcr.io) or
/// `REGISTRY_TOKEN` with `GITHUB_ACTOR` (or the settings' registry-user) → trivy's
/// `TRIVY_USERNAME`/`TRIVY_PASSWORD` environment.
pub fn registry_access(ctx: &Ctx, reference: &ImageRef, insecure: bool) -> trivy::Registry {
    let host = reference.host().unwrap_or("docker.io");
    let user = std::env::var("GITHUB_ACTOR")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| ctx.settings.registry_user.clone());
    let login = match (user, Secret::from_env(engine::token_variable(host))) {
        (Some(user), Some(token)) => Some((user, token)),
        _ => None,
    };
    trivy::Registry {
        insecure: insecure || reference.is_loopback(),
        login,
    }
}
