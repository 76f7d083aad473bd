//! The scratch folder of one `diff` run, `target/xtask/diff/PID/`, where both commits' trees are
//! exported. It is removed when the run ends, whatever happens: on success, on error (drop), and
//! on SIGINT/SIGTERM/SIGHUP (deferred by the task until this is dropped). A run killed outright
//! (SIGKILL) leaves its folder behind; the next run removes the folders of every process that
//! is gone.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub const DIR: &str = "target/xtask/diff";

pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    /// Removes stale folders, then makes this run's own.
    pub fn create(root: &Path) -> Result<Scratch> {
        // Every folder from the root down must be a real one: through a committed `target`
        // link, the export (and the stale-folder removal below) would reach outside the repo.
        let parent = crate::files::make_dir(root, Path::new(DIR))?;
        for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
            let pid = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok());
            if pid.is_some_and(|pid| pid != std::process::id() && !crate::files::alive(pid)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = parent.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        crate::files::make_dir(root, &dir)
            .with_context(|| format!("cannot create the scratch folder {}", dir.display()))?;
        Ok(Scratch { dir })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_folders_go_and_the_own_one_goes_on_drop() {
        let root = tempfile::tempdir().unwrap();
        // PID 0x7fff_fff0 cannot be a live process (pid_max is at most 2^22).
        let stale = root.path().join(DIR).join("2147483632");
        let live = root.path().join(DIR).join("1");
        std::fs::create_dir_all(stale.join("base")).unwrap();
        std::fs::create_dir_all(&live).unwrap();
        let scratch = Scratch::create(root.path()).unwrap();
        assert!(!stale.exists() && live.exists() && scratch.dir.is_dir());
        let dir = scratch.dir.clone();
        drop(scratch);
        assert!(!dir.exists());
    }
}
