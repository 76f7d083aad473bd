//! One way to resolve the image a task works on: the configured image (`--image`, else the
//! first), the registry (`--registry`, else the build record's, else the primary) and the
//! image's name there, the tag (`--sha` as given, else the one tag rule, [`Repo::tag_commit`]),
//! and the build record, whose digest is used only while its tag still holds it. build-base,
//! push, trivy-scan, sign and update-images resolve through here and nowhere else.

use crate::Ctx;
use crate::build_record::{self, BuildRecord};
use crate::exec::Runner;
use crate::flags::EngineChoice;
use crate::image_ref::ImageRef;
use crate::registry::{read_tool, remote_digest, require_digests};
use crate::repo::{Commit, Repo};
use crate::settings::{ImageSettings, Settings};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// `--image NAME` among the configured images, else the first one.
pub fn configured_image<'a>(
    settings: &'a Settings,
    name: Option<&str>,
) -> Result<&'a ImageSettings> {
    match name {
        Some(name) => settings.image(name),
        None => Ok(&settings.images[0]),
    }
}

/// `registry/image`, without tag or digest.
pub fn image_name(registry: &str, image: &str) -> Result<ImageRef> {
    ImageRef::parse(&format!("{registry}/{image}"))
}

/// The registry a task works on: `--registry` when given, else the build record's, else the
/// primary.
pub fn registry_for(
    settings: &Settings,
    registry_flag: Option<&str>,
    record: Option<&BuildRecord>,
) -> Result<String> {
    Ok(match (registry_flag, record) {
        (Some(name), _) => settings.registry_named(name)?,
        (None, Some(r)) => r.registry.clone(),
        (None, None) => settings.registry.clone(),
    })
}

/// The commit the image's tag names: `--sha` as given, else the last commit that changed the
/// image's build context.
pub fn tag_commit(repo: &Repo, image: &ImageSettings, sha: Option<&str>) -> Result<Commit> {
    let what = if sha.is_some() {
        "--sha"
    } else {
        "the image tag"
    };
    repo.tag_commit(&image.context, sha).context(what)
}

/// The tag `--sha` names: `sha-` and the first 7 hex digits of its commit.
pub fn sha_tag(root: &Path, image: &ImageSettings, sha: &str) -> Result<String> {
    Ok(tag_commit(&Repo::open(root)?, image, Some(sha))?.tag())
}

/// The error for a missing build record: what to run first, or what to pass instead.
pub fn no_record(root: &Path, image: &str, run_first: &str, or_pass: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "no build record for {image} ({}): run `cargo xtask {run_first}` first, or pass {or_pass}",
        build_record::path(root, image).display()
    )
}

/// The image a task works on as the last build recorded it.
pub struct Recorded<'a> {
    pub image: &'a ImageSettings,
    pub record: Option<BuildRecord>,
    /// `--registry`, else the record's, else the primary ([`registry_for`]).
    pub registry: String,
    /// The image's name in `registry`.
    pub name: ImageRef,
}

/// What the build record says of the image in the registry a task works on.
pub enum FromRecord {
    /// Pushed (or built with a digest, and looked for in another registry): `name@digest`,
    /// once the registry says the recorded tag still holds that digest.
    Digest(ImageRef),
    /// Built but not pushed to this registry: only the local image has the tag.
    Unpushed(BuildRecord),
    /// In the registry, but no digest was recorded.
    Tagged(BuildRecord),
}

impl<'a> Recorded<'a> {
    /// `--image` (a configured name) and `--registry`, with the build record of that image.
    pub fn load(ctx: &'a Ctx, image: Option<&str>, registry: Option<&str>) -> Result<Self> {
        let image = configured_image(&ctx.settings, image)?;
        let record = BuildRecord::load(&ctx.root, &image.name)?;
        let registry = registry_for(&ctx.settings, registry, record.as_ref())?;
        let name = image_name(&registry, &image.name)?;
        Ok(Recorded {
            image,
            record,
            registry,
            name,
        })
    }

    /// What the record says, reading the registry for a recorded digest (`None`: no record).
    /// Loopback registries, or `insecure`, are plain HTTP.
    pub fn lookup(&self, runner: &Runner, insecure: bool) -> Result<Option<FromRecord>> {
        Ok(match &self.record {
            None => None,
            Some(r) if !r.pushed && r.registry == self.registry => {
                Some(FromRecord::Unpushed(r.clone()))
            }
            Some(BuildRecord {
                digest: Some(digest),
                tag,
                ..
            }) => Some(FromRecord::Digest(confirm_recorded_digest(
                runner, &self.name, tag, digest, insecure,
            )?)),
            Some(r) => Some(FromRecord::Tagged(r.clone())),
        })
    }
}

/// `name@recorded`, after reading the digest `name:tag` has in its registry (skopeo, else
/// docker) and [`build_record::check_tag_holds`] it. Loopback registries, or `insecure`, are
/// plain HTTP.
pub fn confirm_recorded_digest(
    runner: &Runner,
    name: &ImageRef,
    tag: &str,
    recorded: &str,
    insecure: bool,
) -> Result<ImageRef> {
    let tagged = name.with_tag(tag);
    let tool = read_tool(EngineChoice::Auto, runner)?;
    let current = remote_digest(runner, tool, &tagged, insecure || tagged.is_loopback())?;
    build_record::check_tag_holds(&tagged, recorded, current.as_deref())?;
    Ok(name.with_digest(recorded))
}

/// One image update-images sets: the names its `images:` entries may carry, and what to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Short name from the settings: `python-base`.
    pub image: String,
    /// `ghcr.io/dcasati/python-base` and `localhost:32000/homelab/python-base`.
    pub names: Vec<String>,
    /// `sha-abc1234`.
    pub tag: String,
    /// The digest to pin (`--digest`); `None` removes any digest, which would override the tag.
    pub digest: Option<String>,
}

/// update-images' images (all configured ones, or those named by `--image`) with their tags:
/// `sha` as given, else each image's tag commit.
pub fn update_targets(
    settings: &Settings,
    wanted: &[String],
    sha: Option<&str>,
    repo: &Repo,
) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    for image in select_images(settings, wanted)? {
        let context = &settings.image(&image)?.context;
        let commit = repo
            .tag_commit(context, sha)
            .with_context(|| format!("the tag of {image}"))?;
        targets.push(Target {
            names: vec![
                settings.primary_ref(&image).name(),
                settings.backup_ref(&image).name(),
            ],
            image,
            tag: commit.tag(),
            digest: None,
        });
    }
    Ok(targets)
}

/// `--verify` / `--digest`: every target's tag must be in the primary registry; with `--digest`
/// (`pin`) its digest is pinned too. Runs before any file is planned or written.
pub fn check_registry(targets: &mut [Target], settings: &Settings, pin: bool) -> Result<()> {
    let runner = Runner::new(false, settings.network_timeout)?;
    let tool = read_tool(EngineChoice::Auto, &runner)?;
    let refs: Vec<_> = targets
        .iter()
        .map(|t| settings.primary_ref(&t.image).with_tag(&t.tag))
        .collect();
    let digests = require_digests(&runner, tool, &refs)
        .map_err(|e| anyhow::anyhow!("{e:#}\nno file was changed"))?;
    for (target, digest) in targets.iter_mut().zip(digests) {
        crate::sayln!(
            "verified: {}/{}:{} is {digest}",
            settings.registry,
            target.image,
            target.tag
        );
        if pin {
            target.digest = Some(digest);
        }
    }
    Ok(())
}

/// Configured short names selected by `--image` (short or full names); all when none is given.
pub fn select_images(settings: &Settings, wanted: &[String]) -> Result<Vec<String>> {
    if wanted.is_empty() {
        return Ok(settings.images.iter().map(|i| i.name.clone()).collect());
    }
    let mut selected: Vec<String> = Vec::new();
    for name in wanted {
        let found = settings.images.iter().find(|i| {
            i.name == *name
                || settings.primary_ref(&i.name).name() == *name
                || settings.backup_ref(&i.name).name() == *name
        });
        match found {
            Some(image) if !selected.contains(&image.name) => selected.push(image.name.clone()),
            Some(_) => {}
            None => bail!(
                "--image {name}: not a configured image; configured: {}",
                settings
                    .images
                    .iter()
                    .map(|i| format!("{} ({})", i.name, settings.primary_ref(&i.name).name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_selection_by_short_or_full_name() {
        let s = Settings::default();
        assert_eq!(select_images(&s, &[]).unwrap(), ["python-base"]);
        let both = ["ghcr.io/dcasati/python-base".into(), "python-base".into()];
        assert_eq!(select_images(&s, &both).unwrap(), ["python-base"]);
        let backup = ["localhost:32000/homelab/python-base".to_string()];
        assert_eq!(select_images(&s, &backup).unwrap(), ["python-base"]);
        let err = select_images(&s, &["influxdb".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--image influxdb: not a configured image; configured: python-base (ghcr.io/dcasati/python-base)"
        );
    }

    #[test]
    fn the_registry_is_the_flag_then_the_record_then_the_primary() {
        let s = Settings::default();
        let record = BuildRecord {
            image: "python-base".into(),
            registry: "127.0.0.1:5000/homelab".into(),
            tag: "sha-abc1234".into(),
            digest: None,
            platforms: Vec::new(),
            commit: "abc1234".repeat(5) + "abcde",
            pushed: true,
            engine: "podman".into(),
        };
        let pick = |flag, record| registry_for(&s, flag, record).unwrap();
        assert_eq!(pick(Some("backup"), Some(&record)), s.backup_registry);
        assert_eq!(pick(None, Some(&record)), "127.0.0.1:5000/homelab");
        assert_eq!(pick(None, None), "ghcr.io/dcasati");
        assert_eq!(
            configured_image(&s, None).unwrap().name,
            configured_image(&s, Some("python-base")).unwrap().name
        );
        let err = configured_image(&s, Some("nope")).unwrap_err().to_string();
        assert!(err.contains("unknown image `nope`"), "{err}");
        assert_eq!(
            image_name("ghcr.io/dcasati", "python-base")
                .unwrap()
                .to_string(),
            "ghcr.io/dcasati/python-base"
        );
    }
}
