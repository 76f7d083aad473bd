//! SOPS-encrypted manifests. A document with a top-level `sops:` mapping (with its `mac` or
//! `version`) is ciphertext until a generator (KSOPS, another exec plugin) or Flux's
//! kustomize-controller decrypts it: it gets no schema finding (`sops` is not a field of the
//! kind) and no secret finding (its `ENC[…]` values are not secrets).
//!
//! Listed under a kustomization's plain `resources:`, Argo CD would apply the ciphertext:
//! KUS-SOPS-RESOURCE, unless the tree holds a Flux Kustomization with `spec.decryption`, which
//! decrypts resources itself.

use super::kustomize_rules::Tree;
use super::{Doc, Finding, Rule, Severity};
use crate::walk::normalize;
use crate::yaml::Pos;
use std::path::Path;

pub const RESOURCE: Rule = Rule {
    id: "KUS-SOPS-RESOURCE",
    severity: Severity::Error,
    summary: "SOPS-encrypted file listed under resources:",
    explain: "This file is encrypted with SOPS (it has a top-level `sops:` block and `ENC[…]` \
values), and a kustomization lists it under plain `resources:`. kustomize does not decrypt, so \
Argo CD would apply the ciphertext: the Secret holds `ENC[AES256_GCM,…]` strings, or the apply \
fails on the unknown `sops` field. List the file in a KSOPS generator's `files:` instead (and \
that generator under `generators:`). Not reported when the tree has a Flux Kustomization with \
`spec.decryption`, which decrypts resources itself.",
};

pub const RULES: &[Rule] = &[RESOURCE];

/// The position of the document's `sops:` key, when the document is SOPS-encrypted.
pub fn encrypted(doc: &Doc) -> Option<Pos> {
    let entry = doc.root.entry("sops")?;
    let meta = doc.resolve(&entry.value);
    let marked = ["mac", "version", "lastmodified"]
        .iter()
        .any(|k| meta.get(k).is_some());
    marked.then_some(entry.key.start)
}

/// True for a Flux Kustomization that decrypts (`spec.decryption`).
pub fn flux_decrypts(doc: &Doc, kind: &str, api: &str) -> bool {
    kind == "Kustomization"
        && api.starts_with("kustomize.toolkit.fluxcd.io/")
        && doc.path(doc.root, &["spec", "decryption"]).is_some()
}

/// KUS-SOPS-RESOURCE: each `resources:` entry of a kustomization that leads to an encrypted
/// file.
pub fn check(tree: &Tree, out: &mut Vec<Finding>) {
    if tree.files.iter().any(|(_, f)| f.flux_decryption) {
        return;
    }
    for (kfile, facts) in &tree.files {
        let Some(k) = &facts.kustomization else {
            continue;
        };
        let dir = kfile.parent().unwrap_or(Path::new(""));
        for r in &k.resources {
            let Some(file) = normalize(&dir.join(&r.value)) else {
                continue;
            };
            if tree.facts(&file).is_some_and(|f| f.sops.is_some()) {
                out.push(Finding::new(
                    &RESOURCE,
                    kfile,
                    r.pos,
                    format!(
                        "`{}` is SOPS-encrypted: Argo CD would apply the ciphertext; decrypt it with a KSOPS generator (`generators:`) instead",
                        r.value
                    ),
                ));
            }
        }
    }
}
