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

/// The largest file xtask reads as text: 10 MiB (manifests, settings, records and ignore files
/// are all far smaller). A bigger file is refused without being read.
pub const READ_LIMIT: u64 = 10 * 1024 * 1024;

/// Every file xtask reads goes through here, under one set of rules:
/// - a FIFO, socket or device is never opened (nothing can hang on it), also when one is swapped
///   in at the last moment (`O_NONBLOCK` on the open, then `fstat`);
/// - the last component is not followed (`O_NOFOLLOW`): callers pass real paths, which
///   [`read_in_repo`] finds;
/// - a file over `limit` bytes is refused before it is read, and at most `limit + 1` bytes are
///   ever read (a `/proc` file or a growing file reports a wrong size);
/// - the text must be UTF-8.
///
/// Errors name the file and what it is, never a byte of its content. `ErrorKind::NotFound`
/// when there is no file.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<(String, u32)> {
    use std::io::{Error, ErrorKind};
    let (file, meta) = open_regular(path)?;
    let too_large = |len: u64| {
        Error::new(
            ErrorKind::FileTooLarge,
            format!(
                "{} bytes is over the {} byte limit; it was not read",
                len, limit
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    // A buffer of the file's size plus one byte (which sees the end): std's `read_to_string`
    // on a `File` would ask for the size and the position again.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))?;
    Ok((text, meta.permissions().mode() & 0o7777))
}

/// Opens `path` for reading only when it is a regular file, without following a last-component
/// symlink and without blocking on a FIFO swapped in (see [`read_limited`]).
pub fn open_regular(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    use std::io::{Error, ErrorKind};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Error::new(
                ErrorKind::InvalidInput,
                "a symlink; it was not followed (only a real path is read)",
            ),
            _ => e,
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            crate::walk::special_kind(meta.file_type())
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what}, not a regular file; it was not read"),
        ));
    }
    Ok((file, meta))
}

/// A text file's content and permission bits (`0o644`), read by [`read_limited`] under
/// [`READ_LIMIT`].
pub fn read_text(path: &Path) -> std::io::Result<(String, u32)> {
    read_limited(path, READ_LIMIT)
}

/// Reads `rel` (relative to `root`, or an absolute path under it) when it is, or a symlink leads
/// to, a regular file inside the repository; `Ok(None)` when nothing is there. A symlink out of
/// the repository, a broken one, a folder, a FIFO, a socket or a device is an error that names
/// the file and is never opened; so is a file over `limit` or one that is not UTF-8.
pub fn read_in_repo(root: &Path, rel: &Path, limit: u64) -> Result<Option<(String, u32)>> {
    use crate::walk::Resolved;
    let full = root.join(rel);
    let shown = crate::output::path(&full);
    match std::fs::symlink_metadata(&full) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
        Ok(_) => {}
    }
    let refused = |why: &str| anyhow::anyhow!("{shown}: {why}; it was not read");
    let real = match crate::walk::resolve(root, rel) {
        Resolved::File(real) => root.join(real),
        Resolved::Dir(_) => return Err(refused("a folder, not a file")),
        Resolved::Special(what) => return Err(refused(&format!("{what}, not a regular file"))),
        Resolved::Outside => return Err(refused("a symlink that leads outside the repository")),
        Resolved::Missing(why) => return Err(refused(&format!("a broken symlink ({why})"))),
    };
    read_limited(&real, limit)
        .map(Some)
        .with_context(|| format!("cannot read {shown}"))
}

/// Makes the folder `dir` (absolute, or relative to `root`) and every missing folder above it,
/// one component at a time. Below `root`, each component that exists must be a real folder: a
/// symlink (a committed `target` link included) or a special file is refused, so that nothing a
/// clone holds can make xtask write outside the repository. Returns the absolute folder.
pub fn make_dir(root: &Path, dir: &Path) -> Result<PathBuf> {
    let full = root.join(dir);
    let Ok(below) = full.strip_prefix(root) else {
        std::fs::create_dir_all(&full)
            .with_context(|| format!("cannot create {}", crate::output::path(&full)))?;
        return Ok(full);
    };
    if !root.exists() {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}", crate::output::path(root)))?;
    }
    let mut at = root.to_path_buf();
    for part in below.components() {
        let std::path::Component::Normal(part) = part else {
            anyhow::bail!("{}: not a plain folder path", crate::output::path(&full));
        };
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(meta) => {
                let what = if meta.file_type().is_symlink() {
                    "a symlink"
                } else if meta.is_file() {
                    "a file"
                } else {
                    crate::walk::special_kind(meta.file_type())
                };
                anyhow::bail!(
                    "{} is {what}, not a folder: xtask writes nothing through it (a clone could \
                     lead it outside the repository); remove it and run again",
                    crate::output::path(&at)
                );
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", crate::output::path(&at)));
            }
        }
        match std::fs::create_dir(&at) {
            Ok(()) => {}
            // Made by a run beside this one: check it again.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
                    anyhow::bail!(
                        "{} appeared as something other than a folder",
                        crate::output::path(&at)
                    );
                }
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot create {}", crate::output::path(&at)));
            }
        }
    }
    Ok(full)
}

/// Creates the new file `path` for writing: `O_CREAT|O_EXCL|O_NOFOLLOW`, so that neither a file
/// nor a symlink already there is written through.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
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
    // Put back what was written; a file that cannot be put back (a full disk, a file size
    // limit during the restore) keeps its new content, and the message says so.
    let mut stuck = Vec::new();
    for item in &items[..written] {
        if let Err(e) = replace(&root.join(item.path), item.old, item.mode) {
            stuck.push((item.path, e));
        }
    }
    journal.end();
    let state = batch_state(&items[..written], &stuck, items.len() - written);
    if let Some(signal) = signal {
        // The signal takes effect when `signals` is dropped, after this message.
        crate::output::sayln!("interrupted by {}: {state}", crate::signals::name(signal));
        anyhow::bail!("interrupted by {}", crate::signals::name(signal));
    }
    Err(error.expect("a write failed").context(state))
}

/// What a failed batch left on disk, file by file: `no file was changed` only when that is
/// true; else which files still hold the NEW content (with why they could not be put back),
/// which were put back, and how many were never written.
fn batch_state(
    written: &[Replacement],
    stuck: &[(&Path, anyhow::Error)],
    unwritten: usize,
) -> String {
    if stuck.is_empty() {
        return "every file is back to its old content (no file was changed)".to_string();
    }
    let mut text = format!(
        "{} file(s) could NOT be put back and hold the NEW content:",
        stuck.len()
    );
    for (path, e) in stuck {
        let why = e.root_cause().to_string();
        text.push_str(&format!("\n  {} ({why})", crate::output::path(path)));
    }
    let restored: Vec<_> = written
        .iter()
        .filter(|w| !stuck.iter().any(|(p, _)| *p == w.path))
        .collect();
    if !restored.is_empty() {
        text.push_str(&format!(
            "\n{} file(s) are back to their old content:",
            restored.len()
        ));
        for w in restored {
            text.push_str(&format!("\n  {}", crate::output::path(w.path)));
        }
    }
    text.push_str(&format!(
        "\n{unwritten} file(s) were not written (old content, the failed one included); \
         check with `git status` and `git diff`, then run again"
    ));
    text
}

/// The journal of a running batch: `target/xtask/writing/PID`, the batch's paths separated by
/// NUL bytes (a path may hold any other byte).
struct Journal(Option<PathBuf>);

impl Journal {
    fn begin(root: &Path, items: &[Replacement]) -> Result<Journal> {
        let dir = make_dir(root, Path::new(JOURNALS))?;
        let path = dir.join(std::process::id().to_string());
        let mut text = Vec::new();
        for item in items {
            text.extend_from_slice(item.path.as_os_str().as_encoded_bytes());
            text.push(0);
        }
        // A leftover of an earlier process with this pid (or a planted link) goes first; the
        // journal is then a new file, never written through a link.
        let _ = std::fs::remove_file(&path);
        create_new(&path)
            .and_then(|mut file| file.write_all(&text))
            .with_context(|| format!("cannot write {}", path.display()))?;
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
    if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        // Nothing to clean; or not a real folder, which `make_dir` refuses before any write.
        return Ok(Vec::new());
    }
    make_dir(root, Path::new(JOURNALS))?;
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
        // A journal names at most a batch's paths: a link (to /dev/zero), a FIFO or a huge file
        // is not one, and is removed unread.
        let list = match read_journal(&entry.path()) {
            Ok(list) => list,
            Err(e) => {
                crate::output::sayln!(
                    "removing {} unread: {e}",
                    crate::output::path(&entry.path())
                );
                Vec::new()
            }
        };
        for rel in list.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let rel = Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(rel));
            // Only files inside the repository: a planted journal cannot point elsewhere.
            if crate::walk::normalize(rel).is_some() && crate::walk::stays_inside(root, rel) {
                removed.extend(remove_temps(&root.join(rel), pid));
            }
        }
        std::fs::remove_file(entry.path())
            .with_context(|| format!("cannot remove {}", entry.path().display()))?;
    }
    Ok(removed)
}

/// The journal at `path`: a regular file, not followed, at most [`READ_LIMIT`] bytes.
fn read_journal(path: &Path) -> std::io::Result<Vec<u8>> {
    let (file, meta) = open_regular(path)?;
    if meta.len() > READ_LIMIT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "over the size limit",
        ));
    }
    let mut bytes = Vec::new();
    file.take(READ_LIMIT).read_to_end(&mut bytes)?;
    Ok(bytes)
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
pub(crate) mod tests {
    use super::*;

    /// Makes a FIFO at `path` (mkfifo(3)).
    pub(crate) fn mkfifo(path: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    }
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
    fn read_in_repo_refuses_links_out_special_files_and_large_files_without_opening_them() {
        use std::os::unix::fs::symlink;
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("repo");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::write(root.join("real/k.yaml"), "a: 1\n").unwrap();
        std::fs::write(outer.path().join("secret"), "TOKEN=hunter2\n").unwrap();
        symlink("real/k.yaml", root.join("in.yaml")).unwrap();
        symlink("../secret", root.join("out")).unwrap();
        symlink("/proc/self/environ", root.join("environ")).unwrap();
        symlink("/dev/zero", root.join("zero")).unwrap();
        symlink("nowhere", root.join("broken")).unwrap();
        mkfifo(&root.join("fifo"));
        symlink("fifo", root.join("to-fifo")).unwrap();
        let read = |rel: &str, limit| read_in_repo(&root, Path::new(rel), limit);
        assert_eq!(read("in.yaml", READ_LIMIT).unwrap().unwrap().0, "a: 1\n");
        assert!(read("missing", READ_LIMIT).unwrap().is_none());
        for (rel, why) in [
            ("out", "outside the repository"),
            ("environ", "outside the repository"),
            ("zero", "outside the repository"),
            ("broken", "broken symlink"),
            ("fifo", "a FIFO"),
            ("to-fifo", "a FIFO"),
            ("real", "a folder"),
        ] {
            let err = format!("{:#}", read(rel, READ_LIMIT).unwrap_err());
            assert!(err.contains(rel) && err.contains(why), "{rel}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let err = format!("{:#}", read("in.yaml", 3).unwrap_err());
        assert!(err.contains("over the 3 byte limit"), "{err}");
        // The last component is never followed, and a FIFO is not waited on.
        let err = read_limited(&root.join("in.yaml"), READ_LIMIT).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        let err = read_limited(&root.join("fifo"), READ_LIMIT).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
        // A file whose size is not what it says (/proc) is read up to the limit and no further.
        let err = read_limited(Path::new("/proc/self/status"), 16).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn writes_under_the_root_refuse_links_and_special_files_on_the_way() {
        use std::os::unix::fs::symlink;
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("repo");
        std::fs::create_dir_all(root.join("inside")).unwrap();
        std::fs::write(outer.path().join("victim"), "precious").unwrap();
        let made = make_dir(&root, Path::new("target/xtask/writing")).unwrap();
        assert_eq!(made, root.join("target/xtask/writing"));
        assert!(make_dir(&root, &root.join("target/xtask/writing")).is_ok());
        // The batch's own journal path holds a planted link: it is replaced, never followed.
        let own = made.join(std::process::id().to_string());
        symlink(outer.path().join("victim"), &own).unwrap();
        std::fs::write(root.join("k.yaml"), "old").unwrap();
        let item = Replacement {
            path: Path::new("k.yaml"),
            new: b"new",
            old: b"old",
            mode: None,
        };
        replace_all(&root, &[item]).unwrap();
        assert_eq!(
            std::fs::read(outer.path().join("victim")).unwrap(),
            b"precious"
        );
        assert!(!own.exists() && std::fs::symlink_metadata(&own).is_err());
        // A link (even one that stays inside), a file or a FIFO on the way is refused.
        std::fs::remove_dir_all(root.join("target")).unwrap();
        symlink("inside", root.join("target")).unwrap();
        let err = format!(
            "{:#}",
            make_dir(&root, Path::new("target/xtask")).unwrap_err()
        );
        assert!(err.contains("target is a symlink"), "{err}");
        let err = format!("{:#}", replace_all(&root, &[]).unwrap_err());
        assert!(err.contains("target is a symlink"), "{err}");
        std::fs::remove_file(root.join("target")).unwrap();
        mkfifo(&root.join("target"));
        let err = format!(
            "{:#}",
            make_dir(&root, Path::new("target/xtask")).unwrap_err()
        );
        assert!(err.contains("a FIFO"), "{err}");
        // create_new never writes through a link or over a file.
        let link = root.join("inside/link");
        symlink(outer.path().join("victim"), &link).unwrap();
        assert!(create_new(&link).is_err());
        assert_eq!(
            std::fs::read(outer.path().join("victim")).unwrap(),
            b"precious"
        );
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("missing/k.yaml"), b"x").unwrap_err();
        assert!(format!("{err:#}").contains("missing"), "{err:#}");
    }
}
