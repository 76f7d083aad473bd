//! Digest files: what `build-base --push-by-digest` leaves for `push --merge`. One file a
//! platform, named `<os>-<arch>[-<variant>]` (`linux-arm64`), holding `sha256:<64 hex>` and a
//! newline, under `target/xtask/digests/`. In CI each runner uploads its file as an artifact and
//! the merge job downloads them all into one folder (flat, or one subfolder an artifact).
//!
//! Writing refuses a path that is a symlink, a FIFO or any other non-regular file (and a
//! symlinked `digests` folder), and goes through a temp file and a rename. Reading refuses the
//! same, file names that are no platform, contents that are no digest, and files over 1 KiB. The
//! check of a folder against the configured platforms ([`check_platforms`]) is pure.

use crate::engine::validate_platform;
use crate::image_ref::is_digest;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One platform's digest, and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestFile {
    pub path: PathBuf,
    /// `linux/arm64`, from the file name.
    pub platform: String,
    pub digest: String,
}

/// `target/xtask/digests` under the repo root.
pub fn dir(root: &Path) -> PathBuf {
    root.join("target/xtask/digests")
}

/// `linux/arm/v7` → `linux-arm-v7`. The words of a platform hold no `-`, so this is reversible.
pub fn file_name(platform: &str) -> String {
    platform.replace('/', "-")
}

/// `linux-arm-v7` → `linux/arm/v7`; `None` when the name is no platform.
pub fn platform_of(name: &str) -> Option<String> {
    let platform = name.replace('-', "/");
    validate_platform(&platform).ok().map(|()| platform)
}

/// Writes `digest` for `platform` under `root`'s digest folder; returns the file's path.
pub fn write(root: &Path, platform: &str, digest: &str) -> Result<PathBuf> {
    if !is_digest(digest) {
        bail!("refusing to write `{digest}` as the digest of {platform}: not a sha256 digest");
    }
    // Every component from the root down is a real folder (no committed `target` link).
    let dir = crate::files::make_dir(root, &dir(root))?;
    let path = dir.join(file_name(platform));
    refuse_non_regular(&path, false)?;
    crate::files::write_atomic(&path, format!("{digest}\n").as_bytes())?;
    Ok(path)
}

/// Fails when `path` exists and is not a plain folder (`folder`) or a regular file.
fn refuse_non_regular(path: &Path, folder: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        other => other.with_context(|| format!("cannot read {}", path.display()))?,
    };
    let kind = meta.file_type();
    let ok = if folder {
        kind.is_dir()
    } else {
        kind.is_file()
    };
    if !ok {
        let what = if kind.is_symlink() {
            "a symlink"
        } else if kind.is_dir() {
            "a folder"
        } else if kind.is_file() {
            "a file"
        } else {
            "a special file (FIFO, socket or device)"
        };
        let want = if folder { "a folder" } else { "a regular file" };
        bail!(
            "{} is {what}, not {want}: refusing to use it for digests; remove it",
            shown(path)
        );
    }
    Ok(())
}

/// A path for a message: control characters in a downloaded file's name are escaped.
pub fn shown(path: &Path) -> String {
    crate::output::escape(&path.display().to_string()).into_owned()
}

/// Every digest file in `dir` and its immediate subfolders (one a CI artifact), sorted by path.
pub fn read_dir(dir: &Path) -> Result<Vec<DigestFile>> {
    refuse_non_regular(dir, true)?;
    if !dir.exists() {
        bail!(
            "{} does not exist: pass the folder the digest files were downloaded to",
            shown(dir)
        );
    }
    let mut files = Vec::new();
    for entry in sorted_entries(dir)? {
        let kind = std::fs::symlink_metadata(&entry)?.file_type();
        if kind.is_dir() {
            for inner in sorted_entries(&entry)? {
                files.push(read_one(&inner)?);
            }
        } else {
            files.push(read_one(&entry)?);
        }
    }
    Ok(files)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn read_one(path: &Path) -> Result<DigestFile> {
    refuse_non_regular(path, false)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let platform = platform_of(&name).with_context(|| {
        format!(
            "{}: the name `{}` is not a platform (expected <os>-<arch>, e.g. linux-arm64)",
            shown(path),
            crate::output::escape(&name)
        )
    })?;
    let (text, _) = crate::files::read_limited(path, 1024)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let digest = text.trim();
    if !is_digest(digest) {
        bail!(
            "{}: holds `{}`, not a sha256 digest (build-base --push-by-digest writes one)",
            shown(path),
            crate::output::escape(&digest.chars().take(80).collect::<String>())
        );
    }
    Ok(DigestFile {
        path: path.to_path_buf(),
        platform,
        digest: digest.to_string(),
    })
}

/// `smoke --digests DIR`: the digest in DIR of the one configured platform, as `build-base
/// --push-by-digest` wrote it on this runner.
pub fn for_platform(dir: &std::path::Path, platforms: &[String]) -> Result<String> {
    let [platform] = platforms else {
        bail!(
            "--digests tests one platform's digest, but {} are configured ({}): set \
             XTASK_PLATFORMS to this runner's platform",
            platforms.len(),
            platforms.join(", ")
        );
    };
    let files = read_dir(dir)?;
    let mut mine = files.iter().filter(|f| &f.platform == platform);
    match (mine.next(), mine.next()) {
        (Some(file), None) => Ok(file.digest.clone()),
        (None, _) => bail!(
            "{} holds no digest file for {platform} (expected {}): run build-base \
             --push-by-digest first",
            shown(dir),
            file_name(platform)
        ),
        (Some(_), Some(_)) => bail!(
            "{} holds more than one digest file for {platform}: pass --digest instead",
            shown(dir)
        ),
    }
}

/// Every configured platform exactly once, nothing else, and no digest named twice; else an
/// error naming each problem and its files.
pub fn check_platforms(files: &[DigestFile], configured: &[String]) -> Result<()> {
    let mut problems = Vec::new();
    let paths = |pick: &dyn Fn(&DigestFile) -> bool| -> String {
        let names: Vec<String> = files
            .iter()
            .filter(|f| pick(f))
            .map(|f| shown(&f.path))
            .collect();
        names.join(", ")
    };
    for platform in configured {
        match files.iter().filter(|f| &f.platform == platform).count() {
            0 => problems.push(format!(
                "{platform} is missing (no file {})",
                file_name(platform)
            )),
            1 => {}
            _ => problems.push(format!(
                "{platform} is there more than once: {}",
                paths(&|f| &f.platform == platform)
            )),
        }
    }
    for file in files {
        if !configured.contains(&file.platform) {
            problems.push(format!(
                "{}: {} is not a configured platform ({})",
                shown(&file.path),
                file.platform,
                configured.join(", ")
            ));
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for file in files {
        if seen.contains(&file.digest.as_str()) {
            continue;
        }
        seen.push(&file.digest);
        if files.iter().filter(|f| f.digest == file.digest).count() > 1 {
            problems.push(format!(
                "{} is named by more than one file: {}",
                file.digest,
                paths(&|f| f.digest == file.digest)
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "the digests cannot be merged into one index:\n  {}\nbuild each configured platform \
             once with `cargo xtask build-base --platform P --push-by-digest`, and put one file \
             a platform in the folder",
            problems.join("\n  ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn file(path: &str, platform: &str, digest: &str) -> DigestFile {
        DigestFile {
            path: path.into(),
            platform: platform.into(),
            digest: digest.into(),
        }
    }

    #[test]
    fn names_and_platforms_round_trip() {
        for p in ["linux/amd64", "linux/arm64", "linux/arm/v7"] {
            assert_eq!(platform_of(&file_name(p)).as_deref(), Some(p));
        }
        assert_eq!(file_name("linux/arm64"), "linux-arm64");
        for bad in [
            "linux",
            "linux-",
            "Linux-amd64",
            "..",
            "linux-amd64-v3-x",
            ".linux-amd64",
        ] {
            assert_eq!(platform_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_platform_once_nothing_else_no_digest_twice() {
        let both = ["linux/amd64".to_string(), "linux/arm64".to_string()];
        let good = [
            file("d/linux-amd64", "linux/amd64", &d('a')),
            file("d/linux-arm64", "linux/arm64", &d('b')),
        ];
        check_platforms(&good, &both).unwrap();

        let err = check_platforms(&good[..1], &both).unwrap_err().to_string();
        assert!(
            err.contains("linux/arm64 is missing (no file linux-arm64)"),
            "{err}"
        );

        let dup = [
            file("d/x/linux-amd64", "linux/amd64", &d('a')),
            file("d/y/linux-amd64", "linux/amd64", &d('c')),
            file("d/linux-arm64", "linux/arm64", &d('b')),
        ];
        let err = check_platforms(&dup, &both).unwrap_err().to_string();
        assert!(
            err.contains("linux/amd64 is there more than once: d/x/linux-amd64, d/y/linux-amd64"),
            "{err}"
        );

        let extra = [
            good[0].clone(),
            good[1].clone(),
            file("d/linux-s390x", "linux/s390x", &d('e')),
        ];
        let err = check_platforms(&extra, &both).unwrap_err().to_string();
        assert!(
            err.contains("d/linux-s390x: linux/s390x is not a configured platform"),
            "{err}"
        );

        let same = [
            file("d/linux-amd64", "linux/amd64", &d('a')),
            file("d/linux-arm64", "linux/arm64", &d('a')),
        ];
        let err = check_platforms(&same, &both).unwrap_err().to_string();
        assert!(err.contains("is named by more than one file"), "{err}");
    }

    #[test]
    fn write_then_read_and_refusals() {
        let root = tempfile::tempdir().unwrap();
        let path = write(root.path(), "linux/arm64", &d('b')).unwrap();
        assert_eq!(path, root.path().join("target/xtask/digests/linux-arm64"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", d('b'))
        );
        let read = read_dir(&dir(root.path())).unwrap();
        assert_eq!(read, [file(path.to_str().unwrap(), "linux/arm64", &d('b'))]);

        assert!(write(root.path(), "linux/amd64", "sha256:short").is_err());

        // A symlink where the file goes is refused, and its target is left alone.
        let outside = root.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        std::os::unix::fs::symlink(&outside, dir(root.path()).join("linux-amd64")).unwrap();
        let err = write(root.path(), "linux/amd64", &d('a'))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a symlink, not a regular file"), "{err}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        let err = read_dir(&dir(root.path())).unwrap_err().to_string();
        assert!(err.contains("linux-amd64 is a symlink"), "{err}");
        std::fs::remove_file(dir(root.path()).join("linux-amd64")).unwrap();

        // A FIFO is refused without opening it (which would block).
        let fifo = dir(root.path()).join("linux-amd64");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo(3) only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        let err = write(root.path(), "linux/amd64", &d('a'))
            .unwrap_err()
            .to_string();
        assert!(err.contains("a special file"), "{err}");
        assert!(
            read_dir(&dir(root.path()))
                .unwrap_err()
                .to_string()
                .contains("a special file")
        );
        std::fs::remove_file(&fifo).unwrap();

        // A symlinked digests folder is refused.
        let other = tempfile::tempdir().unwrap();
        std::fs::remove_dir_all(dir(root.path())).unwrap();
        std::os::unix::fs::symlink(other.path(), dir(root.path())).unwrap();
        let err = write(root.path(), "linux/amd64", &d('a'))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a symlink, not a folder"), "{err}");
    }

    #[test]
    fn read_dir_takes_subfolders_and_refuses_bad_names_and_contents() {
        let top = tempfile::tempdir().unwrap();
        for (sub, name, content) in [
            ("digests-linux-amd64", "linux-amd64", d('a')),
            ("digests-linux-arm64", "linux-arm64", d('b')),
        ] {
            std::fs::create_dir(top.path().join(sub)).unwrap();
            std::fs::write(top.path().join(sub).join(name), content).unwrap();
        }
        let read = read_dir(top.path()).unwrap();
        let got: Vec<(&str, &str)> = read
            .iter()
            .map(|f| (f.platform.as_str(), f.digest.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("linux/amd64", d('a').as_str()),
                ("linux/arm64", d('b').as_str())
            ]
        );

        std::fs::write(top.path().join("README"), "x").unwrap();
        let err = read_dir(top.path()).unwrap_err().to_string();
        assert!(err.contains("the name `README` is not a platform"), "{err}");
        std::fs::remove_file(top.path().join("README")).unwrap();

        std::fs::write(top.path().join("linux-s390x"), "latest\u{1b}[2J").unwrap();
        let err = read_dir(top.path()).unwrap_err().to_string();
        assert!(
            err.contains("not a sha256 digest") && !err.contains('\u{1b}'),
            "{err}"
        );

        std::fs::remove_file(top.path().join("linux-s390x")).unwrap();

        // A control character in a downloaded name never reaches the terminal raw.
        std::fs::write(top.path().join("linux-amd64\u{1b}[2J"), d('a')).unwrap();
        let err = read_dir(top.path()).unwrap_err().to_string();
        assert!(
            err.contains("is not a platform") && !err.contains('\u{1b}'),
            "{err}"
        );

        let err = read_dir(&top.path().join("nope")).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}
