//! Facts about a loaded document that more than one reader needs: repeated keys (the lint
//! reports them, update-images refuses them) and what an alias stands for (its anchor).

use crate::{Entry, Node, Value};

/// For each entry whose scalar key repeats an earlier entry's: (its index, the first one's), in
/// order. A few keys are compared pairwise; many are sorted first, so that a mapping with
/// thousands of keys cannot take quadratic time.
pub fn duplicate_keys(entries: &[Entry]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if entries.len() <= 16 {
        for (i, e) in entries.iter().enumerate() {
            let Some(key) = e.key.as_str() else { continue };
            if let Some(first) = entries[..i]
                .iter()
                .position(|f| f.key.as_str() == Some(key))
            {
                found.push((i, first));
            }
        }
        return found;
    }
    let mut keys: Vec<(&str, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((e.key.as_str()?, i)))
        .collect();
    keys.sort_unstable();
    for same in keys.chunk_by(|a, b| a.0 == b.0) {
        found.extend(same[1..].iter().map(|&(_, i)| (i, same[0].1)));
    }
    found.sort_unstable();
    found
}

/// The first repeated scalar key anywhere under `node` (depth first), other than the merge key
/// `<<`: (the repeated key, the first one). Aliases are not followed. update-images refuses a
/// kustomization with one, since kustomize would read one of the two and we the other.
pub fn first_duplicate_key(node: &Node) -> Option<(&Node, &Node)> {
    match &node.value {
        Value::Seq(items) => items.iter().find_map(first_duplicate_key),
        Value::Map(entries) => {
            let found = duplicate_keys(entries)
                .into_iter()
                .find(|(i, _)| entries[*i].key.as_str() != Some("<<"));
            if let Some((i, first)) = found {
                return Some((&entries[i].key, &entries[first].key));
            }
            entries
                .iter()
                .find_map(|e| first_duplicate_key(&e.key).or_else(|| first_duplicate_key(&e.value)))
        }
        Value::Scalar { .. } | Value::Alias(_) => None,
    }
}

/// A document's anchored nodes in document order, so that an alias resolves to the node of the
/// last anchor of its id before it (YAML lets an anchor be redefined).
#[derive(Debug, Clone, Default)]
pub struct Anchors<'a>(Vec<(usize, &'a Node)>);

impl<'a> Anchors<'a> {
    /// Anchors collected elsewhere, in document order.
    pub fn new(anchors: Vec<(usize, &'a Node)>) -> Anchors<'a> {
        Anchors(anchors)
    }

    /// Every anchored node under `root`, in document order.
    pub fn of(root: &'a Node) -> Anchors<'a> {
        fn collect<'a>(node: &'a Node, out: &mut Vec<(usize, &'a Node)>) {
            if let Some(id) = node.anchor {
                out.push((id, node));
            }
            match &node.value {
                Value::Seq(items) => items.iter().for_each(|i| collect(i, out)),
                Value::Map(entries) => entries.iter().for_each(|e| {
                    collect(&e.key, out);
                    collect(&e.value, out);
                }),
                Value::Scalar { .. } | Value::Alias(_) => {}
            }
        }
        let mut out = Vec::new();
        collect(root, &mut out);
        Anchors(out)
    }

    /// The node an alias stands for; any other node (or an alias of an unknown anchor) itself.
    /// An alias never carries an anchor, so one step is enough.
    pub fn resolve(&self, node: &'a Node) -> &'a Node {
        match node.value {
            Value::Alias(id) => self
                .0
                .iter()
                .rev()
                .find(|(a, _)| *a == id)
                .map_or(node, |(_, n)| n),
            _ => node,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_resolves_to_the_last_anchor_of_its_id() {
        let doc = crate::load("a: &x 1\nb: &x 2\nc: *x\nd: 3\n")
            .unwrap()
            .remove(0);
        let anchors = Anchors::of(&doc.root);
        let get = |k| doc.root.get(k).unwrap();
        assert_eq!(anchors.resolve(get("c")).as_str(), Some("2"));
        assert_eq!(anchors.resolve(get("d")).as_str(), Some("3"));
    }
}
