//! Atomic file writes: the new content goes to a temporary file in the same folder, gets the old
//! file's permissions (and, when running as root, its owner and group), and is then renamed over
//! the old file. A reader sees the old content or the new one, never a half-written file. There
//! is no fsync: these are files under version control, and one fsync per file would make a run
//! over 1,000 kustomizations take seconds.
//!
//! Per file this costs 4 system calls (create, write, close, rename) when the permissions are
//! known from [`read_text`] and the umask keeps them; the kernel's part dominates (on ext4 the
//! rename over an existing file also starts the new file's writeback, `auto_da_alloc`).
//!
//! A batch ([`replace_all`]) is all or nothing, also when interrupted: SIGINT, SIGTERM and SIGHUP
//! are deferred while it runs, and an interrupted batch puts every file back before the signal
//! takes effect. Against SIGKILL, the batch first writes a journal (`target/xtask/writing/PID`)
//! naming its files; [`clean_stale`] on the next run removes the temporary files
//! (`.NAME.PID.N.tmp`) of every journal whose process is gone.

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
    if let (Ok(()), Some(_)) = (&written, mode) {
        written = keep_owner(path, &file);
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

/// As root, gives the temporary `file` the owner and group of the `path` it replaces (a file
/// created by root belongs to root). Other users cannot give files away: nothing to do.
fn keep_owner(path: &Path, file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let old = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if old.uid() == 0 && old.gid() == 0 {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()))
}

/// One file of a batch: its path relative to the batch's root, the content to write, the
/// content to put back if the batch fails, and its permission bits (see [`replace`]).
pub struct Replacement<'a> {
    pub path: &'a Path,
    pub new: &'a [u8],
    pub old: &'a [u8],
    pub mode: Option<u32>,
}

/// Where the journals of running batches live, under the root.
const JOURNALS: &str = "target/xtask/writing";

/// Replaces every file of `items` (relative to `root`) through [`replace`], one after the
/// other, all or nothing: when one write fails, or SIGINT, SIGTERM or SIGHUP arrives, the files
/// already written get their old content back (a signal then takes effect once the files are
/// back). A journal names the files while the batch runs, for [`clean_stale`] after a SIGKILL.
pub fn replace_all(root: &Path, items: &[Replacement]) -> Result<()> {
    let signals = crate::signals::defer();
    let journal = Journal::begin(root, items)?;
    let mut written = 0;
    let mut error = None;
    for item in items {
        if signals.received().is_some() {
            break;
        }
        match replace(&root.join(item.path), item.new, item.mode) {
            Ok(()) => written += 1,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let signal = signals.received();
    if error.is_none() && signal.is_none() {
        journal.end();
        return Ok(());
    }
    for item in &items[..written] {
        let _ = replace(&root.join(item.path), item.old, item.mode);
    }
    journal.end();
    if let Some(signal) = signal {
        // The signal takes effect when `signals` is dropped, after this message.
        eprintln!(
            "interrupted by {}: every file is back to its old content (no file was changed)",
            crate::signals::name(signal)
        );
        anyhow::bail!("interrupted by {}", crate::signals::name(signal));
    }
    Err(error
        .expect("a write failed")
        .context("no file was changed"))
}

/// The journal of a running batch: `target/xtask/writing/PID`, the batch's paths separated by
/// NUL bytes (a path may hold any other byte).
struct Journal(Option<PathBuf>);

impl Journal {
    fn begin(root: &Path, items: &[Replacement]) -> Result<Journal> {
        let dir = root.join(JOURNALS);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(std::process::id().to_string());
        let mut text = Vec::new();
        for item in items {
            text.extend_from_slice(item.path.as_os_str().as_encoded_bytes());
            text.push(0);
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Journal(Some(path)))
    }

    fn end(mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Removes what batches killed by SIGKILL left under `root`: for each journal whose process is
/// gone, the temporary files of that process beside every file it names, then the journal.
/// Returns the temporary files removed. One failed `read_dir` when there is nothing to clean.
pub fn clean_stale(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join(JOURNALS);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || alive(pid) {
            continue;
        }
        let list = std::fs::read(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        for rel in list.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let rel = Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(rel));
            removed.extend(remove_temps(&root.join(rel), pid));
        }
        std::fs::remove_file(entry.path())
            .with_context(|| format!("cannot remove {}", entry.path().display()))?;
    }
    Ok(removed)
}

/// Removes `.NAME.PID.N.tmp` beside `path`.
fn remove_temps(path: &Path, pid: u32) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(format!(".{pid}."));
    let prefix = prefix.as_encoded_bytes().to_vec();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let file_name = entry.file_name();
        let bytes = file_name.as_encoded_bytes();
        if bytes.starts_with(&prefix)
            && bytes.ends_with(b".tmp")
            && bytes[prefix.len()..bytes.len() - 4]
                .iter()
                .all(u8::is_ascii_digit)
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

/// Whether process `pid` exists (a zombie counts: its journal is not stale until reaped).
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let sent = unsafe { libc::kill(pid, 0) };
    sent == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
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
    fn stale_temp_files_of_a_dead_process_are_removed_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Above Linux's largest pid_max (2^22): no process has it.
        let pid = i32::MAX as u32;
        assert!(!alive(pid));
        let odd = "a\nb";
        for rel in ["k/kustomization.yaml", &format!("{odd}/kustomization.yaml")] {
            let full = root.join(rel);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, "old").unwrap();
            let temp = full.with_file_name(format!(".kustomization.yaml.{pid}.7.tmp"));
            std::fs::write(temp, "half").unwrap();
        }
        let mine = root.join(format!(
            "k/.kustomization.yaml.{}.0.tmp",
            std::process::id()
        ));
        std::fs::write(&mine, "in flight").unwrap();
        let other = root.join("k/.kustomization.yaml.notes.tmp");
        std::fs::write(&other, "not ours").unwrap();
        let journals = root.join(JOURNALS);
        std::fs::create_dir_all(&journals).unwrap();
        let list = format!("k/kustomization.yaml\0{odd}/kustomization.yaml\0");
        std::fs::write(journals.join(pid.to_string()), list).unwrap();
        std::fs::write(
            journals.join(std::process::id().to_string()),
            "k/kustomization.yaml\0",
        )
        .unwrap();

        let mut removed = clean_stale(root).unwrap();
        removed.sort();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(
            removed
                .iter()
                .all(|p| p.to_string_lossy().contains(&format!(".{pid}.7.tmp")))
        );
        assert!(
            mine.exists() && other.exists(),
            "only a dead process's files go"
        );
        assert!(!journals.join(pid.to_string()).exists());
        assert!(journals.join(std::process::id().to_string()).exists());
        assert!(clean_stale(root).unwrap().is_empty());
        assert!(clean_stale(&root.join("nowhere")).unwrap().is_empty());
    }

    #[test]
    fn a_batch_ends_without_a_journal_or_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k.yaml"), "old").unwrap();
        let item = Replacement {
            path: Path::new("k.yaml"),
            new: b"new",
            old: b"old",
            mode: Some(0o644),
        };
        replace_all(dir.path(), &[item]).unwrap();
        assert_eq!(std::fs::read(dir.path().join("k.yaml")).unwrap(), b"new");
        let journals: Vec<_> = std::fs::read_dir(dir.path().join(JOURNALS))
            .unwrap()
            .collect();
        assert!(journals.is_empty());
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
