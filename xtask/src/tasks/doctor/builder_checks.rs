//! `doctor`'s view of the buildx builder: which node builds each configured platform natively,
//! a warning for each platform only QEMU would build (every `RUN` step several times slower),
//! and one for each node buildx cannot reach. Pure: the nodes come from
//! [`crate::buildx_nodes::parse`] of `docker buildx inspect [--builder]`.

use super::checks::{Check, Found, Level, check};
use crate::buildx_nodes::{Placement, placements};

pub fn placement_checks(found: &[Found], platforms: &[String], builder: &str) -> Vec<Check> {
    let Some(docker) = found.iter().find(|f| f.name == "docker" && f.usable) else {
        return Vec::new();
    };
    let nodes = &docker.nodes;
    let subject = format!("builder {builder}");
    let mut out = Vec::new();
    for node in nodes {
        if let Some(error) = &node.error {
            out.push(
                check(
                    "tools",
                    subject.clone(),
                    Level::Warn,
                    format!(
                        "node {} ({}) cannot be reached: {error}",
                        node.name, node.endpoint
                    ),
                )
                .fix(format!("docker buildx inspect --bootstrap {builder}")),
            );
        }
    }
    let endpoint = |name: &str| {
        nodes
            .iter()
            .find(|n| n.name == name)
            .map_or(String::new(), |n| n.endpoint.clone())
    };
    for (platform, placement) in placements(nodes, platforms) {
        match placement {
            Placement::Native(node) => out.push(check(
                "tools",
                subject.clone(),
                Level::Ok,
                format!("{platform}: native on node {node} ({})", endpoint(&node)),
            )),
            Placement::Emulated(node) => out.push(
                check(
                    "tools",
                    subject.clone(),
                    Level::Warn,
                    format!(
                        "{platform}: EMULATED (QEMU) on node {node}: no node runs it natively, \
                         so every RUN step is several times slower"
                    ),
                )
                .fix(format!(
                    "add a native node: docker buildx create --append --name {builder} \
                     --platform {platform} ssh://USER@HOST; or build it on its own machine with \
                     `cargo xtask build-base --platform {platform} --push-by-digest`"
                )),
            ),
            // The builder-lacks-a-platform check already says so, with its fix.
            Placement::Missing => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildx_nodes::parse;

    #[test]
    fn native_emulated_and_unreachable_nodes() {
        let inspect = "Name: homelab\nDriver: docker-container\n\nNodes:\nName: homelab0\n\
            Endpoint: unix:///var/run/docker.sock\nStatus: running\n\
            Platforms: linux/amd64, linux/386, linux/arm64\n\nName: homelab1\n\
            Endpoint: ssh://pi@pi.lan\nError: ssh: connect to host pi.lan: No route to host\n";
        let docker = Found {
            name: "docker".into(),
            usable: true,
            nodes: parse(inspect),
            ..Found::default()
        };
        let both = ["linux/amd64".to_string(), "linux/arm64".to_string()];
        let checks = placement_checks(std::slice::from_ref(&docker), &both, "homelab");
        let lines: Vec<(Level, &str)> = checks
            .iter()
            .map(|c| (c.level, c.message.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (
                    Level::Warn,
                    "node homelab1 (ssh://pi@pi.lan) cannot be reached: ssh: connect to host \
                     pi.lan: No route to host"
                ),
                (
                    Level::Ok,
                    "linux/amd64: native on node homelab0 (unix:///var/run/docker.sock)"
                ),
                (
                    Level::Warn,
                    "linux/arm64: EMULATED (QEMU) on node homelab0: no node runs it natively, so \
                     every RUN step is several times slower"
                ),
            ]
        );
        assert!(checks[2].fix.as_deref().unwrap().contains(
            "docker buildx create --append --name homelab --platform linux/arm64 ssh://USER@HOST"
        ));
        let unusable = Found {
            usable: false,
            ..docker
        };
        assert!(placement_checks(&[unusable], &both, "homelab").is_empty());
    }
}
