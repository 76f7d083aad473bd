//! Kustomizations: discovery of `kustomization.yaml` files, the `images:` model read from a
//! positioned YAML document, and the set-image edit that changes only the bytes it must.
//!
//! Matching follows kustomize's image transformer: an `images:` entry applies to a container
//! image whose name, without its tag and digest, equals the entry's `name`. Of an entry, `newTag`
//! replaces the tag, `newName` the name, and `digest` (when present) wins over `newTag`.

use crate::walk::{self, Resolved};
use crate::yaml::{self, Document, Entry, Node, Splice, Style, set_scalar};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// The file names kustomize looks for in a folder, in its order of preference.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// True when the file name of `path` is one of [`FILE_NAMES`].
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// The kustomization files that [`discover`] found, and the ones it skipped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Discovered {
    /// Files to edit, relative to the root, sorted and without duplicates. A symlinked
    /// kustomization is listed at its target, so that editing it keeps the link a link.
    pub files: Vec<PathBuf>,
    /// Files named like a kustomization that were not read: (path, why).
    pub skipped: Vec<(PathBuf, String)>,
}

/// Every kustomization file under `paths` (files or folders, absolute or relative to `root`).
/// Folders are walked with [`crate::walk`]'s rules. Errors: a path that does not exist, lies
/// outside `root`, or names a file that is not a kustomization (or not a regular file); and a
/// symlinked kustomization whose target lies outside the repository. Special files and broken
/// links named like a kustomization inside a walked folder are skipped, never opened.
pub fn discover(root: &Path, paths: &[PathBuf]) -> Result<Discovered> {
    let mut found = Discovered::default();
    for path in paths {
        match walk::resolve(root, path) {
            Resolved::Dir(dir) => discover_in(root, &dir, &mut found)?,
            Resolved::File(file) if is_kustomization(path) => found.files.push(file),
            Resolved::File(_) => bail!(
                "{}: not a kustomization file (expected one of {})",
                path.display(),
                FILE_NAMES.join(", ")
            ),
            Resolved::Special(what) => bail!(
                "{}: {what}, not a kustomization file; refusing to read it",
                path.display()
            ),
            Resolved::Outside => bail!(
                "{}: outside the repository root {}",
                path.display(),
                root.display()
            ),
            Resolved::Missing(why) => bail!("{}: no such file or folder ({why})", path.display()),
        }
    }
    found.files.sort();
    found.files.dedup();
    Ok(found)
}

fn discover_in(root: &Path, dir: &Path, found: &mut Discovered) -> Result<()> {
    let listing = walk::walk(root, dir)?;
    let named = |p: &&PathBuf| is_kustomization(p);
    found
        .files
        .extend(listing.files.iter().filter(named).cloned());
    for (path, what) in listing.special.iter().filter(|(p, _)| is_kustomization(p)) {
        found.skipped.push((path.clone(), what.to_string()));
    }
    for link in listing.links.iter().filter(named) {
        match walk::resolve(root, link) {
            Resolved::File(target) => found.files.push(target),
            Resolved::Outside => bail!(
                "{}: a symlink to a file outside the repository; refusing to edit it (no file was changed)",
                link.display()
            ),
            Resolved::Special(what) => found
                .skipped
                .push((link.clone(), format!("a symlink to {what}"))),
            Resolved::Dir(_) => {}
            Resolved::Missing(why) => found
                .skipped
                .push((link.clone(), format!("a broken symlink ({why})"))),
        }
    }
    Ok(())
}

/// One item of a kustomization's `images:` list, with the nodes it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    /// Position of the item in the `images:` sequence.
    pub index: usize,
    /// The item's mapping node.
    pub node: Node,
    pub name: Option<Entry>,
    pub new_name: Option<Entry>,
    pub new_tag: Option<Entry>,
    pub digest: Option<Entry>,
}

impl ImageEntry {
    pub fn name(&self) -> Option<&str> {
        value_str(&self.name)
    }
    pub fn new_name(&self) -> Option<&str> {
        value_str(&self.new_name)
    }
    pub fn new_tag(&self) -> Option<&str> {
        value_str(&self.new_tag)
    }
    pub fn digest(&self) -> Option<&str> {
        value_str(&self.digest)
    }
}

fn value_str(entry: &Option<Entry>) -> Option<&str> {
    entry.as_ref().and_then(|e| e.value.as_str())
}

/// The items of the document's top-level `images:` list that are mappings, in order.
pub fn image_entries(doc: &Document) -> Vec<ImageEntry> {
    let Some(items) = doc.root.get("images").and_then(Node::as_seq) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.as_map().is_some())
        .map(|(index, item)| image_entry(index, item))
        .collect()
}

/// The image entry read from `item`, the `index`th item of an `images:` list.
fn image_entry(index: usize, item: &Node) -> ImageEntry {
    ImageEntry {
        index,
        node: item.clone(),
        name: item.entry("name").cloned(),
        new_name: item.entry("newName").cloned(),
        new_tag: item.entry("newTag").cloned(),
        digest: item.entry("digest").cloned(),
    }
}

/// Loads a kustomization's text and returns its image entries, with the document index of each.
pub fn load_images(src: &str) -> Result<Vec<(usize, ImageEntry)>, yaml::ParseError> {
    let docs = yaml::load(src)?;
    Ok(docs
        .iter()
        .enumerate()
        .flat_map(|(i, doc)| image_entries(doc).into_iter().map(move |e| (i, e)))
        .collect())
}

/// The edits that give `entry` the tag `tag`: `newTag` is replaced in its own quoting style, or
/// inserted after `newName` (else `name`) with its siblings' indentation and the file's line
/// ending. `digest`, which would win over the tag in kustomize, is removed (its whole line in a
/// block mapping, its `, digest: …` item in a flow mapping), or set to `digest` when given.
pub fn set_image(
    src: &str,
    entry: &ImageEntry,
    tag: &str,
    digest: Option<&str>,
) -> Result<Vec<Splice>, String> {
    let items = entry.node.as_map().unwrap_or_default();
    let flow = entry.node.is_flow(src);
    let anchor = entry
        .new_name
        .as_ref()
        .or(entry.name.as_ref())
        .ok_or_else(|| at(&entry.node, "an images entry without a name"))?;
    let mut edits = Vec::new();
    match &entry.new_tag {
        Some(e) => edits.push(set_scalar(src, &e.key, &e.value, tag)?),
        None => edits.push(insert_after(src, anchor, flow, "newTag", tag)),
    }
    match (&entry.digest, digest) {
        (Some(e), Some(d)) => edits.push(set_scalar(src, &e.key, &e.value, d)?),
        (None, Some(d)) => {
            let after = entry.new_tag.as_ref().unwrap_or(anchor);
            edits.push(insert_after(src, after, flow, "digest", d));
        }
        (Some(e), None) => edits.push(remove_entry(src, items, e, flow)),
        (None, None) => {}
    }
    Ok(edits)
}

/// The edit that gives `entry` the `newName` `new_name`: an existing `newName` is replaced in
/// its own quoting style, else one is inserted after `name` with its siblings' indentation.
pub fn set_new_name(src: &str, entry: &ImageEntry, new_name: &str) -> Result<Splice, String> {
    match &entry.new_name {
        Some(e) => set_scalar(src, &e.key, &e.value, new_name),
        None => {
            let name = entry
                .name
                .as_ref()
                .ok_or_else(|| at(&entry.node, "an images entry without a name"))?;
            Ok(insert_after(
                src,
                name,
                entry.node.is_flow(src),
                "newName",
                new_name,
            ))
        }
    }
}

fn at(node: &Node, what: &str) -> String {
    format!("{}:{}: {what}", node.start.line, node.start.column)
}

/// Where a value's text ends: a scalar's last byte, or a collection's last non-blank byte.
fn value_end(src: &str, node: &Node) -> usize {
    match node.value {
        yaml::Value::Scalar { .. } => yaml::scalar_range(src, node).end,
        _ => node.start.offset + src[node.start.offset..node.end.offset].trim_end().len(),
    }
}

fn insert_after(src: &str, after: &Entry, flow: bool, key: &str, value: &str) -> Splice {
    let text = yaml::render_scalar(value, Style::Plain);
    let end = value_end(src, &after.value);
    if flow {
        return Splice::new(end..end, format!(", {key}: {text}"));
    }
    let line_end = yaml::line_at(src, end).end;
    let indent = " ".repeat(after.key.start.column - 1);
    let eol = yaml::line_ending(src);
    Splice::new(line_end..line_end, format!("{eol}{indent}{key}: {text}"))
}

fn remove_entry(src: &str, items: &[Entry], gone: &Entry, flow: bool) -> Splice {
    let index = items
        .iter()
        .position(|e| e.key.start == gone.key.start)
        .expect("the entry belongs to the mapping");
    let key_start = gone.key.start.offset;
    let end = value_end(src, &gone.value);
    if flow {
        return match index.checked_sub(1) {
            // `, digest: …`
            Some(prev) => Splice::new(value_end(src, &items[prev].value)..end, ""),
            // `digest: …, ` when it comes first.
            None => match items.get(1) {
                Some(next) => Splice::new(key_start..next.key.start.offset, ""),
                None => Splice::new(key_start..end, ""),
            },
        };
    }
    let line = yaml::line_at(src, key_start);
    if !src[line.start..key_start].trim().is_empty() {
        // `- digest: …` opens the item: the next key moves up behind the dash.
        let next = items.get(index + 1).map_or(end, |n| n.key.start.offset);
        return Splice::new(key_start..next, "");
    }
    let stop = yaml::line_end_with_terminator(src, end);
    if stop == src.len() && !src.ends_with('\n') && line.start > 0 {
        // The last line has no terminator: take the one before it, so none is added.
        let mut start = line.start - 1;
        if start > 0 && src.as_bytes()[start - 1] == b'\r' {
            start -= 1;
        }
        return Splice::new(start..stop, "");
    }
    Splice::new(line.start..stop, "")
}

/// One kustomization's new text, how many of its `images:` entries were set, and the entries
/// whose `newName` sends the image to another registry (`line:column: newName …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpdate {
    pub new: String,
    pub matched: usize,
    pub redirected: Vec<String>,
}

/// Why a kustomization could not be updated; `line:column: message` for a file prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateError {
    /// The file is not valid YAML.
    Parse(yaml::ParseError),
    /// An entry cannot be edited (e.g. a block-scalar tag), or the edit failed its own check.
    Edit(String),
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateError::Parse(e) => write!(f, "{e}"),
            UpdateError::Edit(e) => f.write_str(e),
        }
    }
}

/// A document's anchors and the anchors its aliases use, for what kustomize sees through them.
#[derive(Default)]
struct Refs<'a> {
    anchors: yaml::Anchors<'a>,
    aliased: Vec<usize>,
}

impl<'a> Refs<'a> {
    /// Checks `src`'s document `root`: a duplicate key (other than the merge key `<<`) is an
    /// error, as kustomize would silently read one of them and we another. Then collects its
    /// anchors and alias uses (none when `src` has no `&`).
    fn scan(&mut self, src: &str, root: &'a Node) -> Result<(), String> {
        if let Some((key, first)) = yaml::first_duplicate_key(root) {
            return Err(format!(
                "{}:{}: duplicate key `{}` (first at line {}, column {}); kustomize reads only \
                 one of them: remove the other",
                key.start.line,
                key.start.column,
                key.as_str().unwrap_or_default(),
                first.start.line,
                first.start.column
            ));
        }
        if src.contains('&') {
            self.anchors = yaml::Anchors::of(root);
            self.collect(root);
        }
        Ok(())
    }

    /// The anchors that aliases use.
    fn collect(&mut self, node: &'a Node) {
        match &node.value {
            yaml::Value::Alias(id) => self.aliased.push(*id),
            yaml::Value::Seq(items) => items.iter().for_each(|i| self.collect(i)),
            yaml::Value::Map(entries) => entries.iter().for_each(|e| {
                self.collect(&e.key);
                self.collect(&e.value);
            }),
            yaml::Value::Scalar { .. } => {}
        }
    }

    /// The node an alias stands for (the node itself when it is not an alias).
    fn resolve(&self, node: &'a Node) -> &'a Node {
        self.anchors.resolve(node)
    }

    /// True when `node` carries an anchor that an alias uses.
    fn is_aliased(&self, node: &Node) -> bool {
        node.anchor.is_some_and(|id| self.aliased.contains(&id))
    }

    /// The scalar `key` of a mapping, through aliases.
    fn get_str(&self, map: &'a Node, key: &str) -> Option<&'a str> {
        map.get(key).map(|v| self.resolve(v)).and_then(Node::as_str)
    }

    /// The mappings merged into `map` by its `<<` keys (an alias, a mapping or a list of them).
    fn merged(&self, map: &'a Node) -> Vec<&'a Node> {
        let mut merged = Vec::new();
        for e in map.as_map().unwrap_or_default() {
            if e.key.as_str() != Some("<<") {
                continue;
            }
            let value = self.resolve(&e.value);
            match value.as_seq() {
                Some(items) => merged.extend(items.iter().map(|i| self.resolve(i))),
                None => merged.push(value),
            }
        }
        merged
    }
}

/// Why the `images:` entry `item` (which kustomize reads as naming one of `names`) cannot be
/// edited in place, if it cannot; `None` when the entry does not name one of `names` at all.
fn check_entry<'a>(
    refs: &Refs<'a>,
    item: &'a Node,
    names: &[String],
) -> Option<Result<&'a Node, String>> {
    let ours = |name: Option<&str>| name.is_some_and(|n| names.iter().any(|m| m == n));
    let resolved = refs.resolve(item);
    if !std::ptr::eq(resolved, item) {
        return ours(refs.get_str(resolved, "name")).then(|| {
            Err(at(
                item,
                "this images entry is an alias (*…) of an entry that names the image; kustomize \
                 applies it, but an alias cannot be edited in place: write the entry out in full",
            ))
        });
    }
    item.as_map()?;
    let merged = refs.merged(item);
    if item.get("name").is_none() {
        return merged
            .iter()
            .any(|m| ours(refs.get_str(m, "name")))
            .then(|| {
                Err(at(
                    item,
                    "this images entry gets its name through a merge key (<<); kustomize \
                     applies it, but it cannot be edited in place: write `name:` in the entry",
                ))
            });
    }
    if !ours(refs.get_str(item, "name")) {
        return None;
    }
    if refs.is_aliased(item) {
        return Some(Err(at(
            item,
            "this images entry is anchored (&…) and used elsewhere through an alias; setting \
             its tag would change every use: write the entries out separately",
        )));
    }
    if item.get("digest").is_none() && merged.iter().any(|m| m.get("digest").is_some()) {
        return Some(Err(at(
            item,
            "this images entry gets a `digest` through a merge key (<<), which wins over \
             newTag in kustomize: write the entry out in full",
        )));
    }
    for key in ["newTag", "digest"] {
        let Some(e) = item.entry(key) else { continue };
        if matches!(e.value.value, yaml::Value::Alias(_)) {
            return Some(Err(at(
                &e.value,
                &format!("`{key}` is an alias (*…) of another value; write the value out"),
            )));
        }
        if refs.is_aliased(&e.value) {
            return Some(Err(at(
                &e.value,
                &format!(
                    "`{key}` is anchored (&…) and used by another entry through an alias; setting \
                     it would change that entry too: write the value out in both places"
                ),
            )));
        }
    }
    Some(Ok(item))
}

/// Sets `tag` (and removes or sets `digest`) on every `images:` entry of `src` whose `name` is
/// one of `names`, then checks the result: it must parse, and equal the old documents with
/// exactly those entries changed. An entry kustomize would read through an alias or a merge
/// key, or whose tag is shared through an anchor, is refused rather than skipped; so is a
/// duplicate key anywhere. Pure; the caller writes.
pub fn update_file(
    src: &str,
    names: &[String],
    tag: &str,
    digest: Option<&str>,
) -> Result<FileUpdate, UpdateError> {
    let docs = yaml::load(src).map_err(UpdateError::Parse)?;
    // Entries are copied only when they match: most files do not name the image.
    let mut matching: Vec<(usize, ImageEntry)> = Vec::new();
    let mut redirected = Vec::new();
    for (doc_index, doc) in docs.iter().enumerate() {
        let mut refs = Refs::default();
        refs.scan(src, &doc.root).map_err(UpdateError::Edit)?;
        let Some(images) = doc.root.get("images") else {
            continue;
        };
        let Some(items) = images.as_seq() else {
            let resolved = refs.resolve(images).as_seq().unwrap_or_default();
            if resolved
                .iter()
                .any(|i| check_entry(&refs, i, names).is_some())
            {
                return Err(UpdateError::Edit(at(
                    images,
                    "`images:` is an alias (*…) of a list that names the image; kustomize \
                     applies it, but it cannot be edited in place: write the list out",
                )));
            }
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            let Some(checked) = check_entry(&refs, item, names) else {
                continue;
            };
            let item = checked.map_err(UpdateError::Edit)?;
            let entry = image_entry(index, item);
            if let Some(new_name) = refs.get_str(item, "newName")
                && !names.iter().any(|n| n == new_name)
            {
                let pos = &item.get("newName").expect("read above").start;
                redirected.push(format!(
                    "{}:{}: newName `{new_name}` sends {} to another registry",
                    pos.line,
                    pos.column,
                    refs.get_str(item, "name").unwrap_or_default()
                ));
            }
            matching.push((doc_index, entry));
        }
    }
    if matching.is_empty() {
        return Ok(FileUpdate {
            new: src.to_string(),
            matched: 0,
            redirected,
        });
    }
    let mut edits = Vec::new();
    for (_, entry) in &matching {
        edits.extend(set_image(src, entry, tag, digest).map_err(UpdateError::Edit)?);
    }
    let matched = matching.len();
    let new = yaml::apply(src, &edits).map_err(UpdateError::Edit)?;
    if new == src {
        // Every entry already had the tag (and no digest to drop): nothing to re-check.
        return Ok(FileUpdate {
            new,
            matched,
            redirected,
        });
    }
    let reparsed = yaml::load(&new).map_err(|e| {
        UpdateError::Edit(format!(
            "the edit would make invalid YAML ({e}); please report this"
        ))
    })?;
    let mut same = reparsed.len() == docs.len();
    for (doc_index, (old, actual)) in docs.into_iter().zip(&reparsed).enumerate() {
        let mut expected = old.root;
        for (doc, entry) in &matching {
            if *doc == doc_index {
                expect_set(&mut expected, entry, tag, digest);
            }
        }
        same = same && yaml::same_content(&expected, &actual.root);
    }
    if !same {
        return Err(UpdateError::Edit(
            "the edited file does not read back as expected; please report this".into(),
        ));
    }
    Ok(FileUpdate {
        new,
        matched,
        redirected,
    })
}

/// Applies to a copy of the document what [`set_image`] does to its text (the new nodes have no
/// positions; compare with [`yaml::same_content`]).
fn expect_set(root: &mut Node, entry: &ImageEntry, tag: &str, digest: Option<&str>) {
    let yaml::Value::Map(root_entries) = &mut root.value else {
        return;
    };
    let Some(images) = root_entries
        .iter_mut()
        .find(|e| e.key.as_str() == Some("images"))
    else {
        return;
    };
    let yaml::Value::Seq(items) = &mut images.value.value else {
        return;
    };
    let yaml::Value::Map(fields) = &mut items[entry.index].value else {
        return;
    };
    let set = |fields: &mut Vec<Entry>, key: &str, value: &str, after: &[&str]| {
        if let Some(e) = fields.iter_mut().find(|e| e.key.as_str() == Some(key)) {
            let style = e.value.style().unwrap_or(Style::Plain);
            if let yaml::Value::Scalar { text, style: s } = &mut e.value.value {
                *text = value.to_string();
                *s = yaml::rendered_style(value, style);
            }
            return;
        }
        let at = after
            .iter()
            .find_map(|k| fields.iter().position(|e| e.key.as_str() == Some(*k)))
            .map_or(fields.len(), |i| i + 1);
        let value = yaml::scalar(value, yaml::rendered_style(value, Style::Plain));
        let key = yaml::scalar(key, Style::Plain);
        fields.insert(at, Entry { key, value });
    };
    set(fields, "newTag", tag, &["newName", "name"]);
    match digest {
        Some(d) => set(fields, "digest", d, &["newTag"]),
        None => fields.retain(|e| e.key.as_str() != Some("digest")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GHCR: &str = "ghcr.io/dcasati/python-base";
    const TAG: &str = "sha-abc1234";

    /// Runs [`update_file`] for the primary and backup names and returns the new text.
    fn update(src: &str) -> String {
        let names = [
            GHCR.to_string(),
            "localhost:32000/homelab/python-base".to_string(),
        ];
        let out = update_file(src, &names, TAG, None).unwrap();
        assert!(out.matched > 0, "nothing matched in {src:?}");
        out.new
    }

    #[test]
    fn block_tag_keeps_quoting_and_same_line_comment() {
        let src = "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: \"sha-0000000\" # pinned by CI\n";
        let want = "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: \"sha-abc1234\" # pinned by CI\n";
        assert_eq!(update(src), want);
        let single = src.replace("\"sha-0000000\"", "'sha-0000000'");
        assert_eq!(
            update(&single),
            want.replace("\"sha-abc1234\"", "'sha-abc1234'")
        );
        let plain = src.replace("\"sha-0000000\"", "sha-0000000");
        assert_eq!(
            update(&plain),
            want.replace("\"sha-abc1234\"", "sha-abc1234")
        );
    }

    #[test]
    fn keeps_key_order_blank_lines_comments_and_new_name() {
        let src = "# top\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nimages:\n  # the base image\n  - newTag: old   # c1\n\n    newName: localhost:32000/homelab/python-base\n    name: ghcr.io/dcasati/python-base\nresources:\n  - cronjob.yaml\n";
        let want = src.replace("newTag: old   # c1", "newTag: sha-abc1234   # c1");
        assert_eq!(update(src), want);
    }

    #[test]
    fn four_space_and_unindented_sequences() {
        let four = "images:\n    -   name: ghcr.io/dcasati/python-base\n        newTag: x\n";
        assert_eq!(
            update(four),
            four.replace("newTag: x", "newTag: sha-abc1234")
        );
        let flat =
            "images:\n- name: ghcr.io/dcasati/python-base\n  newTag: x # c\nresources: [a.yaml]\n";
        assert_eq!(
            update(flat),
            flat.replace("newTag: x", "newTag: sha-abc1234")
        );
    }

    #[test]
    fn flow_mappings_and_flow_sequences() {
        let src = "images:\n  - {name: ghcr.io/dcasati/python-base, newTag: \"1.0\"} # c\n  - {name: other, newTag: keep}\n";
        assert_eq!(
            update(src),
            "images:\n  - {name: ghcr.io/dcasati/python-base, newTag: \"sha-abc1234\"} # c\n  - {name: other, newTag: keep}\n"
        );
        let seq = "images: [{ name: ghcr.io/dcasati/python-base }, {name: x}]\n";
        assert_eq!(
            update(seq),
            "images: [{ name: ghcr.io/dcasati/python-base, newTag: sha-abc1234 }, {name: x}]\n"
        );
    }

    #[test]
    fn crlf_markers_and_missing_final_newline() {
        let src = "---\r\nimages:\r\n  - name: ghcr.io/dcasati/python-base\r\n    newTag: x\r\n---\r\nimages:\r\n  - name: localhost:32000/homelab/python-base\r\n    newTag: 'y'";
        let want = src
            .replace("newTag: x", "newTag: sha-abc1234")
            .replace("newTag: 'y'", "newTag: 'sha-abc1234'");
        assert_eq!(update(src), want);
        let insert = "---\r\nimages:\r\n  - name: ghcr.io/dcasati/python-base # c\r\n...\r\n";
        assert_eq!(
            update(insert),
            "---\r\nimages:\r\n  - name: ghcr.io/dcasati/python-base # c\r\n    newTag: sha-abc1234\r\n...\r\n"
        );
        let last = "images:\n- name: ghcr.io/dcasati/python-base";
        assert_eq!(update(last), format!("{last}\n  newTag: sha-abc1234"));
    }

    #[test]
    fn inserted_tag_follows_new_name_with_sibling_indentation() {
        let src = "images:\n    - name: ghcr.io/dcasati/python-base\n      newName: localhost:32000/homelab/python-base # mirror\n    - name: other\n";
        assert_eq!(
            update(src),
            "images:\n    - name: ghcr.io/dcasati/python-base\n      newName: localhost:32000/homelab/python-base # mirror\n      newTag: sha-abc1234\n    - name: other\n"
        );
    }

    #[test]
    fn digest_is_removed_with_its_line_or_flow_item() {
        let d = format!("sha256:{}", "a".repeat(64));
        let block = format!(
            "images:\n  - name: ghcr.io/dcasati/python-base\n    digest: {d} # pinned\n    newTag: x\nresources: []\n"
        );
        assert_eq!(
            update(&block),
            "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-abc1234\nresources: []\n"
        );
        let first =
            format!("images:\n  - digest: \"{d}\"\n    name: ghcr.io/dcasati/python-base\n");
        assert_eq!(
            update(&first),
            "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-abc1234\n"
        );
        let last = format!(
            "images:\r\n- name: ghcr.io/dcasati/python-base\r\n  newTag: x\r\n  digest: {d}"
        );
        assert_eq!(
            update(&last),
            "images:\r\n- name: ghcr.io/dcasati/python-base\r\n  newTag: sha-abc1234"
        );
        let flow =
            format!("images:\n- {{name: ghcr.io/dcasati/python-base, digest: '{d}', newTag: x}}\n");
        assert_eq!(
            update(&flow),
            "images:\n- {name: ghcr.io/dcasati/python-base, newTag: sha-abc1234}\n"
        );
        let flow_first = format!("images: [{{digest: {d}, name: ghcr.io/dcasati/python-base}}]\n");
        assert_eq!(
            update(&flow_first),
            "images: [{name: ghcr.io/dcasati/python-base, newTag: sha-abc1234}]\n"
        );
    }

    #[test]
    fn digest_can_be_set_instead_of_removed() {
        let d = format!("sha256:{}", "b".repeat(64));
        let names = [GHCR.to_string()];
        let src = "images:\n  - name: ghcr.io/dcasati/python-base\n    digest: 'sha256:old' # c\n";
        let out = update_file(src, &names, TAG, Some(&d)).unwrap().new;
        assert_eq!(
            out,
            format!(
                "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: sha-abc1234\n    digest: '{d}' # c\n"
            )
        );
        let none = "images:\n  - {name: ghcr.io/dcasati/python-base}\n";
        let out = update_file(none, &names, TAG, Some(&d)).unwrap().new;
        assert_eq!(
            out,
            format!(
                "images:\n  - {{name: ghcr.io/dcasati/python-base, newTag: sha-abc1234, digest: {d}}}\n"
            )
        );
    }

    #[test]
    fn only_the_configured_image_changes_among_several() {
        let src = "\
images:
  - name: python
    newTag: 3.11-slim
  - name: ghcr.io/dcasati/python-base
    newTag: sha-0000000 # base
  - name: ghcr.io/dcasati/python-base-extra
    newTag: sha-1111111
  - name: influxdb
    digest: sha256:keep
";
        let want = src.replace("sha-0000000", "sha-abc1234");
        let names = [GHCR.to_string()];
        let out = update_file(src, &names, TAG, None).unwrap();
        assert_eq!((out.new.as_str(), out.matched), (want.as_str(), 1));
        let untouched = update_file(src, &["nope".to_string()], TAG, None).unwrap();
        assert_eq!((untouched.new.as_str(), untouched.matched), (src, 0));
    }

    #[test]
    fn tags_that_read_as_numbers_are_quoted_and_empty_values_filled() {
        let src = "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag:\n";
        let names = [GHCR.to_string()];
        assert_eq!(
            update_file(src, &names, "1.10", None).unwrap().new,
            "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: \"1.10\"\n"
        );
        let plain = "images:\n  - {name: ghcr.io/dcasati/python-base, newTag: v1}\n";
        assert_eq!(
            update_file(plain, &names, "true", None).unwrap().new,
            "images:\n  - {name: ghcr.io/dcasati/python-base, newTag: \"true\"}\n"
        );
        let tagged = "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: !!str 1.0\n";
        assert_eq!(
            update(tagged),
            "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: !!str sha-abc1234\n"
        );
    }

    #[test]
    fn bad_input_is_reported_with_its_position() {
        let names = [GHCR.to_string()];
        let err = update_file("images:\n  - name: x\n   bad: [\n", &names, TAG, None).unwrap_err();
        assert!(
            matches!(&err, UpdateError::Parse(e) if e.pos.line >= 2),
            "{err:?}"
        );
        let block = "images:\n  - name: ghcr.io/dcasati/python-base\n    newTag: |\n      old\n";
        let err = update_file(block, &names, TAG, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("3:5: `newTag` is a block scalar"), "{err}");
    }

    /// The error of [`update_file`] for the primary and backup names.
    fn refused(src: &str) -> String {
        let names = [
            GHCR.to_string(),
            "localhost:32000/homelab/python-base".to_string(),
        ];
        match update_file(src, &names, TAG, None) {
            Err(UpdateError::Edit(e)) => e,
            other => panic!("{src}\nnot refused: {other:?}"),
        }
    }

    #[test]
    fn duplicate_keys_anywhere_are_refused_with_both_positions() {
        let dup_tag = "images:\n- name: ghcr.io/dcasati/python-base\n  newTag: a\n  newTag: b\n";
        assert_eq!(
            refused(dup_tag),
            "4:3: duplicate key `newTag` (first at line 3, column 3); kustomize reads only one \
             of them: remove the other"
        );
        // Even where the image is not named: kustomize reads the whole file.
        let elsewhere = "resources: [a.yaml]\nresources: [b.yaml]\nimages: []\n";
        assert!(refused(elsewhere).starts_with("2:1: duplicate key `resources`"));
        let top = "images: [{name: x}]\nimages: [{name: ghcr.io/dcasati/python-base}]\n";
        assert!(refused(top).starts_with("2:1: duplicate key `images`"));
        // Two merge keys are not duplicates (kustomize applies both).
        let merges = "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\n";
        assert!(update_file(merges, &[GHCR.to_string()], TAG, None).is_ok());
    }

    #[test]
    fn entries_seen_through_aliases_or_merge_keys_are_refused_never_skipped() {
        let item_alias =
            "x: &img {name: ghcr.io/dcasati/python-base, newTag: old}\nimages:\n- *img\n";
        assert!(refused(item_alias).starts_with("3:3: this images entry is an alias"));
        let list_alias = "x: &l [{name: ghcr.io/dcasati/python-base}]\nimages: *l\n";
        assert!(refused(list_alias).starts_with("2:9: `images:` is an alias"));
        let merged_name = "images:\n- <<: {name: ghcr.io/dcasati/python-base}\n  newTag: old\n";
        assert!(
            refused(merged_name)
                .starts_with("2:3: this images entry gets its name through a merge key")
        );
        let merged_digest =
            "d: &d {digest: 'sha256:0'}\nimages:\n- <<: *d\n  name: ghcr.io/dcasati/python-base\n";
        assert!(refused(merged_digest).contains("gets a `digest` through a merge key"));
        let shared_tag = "images:\n- name: ghcr.io/dcasati/python-base\n  newTag: &t old\n- name: other\n  newTag: *t\n";
        assert!(
            refused(shared_tag)
                .starts_with("3:11: `newTag` is anchored (&…) and used by another entry")
        );
        let tag_alias = "images:\n- name: other\n  newTag: &t old\n- name: ghcr.io/dcasati/python-base\n  newTag: *t\n";
        assert!(refused(tag_alias).starts_with("5:11: `newTag` is an alias"));
        let shared_entry =
            "images:\n- &e {name: ghcr.io/dcasati/python-base, newTag: old}\nother: *e\n";
        assert!(refused(shared_entry).contains("anchored (&…) and used elsewhere"));
        // Aliases of other images, and anchors nobody uses, are fine.
        let others = "images:\n- &o {name: other, newTag: x}\n- *o\n- name: ghcr.io/dcasati/python-base\n  newTag: &unused old\n";
        assert_eq!(
            update(others),
            others.replace("&unused old", "&unused sha-abc1234")
        );
    }

    #[test]
    fn a_name_through_an_alias_or_merged_extras_are_updated() {
        // kustomize applies the second entry too (its name is the alias of the first's).
        let name_alias = "images:\n- name: &n ghcr.io/dcasati/python-base\n  newTag: old\n- name: *n\n  newTag: older\n";
        assert_eq!(
            update(name_alias),
            name_alias
                .replace("old\n", "sha-abc1234\n")
                .replace("older", "sha-abc1234")
        );
        // A merge that brings only other fields: the entry's own newTag wins over it.
        let merged = "x: &m {newName: localhost:32000/homelab/python-base}\nimages:\n- <<: *m\n  name: ghcr.io/dcasati/python-base\n";
        assert_eq!(update(merged), format!("{merged}  newTag: sha-abc1234\n"));
    }

    #[test]
    fn a_new_name_in_another_registry_is_reported() {
        let names = [
            GHCR.to_string(),
            "localhost:32000/homelab/python-base".to_string(),
        ];
        let src = "images:\n- name: ghcr.io/dcasati/python-base\n  newName: quay.io/else/python-base\n  newTag: old\n- name: ghcr.io/dcasati/python-base\n  newName: localhost:32000/homelab/python-base\n";
        let out = update_file(src, &names, TAG, None).unwrap();
        assert_eq!(out.matched, 2);
        assert_eq!(
            out.redirected,
            [
                "3:12: newName `quay.io/else/python-base` sends ghcr.io/dcasati/python-base to another registry"
            ]
        );
    }

    #[test]
    fn image_entries_carry_values_and_positions() {
        let src = "resources: [a.yaml]\nimages:\n  - name: ghcr.io/x/y # c\n    newTag: \"sha-1\"\n  - {name: other, digest: 'sha256:0'}\n  - just-a-string\n";
        let images = load_images(src).unwrap();
        assert_eq!(images.len(), 2);
        let (doc, first) = &images[0];
        assert_eq!(*doc, 0);
        assert_eq!(first.name(), Some("ghcr.io/x/y"));
        assert_eq!(first.new_tag(), Some("sha-1"));
        assert_eq!(first.new_name(), None);
        let tag = &first.new_tag.as_ref().unwrap().value;
        assert_eq!((tag.start.line, tag.start.column), (4, 13));
        assert_eq!(images[1].1.digest(), Some("sha256:0"));
        assert!(images[1].1.node.is_flow(src));
    }

    #[test]
    fn documents_without_images_have_none() {
        assert!(
            load_images("---\nresources: []\n---\n- a\n")
                .unwrap()
                .is_empty()
        );
        assert!(load_images("images: nope\n").unwrap().is_empty());
        let two = load_images("images: [{name: a}]\n---\nimages: [{name: b}]\n").unwrap();
        assert_eq!(two.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn discovery_skips_hidden_folders_and_sorts() {
        let dir = tempfile::tempdir().unwrap();
        let mut want = Vec::new();
        for app in 0..40 {
            for file in ["base/kustomization.yaml", "overlays/dev/kustomization.yml"] {
                let rel = format!("k8s-apps/app-{app:02}/{file}");
                let full = dir.path().join(&rel);
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, "images: []\n").unwrap();
                want.push(PathBuf::from(rel));
            }
            let hidden = dir.path().join(format!("k8s-apps/app-{app:02}/.cache"));
            std::fs::create_dir_all(&hidden).unwrap();
            std::fs::write(hidden.join("kustomization.yaml"), "images: []\n").unwrap();
        }
        want.sort();
        let found = discover(dir.path(), &[PathBuf::from("k8s-apps")]).unwrap();
        assert_eq!(found.files, want);
    }

    #[test]
    fn discovery_is_sorted_recursive_and_checks_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "k8s-apps/iot-stack/overlays/dev/kustomization.yaml",
            "k8s-apps/iot-stack/base/kustomization.yml",
            "k8s-apps/other/Kustomization",
            "k8s-apps/other/deploy.yaml",
            "k8s-apps/.hidden/kustomization.yaml",
        ] {
            let full = root.join(file);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, "images: []\n").unwrap();
        }
        let all = discover(root, &[PathBuf::from("k8s-apps")]).unwrap();
        assert_eq!(
            all.files,
            [
                "k8s-apps/iot-stack/base/kustomization.yml",
                "k8s-apps/iot-stack/overlays/dev/kustomization.yaml",
                "k8s-apps/other/Kustomization",
            ]
            .map(PathBuf::from)
        );
        let some = discover(
            root,
            &[
                root.join("k8s-apps/other/Kustomization"),
                PathBuf::from("k8s-apps/other"),
            ],
        )
        .unwrap();
        assert_eq!(some.files, [PathBuf::from("k8s-apps/other/Kustomization")]);
        let err = discover(root, &[PathBuf::from("nope")]).unwrap_err();
        assert!(err.to_string().contains("nope: no such file"), "{err}");
        let err = discover(root, &[PathBuf::from("k8s-apps/other/deploy.yaml")]).unwrap_err();
        assert!(err.to_string().contains("not a kustomization"), "{err}");
        let outside = tempfile::tempdir().unwrap();
        let err = discover(root, &[outside.path().to_path_buf()]).unwrap_err();
        assert!(err.to_string().contains("outside the repository"), "{err}");
    }
}
