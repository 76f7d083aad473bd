//! The only module that touches git (through git2): root discovery, commit lookup, the commit
//! an image tag names (`Repo::tag_commit`), the last commit that touched a path, dirty state, and path-limited commits.

use anyhow::{Context, Result, bail};
use git2::{Oid, Repository, Status, StatusOptions};
use std::path::{Path, PathBuf};

/// A resolved commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full 40-hex id.
    pub id: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
}

impl Commit {
    /// The first 7 hex digits of the id: what the image tag and every message show.
    pub fn short(&self) -> &str {
        short(&self.id)
    }
}

/// The first 7 hex digits of a full commit id. (Never `git rev-parse --short`, whose length
/// varies.)
pub fn short(full_id: &str) -> &str {
    &full_id[..7]
}

/// True for 7 to 40 hex digits.
pub fn is_sha(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub struct Repo {
    git: Repository,
    root: PathBuf,
}

/// The repo root: `--root DIR` when given, else the work tree that contains the current directory.
/// `text` without libgit2's internals: each `; class=Repository (6); code=NotFound (-3)` that
/// git2's errors end with becomes a short sentence for its code (or nothing).
pub fn without_git_codes(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("; class=") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        // The span ends after `code=Name (-N)`; without one, after the class's `(N)`.
        let end = tail
            .find("; code=")
            .and_then(|c| tail[c..].find(')').map(|p| c + p + 1))
            .or_else(|| tail.find(')').map(|p| p + 1))
            .unwrap_or(tail.len());
        let code = tail[..end]
            .split("code=")
            .nth(1)
            .and_then(|c| c.split_whitespace().next())
            .unwrap_or("");
        out.push_str(match code {
            "NotFound" => " (not found)",
            "Exists" => " (it already exists)",
            "Ambiguous" => " (ambiguous: give more hex digits)",
            "Locked" => " (locked: another git process is running, or a stale .lock file is left)",
            "BareRepo" => " (a bare repository has no work tree)",
            "UnbornBranch" => " (the branch has no commit yet)",
            "Conflict" => " (it conflicts with local changes)",
            "Auth" => " (authentication failed)",
            "Certificate" => " (the server's certificate is not trusted)",
            "Owner" => " (the repository belongs to another user: git config --global --add safe.directory DIR)",
            _ => "",
        });
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

pub fn find_root(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        if !dir.is_dir() {
            bail!("--root {}: no such directory", dir.display());
        }
        return Ok(std::fs::canonicalize(dir)?);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let git = Repository::discover(&cwd).with_context(|| {
        format!(
            "{} is not inside a git repository; pass --root DIR",
            cwd.display()
        )
    })?;
    match git.workdir() {
        Some(dir) => Ok(std::fs::canonicalize(dir)?),
        None => bail!(
            "{} is a bare repository; pass --root DIR",
            git.path().display()
        ),
    }
}

impl Repo {
    pub fn open(root: &Path) -> Result<Repo> {
        let git = Repository::open(root)
            .with_context(|| format!("{} is not a git repository", root.display()))?;
        Ok(Repo {
            git,
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves 7 to 40 hex digits to a commit of this repository.
    pub fn commit(&self, sha: &str) -> Result<Commit> {
        if !is_sha(sha) {
            bail!("`{sha}` is not a commit id: expected 7 to 40 hex digits");
        }
        let commit = self
            .git
            .find_commit_by_prefix(&sha.to_ascii_lowercase())
            .map_err(|e| match e.code() {
                git2::ErrorCode::Ambiguous => {
                    anyhow::anyhow!("commit `{sha}` is ambiguous; give more hex digits")
                }
                _ => anyhow::anyhow!("`{sha}` names no commit of {}", self.root.display()),
            })?;
        Ok(to_commit(&commit))
    }

    pub fn head(&self) -> Result<Commit> {
        let commit = self
            .git
            .head()
            .and_then(|h| h.peel_to_commit())
            .context("the repository has no HEAD commit")?;
        Ok(to_commit(&commit))
    }

    /// The one tag rule, shared by every task that names an image by commit: an explicit `sha`
    /// is used as given; without one, the commit is the last one that changed `context` as seen
    /// from HEAD, which is the commit `git log -1 -- <context>` names. A shallow clone is refused
    /// then, since its cut-off history would name the wrong commit.
    pub fn tag_commit(&self, context: &Path, sha: Option<&str>) -> Result<Commit> {
        if let Some(sha) = sha {
            return self.commit(sha);
        }
        if self.git.is_shallow() {
            bail!(
                "{} is a shallow clone, so the last commit that changed {} is not in its history: \
                 run `git fetch --unshallow` (GitHub Actions: actions/checkout with \
                 fetch-depth: 0), or pass the SHA to tag with",
                self.root.display(),
                context.display()
            );
        }
        if let Some(remote) = self.promisor_remote() {
            bail!(
                "{} is a partial clone (objects are left on the promisor remote `{remote}`), so \
                 the trees that say which commit last changed {} may be missing and the answer \
                 would be HEAD: run `git fetch --refetch --no-filter {remote}` and `git config \
                 --unset remote.{remote}.promisor` (GitHub Actions: actions/checkout without \
                 `filter:`), or pass the SHA to tag with",
                self.root.display(),
                context.display()
            );
        }
        self.last_commit_touching(context)?.with_context(|| {
            format!(
                "no commit of HEAD's history touches {}; pass the SHA to tag with",
                context.display()
            )
        })
    }

    /// The promisor remote of a partial clone (`git clone --filter=...`), if this is one:
    /// `extensions.partialClone`, or any `remote.NAME.promisor = true`.
    fn promisor_remote(&self) -> Option<String> {
        let config = self.git.config().ok()?.snapshot().ok()?;
        if let Ok(remote) = config.get_string("extensions.partialclone") {
            return Some(remote);
        }
        let entries = config.entries(Some(r"remote\..*\.promisor")).ok()?;
        let mut found = None;
        let _ = entries.for_each(|entry| {
            if found.is_none() && entry.value().is_ok_and(|v| v == "true" || v == "1") {
                found = entry.name().ok().and_then(|n| {
                    n.strip_prefix("remote.")?
                        .strip_suffix(".promisor")
                        .map(str::to_string)
                });
            }
        });
        found
    }

    /// The last commit that changed `path` (a file or folder relative to the root) as seen from
    /// HEAD, with git's default history simplification: from each commit, follow the first
    /// parent whose `path` is the same (so a merge that took the path from one side follows
    /// that side only); the first commit whose `path` differs from every parent's (a root
    /// commit: that has it at all) is the answer. This is `git log -1 -- <path>`.
    pub fn last_commit_touching(&self, path: &Path) -> Result<Option<Commit>> {
        let mut commit = self
            .git
            .head()
            .and_then(|h| h.peel_to_commit())
            .context("the repository has no HEAD commit")?;
        loop {
            let here = entry_id(&commit, path);
            let parents: Vec<_> = commit.parents().collect();
            if parents.is_empty() {
                return Ok(here.map(|_| to_commit(&commit)));
            }
            match parents.into_iter().find(|p| entry_id(p, path) == here) {
                Some(same) => commit = same,
                None => return Ok(Some(to_commit(&commit))),
            }
        }
    }

    /// Paths under `path` with uncommitted changes (staged, unstaged or untracked, not ignored).
    pub fn dirty_paths(&self, path: &Path) -> Result<Vec<String>> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false);
        let spec = path.to_string_lossy().replace('\\', "/");
        if !spec.is_empty() {
            opts.pathspec(spec);
        }
        let statuses = self.git.statuses(Some(&mut opts))?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != Status::CURRENT && !s.status().contains(Status::IGNORED))
            .filter_map(|s| s.path().ok().map(str::to_string))
            .collect())
    }

    /// Did `path` change between the commits `from` and `to`?
    pub fn changed_between(&self, from: &str, to: &str, path: &Path) -> Result<bool> {
        let a = self.git.find_commit(Oid::from_str(from)?)?;
        let b = self.git.find_commit(Oid::from_str(to)?)?;
        Ok(entry_id(&a, path) != entry_id(&b, path))
    }

    /// The merge-base of HEAD and `branch` (a local or `origin/` branch), if both exist.
    pub fn merge_base_with(&self, branch: &str) -> Option<Commit> {
        let head = self.git.head().ok()?.target()?;
        let other = [branch.to_string(), format!("origin/{branch}")]
            .iter()
            .find_map(|name| self.git.revparse_single(name).ok())?
            .peel_to_commit()
            .ok()?;
        let base = self.git.merge_base(head, other.id()).ok()?;
        self.git.find_commit(base).ok().map(|c| to_commit(&c))
    }

    /// Resolves any revision git understands (`HEAD~1`, `origin/main`, a hex prefix) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Commit> {
        let commit = self
            .git
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| anyhow::anyhow!("`{rev}` names no commit of {}", self.root.display()))?;
        Ok(to_commit(&commit))
    }

    /// The first parent of commit `id`, if it has one.
    pub fn parent(&self, id: &str) -> Result<Option<Commit>> {
        let commit = self.git.find_commit(Oid::from_str(id)?)?;
        Ok(commit.parent(0).ok().map(|p| to_commit(&p)))
    }

    /// Writes the files under `path` in commit `id` into `dest` (which must not exist), keeping
    /// executable bits and symlinks. Used to build a commit other than HEAD.
    pub fn export(&self, id: &str, path: &Path, dest: &Path) -> Result<()> {
        let commit = self.git.find_commit(Oid::from_str(id)?)?;
        let tree = match commit.tree()?.get_path(path) {
            Ok(entry) => entry
                .to_object(&self.git)?
                .peel_to_tree()
                .with_context(|| format!("{} is not a folder in commit {id}", path.display()))?,
            Err(_) => bail!("{} does not exist in commit {id}", path.display()),
        };
        self.export_tree(&tree, dest)
    }

    /// Writes the whole tree of commit `id` into `dest` (which must not exist), as [`Repo::export`].
    pub fn export_commit(&self, id: &str, dest: &Path) -> Result<()> {
        let commit = self.git.find_commit(Oid::from_str(id)?)?;
        self.export_tree(&commit.tree()?, dest)
    }

    fn export_tree(&self, tree: &git2::Tree, dest: &Path) -> Result<()> {
        std::fs::create_dir(dest).with_context(|| format!("cannot create {}", dest.display()))?;
        let mut failure = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let out = dest.join(dir).join(entry.name().unwrap_or_default());
            match self.export_entry(entry, &out) {
                Ok(()) => git2::TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(e);
                    git2::TreeWalkResult::Abort
                }
            }
        })
        .ok();
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn export_entry(&self, entry: &git2::TreeEntry, out: &Path) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry.filemode();
        if entry.kind() == Some(git2::ObjectType::Tree) {
            std::fs::create_dir(out)?;
        } else if entry.kind() == Some(git2::ObjectType::Blob) {
            let blob = self.git.find_blob(entry.id())?;
            if mode == 0o120000 {
                let target = String::from_utf8_lossy(blob.content()).into_owned();
                std::os::unix::fs::symlink(target, out)?;
            } else {
                std::fs::write(out, blob.content())?;
                let bits = if mode == 0o100755 { 0o755 } else { 0o644 };
                std::fs::set_permissions(out, std::fs::Permissions::from_mode(bits))?;
            }
        }
        Ok(())
    }

    /// The `origin` remote's URL, if there is one.
    pub fn origin_url(&self) -> Option<String> {
        self.git
            .find_remote("origin")
            .ok()?
            .url()
            .ok()
            .map(str::to_string)
    }

    /// Commits exactly `paths` (relative to the root, with their working-tree content) on top of
    /// HEAD. Every other staged or unstaged change stays where it was: the new tree is HEAD's
    /// tree plus these files, and only their index entries are updated.
    ///
    /// Never half done: the commit object is made first, then the index is written (under its
    /// lock), and HEAD moves last, only from the commit it was built on. When the index cannot
    /// be written, HEAD has not moved; when HEAD cannot move, the index is put back. Either way
    /// the error says that no commit was made (and, should putting the index back fail, what
    /// the index now holds).
    pub fn commit_paths(
        &self,
        lock: &CommitLock,
        paths: &[PathBuf],
        message: &str,
    ) -> Result<String> {
        let head = self.git.find_commit(lock.head)?;
        lock.check_head()?;
        let index_path = self.git.path().join("index");
        let index_before = std::fs::read(&index_path).ok();
        let mut update = git2::build::TreeUpdateBuilder::new();
        let mut index = self.git.index()?;
        for path in paths {
            let content = std::fs::read(self.root.join(path))?;
            let file_size = content.len();
            let content = self.clean(path, content);
            let blob = self.git.blob(&content)?;
            // The path's own bytes: a backslash is a plain character of a Unix file name, and a
            // name that is not UTF-8 is committed as it is, not as its lossy text.
            let name = path.as_os_str().as_encoded_bytes();
            let mode = file_mode(&self.root.join(path), &head, path);
            update.upsert(path, blob, mode);
            let mut entry = index_entry(name, blob, mode, file_size);
            if let Some(old) = index.get_path(path, 0) {
                entry = git2::IndexEntry {
                    path: entry.path,
                    id: blob,
                    file_size: entry.file_size,
                    ..old
                };
            }
            index.add(&entry)?;
        }
        let tree = self
            .git
            .find_tree(update.create_updated(&self.git, &head.tree()?)?)?;
        if tree.id() == head.tree_id() {
            bail!(
                "--commit: HEAD already holds these files; nothing to commit (no empty commit made)"
            );
        }
        let sig = self
            .git
            .signature()
            .or_else(|_| git2::Signature::now("cargo xtask", "xtask@users.noreply.github.com"))?;
        // The commit object only: HEAD does not move yet.
        let oid = self
            .git
            .commit(None, &sig, &sig, message, &tree, &[&head])?;
        // The index: written to a scratch file and renamed over the index while we hold
        // index.lock (git's own protocol, with our file in place of the lock's content).
        let scratch_path = self
            .git
            .path()
            .join(format!("xtask-index.{}", std::process::id()));
        let _ = std::fs::remove_file(&scratch_path);
        let written = (|| -> Result<()> {
            let mut scratch = git2::Index::open(&scratch_path)?;
            for entry in index.iter() {
                scratch.add(&entry)?;
            }
            scratch.write()?;
            std::fs::rename(&scratch_path, &index_path)?;
            Ok(())
        })();
        let _ = index.read(true);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&scratch_path);
            return Err(e).context(
                "--commit: cannot update the index; no commit was made, HEAD and the index are as \
                 they were",
            );
        }
        // The branch: its new id written into the ref lock we hold, renamed over the ref.
        if let Err(e) = lock.move_ref(oid) {
            let restored = match &index_before {
                Some(bytes) => crate::files::write_atomic(&index_path, bytes),
                None => std::fs::remove_file(&index_path).map_err(Into::into),
            };
            let state = match restored {
                Ok(()) => "HEAD and the index are as they were".to_string(),
                Err(r) => format!(
                    "but the index could not be put back ({r}) and stages the new content of \
                     {}; run `git reset -q -- <those paths>` to unstage it",
                    paths
                        .iter()
                        .map(|p| crate::output::path(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(e).context(format!(
                "--commit: cannot move HEAD; no commit was made, {state}"
            ));
        }
        Ok(oid.to_string())
    }

    /// `--commit` can commit `paths` exactly as `git add` would: none lies inside a submodule
    /// (another repository: its files are not this one's to commit), and none has a
    /// `.gitattributes` clean filter (`filter=NAME`: a program libgit2 cannot run). Checked
    /// before any file is written.
    pub fn check_committable(&self, paths: &[PathBuf]) -> Result<()> {
        let submodules: Vec<PathBuf> = self
            .git
            .submodules()
            .map(|subs| subs.iter().map(|s| s.path().to_path_buf()).collect())
            .unwrap_or_default();
        for path in paths {
            if let Some(sub) = submodules.iter().find(|s| path.starts_with(s)) {
                bail!(
                    "--commit: {} is inside the submodule {}, another repository: commit it \
                     there (or run without --commit); no file was changed",
                    crate::output::path(path),
                    crate::output::path(sub)
                );
            }
            if let Some(filter) = self.attr(path, "filter") {
                bail!(
                    "--commit: {} has the clean filter `{}` (.gitattributes), which xtask cannot \
                     run, so it could not commit what `git add` would; run without --commit and \
                     commit with git; no file was changed",
                    crate::output::path(path),
                    crate::output::escape(&filter)
                );
            }
        }
        Ok(())
    }

    /// The value of `.gitattributes` attribute `name` for `path`: `Some("true")` when set,
    /// `Some("false")` when unset, `Some(VALUE)`, or `None` when unspecified.
    fn attr(&self, path: &Path, name: &str) -> Option<String> {
        let value = self
            .git
            .get_attr(path, name, git2::AttrCheckFlags::FILE_THEN_INDEX)
            .ok()?;
        match git2::AttrValue::from_string(value) {
            git2::AttrValue::True => Some("true".into()),
            git2::AttrValue::False => Some("false".into()),
            git2::AttrValue::String(v) => Some(v.to_string()),
            git2::AttrValue::Bytes(v) => Some(String::from_utf8_lossy(v).into_owned()),
            git2::AttrValue::Unspecified => None,
        }
    }

    /// The blob `git add` would store for `content` at `path`: with line ends normalised to LF
    /// when `.gitattributes` (`text`, `text=auto` on text, `eol=...`) or `core.autocrlf` make it
    /// a text file, as is.
    fn clean(&self, path: &Path, content: Vec<u8>) -> Vec<u8> {
        let autocrlf = self
            .git
            .config()
            .ok()
            .and_then(|c| c.get_string("core.autocrlf").ok())
            .is_some_and(|v| v == "true" || v == "input");
        let text = match self.attr(path, "text").as_deref() {
            Some("true") => true,
            Some("false") => false,
            Some("auto") => !content.contains(&0),
            _ if self.attr(path, "eol").is_some() => true,
            _ => autocrlf && !content.contains(&0),
        };
        if !text || !content.windows(2).any(|w| w == b"\r\n") {
            return content;
        }
        let mut out = Vec::with_capacity(content.len());
        for (i, &b) in content.iter().enumerate() {
            if !(b == b'\r' && content.get(i + 1) == Some(&b'\n')) {
                out.push(b);
            }
        }
        out
    }

    /// Takes git's own locks for a `--commit`, as git does (a new file, `O_CREAT|O_EXCL`):
    /// `index.lock` and the lock of the branch HEAD names (in the common folder; `HEAD.lock`
    /// when HEAD is detached). Held until the commit is made or the run ends, so that a second
    /// `--commit` (or any git command) started meanwhile fails at once instead of racing this
    /// one: one wins, the other exits 2 before writing anything.
    pub fn lock_for_commit(&self) -> Result<CommitLock> {
        self.ready_to_commit()?;
        let head_ref = self.git.find_reference("HEAD")?;
        let ref_file = match head_ref.symbolic_target_bytes() {
            Some(name) => {
                use std::os::unix::ffi::OsStrExt;
                self.git.commondir().join(std::ffi::OsStr::from_bytes(name))
            }
            None => self.git.path().join("HEAD"),
        };
        let mut lock = CommitLock {
            index_lock: self.git.path().join("index.lock"),
            ref_lock: lock_path(&ref_file),
            ref_file,
            head: Oid::ZERO_SHA1,
            held: Vec::new(),
        };
        for path in [lock.index_lock.clone(), lock.ref_lock.clone()] {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match crate::files::create_new(&path) {
                Ok(_) => lock.held.push(path),
                Err(e) => bail!(
                    "--commit: cannot take {} ({e}): another git command (or another `cargo \
                     xtask update-images --commit`) is running, or one was killed; when none \
                     runs, remove it and run again (no file was changed)",
                    path.display()
                ),
            }
        }
        // Read under the locks: nothing can move HEAD or rewrite the index until we are done.
        lock.head = self
            .git
            .head()?
            .peel_to_commit()
            .context("the repository has no HEAD commit")?
            .id();
        Ok(lock)
    }

    /// Fails when `.git/index.lock`, `HEAD.lock` or the lock of the branch HEAD names exists.
    pub fn ready_to_commit(&self) -> Result<()> {
        // HEAD and the index are per worktree; branch refs live in the common folder (a linked
        // worktree's `.git/worktrees/NAME` has none of its own).
        let mut locks = vec![
            self.git.path().join("index.lock"),
            self.git.path().join("HEAD.lock"),
        ];
        if let Ok(Ok(branch)) = self.git.head().map(|h| h.name().map(str::to_string)) {
            locks.push(self.git.commondir().join(format!("{branch}.lock")));
        }
        if let Some(lock) = locks.iter().find(|l| l.exists()) {
            bail!(
                "--commit: {} exists: another git command is running, or one was killed; when no \
                 git command runs, remove it and run again",
                lock.display()
            );
        }
        Ok(())
    }
}

/// git's locks held for one `--commit` ([`Repo::lock_for_commit`]); removed on drop.
pub struct CommitLock {
    index_lock: PathBuf,
    ref_lock: PathBuf,
    ref_file: PathBuf,
    /// HEAD's commit when the locks were taken.
    head: Oid,
    held: Vec<PathBuf>,
}

impl CommitLock {
    /// Fails when the loose ref no longer names the commit the locks were taken at.
    fn check_head(&self) -> Result<()> {
        let current = std::fs::read_to_string(&self.ref_file).unwrap_or_default();
        if !current.is_empty() && current.trim() != self.head.to_string() {
            bail!(
                "--commit: HEAD moved since the locks were taken; no commit was made, HEAD and \
                 the index are as they were"
            );
        }
        Ok(())
    }

    /// Moves the branch (or a detached HEAD) to `oid`: the lock file gets `OID\n` and is
    /// renamed over the ref, as git does; only from the commit it was locked at.
    fn move_ref(&self, oid: Oid) -> Result<()> {
        use std::io::Write;
        self.check_head()?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&self.ref_lock)?;
        file.write_all(format!("{oid}\n").as_bytes())?;
        drop(file);
        std::fs::rename(&self.ref_lock, &self.ref_file)?;
        Ok(())
    }
}

impl Drop for CommitLock {
    fn drop(&mut self) {
        for path in &self.held {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `PATH.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

fn to_commit(commit: &git2::Commit) -> Commit {
    Commit {
        id: commit.id().to_string(),
        time: commit.time().seconds(),
    }
}

fn entry_id(commit: &git2::Commit, path: &Path) -> Option<Oid> {
    let tree = commit.tree().ok()?;
    if path.as_os_str().is_empty() {
        return Some(tree.id());
    }
    tree.get_path(path).ok().map(|e| e.id())
}

fn file_mode(full: &Path, head: &git2::Commit, path: &Path) -> git2::FileMode {
    use std::os::unix::fs::PermissionsExt;
    let head_mode = head
        .tree()
        .ok()
        .and_then(|t| t.get_path(path).ok())
        .map(|e| e.filemode());
    let executable = std::fs::metadata(full)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    match head_mode {
        Some(0o100755) => git2::FileMode::BlobExecutable,
        _ if executable => git2::FileMode::BlobExecutable,
        _ => git2::FileMode::Blob,
    }
}

fn index_entry(path: &[u8], id: Oid, mode: git2::FileMode, size: usize) -> git2::IndexEntry {
    let zero = git2::IndexTime::new(0, 0);
    git2::IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode: u32::try_from(i32::from(mode)).unwrap_or(0o100644),
        uid: 0,
        gid: 0,
        file_size: u32::try_from(size).unwrap_or(u32::MAX),
        id,
        flags: 0,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

/// What `cargo xtask diff` asks of the history.
impl Repo {
    /// Is this a shallow clone (its history cut off)?
    pub fn is_shallow(&self) -> bool {
        self.git.is_shallow()
    }

    /// The merge-base of commit `head` and the default branch: `origin/HEAD` (where it
    /// points), else `main` (local, else `origin/main`).
    pub fn default_base(&self, head: &str) -> Option<Commit> {
        let head = Oid::from_str(head).ok()?;
        let origin_head = self
            .git
            .find_reference("refs/remotes/origin/HEAD")
            .and_then(|r| r.resolve())
            .ok()
            .and_then(|r| r.target());
        let other = match origin_head {
            Some(other) => other,
            None => ["main", "origin/main"]
                .iter()
                .find_map(|name| self.git.revparse_single(name).ok())?
                .peel_to_commit()
                .ok()?
                .id(),
        };
        let base = self.git.merge_base(head, other).ok()?;
        self.git.find_commit(base).ok().map(|c| to_commit(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libgit2_codes_become_sentences() {
        let text = "/tmp/x is not inside a git repository; pass --root DIR: could not find \
                    repository at '/tmp/x'; class=Repository (6); code=NotFound (-3)";
        assert_eq!(
            without_git_codes(text),
            "/tmp/x is not inside a git repository; pass --root DIR: could not find repository \
             at '/tmp/x' (not found)"
        );
        let locked = "failed to lock file '.git/index.lock' for writing; class=Index (10); \
                      code=Locked (-14)\nnext line";
        assert_eq!(
            without_git_codes(locked),
            "failed to lock file '.git/index.lock' for writing (locked: another git process is \
             running, or a stale .lock file is left)\nnext line"
        );
        let real = git2::Repository::open("/nonexistent-xtask-dir")
            .err()
            .unwrap()
            .to_string();
        assert!(real.contains("; class="), "{real}");
        assert!(!without_git_codes(&real).contains("class="), "{real}");
        assert_eq!(without_git_codes("plain"), "plain");
    }

    /// A scratch repository with commits made through git2.
    struct Scratch {
        dir: PathBuf,
        git: Repository,
    }

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("xtask-repo-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let git = Repository::init(&dir).unwrap();
            let mut cfg = git.config().unwrap();
            cfg.set_str("user.name", "Test").unwrap();
            cfg.set_str("user.email", "test@example.com").unwrap();
            Scratch { dir, git }
        }

        fn commit(&self, files: &[(&str, &str)]) -> String {
            for (path, content) in files {
                let full = self.dir.join(path);
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(full, content).unwrap();
            }
            let mut index = self.git.index().unwrap();
            index
                .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
                .unwrap();
            index.write().unwrap();
            let tree = self.git.find_tree(index.write_tree().unwrap()).unwrap();
            let sig = self.git.signature().unwrap();
            let parents: Vec<_> = self
                .git
                .head()
                .ok()
                .and_then(|h| h.peel_to_commit().ok())
                .into_iter()
                .collect();
            let parents: Vec<_> = parents.iter().collect();
            self.git
                .commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
                .unwrap()
                .to_string()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    #[test]
    fn tag_is_seven_hex_and_sha_is_validated() {
        assert_eq!(short("abcdef0123456789abcdef0123456789abcdef01"), "abcdef0");
        assert!(is_sha("abc1234") && is_sha(&"a".repeat(40)));
        assert!(!is_sha("abc123") && !is_sha(&"a".repeat(41)) && !is_sha("abc123g"));
    }

    #[test]
    fn commit_lookup_and_last_commit_touching_a_folder() {
        let s = Scratch::new("lookup");
        let first = s.commit(&[("k8s-apps/base-images/Dockerfile", "FROM scratch\n")]);
        let second = s.commit(&[("README.md", "hi\n")]);
        let repo = Repo::open(&s.dir).unwrap();
        assert_eq!(repo.commit(&first[..7]).unwrap().id, first);
        assert_eq!(repo.head().unwrap().id, second);
        let last = repo
            .last_commit_touching(Path::new("k8s-apps/base-images"))
            .unwrap()
            .unwrap();
        assert_eq!(last.id, first);
        assert_eq!(last.short(), &first[..7]);
        assert!(
            repo.changed_between(&first, &second, Path::new("README.md"))
                .unwrap()
        );
        assert!(
            !repo
                .changed_between(&first, &second, Path::new("k8s-apps"))
                .unwrap()
        );
        let err = repo.commit("1234567").unwrap_err().to_string();
        assert!(err.contains("names no commit"), "{err}");
        assert!(
            repo.commit("xyz")
                .unwrap_err()
                .to_string()
                .contains("7 to 40 hex")
        );
    }

    #[test]
    fn resolve_parent_and_export() {
        let s = Scratch::new("export");
        let first = s.commit(&[
            ("ctx/Dockerfile", "FROM scratch\n"),
            ("ctx/sub/a.txt", "a\n"),
        ]);
        let second = s.commit(&[("ctx/Dockerfile", "FROM scratch\nUSER 1\n")]);
        let repo = Repo::open(&s.dir).unwrap();
        assert_eq!(repo.resolve("HEAD~1").unwrap().id, first);
        assert_eq!(repo.resolve(&second[..9]).unwrap().id, second);
        assert!(
            repo.resolve("nope")
                .unwrap_err()
                .to_string()
                .contains("`nope` names no commit")
        );
        assert_eq!(repo.parent(&second).unwrap().unwrap().id, first);
        assert_eq!(repo.parent(&first).unwrap(), None);
        let dest = s.dir.join("out");
        repo.export(&first, Path::new("ctx"), &dest).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.join("Dockerfile")).unwrap(),
            "FROM scratch\n"
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("sub/a.txt")).unwrap(),
            "a\n"
        );
        let err = repo
            .export(&first, Path::new("missing"), &s.dir.join("o2"))
            .unwrap_err();
        assert!(err.to_string().contains("missing does not exist"), "{err}");
    }

    #[test]
    fn dirty_paths_and_path_limited_commit() {
        let s = Scratch::new("dirty");
        s.commit(&[("a/k.yaml", "v: 1\n"), ("b/other.txt", "x\n")]);
        let repo = Repo::open(&s.dir).unwrap();
        assert!(repo.dirty_paths(Path::new("a")).unwrap().is_empty());
        std::fs::write(s.dir.join("a/k.yaml"), "v: 2\n").unwrap();
        std::fs::write(s.dir.join("b/other.txt"), "user work\n").unwrap();
        std::fs::write(s.dir.join("b/staged.txt"), "staged\n").unwrap();
        let mut index = s.git.index().unwrap();
        index.add_path(Path::new("b/staged.txt")).unwrap();
        index.write().unwrap();
        assert_eq!(repo.dirty_paths(Path::new("a")).unwrap(), ["a/k.yaml"]);

        let lock = repo.lock_for_commit().unwrap();
        let id = repo
            .commit_paths(
                &lock,
                &[PathBuf::from("a/k.yaml")],
                "Update images to sha-abc1234",
            )
            .unwrap();
        drop(lock);
        let commit = s.git.find_commit(Oid::from_str(&id).unwrap()).unwrap();
        assert_eq!(commit.message().unwrap(), "Update images to sha-abc1234");
        let tree = commit.tree().unwrap();
        let blob = s
            .git
            .find_blob(tree.get_path(Path::new("a/k.yaml")).unwrap().id())
            .unwrap();
        assert_eq!(blob.content(), b"v: 2\n");
        assert!(
            tree.get_path(Path::new("b/staged.txt")).is_err(),
            "staged work must not be committed"
        );
        let other = s
            .git
            .find_blob(tree.get_path(Path::new("b/other.txt")).unwrap().id())
            .unwrap();
        assert_eq!(other.content(), b"x\n");
        let mut dirty = repo.dirty_paths(Path::new("")).unwrap();
        dirty.sort();
        assert_eq!(dirty, ["b/other.txt", "b/staged.txt"]);
        let status = s.git.status_file(Path::new("b/staged.txt")).unwrap();
        assert!(
            status.contains(Status::INDEX_NEW),
            "still staged: {status:?}"
        );
    }

    #[test]
    fn a_locked_index_or_branch_makes_no_commit_and_leaves_head_and_index_as_they_were() {
        let s = Scratch::new("locked");
        let first = s.commit(&[("a/k.yaml", "v: 1\n")]);
        let repo = Repo::open(&s.dir).unwrap();
        std::fs::write(s.dir.join("a/k.yaml"), "v: 2\n").unwrap();
        let index_bytes = || std::fs::read(s.dir.join(".git/index")).unwrap();
        let before = index_bytes();
        let head = || s.git.head().unwrap().target().unwrap().to_string();
        let paths = [PathBuf::from("a/k.yaml")];
        let branch = s.git.head().unwrap().name().unwrap().to_string();
        for lock in [
            ".git/index.lock".to_string(),
            format!(".git/{branch}.lock"),
            ".git/HEAD.lock".to_string(),
        ] {
            std::fs::write(s.dir.join(&lock), "").unwrap();
            let early = repo.ready_to_commit().unwrap_err().to_string();
            assert!(early.contains(&lock), "{early}");
            let err = format!("{:#}", repo.lock_for_commit().err().unwrap());
            assert!(err.contains("another git command"), "{err}");
            assert_eq!(head(), first, "{lock}: HEAD moved");
            assert_eq!(index_bytes(), before, "{lock}: the index changed");
            std::fs::remove_file(s.dir.join(&lock)).unwrap();
        }
        // Held locks keep out a second taker (and git), and go when dropped.
        let lock = repo.lock_for_commit().unwrap();
        assert!(repo.lock_for_commit().is_err());
        assert!(s.dir.join(".git/index.lock").exists());
        let id = repo.commit_paths(&lock, &paths, "m").unwrap();
        assert_eq!(head(), id);
        // A lock taken before HEAD moved cannot move it again.
        let err = format!("{:#}", repo.commit_paths(&lock, &paths, "m").unwrap_err());
        assert!(err.contains("HEAD moved"), "{err}");
        assert_eq!(head(), id);
        drop(lock);
        // Committing the same content again would be an empty commit: refused.
        let lock = repo.lock_for_commit().unwrap();
        let err = format!("{:#}", repo.commit_paths(&lock, &paths, "m").unwrap_err());
        assert!(err.contains("no empty commit"), "{err}");
        drop(lock);
        assert!(!s.dir.join(".git/index.lock").exists());
        assert!(!s.dir.join(format!(".git/{branch}.lock")).exists());
        assert!(repo.dirty_paths(Path::new("")).unwrap().is_empty());
    }
}
