//! The Python scripts the services run: every `.py` file a `configMapGenerator` of a
//! kustomization under the manifests root delivers (`files:`, `key=path` too). Their imports
//! make the base image's default smoke command, so a new import in a script is smoke-tested
//! with no other change.

use super::imports::third_party;
use crate::kustomize::discover;
use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A delivered script: its path relative to the root, and its text.
pub struct Script {
    pub path: PathBuf,
    pub text: String,
}

/// Every `.py` file the configMapGenerators under `manifests` deliver, each once, sorted.
/// A listed file that is missing or outside the repository is an error naming the
/// kustomization (lint-manifests reports the same as KUS-GENERATOR-FILE).
pub fn delivered(root: &Path, manifests: &Path) -> Result<Vec<Script>> {
    let found = discover(root, &[manifests.to_path_buf()])?;
    let mut paths = BTreeSet::new();
    for kfile in &found.files {
        let full = root.join(kfile);
        let (text, _) = crate::files::read_text(&full)
            .with_context(|| format!("cannot read {}", kfile.display()))?;
        let dir = kfile.parent().unwrap_or(Path::new(""));
        for file in generator_files(&text).with_context(|| kfile.display().to_string())? {
            if file.ends_with(".py") {
                paths.insert((dir.join(&file), kfile.clone()));
            }
        }
    }
    let mut scripts = Vec::new();
    for (path, kfile) in paths {
        let text = crate::walk::read_inside(root, &path).with_context(|| {
            format!(
                "{}: configMapGenerator file {} is missing, unreadable or outside the repository",
                kfile.display(),
                path.display()
            )
        })?;
        scripts.push(Script { path, text });
    }
    Ok(scripts)
}

/// The `files:` paths of every configMapGenerator of one kustomization (`key=path` gives
/// `path`).
pub fn generator_files(kustomization: &str) -> Result<Vec<String>> {
    let docs = crate::yaml::load(kustomization).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut files = Vec::new();
    for doc in &docs {
        let generators = doc
            .root
            .get("configMapGenerator")
            .and_then(|g| g.as_seq())
            .unwrap_or_default();
        for g in generators {
            for f in g.get("files").and_then(|f| f.as_seq()).unwrap_or_default() {
                if let Some(f) = f.as_str() {
                    let path = f.split_once('=').map_or(f, |(_, p)| p);
                    files.push(path.trim().to_string());
                }
            }
        }
    }
    Ok(files)
}

/// The third-party modules `scripts` import: not the standard library, and not one of the
/// scripts themselves (they land side by side in the ConfigMap's folder: `import influx_v1`).
pub fn third_party_imports(scripts: &[Script]) -> BTreeSet<String> {
    let local: BTreeSet<String> = scripts
        .iter()
        .filter_map(|s| s.path.file_stem()?.to_str().map(str::to_string))
        .collect();
    third_party(scripts.iter().map(|s| s.text.as_str()), &local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_files_and_their_imports() {
        let k = "configMapGenerator:\n  - name: a\n    files:\n      - svc/run.py\n      \
                 - main=common/lib.py\n      - svc/config.ini\n    literals: [A=1]\n  - name: b\n";
        assert_eq!(
            generator_files(k).unwrap(),
            ["svc/run.py", "common/lib.py", "svc/config.ini"]
        );
        assert!(generator_files("resources: []\n").unwrap().is_empty());
        let scripts = [
            Script {
                path: "svc/run.py".into(),
                text: "import lib\nimport requests\nfrom dateutil import tz\nimport json\n".into(),
            },
            Script {
                path: "common/lib.py".into(),
                text: "import urllib.request\nimport paho.mqtt.client as mqtt\n".into(),
            },
        ];
        assert_eq!(
            third_party_imports(&scripts)
                .into_iter()
                .collect::<Vec<_>>(),
            ["dateutil", "paho.mqtt.client", "requests"]
        );
    }

    #[test]
    fn this_repos_scripts_are_found() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let scripts = delivered(root, Path::new("k8s-apps")).unwrap();
        let names: Vec<_> = scripts
            .iter()
            .map(|s| s.path.display().to_string())
            .collect();
        assert!(
            names.contains(&"k8s-apps/iot-stack/common/influx_v1.py".to_string()),
            "{names:?}"
        );
        // Today the services import only the standard library and their shared module.
        assert!(third_party_imports(&scripts).is_empty());
    }
}
