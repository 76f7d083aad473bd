//! Render rules (RENDER-*), for `--render`: every kustomization root is built with
//! `kustomize build` (or `kubectl kustomize`) through the exec Runner; a failed build is a
//! finding at the kustomization, and every rendered image this repo builds must carry a policy tag.

use super::kustomize_rules::{Tree, is_policy_tag};
use super::workload::{containers, is_configured, pod_spec, split_image};
use super::{Finding, Rule, Severity, yaml_rules};
use crate::exec::{Cmd, Output, Runner};
use crate::settings::Settings;
use crate::tools;
use crate::yaml::Pos;
use anyhow::Result;
use std::path::{Path, PathBuf};

pub const FAILED: Rule = Rule {
    id: "RENDER-FAILED",
    severity: Severity::Error,
    summary: "kustomize build fails",
    explain: "`kustomize build` (or `kubectl kustomize`) of this kustomization root failed; the \
message is the renderer's. Argo CD would fail to sync the application. kube-linter hides \
render errors by default; this linter always reports them. Only with --render.",
};
pub const IMAGE_TAG: Rule = Rule {
    id: "RENDER-IMAGE-TAG",
    severity: Severity::Error,
    summary: "rendered image of ours has no policy tag",
    explain: "After kustomize has applied every `images:` entry, a container image that this \
repo builds (settings `images`) still has no `sha-<7 to 40 hex>` tag or digest, so the cluster \
would run `latest` or a tag CI never made. Usually the images: entry names the image differently \
from the workload. Only with --render.",
};

pub const RULES: &[Rule] = &[FAILED, IMAGE_TAG];

/// The renderer's argv before the folder: `kustomize build` when kustomize is on PATH, else
/// `kubectl kustomize`; an error with install hints when neither is.
pub fn renderer() -> Result<Cmd> {
    if tools::find(tools::KUSTOMIZE).is_some() {
        Ok(Cmd::new("kustomize").arg("build"))
    } else if tools::find(tools::KUBECTL).is_some() {
        Ok(Cmd::new("kubectl").arg("kustomize"))
    } else {
        Err(tools::missing(&[tools::KUBECTL, tools::KUSTOMIZE])
            .context("--render needs a kustomize renderer"))
    }
}

/// One render per kustomization root.
pub fn plan(renderer: &Cmd, root: &Path, roots: &[PathBuf]) -> Vec<(PathBuf, Cmd)> {
    roots
        .iter()
        .map(|k| {
            let dir = root.join(k.parent().unwrap_or(Path::new("")));
            let cmd = renderer.clone().arg(dir.display().to_string()).cwd(root);
            (k.clone(), cmd)
        })
        .collect()
}

/// Renders every root, two at a time (on the task's one Runner), and judges each output.
pub fn run(
    runner: &Runner,
    tree: &Tree,
    settings: &Settings,
    root: &Path,
    renderer: &Cmd,
) -> Result<Vec<Finding>> {
    let plan = plan(renderer, root, &tree.roots());
    let results = super::in_parallel_up_to(2, &plan, |(k, cmd)| {
        runner.output(cmd).map(|out| judge(k, &out, tree, settings))
    });
    let mut findings = Vec::new();
    for r in results {
        findings.extend(r?);
    }
    Ok(findings)
}

/// The findings for one render of the kustomization `kfile`.
pub fn judge(kfile: &Path, out: &Output, tree: &Tree, settings: &Settings) -> Vec<Finding> {
    let kustomization = tree.kustomization(kfile);
    if !out.success() {
        let message = out.stderr.trim();
        // Point at the resource or generator entry the error names, when it names one.
        let pos = kustomization
            .and_then(|k| {
                k.resources
                    .iter()
                    .chain(
                        k.generators
                            .iter()
                            .flat_map(|g| g.files.iter().map(|(_, r)| r)),
                    )
                    .find(|r| message.contains(r.value.as_str()))
            })
            .map_or(Pos::default(), |r| r.pos);
        let short: Vec<&str> = message.lines().take(6).collect();
        return vec![Finding::new(
            &FAILED,
            kfile,
            pos,
            format!("kustomize build failed: {}", short.join(" / ")),
        )];
    }
    let docs = match crate::yaml::load(&out.stdout) {
        Ok(docs) => docs,
        Err(e) => {
            return vec![Finding::new(
                &FAILED,
                kfile,
                Pos::default(),
                format!("the rendered output is not YAML: {e}"),
            )];
        }
    };
    let mut found = Vec::new();
    for d in &docs {
        let mut scratch = Vec::new();
        let doc = yaml_rules::check_document(kfile, &d.root, &mut scratch);
        let Some(kind) = doc.str(doc.root, "kind") else {
            continue;
        };
        let Some(spec) = pod_spec(&doc, kind) else {
            continue;
        };
        let name = doc
            .path(doc.root, &["metadata", "name"])
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        for c in containers(&doc, spec) {
            let Some(image) = doc.str(c, "image") else {
                continue;
            };
            let (base, tag, digest) = split_image(image);
            if !is_configured(settings, base)
                || digest.is_some_and(crate::image_ref::is_digest)
                || tag.is_some_and(is_policy_tag)
            {
                continue;
            }
            let pos = kustomization
                .and_then(|k| {
                    k.images
                        .iter()
                        .find(|e| e.name.value == base || e.new_name.as_deref() == Some(base))
                })
                .map_or(Pos::default(), |e| e.name.pos);
            found.push(Finding::new(
                &IMAGE_TAG,
                kfile,
                pos,
                format!("rendered {kind} `{name}` runs `{image}`, which has no sha-<commit> tag or digest"),
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Facts;
    use crate::lint::kustomize_rules::Kustomization;

    fn tree() -> Tree {
        let src = "resources:\n  - cronjob.yaml\nimages:\n  - name: ghcr.io/dcasati/python-base\n    newTag: v1\n";
        let docs = crate::yaml::load(src).unwrap();
        let mut out = Vec::new();
        let doc = yaml_rules::check_document(Path::new("k"), &docs[0].root, &mut out);
        let facts = Facts {
            kustomization: Some(Kustomization::parse(&docs[0], &doc)),
            ..Facts::default()
        };
        let files = vec![(PathBuf::from("k8s-apps/app/kustomization.yaml"), facts)];
        Tree::new(Path::new("/nonexistent"), files)
    }

    fn rendered(image: &str) -> Output {
        Output {
            code: Some(0),
            stdout: format!(
                "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: job\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - image: {image}\n            name: a\n          - image: busybox:1.36\n            name: b\n"
            ),
            stderr: String::new(),
        }
    }

    #[test]
    fn rendered_images_need_a_policy_tag() {
        let k = Path::new("k8s-apps/app/kustomization.yaml");
        let s = Settings::default();
        let found = judge(k, &rendered("ghcr.io/dcasati/python-base:v1"), &tree(), &s);
        let got: Vec<_> = found.iter().map(|f| (f.rule, f.line, f.column)).collect();
        assert_eq!(got, [("RENDER-IMAGE-TAG", 4, 11)]);
        assert!(
            judge(
                k,
                &rendered("ghcr.io/dcasati/python-base:sha-abc1234"),
                &tree(),
                &s
            )
            .is_empty()
        );
    }

    #[test]
    fn a_failed_render_points_at_the_entry_it_names() {
        let out = Output {
            code: Some(1),
            stdout: String::new(),
            stderr: "error: accumulating resources: accumulation err='accumulating resources from 'cronjob.yaml': open /x/cronjob.yaml: no such file or directory'\n".into(),
        };
        let k = Path::new("k8s-apps/app/kustomization.yaml");
        let found = judge(k, &out, &tree(), &Settings::default());
        assert_eq!(
            (found[0].rule, found[0].line, found[0].column),
            ("RENDER-FAILED", 2, 5)
        );
        assert!(
            found[0].message.contains("no such file"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn plan_renders_each_root_folder() {
        let plan = plan(
            &Cmd::new("kubectl").arg("kustomize"),
            Path::new("/repo"),
            &[PathBuf::from("k8s-apps/app/kustomization.yaml")],
        );
        assert_eq!(
            plan[0].1.argv(),
            ["kubectl", "kustomize", "/repo/k8s-apps/app"]
        );
    }
}
