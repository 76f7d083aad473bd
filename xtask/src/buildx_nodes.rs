//! The nodes of a buildx builder, from `docker buildx inspect [NAME]`, and which node builds
//! each platform natively. Pure: doctor runs the command and reports.
//!
//! The text is buildx's (v0.19.0 `commands/inspect.go`): a builder header, then `Nodes:` and one
//! block a node, each starting with `Name:`, with `Endpoint:`, `Status:` or `Error:`, and
//! `Platforms:` (`util/platformutil/parse.go` `FormatInGroups`: the platforms set with
//! `buildx create --platform` first, each marked `*`, then the ones BuildKit detected).
//!
//! Which platforms a node runs natively: the ones set with `--platform` (the operator says so,
//! and buildx sends those platforms to that node first); else the first detected one, which is
//! BuildKit's own (its `archutil` lists the host platform first, then what binfmt emulators
//! add), with that architecture's variants and the 32-bit sibling its CPU executes without QEMU
//! (386 on amd64, arm on arm64). Every other platform a node lists it builds under QEMU.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuilderNode {
    pub name: String,
    pub endpoint: String,
    /// `Platforms:` in order, without the `*`.
    pub platforms: Vec<String>,
    /// The ones set with `buildx create --platform` (marked `*`).
    pub pinned: Vec<String>,
    /// The node's `Error:` line, when buildx could not reach it.
    pub error: Option<String>,
}

impl BuilderNode {
    /// The platforms this node builds without emulation.
    pub fn native(&self) -> Vec<String> {
        if !self.pinned.is_empty() {
            return self.pinned.clone();
        }
        let Some(first) = self.platforms.first() else {
            return Vec::new();
        };
        let family = |p: &str| -> &'static str {
            let arch = p.split('/').nth(1).unwrap_or_default();
            match arch {
                "amd64" | "386" => "x86",
                "arm64" | "arm" => "arm",
                _ => "",
            }
        };
        let own = family(first);
        self.platforms
            .iter()
            .filter(|p| *p == first || (!own.is_empty() && family(p) == own))
            .cloned()
            .collect()
    }
}

/// Where a configured platform gets built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// On this node, natively.
    Native(String),
    /// Only under QEMU, on this node.
    Emulated(String),
    /// No node lists it.
    Missing,
}

/// The nodes in `docker buildx inspect`'s output.
pub fn parse(inspect: &str) -> Vec<BuilderNode> {
    let mut nodes: Vec<BuilderNode> = Vec::new();
    let mut in_nodes = false;
    for line in inspect.lines() {
        if line.trim() == "Nodes:" {
            in_nodes = true;
            continue;
        }
        // Node fields start in column 0; labels and GC rules are indented.
        if !in_nodes || line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => nodes.push(BuilderNode {
                name: value.to_string(),
                ..BuilderNode::default()
            }),
            "Endpoint" | "Error" | "Platforms" if nodes.is_empty() => {}
            "Endpoint" => last(&mut nodes).endpoint = value.to_string(),
            "Error" => last(&mut nodes).error = Some(value.to_string()),
            "Platforms" => {
                let node = last(&mut nodes);
                for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let bare = p.trim_end_matches('*').to_string();
                    if p.ends_with('*') {
                        node.pinned.push(bare.clone());
                    }
                    node.platforms.push(bare);
                }
            }
            _ => {}
        }
    }
    nodes
}

fn last(nodes: &mut [BuilderNode]) -> &mut BuilderNode {
    nodes.last_mut().expect("checked not empty")
}

/// For each platform, the node that builds it natively (the first such node), else the first
/// node that can emulate it.
pub fn placements(nodes: &[BuilderNode], platforms: &[String]) -> Vec<(String, Placement)> {
    platforms
        .iter()
        .map(|p| {
            let reachable = || nodes.iter().filter(|n| n.error.is_none());
            let placement = if let Some(n) = reachable().find(|n| n.native().contains(p)) {
                Placement::Native(n.name.clone())
            } else if let Some(n) = reachable().find(|n| n.platforms.contains(p)) {
                Placement::Emulated(n.name.clone())
            } else {
                Placement::Missing
            };
            (p.clone(), placement)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// buildx v0.19.0 `docs/reference/buildx_inspect.md`, verbatim.
    const DOCS: &str = "Name:          elated_tesla
Driver:        docker-container
Last Activity: 2022-11-30 12:42:47 +0100 CET

Nodes:
Name:           elated_tesla0
Endpoint:       unix:///var/run/docker.sock
Driver Options: env.BUILDKIT_STEP_LOG_MAX_SPEED=\"10485760\" env.JAEGER_TRACE=\"localhost:6831\" image=\"moby/buildkit:latest\" network=\"host\" env.BUILDKIT_STEP_LOG_MAX_SIZE=\"10485760\"
Status:         running
Flags:          --debug --allow-insecure-entitlement security.insecure --allow-insecure-entitlement network.host
BuildKit:       v0.10.6
Platforms:      linux/arm64*, linux/arm/v7, linux/arm/v6
Labels:
 org.mobyproject.buildkit.worker.executor:         oci
 org.mobyproject.buildkit.worker.hostname:         docker-desktop
 org.mobyproject.buildkit.worker.network:          host
GC Policy rule#0:
 All:           false
 Filters:       type==source.local,type==exec.cachemount,type==source.git.checkout
 Keep Duration: 48h0m0s
";

    /// The two-node homelab builder, printed in v0.19.0's `commands/inspect.go` layout: the
    /// workstation (amd64, with binfmt emulators) and a Raspberry Pi over ssh, then a node
    /// buildx cannot reach.
    const HOMELAB: &str = "Name:          homelab
Driver:        docker-container
Last Activity: 2026-12-01 09:12:03 +0000 UTC

Nodes:
Name:                  homelab0
Endpoint:              unix:///var/run/docker.sock
Status:                running
BuildKit daemon flags: --allow-insecure-entitlement=network.host
BuildKit version:      v0.18.1
Platforms:             linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/386, linux/arm64, linux/riscv64
Labels:
 org.mobyproject.buildkit.worker.hostname: workstation

Name:                  homelab1
Endpoint:              ssh://pi@pi.lan
Status:                running
BuildKit version:      v0.18.1
Platforms:             linux/arm64*, linux/arm/v7, linux/arm/v6

Name:                  homelab2
Endpoint:              ssh://pi@old-pi.lan
Error:                 failed to connect: ssh: connect to host old-pi.lan port 22: No route to host
";

    #[test]
    fn the_docs_example_is_one_arm64_node_pinned() {
        let nodes = parse(DOCS);
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].name, "elated_tesla0");
        assert_eq!(nodes[0].endpoint, "unix:///var/run/docker.sock");
        assert_eq!(
            nodes[0].platforms,
            ["linux/arm64", "linux/arm/v7", "linux/arm/v6"]
        );
        assert_eq!(nodes[0].native(), ["linux/arm64"]);
        let both = ["linux/amd64".to_string(), "linux/arm64".to_string()];
        assert_eq!(
            placements(&nodes, &both),
            [
                ("linux/amd64".to_string(), Placement::Missing),
                (
                    "linux/arm64".to_string(),
                    Placement::Native("elated_tesla0".into())
                )
            ]
        );
    }

    #[test]
    fn the_homelab_builder_builds_each_platform_on_its_own_node() {
        let nodes = parse(HOMELAB);
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["homelab0", "homelab1", "homelab2"]);
        assert_eq!(
            nodes[0].native(),
            [
                "linux/amd64",
                "linux/amd64/v2",
                "linux/amd64/v3",
                "linux/386"
            ]
        );
        assert_eq!(nodes[1].endpoint, "ssh://pi@pi.lan");
        assert!(
            nodes[2]
                .error
                .as_deref()
                .unwrap()
                .contains("No route to host")
        );
        let want = |p: &str, pl: Placement| (p.to_string(), pl);
        assert_eq!(
            placements(&nodes, &["linux/amd64".into(), "linux/arm64".into()]),
            [
                want("linux/amd64", Placement::Native("homelab0".into())),
                want("linux/arm64", Placement::Native("homelab1".into())),
            ]
        );
        // Without the Pi, arm64 falls to the workstation's QEMU.
        assert_eq!(
            placements(&nodes[..1], &["linux/arm64".into(), "linux/s390x".into()]),
            [
                want("linux/arm64", Placement::Emulated("homelab0".into())),
                want("linux/s390x", Placement::Missing),
            ]
        );
        assert!(parse("").is_empty() && parse("Name: x\nPlatforms: linux/amd64\n").is_empty());
    }
}
