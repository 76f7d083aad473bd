//! The repo's settings: `[workspace.metadata.xtask]` in the root Cargo.toml, then environment
//! variables, then flags (applied by each task), merged into [`Settings`].
//!
//! Environment: `XTASK_REGISTRY`, or `GITHUB_REPOSITORY_OWNER` for a fork (`ghcr.io/<owner>`);
//! `XTASK_BACKUP_REGISTRY`; `XTASK_PLATFORMS` (comma-separated); `XTASK_REGISTRY_USER`;
//! `XTASK_NETWORK_TIMEOUT` (seconds).

use crate::image_ref::ImageRef;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One image the repo builds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSettings {
    /// Short name, e.g. `python-base`.
    pub name: String,
    /// Build context, relative to the repo root.
    pub context: PathBuf,
    /// Dockerfile, relative to the context.
    #[serde(default = "default_dockerfile")]
    pub dockerfile: PathBuf,
    /// `smoke = ["argv", …]`: the command `cargo xtask smoke` runs inside the image. Unset: for
    /// the Python base image, the interpreter importing every third-party module the services'
    /// scripts import ([`crate::smoke::default_command`]); `[]`: only the image's CMD.
    #[serde(default)]
    pub smoke: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Primary registry and namespace: `ghcr.io/dcasati`.
    pub registry: String,
    /// The MicroK8s backup registry: `localhost:32000/homelab`.
    pub backup_registry: String,
    /// Manifests root, relative to the repo root.
    pub manifests: PathBuf,
    pub platforms: Vec<String>,
    pub images: Vec<ImageSettings>,
    /// The user for registry logins when `GITHUB_ACTOR` is not set.
    pub registry_user: Option<String>,
    /// Lint rule overrides: rule id to `off`, `warning` or `error`.
    pub lint_rules: BTreeMap<String, String>,
    /// How long a command that talks to a registry may run (`network-timeout`, seconds).
    pub network_timeout: std::time::Duration,
    /// The Kubernetes minor version the SCHEMA lint rules validate against, e.g. `1.31`.
    pub kubernetes_version: String,
    /// Extra CRD files or folders (repo-relative) whose schemas lint-manifests validates with.
    pub lint_crds: Vec<PathBuf>,
}

/// `[workspace.metadata.xtask]` as written; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    registry: Option<String>,
    backup_registry: Option<String>,
    manifests: Option<PathBuf>,
    platforms: Option<Vec<String>>,
    images: Option<Vec<ImageSettings>>,
    registry_user: Option<String>,
    network_timeout: Option<u64>,
    lint: Option<RawLint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "kebab-case")]
struct RawLint {
    #[serde(default)]
    rules: BTreeMap<String, String>,
    kubernetes_version: Option<String>,
    #[serde(default)]
    crds: Vec<PathBuf>,
}

fn default_dockerfile() -> PathBuf {
    PathBuf::from("Dockerfile")
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            registry: "ghcr.io/dcasati".into(),
            backup_registry: "localhost:32000/homelab".into(),
            manifests: "k8s-apps".into(),
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            images: vec![ImageSettings {
                name: "python-base".into(),
                context: "k8s-apps/base-images".into(),
                dockerfile: default_dockerfile(),
                smoke: None,
            }],
            registry_user: None,
            lint_rules: BTreeMap::new(),
            network_timeout: crate::exec::DEFAULT_NETWORK_TIMEOUT,
            kubernetes_version: "1.31".into(),
            lint_crds: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads `<root>/Cargo.toml` (a missing file means defaults) and applies the process env.
    pub fn load(root: &Path) -> Result<Settings> {
        let path = root.join("Cargo.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let raw = match text {
            Some(text) => parse(&text)
                .with_context(|| format!("{}: [workspace.metadata.xtask]", path.display()))?,
            None => Raw::default(),
        };
        let settings = resolve(raw, |key| std::env::var(key).ok().filter(|v| !v.is_empty()))?;
        settings
            .check_paths(root)
            .with_context(|| format!("{}: [workspace.metadata.xtask]", path.display()))?;
        Ok(settings)
    }

    /// `manifests`, and each image's `context` and `dockerfile`, must resolve inside the
    /// repository (through symlinks too), so that no task reads or builds files outside it.
    pub fn check_paths(&self, root: &Path) -> Result<()> {
        let mut paths = vec![("manifests", self.manifests.clone())];
        for image in &self.images {
            paths.push(("context", image.context.clone()));
            paths.push(("dockerfile", image.context.join(&image.dockerfile)));
        }
        for (key, path) in paths {
            if !crate::walk::stays_inside(root, &path) {
                bail!(
                    "{key} `{}` resolves outside the repository {}; give a path inside it",
                    path.display(),
                    root.display()
                );
            }
        }
        Ok(())
    }

    /// Settings for `image`, or an error that lists the configured names.
    pub fn image(&self, name: &str) -> Result<&ImageSettings> {
        match self.images.iter().find(|i| i.name == name) {
            Some(image) => Ok(image),
            None => bail!(
                "unknown image `{name}`; configured images: {}",
                self.image_list()
            ),
        }
    }

    pub fn image_list(&self) -> String {
        self.images
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The image's reference in the primary registry: `ghcr.io/dcasati/python-base`.
    pub fn primary_ref(&self, image: &str) -> ImageRef {
        image_in(&self.registry, image)
    }

    /// The image's reference in the backup registry: `localhost:32000/homelab/python-base`.
    pub fn backup_ref(&self, image: &str) -> ImageRef {
        image_in(&self.backup_registry, image)
    }

    /// Resolves `ghcr`, `backup` or `HOST[:PORT]/PATH` to a registry prefix.
    pub fn registry_named(&self, name: &str) -> Result<String> {
        let registry = match name {
            "ghcr" | "primary" => self.registry.clone(),
            "backup" => self.backup_registry.clone(),
            other => other.trim_end_matches('/').to_string(),
        };
        check_registry(&registry).with_context(|| format!("--registry/--to `{name}`"))?;
        Ok(registry)
    }
}

fn image_in(registry: &str, image: &str) -> ImageRef {
    ImageRef::parse(&format!("{registry}/{image}"))
        .expect("registries and image names are validated on load")
}

fn parse(text: &str) -> Result<Raw> {
    #[derive(Deserialize)]
    struct Manifest {
        workspace: Option<Workspace>,
    }
    #[derive(Deserialize)]
    struct Workspace {
        metadata: Option<Metadata>,
    }
    #[derive(Deserialize)]
    struct Metadata {
        xtask: Option<Raw>,
    }
    let manifest: Manifest = toml::from_str(text)?;
    Ok(manifest
        .workspace
        .and_then(|w| w.metadata)
        .and_then(|m| m.xtask)
        .unwrap_or_default())
}

fn resolve(raw: Raw, env: impl Fn(&str) -> Option<String>) -> Result<Settings> {
    let mut s = Settings::default();
    if let Some(v) = raw.registry {
        s.registry = v;
    }
    if let Some(v) = raw.backup_registry {
        s.backup_registry = v;
    }
    if let Some(v) = raw.manifests {
        s.manifests = v;
    }
    if let Some(v) = raw.platforms {
        s.platforms = v;
    }
    if let Some(v) = raw.images {
        s.images = v;
    }
    s.registry_user = raw.registry_user;
    if let Some(lint) = raw.lint {
        s.lint_rules = lint.rules;
        if let Some(v) = lint.kubernetes_version {
            s.kubernetes_version = v;
        }
        s.lint_crds = lint.crds;
    }

    if let Some(owner) = env("GITHUB_REPOSITORY_OWNER") {
        s.registry = format!("ghcr.io/{}", owner.to_lowercase());
    }
    if let Some(v) = env("XTASK_REGISTRY") {
        s.registry = v;
    }
    if let Some(v) = env("XTASK_BACKUP_REGISTRY") {
        s.backup_registry = v;
    }
    if let Some(v) = env("XTASK_PLATFORMS") {
        s.platforms = v
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
    }
    if let Some(v) = env("XTASK_REGISTRY_USER") {
        s.registry_user = Some(v);
    }
    let timeout = match env("XTASK_NETWORK_TIMEOUT") {
        Some(v) => Some(
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| {
                    format!(
                        "XTASK_NETWORK_TIMEOUT=`{v}`: expected a whole number of seconds above 0"
                    )
                })?,
        ),
        None => raw.network_timeout,
    };
    if let Some(seconds) = timeout {
        if seconds == 0 {
            bail!("network-timeout = 0: expected a whole number of seconds above 0");
        }
        s.network_timeout = std::time::Duration::from_secs(seconds);
    }
    validate(&s)?;
    Ok(s)
}

fn check_registry(registry: &str) -> Result<()> {
    // Public registries name images under an owner: `ghcr.io` alone would push to
    // ghcr.io/python-base, which belongs to nobody of ours.
    const OWNED: [&str; 4] = ["ghcr.io", "docker.io", "quay.io", "registry-1.docker.io"];
    if OWNED.contains(&registry.to_ascii_lowercase().as_str()) {
        bail!("`{registry}` names no owner: write {registry}/OWNER (e.g. ghcr.io/dcasati)");
    }
    match ImageRef::parse(&format!("{registry}/probe")) {
        Ok(r) if r.registry.is_some() && r.tag.is_none() => Ok(()),
        _ => bail!(
            "`{registry}` is not a registry prefix such as ghcr.io/owner or localhost:32000/homelab"
        ),
    }
}

fn validate(s: &Settings) -> Result<()> {
    check_registry(&s.registry).context("registry")?;
    check_registry(&s.backup_registry).context("backup-registry")?;
    if s.images.is_empty() {
        bail!("images: at least one image must be configured");
    }
    for image in &s.images {
        if ImageRef::parse(&image.name)
            .map(|r| r.registry.is_some() || r.tag.is_some())
            .unwrap_or(true)
        {
            bail!(
                "images: `{}` must be a short image name such as python-base",
                image.name
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_registry_without_an_owner_is_refused() {
        let s = Settings::default();
        for bare in ["ghcr.io", "GHCR.io/", "docker.io", "quay.io"] {
            let err = format!("{:#}", s.registry_named(bare).unwrap_err());
            assert!(err.contains("names no owner: write"), "{bare}: {err}");
        }
        assert_eq!(s.registry_named("ghcr.io/me").unwrap(), "ghcr.io/me");
        assert_eq!(
            s.registry_named("127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
    }

    fn settings(toml: &str, env: &[(&str, &str)]) -> Result<Settings> {
        resolve(parse(toml)?, |k| {
            env.iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_are_the_repos_own_values() {
        let s = settings("", &[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(
            s.primary_ref("python-base").to_string(),
            "ghcr.io/dcasati/python-base"
        );
        assert_eq!(
            s.backup_ref("python-base").to_string(),
            "localhost:32000/homelab/python-base"
        );
        assert_eq!(s.images[0].context, Path::new("k8s-apps/base-images"));
        assert_eq!(s.platforms, ["linux/amd64", "linux/arm64"]);
    }

    #[test]
    fn metadata_then_env_override() {
        let toml = r#"
[workspace.metadata.xtask]
registry = "ghcr.io/someone"
manifests = "deploy"
platforms = ["linux/amd64"]
[[workspace.metadata.xtask.images]]
name = "tools"
context = "images/tools"
[workspace.metadata.xtask.lint.rules]
K8S-LIMITS = "off"
"#;
        let s = settings(toml, &[]).unwrap();
        assert_eq!(
            (s.registry.as_str(), s.manifests.as_path()),
            ("ghcr.io/someone", Path::new("deploy"))
        );
        assert_eq!(
            s.image("tools").unwrap().dockerfile,
            Path::new("Dockerfile")
        );
        assert_eq!(s.lint_rules["K8S-LIMITS"], "off");
        let s = settings(
            toml,
            &[
                ("GITHUB_REPOSITORY_OWNER", "ForkOwner"),
                ("XTASK_PLATFORMS", "linux/arm64, linux/amd64"),
            ],
        )
        .unwrap();
        assert_eq!(s.registry, "ghcr.io/forkowner");
        assert_eq!(s.platforms, ["linux/arm64", "linux/amd64"]);
        let s = settings(
            toml,
            &[
                ("GITHUB_REPOSITORY_OWNER", "x"),
                ("XTASK_REGISTRY", "127.0.0.1:5000/t"),
            ],
        )
        .unwrap();
        assert_eq!(s.registry, "127.0.0.1:5000/t");
    }

    #[test]
    fn an_image_may_name_its_smoke_command() {
        let toml = "[[workspace.metadata.xtask.images]]\nname = \"python-base\"\n\
                    context = \"k8s-apps/base-images\"\nsmoke = [\"/bin/busybox\", \"true\"]\n";
        let s = settings(toml, &[]).unwrap();
        assert_eq!(
            s.images[0].smoke.as_deref(),
            Some(&["/bin/busybox".to_string(), "true".to_string()][..])
        );
        assert_eq!(Settings::default().images[0].smoke, None);
    }

    #[test]
    fn network_timeout_from_metadata_then_env() {
        let sixty = std::time::Duration::from_secs(60);
        assert_eq!(settings("", &[]).unwrap().network_timeout, sixty);
        let toml = "[workspace.metadata.xtask]\nnetwork-timeout = 5\n";
        let s = settings(toml, &[]).unwrap();
        assert_eq!(s.network_timeout, std::time::Duration::from_secs(5));
        let s = settings(toml, &[("XTASK_NETWORK_TIMEOUT", "2")]).unwrap();
        assert_eq!(s.network_timeout, std::time::Duration::from_secs(2));
        for bad in ["0", "-1", "soon"] {
            let err = settings("", &[("XTASK_NETWORK_TIMEOUT", bad)]).unwrap_err();
            assert!(
                format!("{err:#}").contains("XTASK_NETWORK_TIMEOUT"),
                "{err:#}"
            );
        }
        let err = settings("[workspace.metadata.xtask]\nnetwork-timeout = 0\n", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("network-timeout"), "{err:#}");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = settings("[workspace.metadata.xtask]\nregistery = \"x\"\n", &[]).unwrap_err();
        assert!(format!("{err:#}").contains("registery"), "{err:#}");
        let err = settings(
            "[workspace.metadata.xtask]\nregistry = \"Not A Registry\"\n",
            &[],
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("Not A Registry"), "{err:#}");
        let err = settings("", &[])
            .unwrap()
            .image("nope")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "unknown image `nope`; configured images: python-base");
    }

    #[test]
    fn settings_paths_outside_the_repo_are_refused() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("repo");
        std::fs::create_dir_all(root.join("k8s-apps/base-images")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
        assert!(Settings::default().check_paths(&root).is_ok());
        let with = |edit: fn(&mut Settings)| {
            let mut s = Settings::default();
            edit(&mut s);
            s.check_paths(&root).unwrap_err().to_string()
        };
        let err = with(|s| s.manifests = "../elsewhere".into());
        assert!(
            err.starts_with("manifests `../elsewhere` resolves outside"),
            "{err}"
        );
        let err = with(|s| s.images[0].context = "/etc".into());
        assert!(err.starts_with("context `/etc` resolves outside"), "{err}");
        let err = with(|s| s.images[0].context = "etc-link".into());
        assert!(
            err.starts_with("context `etc-link` resolves outside"),
            "{err}"
        );
        let err = with(|s| s.images[0].dockerfile = "../../../etc/passwd".into());
        assert!(
            err.starts_with("dockerfile `k8s-apps/base-images/../../../etc/passwd`"),
            "{err}"
        );
    }

    #[test]
    fn registry_names() {
        let s = Settings::default();
        assert_eq!(s.registry_named("ghcr").unwrap(), "ghcr.io/dcasati");
        assert_eq!(
            s.registry_named("backup").unwrap(),
            "localhost:32000/homelab"
        );
        assert_eq!(
            s.registry_named("127.0.0.1:5000/homelab/").unwrap(),
            "127.0.0.1:5000/homelab"
        );
        assert!(s.registry_named("no registry").is_err());
    }
}
