//! The one walk of the repository's folders, used by kustomize discovery (update-images) and by
//! lint discovery, with the skip rules in one place (reading one file under the same rules is
//! [`crate::files::read_in_repo`]):
//! - hidden folders (`.git`, `.cache`, ...) and `target/` are not entered;
//! - symlinks are never followed by the walk: each is listed as a link, and [`resolve`] says
//!   whether it leads to a regular file inside the repository;
//! - special files (FIFOs, sockets, devices) are listed by what they are and never opened, so
//!   that nothing can hang on them.

use anyhow::{Context, Result};
use std::fs::FileType;
use std::os::unix::fs::FileTypeExt;
use std::path::{Component, Path, PathBuf};

/// What the walk of one folder found; every path is relative to the repo root.
#[derive(Debug, Default)]
pub struct Listing {
    /// Regular files.
    pub files: Vec<PathBuf>,
    /// Folders walked, the start folder included.
    pub dirs: Vec<PathBuf>,
    /// Symlinks, to anything; not followed.
    pub links: Vec<PathBuf>,
    /// FIFOs, sockets and devices, with what each is.
    pub special: Vec<(PathBuf, &'static str)>,
}

/// Walks `root/dir` (`dir` relative to `root`).
pub fn walk(root: &Path, dir: &Path) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(rel) = stack.pop() {
        let entries = std::fs::read_dir(root.join(&rel))
            .with_context(|| format!("cannot read {}", rel.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", rel.display()))?;
            let ty = entry.file_type().with_context(|| {
                format!("cannot read {}", rel.join(entry.file_name()).display())
            })?;
            let name = entry.file_name();
            let path = rel.join(&name);
            if ty.is_dir() {
                if !skipped_folder(&name) {
                    stack.push(path);
                }
            } else if ty.is_file() {
                listing.files.push(path);
            } else if ty.is_symlink() {
                listing.links.push(path);
            } else {
                listing.special.push((path, special_kind(ty)));
            }
        }
        listing.dirs.push(rel);
    }
    Ok(listing)
}

/// Hidden folders and `target/` (build output) are not walked.
fn skipped_folder(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".") || name == "target"
}

/// What a file that is neither a regular file, a folder nor a symlink is.
pub fn special_kind(ty: FileType) -> &'static str {
    if ty.is_fifo() {
        "a FIFO"
    } else if ty.is_socket() {
        "a socket"
    } else if ty.is_block_device() {
        "a block device"
    } else if ty.is_char_device() {
        "a character device"
    } else {
        "not a regular file"
    }
}

/// Where a path under the root really leads, found without opening it.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A regular file inside the repository, at this repo-relative real path.
    File(PathBuf),
    /// A folder inside the repository, at this repo-relative real path.
    Dir(PathBuf),
    /// A FIFO, socket or device (see [`special_kind`]).
    Special(&'static str),
    /// Its real path lies outside the repository root.
    Outside,
    /// It does not exist (a broken or looping link) or cannot be read.
    Missing(String),
}

/// Resolves `rel` (relative to `root`), following symlinks, and says what it is.
pub fn resolve(root: &Path, rel: &Path) -> Resolved {
    let real = match std::fs::canonicalize(root.join(rel)) {
        Ok(real) => real,
        Err(e) => return Resolved::Missing(e.to_string()),
    };
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let Ok(inside) = real.strip_prefix(&canonical_root) else {
        return Resolved::Outside;
    };
    match std::fs::metadata(&real) {
        Ok(m) if m.is_file() => Resolved::File(inside.to_path_buf()),
        Ok(m) if m.is_dir() => Resolved::Dir(inside.to_path_buf()),
        Ok(m) => Resolved::Special(special_kind(m.file_type())),
        Err(e) => Resolved::Missing(e.to_string()),
    }
}

/// Lexically normalises `path`; `None` when it is absolute or climbs above its start.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Whether `path` (relative to `root`) stays inside the repository, through symlinks too. For a
/// path that does not exist yet, its nearest existing folder decides.
pub fn stays_inside(root: &Path, path: &Path) -> bool {
    let (Some(rel), Ok(canonical_root)) = (normalize(path), std::fs::canonicalize(root)) else {
        return false;
    };
    root.join(rel)
        .ancestors()
        .find_map(|a| std::fs::canonicalize(a).ok())
        .is_some_and(|real| real.starts_with(&canonical_root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn walk_skips_hidden_and_target_and_lists_links_and_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["m/a/.git", "m/target", "m/a/b"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in [
            "m/a/k.yaml",
            "m/a/.git/k.yaml",
            "m/target/k.yaml",
            "m/a/b/x",
        ] {
            std::fs::write(root.join(f), "a: 1\n").unwrap();
        }
        symlink("/etc/hostname", root.join("m/a/out.yaml")).unwrap();
        symlink("..", root.join("m/a/b/up")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("m/a/sock.yaml")).unwrap();
        let mut l = walk(root, Path::new("m")).unwrap();
        l.files.sort();
        l.dirs.sort();
        l.links.sort();
        assert_eq!(l.files, [Path::new("m/a/b/x"), Path::new("m/a/k.yaml")]);
        assert_eq!(
            l.dirs,
            [Path::new("m"), Path::new("m/a"), Path::new("m/a/b")]
        );
        assert_eq!(l.links, [Path::new("m/a/b/up"), Path::new("m/a/out.yaml")]);
        assert_eq!(l.special, [(PathBuf::from("m/a/sock.yaml"), "a socket")]);
    }

    #[test]
    fn resolve_keeps_to_the_repository() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("repo");
        std::fs::create_dir_all(root.join("m/real")).unwrap();
        std::fs::write(root.join("m/real/k.yaml"), "a: 1\n").unwrap();
        std::fs::write(outer.path().join("secret.txt"), "TOKEN=x\n").unwrap();
        symlink("real/k.yaml", root.join("m/in.yaml")).unwrap();
        symlink("../../secret.txt", root.join("m/out.yaml")).unwrap();
        symlink("/proc/self/environ", root.join("m/env.yaml")).unwrap();
        symlink("nowhere", root.join("m/broken.yaml")).unwrap();
        symlink("real", root.join("m/dir")).unwrap();
        let r = |p: &str| resolve(&root, Path::new(p));
        assert_eq!(r("m/in.yaml"), Resolved::File("m/real/k.yaml".into()));
        assert_eq!(r("m/dir"), Resolved::Dir("m/real".into()));
        assert_eq!(r("m/out.yaml"), Resolved::Outside);
        assert_eq!(r("m/env.yaml"), Resolved::Outside);
        assert!(matches!(r("m/broken.yaml"), Resolved::Missing(_)));
    }

    #[test]
    fn normalize_refuses_to_climb_out() {
        assert_eq!(
            normalize(Path::new("k8s-apps/a/../b/./c.yaml")),
            Some(PathBuf::from("k8s-apps/b/c.yaml"))
        );
        assert_eq!(normalize(Path::new("k8s-apps/../../etc")), None);
    }

    #[test]
    fn stays_inside_follows_links_and_missing_paths() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("repo");
        std::fs::create_dir_all(root.join("k8s-apps")).unwrap();
        symlink(outer.path(), root.join("out")).unwrap();
        let inside = |p: &str| stays_inside(&root, Path::new(p));
        assert!(inside("k8s-apps"));
        assert!(inside("k8s-apps/not-yet/Dockerfile"));
        assert!(inside("k8s-apps/../k8s-apps"));
        assert!(!inside("../repo2"));
        assert!(!inside("/etc"));
        assert!(!inside("out"));
        assert!(!inside("out/elsewhere/Dockerfile"));
    }
}
