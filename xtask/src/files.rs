//! Atomic file writes: the new content goes to a temporary file in the same folder, gets the old
//! file's permissions, and is then renamed over the old file. A reader sees the old content or
//! the new one, never a half-written file. There is no fsync: these are files under version
//! control, and one fsync per file would make a run over 1,000 kustomizations take seconds.
//!
//! Per file this costs 4 system calls (create, write, close, rename) when the permissions are
//! known from [`read_text`] and the umask keeps them; the kernel's part dominates (on ext4 the
//! rename over an existing file also starts the new file's writeback, `auto_da_alloc`).

use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A text file's content and permission bits (`0o644`), read through one open file.
pub fn read_text(path: &Path) -> std::io::Result<(String, u32)> {
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    // Reads into a buffer of the file's size plus one byte (which sees the end): std's
    // `read_to_string` on a `File` would ask for the size and the position again.
    let mut bytes = vec![0; meta.len() as usize + 1];
    let mut filled = 0;
    loop {
        let n = file.read(&mut bytes[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
        if filled == bytes.len() {
            bytes.resize(filled * 2, 0);
        }
    }
    bytes.truncate(filled);
    let text = String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))?;
    Ok((text, meta.permissions().mode() & 0o7777))
}

/// Replaces `path` with `content`, keeping its permissions (new files get the default ones).
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<()> {
    let mode = match std::fs::metadata(path) {
        Ok(meta) => Some(meta.permissions().mode() & 0o7777),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    replace(path, content, mode)
}

/// Replaces `path` with `content` and gives it the permission bits `mode` (as read by
/// [`read_text`]); `None` leaves the defaults of a new file.
pub fn replace(path: &Path, content: &[u8], mode: Option<u32>) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let (temp, mut file) = create_temp(dir, path, mode)?;
    let mut written = file.write_all(content);
    if let (Ok(()), Some(mode)) = (&written, mode) {
        // The file was created with `mode`, less the umask: only a masked bit needs a chmod.
        if umask().is_none_or(|umask| mode & umask != 0) {
            written = file.set_permissions(std::fs::Permissions::from_mode(mode));
        }
    }
    drop(file);
    if written.is_ok() {
        written = std::fs::rename(&temp, path);
    }
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// The process's umask, from /proc/self/status (read once); `None` when it cannot be read.
fn umask() -> Option<u32> {
    static UMASK: OnceLock<Option<u32>> = OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("Umask:"))?;
        u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
    })
}

/// A new, empty file `.<name>.<pid>.<n>.tmp` beside `path`, created with `mode` (less the
/// umask). `n` counts this process's temporary files, so names only collide with leftovers.
fn create_temp(dir: &Path, path: &Path, mode: Option<u32>) -> Result<(PathBuf, std::fs::File)> {
    static PID: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let pid = *PID.get_or_init(std::process::id);
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = name.clone();
        temp_name.push(format!(".{pid}.{n}.tmp"));
        let temp = dir.join(temp_name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        if let Some(mode) = mode {
            options.mode(mode);
        }
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create a file in {}", dir.display()));
            }
        }
    }
    anyhow::bail!("cannot create a temporary file in {}", dir.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_content_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kustomization.yaml");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new\r\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\r\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kustomization.yaml"], "no temporary file is left");
        // Bits the umask (usually 022) takes from a new file are put back with a chmod.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let (text, mode) = read_text(&path).unwrap();
        assert_eq!((text.as_str(), mode), ("new\r\n", 0o666));
        replace(&path, b"newer", Some(mode)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"newer");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o666);
    }

    #[test]
    fn read_text_refuses_bytes_that_are_not_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.yaml");
        std::fs::write(&path, b"a: \xff\n").unwrap();
        let err = read_text(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_text(&path).unwrap().0, "");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("missing/k.yaml"), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("missing"), "{err:#}");
    }
}
