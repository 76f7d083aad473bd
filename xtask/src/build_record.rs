//! The build record, `target/xtask/images/<image>.json` under the repo root: what `build-base`
//! built last (tag, digest, platforms, commit, registry, pushed), for `push`, `trivy-scan` and
//! `sign` to use. Written through a temp file and a rename, so it is whole or absent.

use crate::image_ref::ImageRef;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// Short image name: `python-base`.
    pub image: String,
    /// The registry prefix: `ghcr.io/dcasati`.
    pub registry: String,
    /// `sha-abc1234` (never `-dirty` when `pushed`).
    pub tag: String,
    /// The manifest (list) digest, when the engine reported one.
    pub digest: Option<String>,
    pub platforms: Vec<String>,
    /// The full commit id.
    pub commit: String,
    /// True when the image is in `registry` under `tag`.
    pub pushed: bool,
    /// `docker` or `podman`.
    pub engine: String,
}

impl BuildRecord {
    /// `registry/image:tag`.
    pub fn reference(&self) -> String {
        format!("{}/{}:{}", self.registry, self.image, self.tag)
    }

    pub fn write(&self, root: &Path) -> Result<PathBuf> {
        let path = path(root, &self.image);
        let dir = path.parent().expect("the record path has a parent");
        crate::files::make_dir(root, dir)?;
        let text = serde_json::to_string_pretty(self)? + "\n";
        crate::files::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    /// The record for `image`, or `None` when there is none.
    pub fn load(root: &Path, image: &str) -> Result<Option<BuildRecord>> {
        let path = path(root, image);
        let Some((text, _)) = crate::files::read_in_repo(root, &path, crate::files::READ_LIMIT)?
        else {
            return Ok(None);
        };
        // serde_json's message can quote a value of the file: only its line and column are told.
        let record = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}:{}:{}: not a build record ({:?} error); rebuild",
                crate::output::path(&path),
                e.line(),
                e.column(),
                e.classify()
            )
        })?;
        Ok(Some(record))
    }

    /// Removes the record for `image` (a new build starts), if there is one.
    pub fn remove(root: &Path, image: &str) -> Result<()> {
        let path = path(root, image);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// The check behind every use of a record's digest (push --mirror, sign, trivy-scan): the tag
/// the record names must still hold that digest in the registry. `current` is what the
/// registry says now (`None`: the tag is missing). A moved tag is an error naming both digests.
pub fn check_tag_holds(tagged: &ImageRef, recorded: &str, current: Option<&str>) -> Result<()> {
    match current {
        Some(current) if current == recorded => Ok(()),
        Some(current) => bail!(
            "{tagged} now holds {current}, but the build record names {recorded}: the tag was \
             moved after this build. Rebuild (cargo xtask build-base --push), or name the digest \
             you mean explicitly"
        ),
        None => bail!(
            "{tagged} is not in the registry, but the build record names {recorded}: push it \
             first (cargo xtask push)"
        ),
    }
}

/// `<root>/target/xtask/images/<image>.json`.
pub fn path(root: &Path, image: &str) -> PathBuf {
    root.join("target/xtask/images")
        .join(format!("{image}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_load_remove_round_trip() {
        let root = std::env::temp_dir().join(format!("xtask-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        assert_eq!(BuildRecord::load(&root, "python-base").unwrap(), None);
        let record = BuildRecord {
            image: "python-base".into(),
            registry: "ghcr.io/dcasati".into(),
            tag: "sha-abc1234".into(),
            digest: Some(format!("sha256:{}", "c".repeat(64))),
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            commit: "abc1234".repeat(5) + "abcde",
            pushed: true,
            engine: "podman".into(),
        };
        let written = record.write(&root).unwrap();
        assert_eq!(written, root.join("target/xtask/images/python-base.json"));
        let text = std::fs::read_to_string(&written).unwrap();
        assert!(text.contains("\"pushed\": true") && text.contains("\"tag\": \"sha-abc1234\""));
        assert_eq!(
            BuildRecord::load(&root, "python-base").unwrap(),
            Some(record.clone())
        );
        assert_eq!(
            record.reference(),
            "ghcr.io/dcasati/python-base:sha-abc1234"
        );
        std::fs::write(&written, "{").unwrap();
        let err = BuildRecord::load(&root, "python-base").unwrap_err();
        assert!(format!("{err:#}").contains("python-base.json"), "{err:#}");
        // A value of the file is never quoted (it could be a secret); its line and column are.
        std::fs::write(&written, "{\"image\": 7, \"tag\": \"hunter2\"}").unwrap();
        let err = format!("{:#}", BuildRecord::load(&root, "python-base").unwrap_err());
        assert!(
            err.contains("python-base.json:1:") && !err.contains("hunter2"),
            "{err}"
        );
        // A FIFO as the record is never opened (this would block), a link out is not read.
        std::fs::remove_file(&written).unwrap();
        crate::files::tests::mkfifo(&written);
        let err = format!("{:#}", BuildRecord::load(&root, "python-base").unwrap_err());
        assert!(err.contains("a FIFO"), "{err}");
        std::fs::remove_file(&written).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &written).unwrap();
        let err = format!("{:#}", BuildRecord::load(&root, "python-base").unwrap_err());
        assert!(err.contains("outside the repository"), "{err}");
        BuildRecord::remove(&root, "python-base").unwrap();
        BuildRecord::remove(&root, "python-base").unwrap();
        assert!(!written.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_moved_or_missing_tag_is_refused_naming_both_digests() {
        let tagged = ImageRef::parse("127.0.0.1:5000/homelab/python-base:sha-abc1234").unwrap();
        let (a, b) = (
            format!("sha256:{}", "a".repeat(64)),
            format!("sha256:{}", "b".repeat(64)),
        );
        check_tag_holds(&tagged, &a, Some(&a)).unwrap();
        let err = check_tag_holds(&tagged, &a, Some(&b))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("python-base:sha-abc1234 now holds {b}"))
                && err.contains(&format!("record names {a}")),
            "{err}"
        );
        let err = check_tag_holds(&tagged, &a, None).unwrap_err().to_string();
        assert!(
            err.contains("is not in the registry") && err.contains(&a),
            "{err}"
        );
    }
}
