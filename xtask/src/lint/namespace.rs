//! kustomize's namespace transformer: a kustomization with `namespace: NAME` also renames the
//! Namespace objects it includes to NAME (the `name: _` placeholder of Flux home-ops repos), so a
//! SCHEMA-NAME finding on such a Namespace's name is not what the API server will see.

use super::Finding;
use super::kustomize_rules::Tree;
use crate::walk::normalize;
use std::path::{Path, PathBuf};

/// Drops SCHEMA-NAME on the names of Namespace objects that a kustomization with `namespace:`
/// lists directly.
pub fn drop_renamed(tree: &Tree, out: &mut Vec<Finding>) {
    let renamed: Vec<PathBuf> = (tree.files.iter())
        .filter_map(|(kfile, facts)| Some((kfile, facts.kustomization.as_ref()?)))
        .filter(|(_, k)| k.namespace.is_some())
        .flat_map(|(kfile, k)| {
            let dir = kfile.parent().unwrap_or(Path::new("")).to_path_buf();
            k.resources
                .iter()
                .filter_map(move |r| normalize(&dir.join(&r.value)))
        })
        .collect();
    if renamed.is_empty() {
        return;
    }
    out.retain(|f| {
        !(f.rule == super::schema::NAME.id
            && f.message.starts_with("Namespace name ")
            && renamed.contains(&f.file))
    });
}
