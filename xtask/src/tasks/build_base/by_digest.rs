//! `build-base --platform P --push-by-digest`: the end of a one-platform build pushed with no
//! tag. It reads the digest the engine reported (docker's `--metadata-file`, podman's
//! `--digestfile` of its push into an OCI layout), pushes podman's layout to `repo@digest` with
//! skopeo, reads that digest back from the registry, and only then writes the digest file
//! (`target/xtask/digests/<os>-<arch>`) and prints `repo@digest`.
//!
//! No build record is written (and the old one was removed when the build started): no tag
//! exists yet, so there is nothing for trivy-scan, sign or push to follow until `push --merge`
//! records the index.

use super::Build;
use crate::digests;
use crate::engine::by_digest::{
    by_digest_ref, inspect_untagged, layout_dir, skopeo_copy_by_digest,
};
use crate::engine::registry_tool;
use crate::engine::{BuildOutput, BuildSpec, Engine, parse_digest_file, parse_docker_metadata};
use crate::exec::Runner;
use crate::registry::digest_from;
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};

/// `<image>.<engine>`, or `<image>-<os>-<arch>.<engine>` for a push by digest, so that two
/// platforms built in one checkout keep their own files.
pub(super) fn result_file_name(build: &Build, engine: Engine) -> String {
    let name = &build.image.name;
    match (build.output, build.platforms.as_slice()) {
        (BuildOutput::PushByDigest, [platform]) => {
            format!("{name}-{}.{}", digests::file_name(platform), engine.name())
        }
        _ => format!("{name}.{}", engine.name()),
    }
}

/// Removes the OCI layout an earlier podman push by digest left (podman would add to it).
pub(super) fn prepare(spec: &BuildSpec) -> Result<()> {
    if spec.output != BuildOutput::PushByDigest {
        return Ok(());
    }
    let layout = layout_dir(spec);
    match std::fs::symlink_metadata(&layout) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&layout),
        Ok(_) => std::fs::remove_file(&layout),
        Err(_) => Ok(()),
    }
    .with_context(|| format!("cannot remove {}", layout.display()))
}

pub(super) fn finish(
    ctx: &Ctx,
    runner: &Runner,
    engine: Engine,
    build: &Build,
    spec: &BuildSpec,
) -> Result<Status> {
    let platform = &build.platforms[0];
    let show = || {
        if engine == Engine::Podman {
            crate::output::sayln!(
                "+ skopeo copy --preserve-digests oci:{} docker://{}@<the digest podman push wrote>",
                layout_dir(spec).display(),
                build.reference.name()
            );
        }
        crate::output::sayln!(
            "then: the digest is read back from the registry and written to {}",
            digests::dir(&ctx.root)
                .join(digests::file_name(platform))
                .display()
        );
        Ok(Status::Clean)
    };
    runner.show_or_run(show, || push_and_record(ctx, runner, engine, build, spec))
}

/// After the build: podman's copy by digest, the registry's read-back, the digest file.
fn push_and_record(
    ctx: &Ctx,
    runner: &Runner,
    engine: Engine,
    build: &Build,
    spec: &BuildSpec,
) -> Result<Status> {
    let platform = &build.platforms[0];
    let (text, _) = crate::files::read_text(&spec.result_file)
        .with_context(|| format!("the build wrote no {}", spec.result_file.display()))?;
    let digest = match engine {
        Engine::Docker => parse_docker_metadata(&text)?,
        Engine::Podman => parse_digest_file(&text)?,
    };
    if engine == Engine::Podman {
        runner
            .run_to_stderr(&skopeo_copy_by_digest(spec, &digest))
            .with_context(|| {
                format!(
                    "cannot push {platform} of {} by digest: is {} up, and are you logged in \
                     (--login)?",
                    build.reference.name(),
                    build.registry
                )
            })?;
    }
    let pushed = by_digest_ref(&build.reference, &digest);
    let tool = registry_tool(engine)?;
    let read = inspect_untagged(tool, &pushed, build.insecure);
    match digest_from(runner, tool, &read, &pushed)? {
        Some(got) if got == digest => {}
        Some(got) => bail!("{pushed} reads back as {got} after the push"),
        None => bail!("{pushed} is not in the registry after the push"),
    }
    let file = digests::write(&ctx.root, platform, &digest)?;
    crate::output::sayln!(
        "pushed {platform} by digest (no tag); digest file: {}",
        file.display()
    );
    crate::output::stdout(&format!("{pushed}\n"))?;
    Ok(Status::Clean)
}
