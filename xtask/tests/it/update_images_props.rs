//! Property test of the set-image edit on generated kustomizations: random comments (some
//! non-ASCII), quoting, sequence indentation, field order, flow and block items, CRLF, `---`
//! markers, a final newline or none, and other images beside the configured one.
//!
//! The file is rendered from a model; the expected output is the same renderer applied to the
//! model with the new tag (tag replaced in its quoting style, or inserted after newName/name;
//! digest dropped). So the output must equal it byte for byte: only the tag scalar's bytes change,
//! plus a removed digest line or item and an inserted newTag line or item. The re-parsed
//! document must hold exactly the model's fields. 1024 cases.

use proptest::prelude::*;
use xtask::kustomize;

const TAG: &str = "sha-abc1234";
const GHCR: &str = "ghcr.io/dcasati/python-base";
const BACKUP: &str = "localhost:32000/homelab/python-base";
const NAMES: [&str; 5] = [
    GHCR,
    BACKUP,
    "python",
    "ghcr.io/dcasati/python-base-extra",
    "docker.io/library/busybox",
];
const COMMENTS: [&str; 4] = ["# c", "# pinned: by CI", "#", "# ünïcode ✓ comment"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Quote {
    Plain,
    Single,
    Double,
}

#[derive(Debug, Clone)]
struct Field {
    key: &'static str,
    value: String,
    quote: Quote,
    comment: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Item {
    fields: Vec<Field>,
    flow: bool,
    /// Spaces inside the braces of a flow item.
    pad: bool,
    /// Extra spaces after the dash of a block item.
    dash_extra: usize,
    /// Comment after a flow item's closing brace.
    comment: Option<&'static str>,
    blank_before: bool,
    comment_before: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct File {
    crlf: bool,
    final_newline: bool,
    explicit_start: bool,
    header: Option<&'static str>,
    indent: usize,
    resources_first: bool,
    flow_resources: bool,
    trailing_doc: bool,
    items: Vec<Item>,
}

fn quoted(value: &str, quote: Quote) -> String {
    match quote {
        Quote::Plain => value.to_string(),
        Quote::Single => format!("'{value}'"),
        Quote::Double => format!("\"{value}\""),
    }
}

fn render(file: &File) -> String {
    let mut lines: Vec<String> = Vec::new();
    if let Some(h) = file.header {
        lines.push(h.to_string());
    }
    if file.explicit_start {
        lines.push("---".into());
    }
    lines.push("apiVersion: kustomize.config.k8s.io/v1beta1".into());
    lines.push("kind: Kustomization".into());
    let s = " ".repeat(file.indent);
    let resources = if file.flow_resources {
        vec!["resources: [cronjob.yaml, ../base]".to_string()]
    } else {
        vec!["resources:".to_string(), format!("{s}- cronjob.yaml")]
    };
    if file.resources_first {
        lines.extend(resources.clone());
    }
    lines.push("images:".into());
    for item in &file.items {
        if item.blank_before {
            lines.push(String::new());
        }
        if let Some(c) = item.comment_before {
            lines.push(format!("{s}{c}"));
        }
        let field = |f: &Field| {
            let comment = f.comment.map(|c| format!(" {c}")).unwrap_or_default();
            format!("{}: {}{comment}", f.key, quoted(&f.value, f.quote))
        };
        if item.flow {
            let pad = if item.pad { " " } else { "" };
            let body: Vec<String> = item
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.key, quoted(&f.value, f.quote)))
                .collect();
            let comment = item.comment.map(|c| format!(" {c}")).unwrap_or_default();
            lines.push(format!("{s}- {{{pad}{}{pad}}}{comment}", body.join(", ")));
        } else {
            let gap = " ".repeat(1 + item.dash_extra);
            let inner = " ".repeat(file.indent + 2 + item.dash_extra);
            for (i, f) in item.fields.iter().enumerate() {
                if i == 0 {
                    lines.push(format!("{s}-{gap}{}", field(f)));
                } else {
                    lines.push(format!("{inner}{}", field(f)));
                }
            }
        }
    }
    if !file.resources_first {
        lines.extend(resources);
    }
    if file.trailing_doc {
        lines.push("---".into());
        lines.push("kind: Other # not a kustomization".into());
    }
    let eol = if file.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if file.final_newline {
        text.push_str(eol);
    }
    text
}

/// An entry whose `newName` is the image but whose `name` is not (issue 20): kustomize renders
/// the image with its tag, and update-images refuses it (exit 2, file and line) rather than
/// leave it stale.
fn is_mapping_to_target(item: &Item) -> bool {
    let ours = |v: &str| v == GHCR || v == BACKUP;
    let get = |k: &str| {
        item.fields
            .iter()
            .find(|f| f.key == k)
            .map(|f| f.value.as_str())
    };
    get("name").is_some_and(|n| !ours(n)) && get("newName").is_some_and(ours)
}

fn is_target(item: &Item) -> bool {
    item.fields
        .iter()
        .any(|f| f.key == "name" && (f.value == GHCR || f.value == BACKUP))
}

/// The model after the update: what the editor must produce.
fn updated(file: &File) -> File {
    let mut file = file.clone();
    for item in file.items.iter_mut().filter(|i| is_target(i)) {
        item.fields.retain(|f| f.key != "digest");
        match item.fields.iter_mut().find(|f| f.key == "newTag") {
            Some(tag) => tag.value = TAG.into(),
            None => {
                let after = ["newName", "name"]
                    .iter()
                    .find_map(|k| item.fields.iter().position(|f| f.key == *k))
                    .unwrap();
                let tag = Field {
                    key: "newTag",
                    value: TAG.into(),
                    quote: Quote::Plain,
                    comment: None,
                };
                item.fields.insert(after + 1, tag);
            }
        }
    }
    file
}

fn field(key: &'static str, values: &'static [&'static str]) -> impl Strategy<Value = Field> {
    (
        prop::sample::select(values),
        prop::sample::select(vec![Quote::Plain, Quote::Single, Quote::Double]),
        prop::option::of(prop::sample::select(&COMMENTS[..])),
    )
        .prop_map(move |(value, quote, comment)| Field {
            key,
            value: value.to_string(),
            quote,
            comment,
        })
}

fn item() -> impl Strategy<Value = Item> {
    let fields = (
        field("name", &NAMES),
        prop::option::of(field(
            "newName",
            &[BACKUP, "registry.example.com/mirror/base"],
        )),
        prop::option::of(field("newTag", &["sha-0000000", "latest", "v1.2.3"])),
        prop::option::of(field(
            "digest",
            &["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
        )),
    )
        .prop_map(|(name, new_name, new_tag, digest)| {
            let mut all = vec![name];
            all.extend(new_name);
            all.extend(new_tag);
            all.extend(digest);
            all
        })
        .prop_shuffle();
    (
        fields,
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![0usize, 0, 2]),
        prop::option::of(prop::sample::select(&COMMENTS[..])),
        any::<bool>(),
        prop::option::of(prop::sample::select(&COMMENTS[..])),
    )
        .prop_map(
            |(mut fields, flow, pad, dash_extra, comment, blank_before, comment_before)| {
                if flow {
                    // Comments cannot sit inside a one-line flow mapping.
                    fields.iter_mut().for_each(|f| f.comment = None);
                }
                Item {
                    fields,
                    flow,
                    pad,
                    dash_extra,
                    comment: comment.filter(|_| flow),
                    blank_before,
                    comment_before,
                }
            },
        )
}

fn file() -> impl Strategy<Value = File> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of(Just("# generated kustomization")),
        prop::sample::select(vec![0usize, 2, 4]),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec(item(), 1..6),
    )
        .prop_map(
            |(
                (crlf, final_newline, explicit_start),
                header,
                indent,
                (resources_first, flow_resources, trailing_doc),
                items,
            )| File {
                crlf,
                final_newline,
                explicit_start,
                header,
                indent,
                resources_first,
                flow_resources,
                trailing_doc,
                items,
            },
        )
}

/// Each item of the first document's `images:` as (key, value) pairs.
fn parsed_items(src: &str) -> Vec<Vec<(String, String)>> {
    let docs = xtask::yaml::load(src).unwrap();
    docs[0]
        .root
        .get("images")
        .and_then(|n| n.as_seq())
        .unwrap()
        .iter()
        .map(|item| {
            item.as_map()
                .unwrap()
                .iter()
                .map(|e| {
                    let k = e.key.as_str().unwrap().to_string();
                    (k, e.value.as_str().unwrap().to_string())
                })
                .collect()
        })
        .collect()
}

fn model_items(file: &File) -> Vec<Vec<(String, String)>> {
    file.items
        .iter()
        .map(|i| {
            i.fields
                .iter()
                .map(|f| (f.key.to_string(), f.value.clone()))
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn only_the_tag_changes(file in file()) {
        let src = render(&file);
        prop_assert_eq!(parsed_items(&src), model_items(&file), "the generator renders its model");
        let names = [GHCR.to_string(), BACKUP.to_string()];
        let targets = file.items.iter().filter(|i| is_target(i)).count();
        let out = kustomize::update_file(&src, &names, TAG, None);
        if file.items.iter().any(is_mapping_to_target) {
            let err = out.err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(err.contains("newName"), "not refused: {}\n{}", err, src);
            return Ok(());
        }
        let out = out.map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
        let want = updated(&file);
        prop_assert_eq!(out.matched, targets);
        prop_assert_eq!(&out.new, &render(&want), "\n--- source ---\n{}", src);
        prop_assert_eq!(parsed_items(&out.new), model_items(&want));
        let again = kustomize::update_file(&out.new, &names, TAG, None).unwrap();
        prop_assert_eq!(&again.new, &out.new, "a second run changes nothing");
    }
}
