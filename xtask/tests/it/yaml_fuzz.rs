//! Property tests: `xtask::yaml::load` never panics and always returns, on arbitrary bytes (as
//! lossy UTF-8) and on YAML-like text built from YAML's own punctuation (deep nesting, anchors
//! and aliases, flow inside block, tabs, CRLF, BOM, non-ASCII), and on rendered YAML trees with
//! noise added. Every scalar's
//! `yaml::scalar_range` is exercised too, since it slices the source.
//!
//! Cases per property: `XTASK_FUZZ_CASES` if set; else 10,000 when `XTASK_E2E=1` (CI: about
//! 30 s for the five properties in a debug build on 2 cores), and 1,000 otherwise, to keep the
//! everyday `cargo nextest run` quick. Each case runs on a worker thread and fails if it takes
//! longer than [`DEADLINE`].

use crate::support;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestCaseError;
use std::sync::mpsc;
use std::time::Duration;
use xtask::yaml::{self, Node, Value};

/// Far above the slowest case seen (a few ms for 8 KiB in a debug build).
const DEADLINE: Duration = Duration::from_secs(10);

/// Loads `src` on a worker thread: a panic or a missed deadline is a test failure.
fn load_terminates(src: String) -> Result<(), TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let outcome = yaml::load(&src).map(|docs| {
            let mut scalars = 0;
            for doc in &docs {
                walk(&src, &doc.root, &mut scalars);
            }
            scalars
        });
        let _ = tx.send(outcome.is_ok());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(_) => {
            worker.join().ok();
            Ok(())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!(
            "yaml::load did not return within {DEADLINE:?}"
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(TestCaseError::fail("yaml::load panicked"))
        }
    }
}

fn walk(src: &str, node: &Node, scalars: &mut usize) {
    match &node.value {
        Value::Scalar { .. } => {
            let range = yaml::scalar_range(src, node);
            assert!(src.get(range.clone()).is_some(), "bad range {range:?}");
            *scalars += 1;
        }
        Value::Seq(items) => items.iter().for_each(|n| walk(src, n, scalars)),
        Value::Map(entries) => {
            for e in entries {
                walk(src, &e.key, scalars);
                walk(src, &e.value, scalars);
            }
        }
        _ => {}
    }
}

/// Pieces of YAML syntax, glued at random.
const PIECES: &[&str] = &[
    "key: ",
    "a: ",
    "- ",
    "-",
    "  ",
    "    ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\u{feff}",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "*zz",
    "<<: *a",
    "{",
    "}",
    "[",
    "]",
    ", ",
    ",",
    "? ",
    ": ",
    ":",
    "|",
    "|-",
    ">",
    ">+2",
    "'",
    "''",
    "\"",
    "\\",
    "\\u00e9",
    "# c",
    "#",
    "---",
    "...",
    "--- ",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2024:\n",
    "!!str ",
    "!!map ",
    "!local ",
    "!<tag:x> ",
    "é",
    "日本",
    "😀",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "~",
    "null",
    "0x1F",
    "1e3",
    ".inf",
    "true",
    "x",
    "abc def",
    "\"a\\\"b\"",
    "'it''s'",
];

fn yamlish() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..160).prop_map(|p| p.concat())
}

/// A YAML value, rendered in block or flow style.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(&'static str),
    Seq(Vec<Tree>, bool),
    Map(Vec<(&'static str, Tree)>, bool),
    Anchored(u8, Box<Tree>),
}

const SCALARS: &[&str] = &[
    "x",
    "1",
    "~",
    "'q t'",
    "\"d\\n\"",
    "é日😀",
    "a b",
    "*a0",
    "*a1",
    "|\n  lit",
    ">-\n  fold",
    "!!str 5",
    "\"\"",
    "''",
    "-1.5e3",
    "2024-01-01",
];
const KEYS: &[&str] = &["k", "key", "'q k'", "\"é\"", "<<", "? c", "1", "ünï"];

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = proptest::sample::select(SCALARS).prop_map(Tree::Leaf);
    leaf.prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            (
                proptest::collection::vec(inner.clone(), 0..6),
                any::<bool>()
            )
                .prop_map(|(v, flow)| Tree::Seq(v, flow)),
            (
                proptest::collection::vec((proptest::sample::select(KEYS), inner.clone()), 0..6),
                any::<bool>()
            )
                .prop_map(|(v, flow)| Tree::Map(v, flow)),
            (0u8..2, inner).prop_map(|(a, t)| Tree::Anchored(a, Box::new(t))),
        ]
    })
}

fn render(t: &Tree, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Leaf(s) => out.push_str(&s.replace('\n', &format!("\n{pad}"))),
        Tree::Anchored(a, t) => {
            out.push_str(&format!("&a{a} "));
            render(t, indent, out);
        }
        Tree::Seq(items, true) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, indent, out);
            }
            out.push(']');
        }
        Tree::Map(entries, true) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                render(v, indent, out);
            }
            out.push('}');
        }
        Tree::Seq(items, false) => {
            for item in items {
                out.push_str(&format!("\n{pad}- "));
                render(item, indent + 2, out);
            }
            if items.is_empty() {
                out.push_str("[]");
            }
        }
        Tree::Map(entries, false) => {
            for (k, v) in entries {
                out.push_str(&format!("\n{pad}{k}: "));
                render(v, indent + 2, out);
            }
            if entries.is_empty() {
                out.push_str("{}");
            }
        }
    }
}

/// A rendered tree, then noise: CRLF, a BOM, a tab or a cut somewhere, a second document.
fn structured() -> impl Strategy<Value = String> {
    (
        tree(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..4,
        any::<usize>(),
    )
        .prop_map(|(t, crlf, bom, two_docs, noise, at)| {
            let mut s = String::new();
            render(&t, 0, &mut s);
            if two_docs {
                s = format!("---{s}\n...\n--- {s}\n");
            }
            let mut cut = at % (s.len() + 1);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            match noise {
                1 => s.insert(cut, '\t'),
                2 => s.truncate(cut),
                _ => {}
            }
            if crlf {
                s = s.replace('\n', "\r\n");
            }
            if bom {
                s.insert(0, '\u{feff}');
            }
            s
        })
}

/// Nesting far past `yaml::MAX_DEPTH`, in every style.
fn deep() -> impl Strategy<Value = String> {
    (0usize..4, 1usize..3000, 0usize..3).prop_map(|(style, n, tail)| {
        let close = ["", "x", "\n"][tail];
        match style {
            0 => format!("{}{close}{}", "[".repeat(n), "]".repeat(n / 2)),
            1 => format!("{}{close}", "{a: ".repeat(n)),
            2 => (0..n.min(600))
                .map(|i| format!("{}- \n", " ".repeat(i)))
                .collect(),
            _ => (0..n.min(600))
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect(),
        }
    })
}

/// Alias fan-out that would be exponential if aliases were expanded.
fn alias_bomb() -> impl Strategy<Value = String> {
    (1usize..30, 1usize..12).prop_map(|(levels, width)| {
        let mut s = String::from("l0: &l0 [x]\n");
        for i in 1..levels {
            let refs = vec![format!("*l{}", i - 1); width].join(", ");
            s.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
        }
        s
    })
}

proptest! {
    #![proptest_config(support::fuzz_config())]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        load_terminates(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn yaml_like_text(src in yamlish()) {
        load_terminates(src)?;
    }

    #[test]
    fn structured_yaml(src in structured()) {
        load_terminates(src)?;
    }

    #[test]
    fn deep_nesting(src in deep()) {
        load_terminates(src)?;
    }

    #[test]
    fn alias_fan_out(src in alias_bomb()) {
        load_terminates(src)?;
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = "[".repeat(yaml::MAX_DEPTH + 1);
    let err = yaml::load(&src).expect_err("too deep");
    assert!(err.message.contains("nesting deeper than"), "{err}");
}

#[test]
fn the_generators_reach_valid_yaml_too() {
    // Guards against a fuzzer that only ever produces errors and so never walks a tree.
    let docs = yaml::load("a: &a [x, {b: 'c'}]\n\u{feff}").unwrap();
    let mut scalars = 0;
    walk("a: &a [x, {b: 'c'}]\n\u{feff}", &docs[0].root, &mut scalars);
    assert_eq!(scalars, 4);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let loaded = (0..500)
        .filter(|_| {
            let src = structured().new_tree(&mut runner).unwrap().current();
            yaml::load(&src).is_ok_and(|d| !d.is_empty())
        })
        .count();
    eprintln!("{loaded} of 500 structured texts parse");
    assert!(loaded > 100, "only {loaded} of 500 structured texts parse");
}
