//! A registry change is one setting: the CronJobs and the kustomization keep naming the image
//! as they do (`ghcr.io/dcasati/python-base`), and when the configured registry differs,
//! update-images points the kustomization's `images:` entry at it with kustomize's own
//! `newName` (then sets the tag as usual). So `XTASK_REGISTRY=127.0.0.1:5055/homelab cargo
//! xtask update-images` is the whole move. Pure: text in, text out.

use crate::kustomize;
use crate::resolve::Target;

/// What [`point_at_registry`] did to one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Moved {
    pub text: String,
    /// The entry names now sent to the configured registry (by `newName`): the tag update
    /// treats them as the image's own.
    pub names: Vec<String>,
    /// One note per entry whose `newName` was written.
    pub notes: Vec<String>,
}

/// Gives every `images:` entry of `src` that names `target.image` in another registry (its
/// last path part is the image, its name is none of `target.names`) `newName:` the configured
/// name (`target.names[0]`), unless its `newName` already is one of `target.names`.
pub fn point_at_registry(src: &str, target: &Target) -> Result<Moved, String> {
    let want = &target.names[0];
    let entries = kustomize::load_images(src).map_err(|e| format!("{e} (not valid YAML)"))?;
    let mut moved = Moved::default();
    let mut splices = Vec::new();
    for (_, entry) in &entries {
        let Some(name) = entry.name() else { continue };
        let ours = |n: &str| target.names.iter().any(|m| m == n);
        let same_image = name.contains('/') && name.rsplit('/').next() == Some(&target.image);
        if ours(name) || !same_image {
            continue;
        }
        moved.names.push(name.to_string());
        if entry.new_name().is_some_and(ours) {
            continue;
        }
        splices.push(kustomize::set_new_name(src, entry, want)?);
        let line = entry.node.start.line;
        moved.notes.push(format!(
            "{line}: {name} now deploys from the configured registry: newName {want}"
        ));
    }
    moved.text = crate::yaml::apply(src, &splices)?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(registry: &str) -> Target {
        Target {
            image: "python-base".into(),
            names: vec![
                format!("{registry}/python-base"),
                "localhost:32000/homelab/python-base".into(),
            ],
            tag: "sha-abc1234".into(),
            digest: None,
        }
    }

    const REPO: &str = "images:\n  - name: ghcr.io/dcasati/python-base # the CronJobs' name\n    newTag: sha-522a89c\n  - name: docker.io/library/redis\n";

    #[test]
    fn the_default_registry_changes_nothing() {
        let moved = point_at_registry(REPO, &target("ghcr.io/dcasati")).unwrap();
        assert_eq!(moved.text, REPO);
        assert!(moved.names.is_empty() && moved.notes.is_empty());
    }

    #[test]
    fn another_registry_gets_a_new_name_after_the_name() {
        let moved = point_at_registry(REPO, &target("127.0.0.1:5055/homelab")).unwrap();
        assert_eq!(
            moved.text,
            "images:\n  - name: ghcr.io/dcasati/python-base # the CronJobs' name\n    newName: 127.0.0.1:5055/homelab/python-base\n    newTag: sha-522a89c\n  - name: docker.io/library/redis\n"
        );
        assert_eq!(moved.names, ["ghcr.io/dcasati/python-base"]);
        assert_eq!(
            moved.notes,
            [
                "2: ghcr.io/dcasati/python-base now deploys from the configured registry: newName 127.0.0.1:5055/homelab/python-base"
            ]
        );
        // Run again: already pointed there, nothing to write.
        let again = point_at_registry(&moved.text, &target("127.0.0.1:5055/homelab")).unwrap();
        assert_eq!(again.text, moved.text);
        assert_eq!(again.names, ["ghcr.io/dcasati/python-base"]);
        assert!(again.notes.is_empty());
    }

    #[test]
    fn a_new_name_elsewhere_is_replaced_in_its_quoting_and_flow_entries_work() {
        let src = "images:\n- {name: ghcr.io/dcasati/python-base, newName: 'quay.io/x/python-base', newTag: a}\n";
        let moved = point_at_registry(src, &target("reg.lan:5000/me")).unwrap();
        assert_eq!(
            moved.text,
            "images:\n- {name: ghcr.io/dcasati/python-base, newName: 'reg.lan:5000/me/python-base', newTag: a}\n"
        );
        let flow = "images:\n- {name: ghcr.io/dcasati/python-base, newTag: a}\n";
        let moved = point_at_registry(flow, &target("reg.lan:5000/me")).unwrap();
        assert_eq!(
            moved.text,
            "images:\n- {name: ghcr.io/dcasati/python-base, newName: reg.lan:5000/me/python-base, newTag: a}\n"
        );
    }
}
