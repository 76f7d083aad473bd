//! One platform pushed by digest only, with no tag: the per-platform half of a build spread
//! over several machines (`build-base --platform P --push-by-digest`), merged later into one
//! index by `push --merge`.
//!
//! docker: buildx's image exporter with `push-by-digest=true,name-canonical=true,push=true` and
//! the repository as `name`, no `--tag`; the digest is `containerimage.digest` in the
//! `--metadata-file`. (The keys are those buildx v0.19.0 passes through in
//! `util/buildflags/export.go` and `build/opt.go`; `--tag` would set `name` to the tag instead.)
//!
//! podman: `podman build --tag` into the machine's own store, `podman push` into an OCI layout
//! folder (which writes the manifest digest), then `skopeo copy --preserve-digests` from that
//! layout to `<repository>@<digest>`. containers/image pushes to a digest reference only when
//! the manifest matches it, and `--preserve-digests` keeps the layout's manifest byte for byte,
//! so no tag is ever written. A direct `podman push` to `@digest` is refused by podman, which
//! re-encodes the manifest ("Digest of source image's manifest would not match destination").

use super::{BuildOutput, BuildSpec, path};
use crate::exec::Cmd;
use crate::image_ref::ImageRef;
use crate::registry::{RegistryTool, inspect_digest, registry_host};
use anyhow::{Result, bail};
use std::path::PathBuf;

/// `--push-by-digest` takes exactly one platform: each runner or node builds its own.
pub fn check_one_platform(output: BuildOutput, platforms: &[String]) -> Result<()> {
    if output == BuildOutput::PushByDigest && platforms.len() != 1 {
        bail!(
            "--push-by-digest needs exactly one platform (got {}): pass --platform linux/amd64 \
             on one machine and --platform linux/arm64 on another, then `push --merge DIR`",
            platforms.join(",")
        );
    }
    Ok(())
}

/// The GitHub Actions cache scope: per platform for a one-platform build (so the runners of a
/// matrix do not evict each other's layers), else per image.
pub fn gha_scope(spec: &BuildSpec) -> String {
    match spec.platforms.as_slice() {
        // `linux/arm64` → `linux-arm64`, as the digest files are named (digests.rs, which
        // builds on this module; so no import back).
        [one] => format!("{}-{}", spec.image, one.replace('/', "-")),
        _ => spec.image.clone(),
    }
}

/// buildx's `--output` for a push by digest: the repository without tag, canonical name.
pub fn docker_output(spec: &BuildSpec) -> String {
    let mut output = format!(
        "type=image,name={},push-by-digest=true,name-canonical=true,push=true",
        spec.reference.name()
    );
    if spec.insecure {
        output.push_str(",registry.insecure=true");
    }
    output
}

/// The OCI layout folder podman pushes the built image into, beside the digest file.
pub fn layout_dir(spec: &BuildSpec) -> PathBuf {
    spec.result_file.with_extension("oci")
}

/// `podman push --digestfile FILE REF oci:LAYOUT`: local only; the layout must not exist yet
/// (podman would add a second manifest to it).
pub fn podman_push_to_layout(spec: &BuildSpec) -> Cmd {
    Cmd::new("podman")
        .args(["push", "--digestfile", &path(&spec.result_file)])
        .arg(spec.reference.to_string())
        .arg(format!("oci:{}", path(&layout_dir(spec))))
}

/// `skopeo copy --preserve-digests oci:LAYOUT docker://REPO@DIGEST`: the push with no tag.
pub fn skopeo_copy_by_digest(spec: &BuildSpec, digest: &str) -> Cmd {
    let mut cmd = Cmd::new("skopeo").args(["copy", "--preserve-digests"]);
    if spec.insecure {
        cmd = cmd.arg("--dest-tls-verify=false");
    }
    cmd.arg(format!("oci:{}", path(&layout_dir(spec))))
        .arg(format!(
            "docker://{}",
            by_digest_ref(&spec.reference, digest)
        ))
        .talks_to(registry_host(&spec.reference))
}

/// `registry/image@digest`: the reference a digest push leaves, with no tag.
pub fn by_digest_ref(reference: &ImageRef, digest: &str) -> ImageRef {
    ImageRef::parse(&reference.name())
        .expect("a reference's name parses")
        .with_digest(digest)
}

/// Reads the digest of `reference` (a `repo@digest`). skopeo gets `--no-tags`: its plain
/// inspect also lists the repository's tags, and a registry answers 404 for a repository that
/// has none yet, which is exactly the state of a push by digest.
pub fn inspect_untagged(tool: RegistryTool, reference: &ImageRef, insecure: bool) -> Cmd {
    let mut cmd = inspect_digest(tool, reference, insecure);
    if tool != RegistryTool::Docker {
        cmd.args.insert(1, "--no-tags".into());
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::super::{Cache, build};
    use super::*;
    use crate::engine::Engine;

    fn spec(platforms: &[&str], cache: Cache, insecure: bool) -> BuildSpec {
        BuildSpec {
            image: "python-base".into(),
            context: "/repo/ctx".into(),
            dockerfile: "/repo/ctx/Dockerfile".into(),
            reference: ImageRef::parse("127.0.0.1:5000/homelab/python-base:sha-abc1234").unwrap(),
            platforms: platforms.iter().map(|p| p.to_string()).collect(),
            labels: vec![],
            source_date_epoch: 1_700_000_000,
            cache,
            output: BuildOutput::PushByDigest,
            insecure,
            result_file: "/repo/target/xtask/build/python-base-linux-arm64.podman".into(),
            builder: Some("homelab".into()),
        }
    }

    #[test]
    fn docker_pushes_one_platform_by_digest_with_no_tag() {
        let plan = build(Engine::Docker, &spec(&["linux/arm64"], Cache::Gha, true)).unwrap();
        assert_eq!(
            plan[0].argv().join(" "),
            "docker buildx build --builder homelab --file /repo/ctx/Dockerfile \
             --platform linux/arm64 --cache-from type=gha,scope=python-base-linux-arm64 \
             --cache-to type=gha,mode=max,scope=python-base-linux-arm64 --output \
             type=image,name=127.0.0.1:5000/homelab/python-base,push-by-digest=true,\
             name-canonical=true,push=true,registry.insecure=true --metadata-file \
             /repo/target/xtask/build/python-base-linux-arm64.podman /repo/ctx"
        );
        assert!(!plan[0].args.contains(&"--tag".into()));
    }

    #[test]
    fn podman_builds_pushes_to_a_layout_then_copies_by_digest() {
        let mut s = spec(&["linux/amd64"], Cache::None, true);
        s.builder = None;
        let plan = build(Engine::Podman, &s).unwrap();
        let lines: Vec<String> = plan.iter().map(|c| c.argv().join(" ")).collect();
        assert_eq!(
            lines,
            [
                "podman build --file /repo/ctx/Dockerfile --platform linux/amd64 --tag \
                 127.0.0.1:5000/homelab/python-base:sha-abc1234 --timestamp 1700000000 /repo/ctx",
                "podman push --digestfile /repo/target/xtask/build/python-base-linux-arm64.podman \
                 127.0.0.1:5000/homelab/python-base:sha-abc1234 \
                 oci:/repo/target/xtask/build/python-base-linux-arm64.oci"
            ]
        );
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            skopeo_copy_by_digest(&s, &d).argv().join(" "),
            format!(
                "skopeo copy --preserve-digests --dest-tls-verify=false \
                 oci:/repo/target/xtask/build/python-base-linux-arm64.oci \
                 docker://127.0.0.1:5000/homelab/python-base@{d}"
            )
        );
        assert_eq!(
            inspect_untagged(RegistryTool::Skopeo, &by_digest_ref(&s.reference, &d), true)
                .argv()
                .join(" "),
            format!(
                "skopeo inspect --no-tags --tls-verify=false --format {{{{.Digest}}}} \
                 docker://127.0.0.1:5000/homelab/python-base@{d}"
            )
        );
        let err = build(Engine::Podman, &spec(&["linux/amd64"], Cache::None, true)).unwrap_err();
        assert!(
            err.to_string()
                .contains("--builder homelab names a docker buildx builder")
        );
    }

    #[test]
    fn exactly_one_platform() {
        for engine in [Engine::Docker, Engine::Podman] {
            let err = build(
                engine,
                &spec(&["linux/amd64", "linux/arm64"], Cache::None, false),
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("--push-by-digest needs exactly one platform"),
                "{err}"
            );
        }
    }
}
