//! `push --merge DIR`: the last job of a build spread over machines. It reads the digest files
//! `build-base --push-by-digest` wrote (one a platform), checks each against the registry (the
//! digest exists there, as a single-platform image of the platform its file names), refuses
//! unless every configured platform is there exactly once, then pushes one index of exactly
//! those digests under the tag (the one tag rule, or `--sha`) and writes the build record with
//! the index digest, so trivy-scan, sign and push --mirror follow it.
//!
//! It builds and pulls nothing, so it runs on a machine that built nothing: docker with
//! `buildx imagetools create` (registry to registry), podman with a manifest list made from
//! registry references (`podman manifest add docker://REPO@DIGEST`, which stores the list's
//! JSON only) and `podman manifest push --all`, which copies nothing that is already there.
//! Every refusal is exit 2, before anything is pushed.

use crate::build_record::BuildRecord;
use crate::digests::{self, DigestFile};
use crate::engine::{Engine, parse_digest_file, registry_tool, select_engine};
use crate::exec::{Cmd, Runner};
use crate::flags;
use crate::image_ref::ImageRef;
use crate::registry::{
    RegistryTool, inspect_config, inspect_raw, is_not_found, login_cmd, parse_config_platform,
    registry_host, remote_digest,
};
use crate::resolve::{self, Purpose};
use crate::{Ctx, Status};
use anyhow::{Context, Result, bail};
use std::path::Path;

pub fn run(flags: &flags::Push, dir: &Path, ctx: &Ctx) -> Result<Status> {
    // The tag is a build's (the one tag rule on this checkout, or --sha), never a build
    // record's: this machine built nothing, and a record here would be of another build.
    let purpose = Purpose::Build { allow_dirty: false };
    let (target, _) = resolve::target(&ctx.root, &ctx.settings, &flags.target.wanted(), purpose)?;
    let (image, registry, name) = (target.image, target.registry.clone(), target.name.clone());
    let tag = target.tag.clone().expect("a build purpose has a tag");
    let commit = target.commit.clone().expect("a build purpose has a commit");
    let tagged = target.reference().expect("a build purpose has a tag");
    let insecure = target.plain_http(&tagged);
    let platforms = &ctx.settings.platforms;

    let files = digests::read_dir(dir)?;
    digests::check_platforms(&files, platforms)?;
    // In the configured order, so the index lists the platforms as a one-machine build would.
    let files: Vec<&DigestFile> = platforms
        .iter()
        .filter_map(|p| files.iter().find(|f| &f.platform == p))
        .collect();

    let runner = Runner::new(flags.dry_run, ctx.settings.network_timeout)?;
    let engine = select_engine(flags.engine.into(), &runner)?;
    let tool = registry_tool(engine)?;
    if flags.login {
        runner.run_to_stderr(&login_cmd(
            &ctx.settings,
            engine.login_tool(),
            &tagged,
            insecure,
        )?)?;
    }
    check_in_registry(&runner, tool, &name, &files, insecure)?;

    let sources: Vec<ImageRef> = files.iter().map(|f| name.with_digest(&f.digest)).collect();
    let digest_file = ctx
        .root
        .join("target/xtask/build")
        .join(format!("{}.merge-digest", image.name));
    runner.for_real(|| {
        crate::files::make_dir(&ctx.root, digest_file.parent().expect("a folder"))?;
        let _ = std::fs::remove_file(&digest_file);
        Ok(())
    })?;
    let digest_arg = digest_file.display().to_string();
    if engine == Engine::Podman {
        let exists = crate::engine::podman_manifest_exists(&tagged);
        if runner.output(&exists)?.success() {
            runner.run_to_stderr(&crate::engine::podman_manifest_rm(&tagged))?;
        }
    }
    for cmd in plan(engine, &tagged, &sources, insecure, &digest_arg) {
        runner.run_to_stderr(&cmd).with_context(|| {
            format!(
                "cannot push the index {tagged}: is {registry} up, and are you logged in (--login)?"
            )
        })?;
    }
    if engine == Engine::Podman {
        // The list was only a vehicle for the push; the machine keeps nothing.
        let _ = runner.output(&crate::engine::podman_manifest_rm(&tagged));
    }
    runner.for_real(|| {
        let index = remote_digest(&runner, tool, &tagged, insecure)?
            .with_context(|| format!("{tagged} is not in the registry after the push"))?;
        if engine == Engine::Podman {
            let pushed = parse_digest_file(&crate::files::read_text(&digest_file)?.0)?;
            if pushed != index {
                bail!("{tagged} reads back as {index}, but podman pushed {pushed}");
            }
        }
        let raw = runner.read(&inspect_raw(tool, &tagged, insecure))?;
        let want: Vec<String> = files.iter().map(|f| f.digest.clone()).collect();
        check_index(&raw, &want).with_context(|| format!("{tagged}@{index}"))?;
        let record = BuildRecord {
            image: image.name.clone(),
            registry: registry.clone(),
            tag: tag.to_string(),
            digest: Some(index.clone()),
            platforms: platforms.clone(),
            commit: commit.id.clone(),
            pushed: true,
            engine: engine.name().into(),
        };
        let path = record.write(&ctx.root)?;
        crate::output::sayln!(
            "merged {} platforms into {tagged}@{index}; build record: {}",
            files.len(),
            path.display()
        );
        crate::output::stdout(&format!("{tagged}@{index}\n"))?;
        Ok(())
    })?;
    Ok(Status::Clean)
}

/// Each digest must be in the registry as a single-platform image of its file's platform.
/// Every problem is named before the run stops.
fn check_in_registry(
    runner: &Runner,
    tool: RegistryTool,
    name: &ImageRef,
    files: &[&DigestFile],
    insecure: bool,
) -> Result<()> {
    let mut problems = Vec::new();
    for file in files {
        let reference = name.with_digest(&file.digest);
        let where_ = format!("{} ({reference})", digests::shown(&file.path));
        let out = runner.output(&inspect_raw(tool, &reference, insecure))?;
        if !out.success() {
            if is_not_found(&out.stderr) {
                problems.push(format!("{where_}: the registry has no such digest"));
                continue;
            }
            bail!(
                "cannot read {reference} from its registry:\n{}",
                out.stderr.trim_end()
            );
        }
        if let Err(e) = single_image(&out.stdout) {
            problems.push(format!("{where_}: {e}"));
            continue;
        }
        let config = runner.read(&inspect_config(tool, &reference, insecure))?;
        match parse_config_platform(&config) {
            Ok(p) if same_platform(&p, &file.platform) => {}
            Ok(p) => problems.push(format!(
                "{where_}: the image is {p}, but the file names {}",
                file.platform
            )),
            Err(e) => problems.push(format!("{where_}: {e}")),
        }
    }
    if !problems.is_empty() {
        bail!(
            "refusing to merge; nothing was pushed:\n  {}\nrebuild the platform with `cargo \
             xtask build-base --platform P --push-by-digest` and download its digest file again",
            problems.join("\n  ")
        );
    }
    Ok(())
}

/// The commands that push one index of `sources` under `tagged`.
fn plan(
    engine: Engine,
    tagged: &ImageRef,
    sources: &[ImageRef],
    insecure: bool,
    digest_file: &str,
) -> Vec<Cmd> {
    let host = registry_host(tagged);
    let tls = |cmd: Cmd| match insecure {
        true => cmd.arg("--tls-verify=false"),
        false => cmd,
    };
    match engine {
        Engine::Docker => vec![
            Cmd::new("docker")
                .args([
                    "buildx",
                    "imagetools",
                    "create",
                    "--tag",
                    &tagged.to_string(),
                ])
                .args(sources.iter().map(ToString::to_string))
                .talks_to(host),
        ],
        Engine::Podman => {
            let list = tagged.to_string();
            let mut plan = vec![Cmd::new("podman").args(["manifest", "create", &list])];
            for source in sources {
                let add = tls(Cmd::new("podman").args(["manifest", "add"]));
                plan.push(
                    add.args([list.clone(), format!("docker://{source}")])
                        .talks_to(host),
                );
            }
            let push = tls(Cmd::new("podman").args(["manifest", "push", "--all"]));
            plan.push(
                push.args(["--digestfile", digest_file, &list])
                    .arg(format!("docker://{list}"))
                    .talks_to(host),
            );
            plan
        }
    }
}

/// A raw manifest that is one image (a config and layers), not an index.
fn single_image(raw: &str) -> Result<()> {
    let v: serde_json::Value = serde_json::from_str(raw).context("the manifest is not JSON")?;
    if v.get("manifests").is_some() {
        bail!("it is an index (several platforms), not a single-platform image");
    }
    if v.get("config").is_none() {
        bail!("it is not an image manifest (no config)");
    }
    Ok(())
}

/// Platforms equal as containerd normalises them: arm64's only variant, v8, may be left out.
fn same_platform(image: &str, file: &str) -> bool {
    let norm = |p: &str| {
        p.strip_suffix("/arm64/v8")
            .map_or(p.to_string(), |os| format!("{os}/arm64"))
    };
    norm(image) == norm(file)
}

/// The pushed index must hold exactly `want` (attestation manifests aside), each once.
fn check_index(raw: &str, want: &[String]) -> Result<()> {
    let v: serde_json::Value = serde_json::from_str(raw).context("the index is not JSON")?;
    let Some(manifests) = v["manifests"].as_array() else {
        bail!("the registry holds a single image under the tag, not an index");
    };
    let mut got: Vec<String> = manifests
        .iter()
        .filter(|m| {
            m["annotations"]["vnd.docker.reference.type"].as_str() != Some("attestation-manifest")
        })
        .filter_map(|m| m["digest"].as_str().map(str::to_string))
        .collect();
    got.sort();
    let mut want = want.to_vec();
    want.sort();
    if got != want {
        bail!(
            "the index holds {}, but the digest files name {}",
            got.join(", "),
            want.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
