//! update-images' caveat for a build context with uncommitted changes: its tag is that of its
//! last commit, so "up to date" holds for committed history only.

use crate::Ctx;
use crate::repo::Repo;
use crate::resolve::Target;

/// The tag comes from committed history: a build context with uncommitted changes gets a new
/// tag only once they are committed, so "up to date" is said with that caveat.
pub fn note_uncommitted_contexts(ctx: &Ctx, targets: &[Target]) {
    let Ok(repo) = Repo::open(&ctx.root) else {
        return;
    };
    for image in &ctx.settings.images {
        if !targets.iter().any(|t| t.image == image.name) {
            continue;
        }
        let dirty = repo.dirty_paths(&image.context).unwrap_or_default();
        if !dirty.is_empty() {
            eprintln!(
                "note: {} has uncommitted changes ({}): the tag is that of its last commit; \
                 commit them, then run update-images again for the new tag",
                crate::output::path(&image.context),
                dirty.join(", ")
            );
        }
    }
}
