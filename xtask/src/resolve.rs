//! The one image resolver. [`target`] is made once per run from the image flags ([`Wanted`]):
//! the configured image (`--image`, else the first), the registry (`--registry`, else the build
//! record's when the record is of the tag in question, else the primary), the image's name there, the
//! [`Tag`] (`--sha` through the one tag rule, [`Repo::tag_commit`]; for a build, HEAD's with
//! `-dirty`; else the build record's) and the build record, whose digest is used only while its
//! tag still holds it ([`ImageTarget::lookup`]).
//!
//! It is also the only home of the loopback rule ([`plain_http`]), of the image's names in the
//! configured registries ([`names`]) and of "is this a configured image?" ([`configured`]), which
//! update-images, doctor and the lint's image rules ask. Tasks derive none of these themselves.

use crate::build_record::{self, BuildRecord};
use crate::engine::{Choice, read_tool};
use crate::exec::Runner;
use crate::image_ref::ImageRef;
use crate::registry::{RegistryTool, remote_digest, require_digests};
use crate::repo::{Commit, Repo};
use crate::settings::{ImageSettings, Settings};
use anyhow::{Context, Result, bail};
use std::fmt;
use std::path::Path;

/// The image flags a task was given (`flags::ImageArgs`, converted at the task boundary).
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    /// `--image`: a configured short name.
    pub image: Option<&'a str>,
    /// `--registry`: ghcr, backup, or HOST[:PORT]/PATH.
    pub registry: Option<&'a str>,
    /// `--sha`: the commit whose tag to use.
    pub sha: Option<&'a str>,
    /// `--insecure-registry`: plain HTTP to a registry not on loopback.
    pub insecure: bool,
}

/// An image tag: `sha-` and the first 7 hex digits of a commit ([`Commit::short`], as
/// docker/metadata-action makes it), with `-dirty` for a local build of uncommitted changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    /// The tag of `commit`.
    pub fn of(commit: &Commit) -> Tag {
        Tag(format!("sha-{}", commit.short()))
    }

    /// A tag as a build record wrote it.
    pub fn recorded(tag: &str) -> Tag {
        Tag(tag.to_string())
    }

    /// The same tag, marking a build of uncommitted changes.
    pub fn dirty(self) -> Tag {
        Tag(self.0 + "-dirty")
    }

    /// A `-dirty` tag is never pushed.
    pub fn is_pushable(&self) -> bool {
        !self.0.ends_with("-dirty")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The loopback rule: a loopback registry, or `--insecure-registry`, is plain HTTP.
pub fn plain_http(reference: &ImageRef, insecure_flag: bool) -> bool {
    insecure_flag || reference.is_loopback()
}

/// How the tag is found: a build's (HEAD's or `--sha`'s commit, `-dirty` allowed or refused;
/// the build record plays no part), or an existing image's (`--sha`, else the build record's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Build { allow_dirty: bool },
    Existing,
}

/// The image a task works on, resolved once per run.
pub struct ImageTarget<'a> {
    pub image: &'a ImageSettings,
    /// The build record, when there is one (for a build: ignored; for push: only of the tag).
    pub record: Option<BuildRecord>,
    /// `--registry`, else the record's, else the primary.
    pub registry: String,
    /// The image's name in `registry`, without tag or digest.
    pub name: ImageRef,
    /// `--sha`'s tag, a build's tag, else the build record's; `None`: no record and no `--sha`.
    pub tag: Option<Tag>,
    /// The commit the tag names, when it was resolved here (`--sha`, or a build).
    pub commit: Option<Commit>,
    /// `--insecure-registry`.
    insecure: bool,
}

/// What a build works from, beside its [`ImageTarget`].
pub struct BuildSource {
    /// Whether HEAD's work tree is built (no `--sha`, or `--sha` names HEAD); else the
    /// commit's own tree is exported.
    pub from_head: bool,
    /// The commit whose tree is built.
    pub built: Commit,
}

/// The image target of `wanted`, for `purpose`. A build also returns what it builds from.
pub fn target<'a>(
    root: &Path,
    settings: &'a Settings,
    wanted: &Wanted,
    purpose: Purpose,
) -> Result<(ImageTarget<'a>, Option<BuildSource>)> {
    let image = configured_image(settings, wanted.image)?;
    let (record, tag, commit, source) = match purpose {
        Purpose::Build { allow_dirty } => {
            let repo = Repo::open(root)?;
            let (commit, source, tag) = build_tag(&repo, image, wanted.sha, allow_dirty)?;
            (None, Some(tag), Some(commit), Some(source))
        }
        Purpose::Existing => {
            let record = BuildRecord::load(root, &image.name)?;
            let commit = match wanted.sha {
                Some(sha) => Some(tag_commit(&Repo::open(root)?, image, Some(sha))?),
                None => None,
            };
            let tag = match (&commit, &record) {
                (Some(commit), _) => Some(Tag::of(commit)),
                (None, Some(record)) => Some(Tag::recorded(&record.tag)),
                (None, None) => None,
            };
            (record, tag, commit, None)
        }
    };
    let of_tag = record
        .as_ref()
        .filter(|r| tag.as_ref().is_some_and(|t| r.tag == t.as_str()));
    let registry = match (wanted.registry, of_tag) {
        (Some(name), _) => settings.registry_named(name)?,
        (None, Some(r)) => r.registry.clone(),
        (None, None) => settings.registry.clone(),
    };
    let name = image_name(&registry, &image.name)?;
    let target = ImageTarget {
        image,
        record,
        registry,
        name,
        tag,
        commit,
        insecure: wanted.insecure,
    };
    Ok((target, source))
}

/// A build's tag: the tag commit (`--sha` as given, else the last commit that changed the
/// context), what is built, and `-dirty` when HEAD's context has uncommitted changes (refused
/// without `--allow-dirty`).
fn build_tag(
    repo: &Repo,
    image: &ImageSettings,
    sha: Option<&str>,
    allow_dirty: bool,
) -> Result<(Commit, BuildSource, Tag)> {
    let head = repo.head()?;
    // Without --sha, HEAD is built, whose context is the tag commit's; with it, the commit's
    // own tree is exported unless it is HEAD.
    let commit = tag_commit(repo, image, sha)?;
    let from_head = sha.is_none() || commit.id == head.id;
    let built = if from_head { head } else { commit.clone() };
    let mut tag = Tag::of(&commit);
    if from_head {
        let dirty = repo.dirty_paths(&image.context)?;
        if !dirty.is_empty() {
            if !allow_dirty {
                bail!(
                    "the build context {} has uncommitted changes, so tag {tag} would not describe \
                     the image:\n  {}\ncommit them, or pass --allow-dirty for a local `{tag}-dirty` build",
                    image.context.display(),
                    dirty.join("\n  ")
                );
            }
            tag = tag.dirty();
        }
    }
    Ok((commit, BuildSource { from_head, built }, tag))
}

impl ImageTarget<'_> {
    /// `name:tag`; `None` when no tag is known (no build record and no `--sha`).
    pub fn reference(&self) -> Option<ImageRef> {
        self.tag.as_ref().map(|t| self.name.with_tag(t.as_str()))
    }

    /// Plain HTTP to `reference`'s registry ([`plain_http`] with this run's flag).
    pub fn plain_http(&self, reference: &ImageRef) -> bool {
        plain_http(reference, self.insecure)
    }

    /// The same image in another registry (push's destination).
    pub fn in_registry(&self, registry: &str) -> Result<ImageRef> {
        image_name(registry, &self.image.name)
    }

    /// The build record, when it is of this target's tag.
    pub fn record_of_tag(&self) -> Option<&BuildRecord> {
        let tag = self.tag.as_ref()?;
        self.record.as_ref().filter(|r| r.tag == tag.as_str())
    }

    /// The error for a missing build record: what to run first, or what to pass instead.
    pub fn no_record(&self, root: &Path, run_first: &str, or_pass: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "no build record for {} ({}): run `cargo xtask {run_first}` first, or pass {or_pass}",
            self.image.name,
            build_record::path(root, &self.image.name).display()
        )
    }

    /// What the record says, reading the registry for a recorded digest (`None`: no record).
    pub fn lookup(&self, runner: &Runner) -> Result<Option<FromRecord>> {
        Ok(match &self.record {
            None => None,
            Some(r) if !r.pushed && r.registry == self.registry => {
                Some(FromRecord::Unpushed(r.clone()))
            }
            Some(BuildRecord {
                digest: Some(digest),
                tag,
                ..
            }) => {
                let tool = read_tool(Choice::Auto, runner)?;
                let tagged = self.name.with_tag(tag);
                let digest = self.confirm_digest(runner, tool, &tagged, digest)?;
                Some(FromRecord::Digest(self.name.with_digest(&digest)))
            }
            Some(r) => Some(FromRecord::Tagged(r.clone())),
        })
    }

    /// `recorded`, after reading the digest `tagged` has in its registry (with `tool`) and
    /// checking that the tag still holds it ([`build_record::check_tag_holds`]).
    pub fn confirm_digest(
        &self,
        runner: &Runner,
        tool: RegistryTool,
        tagged: &ImageRef,
        recorded: &str,
    ) -> Result<String> {
        let current = remote_digest(runner, tool, tagged, self.plain_http(tagged))?;
        build_record::check_tag_holds(tagged, recorded, current.as_deref())?;
        Ok(recorded.to_string())
    }
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

/// `--registry`/`--to` (`flag`) as a registry prefix when `given`, else `default`.
pub fn registry_or(
    flag: &str,
    settings: &Settings,
    given: Option<&str>,
    default: &str,
) -> Result<String> {
    match given {
        Some(name) => settings.registry_named(name).context(flag.to_string()),
        None => Ok(default.to_string()),
    }
}

/// `registry/image`, without tag or digest.
pub fn image_name(registry: &str, image: &str) -> Result<ImageRef> {
    ImageRef::parse(&format!("{registry}/{image}"))
}

/// The image's names in the primary and the backup registry, without tag or digest.
pub fn names(settings: &Settings, image: &str) -> [ImageRef; 2] {
    [settings.primary_ref(image), settings.backup_ref(image)]
}

/// The configured image `name` names: its short name, or its full name in the primary or the
/// backup registry, with or without a tag or digest.
pub fn configured<'a>(settings: &'a Settings, name: &str) -> Option<&'a ImageSettings> {
    let bare = without_tag(name);
    // `registry/image` is what [`names`] spells; compared without building it (the lint asks
    // this of every container image).
    let in_registry = |registry: &str, image: &str| {
        bare.strip_prefix(registry)
            .and_then(|rest| rest.strip_prefix('/'))
            == Some(image)
    };
    settings.images.iter().find(|i| {
        bare == i.name
            || in_registry(&settings.registry, &i.name)
            || in_registry(&settings.backup_registry, &i.name)
    })
}

/// The configured image `name` is, exactly: its short name or its full name in the primary or
/// the backup registry, with no tag or digest.
pub fn named_exactly<'a>(settings: &'a Settings, name: &str) -> Option<&'a ImageSettings> {
    configured(settings, name).filter(|_| without_tag(name) == name)
}

/// `name` without `:tag` or `@digest`.
fn without_tag(name: &str) -> &str {
    let name = name.split_once('@').map_or(name, |(n, _)| n);
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[slash..].rfind(':') {
        Some(i) => &name[..slash + i],
        None => name,
    }
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
            names: names(settings, &image).iter().map(ImageRef::name).collect(),
            image,
            tag: Tag::of(&commit).to_string(),
            digest: None,
        });
    }
    Ok(targets)
}

/// `--verify` / `--digest`: every target's tag must be in the primary registry; with `--digest`
/// (`pin`) its digest is pinned too. Runs before any file is planned or written.
pub fn check_registry(
    runner: &Runner,
    targets: &mut [Target],
    settings: &Settings,
    pin: bool,
) -> Result<()> {
    let tool = read_tool(Choice::Auto, runner)?;
    let refs: Vec<_> = targets
        .iter()
        .map(|t| {
            let r = settings.primary_ref(&t.image).with_tag(&t.tag);
            let plain = plain_http(&r, false);
            (r, plain)
        })
        .collect();
    let digests = require_digests(runner, tool, &refs)
        .map_err(|e| anyhow::anyhow!("{e:#}\nno file was changed"))?;
    for (target, digest) in targets.iter_mut().zip(digests) {
        eprintln!(
            "verified: {}/{}:{} is {digest}",
            settings.registry, target.image, target.tag
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
        let found = named_exactly(settings, name);
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
    fn configured_images_match_by_short_or_full_name_in_a_configured_registry() {
        let s = Settings::default();
        for name in [
            "python-base",
            "python-base:v1",
            "ghcr.io/dcasati/python-base",
            "ghcr.io/dcasati/python-base:sha-abc1234",
            "localhost:32000/homelab/python-base@sha256:abc",
        ] {
            assert!(configured(&s, name).is_some(), "{name}");
        }
        for name in [
            "ghcr.io/dcasati/not-python-base",
            "ghcr.io/someone-else/python-base",
            "busybox",
        ] {
            assert!(configured(&s, name).is_none(), "{name}");
        }
    }

    #[test]
    fn tags_are_seven_hex_and_dirty_ones_are_never_pushed() {
        let commit = Commit {
            id: "abcdef0123456789abcdef0123456789abcdef01".into(),
            time: 0,
        };
        let tag = Tag::of(&commit);
        assert_eq!(tag.as_str(), "sha-abcdef0");
        assert!(tag.is_pushable());
        let dirty = tag.dirty();
        assert_eq!(dirty.to_string(), "sha-abcdef0-dirty");
        assert!(!dirty.is_pushable());
        let on = |r: &str| ImageRef::parse(r).unwrap();
        assert!(plain_http(&on("127.0.0.1:5000/x"), false));
        assert!(plain_http(&on("localhost:32000/x"), false));
        assert!(!plain_http(&on("ghcr.io/x"), false));
        assert!(plain_http(&on("ghcr.io/x"), true));
    }

    #[test]
    fn the_registry_is_the_flag_then_the_record_then_the_primary() {
        let s = Settings::default();
        let dir = std::env::temp_dir().join(format!("xtask-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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
        let pick = |registry| {
            let wanted = Wanted {
                registry,
                ..Wanted::default()
            };
            let (t, _) = target(&dir, &s, &wanted, Purpose::Existing).unwrap();
            (t.registry, t.tag.map(|t| t.to_string()))
        };
        assert_eq!(pick(None), ("ghcr.io/dcasati".into(), None));
        record.write(&dir).unwrap();
        assert_eq!(
            pick(Some("backup")),
            (s.backup_registry.clone(), Some("sha-abc1234".into()))
        );
        assert_eq!(
            pick(None),
            ("127.0.0.1:5000/homelab".into(), Some("sha-abc1234".into()))
        );
        let _ = std::fs::remove_dir_all(&dir);
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
