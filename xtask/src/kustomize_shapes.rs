//! The shapes in which kustomize reads an `images:` entry that update-images does not edit.
//! kustomize decodes YAML through Go's case-insensitive JSON, reads the legacy `imageTags:` as
//! `images:`, applies top-level merge keys, renders an entry's `newName` for images named by
//! its `name`, and decodes a `!!binary` scalar. An entry of ours in any of these shapes would
//! let update-images say "already up to date" while kustomize renders another tag: each is
//! refused instead (update-images exits 2 naming the file and line). Only shapes that mention
//! one of the image's names are refused, so unrelated kustomizations are left alone.

use crate::yaml::{Document, Node, Value};

/// The four keys of an images entry, as kustomize names them.
const ENTRY_KEYS: [&str; 4] = ["name", "newName", "newTag", "digest"];

/// `LINE:COLUMN: why` for the first shape in `docs` that kustomize reads as an images entry for
/// one of `names` and that update-images would not edit; `None` when there is none.
pub fn unread(docs: &[Document], names: &[String]) -> Option<String> {
    let ours = |text: &str| names.iter().any(|n| n == text);
    let mentions = |node: &Node| mentions(node, &ours);
    for doc in docs {
        for e in doc.root.as_map().unwrap_or_default() {
            let Some(key) = e.key.as_str() else { continue };
            let lower = key.to_ascii_lowercase();
            if key == "<<" && mentions(&e.value) {
                return Some(at(
                    &e.key,
                    "a top-level merge key (<<) carries fields of the image (kustomize applies \
                     them as `images:`), which update-images cannot edit: write `images:` out",
                ));
            }
            if ((lower == "images" && key != "images") || lower == "imagetags")
                && mentions(&e.value)
            {
                return Some(at(
                    &e.key,
                    &format!(
                        "`{key}:` sets the image's tag (kustomize reads keys in any letter case, \
                         and `imageTags` as `images`), but update-images edits only `images:`: \
                         rename it to `images:`"
                    ),
                ));
            }
            if key == "images" {
                for item in e.value.as_seq().unwrap_or_default() {
                    if let Some(why) = entry_shape(item, &ours) {
                        return Some(why);
                    }
                }
            }
        }
    }
    None
}

/// The shape of one images entry that is ours but not edited.
fn entry_shape(item: &Node, ours: &dyn Fn(&str) -> bool) -> Option<String> {
    let entries = item.as_map()?;
    if !mentions(item, ours) {
        return None;
    }
    for e in entries {
        let Some(key) = e.key.as_str() else { continue };
        let canonical = ENTRY_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key) && **k != key);
        if let Some(canonical) = canonical {
            return Some(at(
                &e.key,
                &format!(
                    "`{key}` is read by kustomize as `{canonical}` (keys in any letter case), \
                     which update-images does not edit: write `{canonical}`"
                ),
            ));
        }
        if matches!(key, "newTag" | "digest")
            && e.value.tag.as_deref().is_some_and(|t| t.contains("binary"))
        {
            return Some(at(
                &e.value,
                &format!(
                    "`{key}` is `!!binary`: kustomize decodes its base64, and a plain tag written \
                     in its place would be decoded too: write the {key} as plain text"
                ),
            ));
        }
    }
    let name = item.get("name").and_then(Node::as_str);
    let new_name = item.get("newName").and_then(Node::as_str);
    if let (Some(name), Some(new_name)) = (name, new_name)
        && !ours(name)
        && ours(new_name)
    {
        return Some(at(
            item.get("newName").expect("read above"),
            &format!(
                "`name: {name}` with `newName: {new_name}`: kustomize renders images named \
                 `{name}` as the image with this entry's tag, but update-images edits entries \
                 named after the image: name the entry `{new_name}`, or set its tag by hand"
            ),
        ));
    }
    None
}

/// Whether a scalar under `node` (aliases not followed) is one of the image's names.
fn mentions(node: &Node, ours: &dyn Fn(&str) -> bool) -> bool {
    match &node.value {
        Value::Scalar { text, .. } => ours(text),
        Value::Seq(items) => items.iter().any(|n| mentions(n, ours)),
        Value::Map(entries) => entries.iter().any(|e| mentions(&e.value, ours)),
        Value::Alias(_) => false,
    }
}

fn at(node: &Node, what: &str) -> String {
    format!("{}:{}: {what}", node.start.line, node.start.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Option<String> {
        let docs = crate::yaml::load(src).unwrap();
        unread(&docs, &["ghcr.io/dcasati/python-base".to_string()])
    }

    #[test]
    fn every_shape_kustomize_reads_but_we_do_not_edit_is_named_with_its_line() {
        let img = "ghcr.io/dcasati/python-base";
        for (src, line, what) in [
            (
                format!("images:\n- name: {img}\n  newtag: sha-0000000\n"),
                "3:3:",
                "`newtag`",
            ),
            (
                format!("images:\n- Name: {img}\n  newTag: x\n"),
                "2:3:",
                "`Name`",
            ),
            (
                format!("images:\n- name: {img}\n  Digest: sha256:x\n"),
                "3:3:",
                "`Digest`",
            ),
            (
                format!("Images:\n- name: {img}\n  newTag: x\n"),
                "1:1:",
                "`Images:`",
            ),
            (
                format!("imageTags:\n- name: {img}\n  newTag: x\n"),
                "1:1:",
                "`imageTags:`",
            ),
            (
                format!("<<: {{images: [{{name: {img}, newTag: x}}]}}\n"),
                "1:1:",
                "merge key",
            ),
            (
                format!("images:\n- name: {img}\n  newTag: !!binary c2hh\n"),
                "3:11:",
                "!!binary",
            ),
            (
                format!("images:\n- name: python-base\n  newName: {img}\n"),
                "3:12:",
                "newName",
            ),
        ] {
            let err = check(&src).unwrap_or_else(|| panic!("not refused:\n{src}"));
            assert!(err.starts_with(line) && err.contains(what), "{src}\n{err}");
        }
        for fine in [
            format!("images:\n- name: {img}\n  newTag: x\n"),
            "images:\n- name: other\n  newtag: x\nImages: [{name: other}]\n".to_string(),
            format!("images:\n- name: {img}\n  newName: {img}\n  newTag: x\n"),
        ] {
            assert_eq!(check(&fine), None, "{fine}");
        }
    }
}
