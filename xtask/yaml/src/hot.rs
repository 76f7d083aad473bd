//! Small hot helpers for `cargo xtask`, which is built at opt-level 0 in dev: here they are
//! compiled optimised. Each is non-generic and `#[inline(never)]`, so that the caller uses this
//! crate's optimised code instead of instantiating its own unoptimised copy.

use crate::{Document, Entry};
use std::hash::Hasher;
use std::path::Path;

/// rustc's FxHash: a few cycles per word where SipHash costs a few per byte. A linter has no
/// hash-flooding adversary.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[inline(always)]
fn add(hash: u64, word: u64) -> u64 {
    (hash.rotate_left(5) ^ word).wrapping_mul(SEED)
}

impl Hasher for FxHasher {
    #[inline(never)]
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            hash = add(hash, u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            hash = add(hash, u64::from(b));
        }
        self.0 = hash;
    }

    #[inline(never)]
    fn write_u8(&mut self, b: u8) {
        self.0 = add(self.0, u64::from(b));
    }

    #[inline(never)]
    fn write_u64(&mut self, n: u64) {
        self.0 = add(self.0, n);
    }

    #[inline(never)]
    fn write_usize(&mut self, n: usize) {
        self.0 = add(self.0, n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash consistent with `Path`'s equality (which compares components): the FxHash of the
/// path's components joined by `/`. Most paths are already written that way and are hashed
/// as they are, a word at a time; the others are rebuilt from their components first.
#[inline(never)]
pub fn hash_path(path: &Path) -> u64 {
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut h = FxHasher::default();
    if is_canonical(bytes) {
        h.write(bytes);
    } else {
        let mut joined = Vec::with_capacity(bytes.len());
        for c in path.components() {
            if !joined.is_empty() && joined.last() != Some(&b'/') {
                joined.push(b'/');
            }
            joined.extend_from_slice(c.as_os_str().as_encoded_bytes());
        }
        h.write(&joined);
    }
    h.finish()
}

/// True when `bytes` are a path's components joined by `/`: no empty or `.` component after
/// the first, no trailing `/`.
fn is_canonical(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n > 1 && (bytes[n - 1] == b'/' || bytes.ends_with(b"/.")) {
        return false;
    }
    !bytes
        .windows(2)
        .enumerate()
        .any(|(i, w)| w == b"//" || (w == b"/." && bytes.get(i + 2) == Some(&b'/')))
}

/// The index of the first `byte` in `bytes`.
#[inline(never)]
pub fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    bytes.iter().position(|&b| b == byte)
}

/// Whether `haystack` contains `needle`.
#[inline(never)]
pub fn contains(haystack: &str, needle: &str) -> bool {
    haystack.contains(needle)
}

/// Drops parsed documents here, where the drop glue of the tree is optimised.
#[inline(never)]
pub fn release(docs: Vec<Document>) {
    drop(docs);
}

/// For each entry whose scalar key repeats an earlier entry's: (its index, the first one's).
#[inline(never)]
pub fn duplicate_keys(entries: &[Entry]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if entries.len() <= 16 {
        for (i, e) in entries.iter().enumerate() {
            let Some(k) = e.key.as_str() else { continue };
            if let Some(first) = entries[..i].iter().position(|f| f.key.as_str() == Some(k)) {
                found.push((i, first));
            }
        }
        return found;
    }
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(k) = e.key.as_str() else { continue };
        match seen.get(k) {
            Some(&first) => found.push((i, first)),
            None => {
                seen.insert(k, i);
            }
        }
    }
    found
}

/// The first repeated scalar key anywhere under `node` (depth first), other than the merge key
/// `<<`: (the repeated key, the first one). Aliases are not followed.
#[inline(never)]
pub fn first_duplicate_key(node: &crate::Node) -> Option<(&crate::Node, &crate::Node)> {
    match &node.value {
        crate::Value::Seq(items) => items.iter().find_map(first_duplicate_key),
        crate::Value::Map(entries) => {
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
        crate::Value::Scalar { .. } | crate::Value::Alias(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_duplicate_key_is_found_at_any_depth_but_merge_keys_repeat() {
        let root = |src: &str| crate::load(src).unwrap().remove(0).root;
        let doc = root("a: 1\nb:\n  - {x: 1, y: 2, x: 3}\n");
        let (dup, first) = first_duplicate_key(&doc).unwrap();
        assert_eq!((dup.start.line, dup.start.column), (3, 18));
        assert_eq!((first.start.line, first.start.column), (3, 6));
        assert!(first_duplicate_key(&root("a: &a {x: 1}\nb: {<<: *a, <<: *a}\n")).is_none());
        assert!(first_duplicate_key(&root("a: 1\nb: 2\n")).is_none());
    }

    #[test]
    fn paths_equal_as_paths_hash_alike() {
        assert_eq!(
            hash_path(Path::new("a/b/c")),
            hash_path(Path::new("a//b/./c"))
        );
        assert_ne!(hash_path(Path::new("a/b")), hash_path(Path::new("a/c")));
        let alike = [
            ("/a/b", "//a/./b/"),
            ("./a", ".//a/."),
            ("/", "//."),
            (".", "./"),
            ("a/b/.c", "a/b//.c/"),
            ("", ""),
        ];
        for (a, b) in alike {
            assert_eq!(Path::new(a), Path::new(b));
            assert_eq!(hash_path(Path::new(a)), hash_path(Path::new(b)), "{a} {b}");
        }
        assert_ne!(hash_path(Path::new("./a")), hash_path(Path::new("a")));
        assert_ne!(hash_path(Path::new("/a")), hash_path(Path::new("a")));
    }

    #[test]
    fn finds() {
        assert_eq!(find_byte(b"ab\0c", 0), Some(2));
        assert_eq!(find_byte(b"abc", 0), None);
        assert!(contains("a # xtask-lint: x", "xtask-lint:"));
        assert!(!contains("a", "xtask-lint:"));
    }

    #[test]
    fn duplicate_keys_point_at_the_first() {
        let docs = crate::load("a: 1\nb: 2\na: 3\na: 4\n").unwrap();
        let crate::Value::Map(entries) = &docs[0].root.value else {
            panic!("a map")
        };
        assert_eq!(duplicate_keys(entries), [(2, 0), (3, 0)]);
        let many: String = (0..20).map(|i| format!("k{i}: 1\n")).collect();
        let docs = crate::load(&format!("{many}k3: 2\n")).unwrap();
        let crate::Value::Map(entries) = &docs[0].root.value else {
            panic!("a map")
        };
        assert_eq!(duplicate_keys(entries), [(20, 3)]);
    }
}
