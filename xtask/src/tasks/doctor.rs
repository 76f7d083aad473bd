//! `cargo xtask doctor`: why doesn't it work? Probes the tools, the settings, both registries
//! and what Argo CD will deploy, then prints one line a check (or `--format json`), each problem
//! with the command that fixes it.
//!
//! This file only gathers facts: every child (versions, registry reads, `cosign tree`) runs
//! through [`Runner`], so the network timeout of the exec layer applies to each. The decisions
//! are in `doctor/checks.rs` and `doctor/deploy_checks.rs`. Registry reads go through the registry tool the other tasks use
//! (skopeo, else docker buildx imagetools); a registry that does not answer is probed once, not
//! once a tag. Exit 0 all well, 1 something wrong, 2 bad input (an unknown `--for`).

mod builder_checks;
mod checks;
mod deploy_checks;
mod smoke_checks;

use crate::cosign;
use crate::engine;
use crate::engine::{Choice, read_tool};
use crate::exec::{Cmd, Runner};
use crate::flags::{self, DoctorFormat};
use crate::image_ref::ImageRef;
use crate::registry::{self, RegistryTool};
use crate::resolve::{self, plain_http};
use crate::tools::{self, COSIGN};
use crate::{Ctx, Status};
use anyhow::{Result, bail};
use checks::{Check, Found, Level, check};
use deploy_checks::{Deployed, Probe, Role, TagFacts};
use std::path::PathBuf;

pub fn run(flags: &flags::Doctor, ctx: &Ctx) -> Result<Status> {
    let subcommands = subcommands(flags.for_command.as_deref())?;
    let runner = Runner::new(false, ctx.settings.network_timeout)?;
    let found = probe_tools(&runner, flags.builder.as_deref());
    let mut all = checks::tool_checks(
        &found,
        flags.for_command.as_deref(),
        &ctx.settings.platforms,
        &subcommands,
    );
    let builder = flags.builder.as_deref().unwrap_or("(current)");
    all.extend(builder_checks::placement_checks(
        &found,
        &ctx.settings.platforms,
        builder,
    ));
    all.extend(settings_checks(ctx));
    all.extend(smoke_checks::platform_checks(
        &ctx.settings.platforms,
        &crate::smoke::platforms::host_platform(),
        &crate::smoke::platforms::handlers(&crate::smoke::platforms::binfmt_dir()),
    ));
    let deployed = deploy_checks::deployed(&ctx.settings, &kustomizations(ctx));
    if deployed.is_empty() {
        all.push(check(
            "deploy",
            ctx.settings.manifests.display().to_string(),
            Level::Fail,
            "no kustomization sets a tag of a configured image: Argo CD deploys nothing of ours",
        )
        .fix(format!(
            "add an images: entry naming {} with its newTag to a kustomization.yaml under {} \
             (`cargo xtask update-images` then keeps the tag current)",
            ctx.settings.images.first().map_or(String::from("the image"), |i| ctx.settings.primary_ref(&i.name).to_string()),
            ctx.settings.manifests.display()
        )));
    }
    if flags.offline {
        all.push(check(
            "registry",
            "network",
            Level::Skip,
            "--offline: registries, tags and signatures not checked",
        ));
    } else {
        all.extend(network_checks(ctx, &runner, &found, &deployed));
    }
    report(flags.format, &found, &deployed, &all);
    Ok(if checks::failed(&all) {
        Status::Found
    } else {
        Status::Clean
    })
}

/// The subcommands, from the CLI itself; `--for` must name one of them.
fn subcommands(for_command: Option<&str>) -> Result<Vec<String>> {
    use clap::CommandFactory;
    let all: Vec<String> = flags::Xtask::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    if let Some(sub) = for_command
        && !all.iter().any(|s| s == sub)
    {
        bail!("--for {sub}: not a subcommand; one of {}", all.join(", "));
    }
    Ok(all)
}

fn probe_tools(runner: &Runner, builder: Option<&str>) -> Vec<Found> {
    let read = |cmd: Cmd| runner.output(&cmd).ok().filter(|o| o.success());
    checks::SPECS
        .iter()
        .map(|spec| {
            let name = spec.tool.name;
            let Some(path) = tools::find(spec.tool) else {
                return Found {
                    name: name.into(),
                    ..Found::default()
                };
            };
            let out = read(Cmd::new(name).args(spec.version_args.iter().copied()));
            let version =
                out.and_then(|o| checks::first_version(&format!("{}{}", o.stdout, o.stderr)));
            let mut found = Found {
                name: name.into(),
                path: Some(path.display().to_string()),
                version,
                usable: true,
                ..Found::default()
            };
            if name == "docker" {
                found.usable = read(engine::docker_buildx_version()).is_some();
                let inspect = Cmd::new("docker").args(["buildx", "inspect"]);
                let inspect = inspect.args(builder);
                if found.usable
                    && let Some(o) = read(inspect)
                {
                    found.nodes = crate::buildx_nodes::parse(&o.stdout);
                    found.platforms = checks::builder_platforms(&o.stdout);
                    // Every node's platforms: a multi-node builder has a Platforms line each.
                    for node in &found.nodes {
                        for p in &node.platforms {
                            if !found.platforms.contains(p) {
                                found.platforms.push(p.clone());
                            }
                        }
                    }
                }
            }
            found
        })
        .collect()
}

/// The manifests root and every image's context and Dockerfile exist, inside the repo.
fn settings_checks(ctx: &Ctx) -> Vec<Check> {
    let root = std::fs::canonicalize(&ctx.root).unwrap_or_else(|_| ctx.root.clone());
    // Settings that do not parse never get here: the run exits 2 naming the key first.
    let manifest = ctx.root.join("Cargo.toml").is_file();
    let parsed = if manifest {
        check(
            "settings",
            "Cargo.toml [workspace.metadata.xtask]",
            Level::Ok,
            "parses",
        )
    } else {
        check(
            "settings",
            "Cargo.toml",
            Level::Warn,
            format!("no Cargo.toml in {}: the built-in defaults are used", ctx.root.display()),
        )
        .fix("run from the repo's root (or pass --root DIR); a repo of its own sets its paths in [workspace.metadata.xtask] of a root Cargo.toml")
    };
    let path_fix = if manifest {
        "fix the path in [workspace.metadata.xtask] of Cargo.toml"
    } else {
        "run from the repo's root (or pass --root DIR), or set the path in [workspace.metadata.xtask] of a root Cargo.toml"
    };
    let mut paths = vec![("manifests", ctx.settings.manifests.clone(), true)];
    for image in &ctx.settings.images {
        paths.push(("context", image.context.clone(), true));
        paths.push(("dockerfile", image.context.join(&image.dockerfile), false));
    }
    let checks = paths.into_iter().map(|(what, rel, dir)| {
        let subject = format!("{what} {}", rel.display());
        match std::fs::canonicalize(ctx.root.join(&rel)) {
            Ok(real) if !real.starts_with(&root) => check(
                "settings",
                subject,
                Level::Fail,
                format!("resolves to {}, outside the repository", real.display()),
            ),
            Ok(real) if real.is_dir() == dir => check("settings", subject, Level::Ok, "exists"),
            _ => check(
                "settings",
                subject,
                Level::Fail,
                format!(
                    "no such {} under {}",
                    if dir { "folder" } else { "file" },
                    ctx.root.display()
                ),
            )
            .fix(path_fix),
        }
    });
    std::iter::once(parsed).chain(checks).collect()
}

fn kustomizations(ctx: &Ctx) -> Vec<(PathBuf, String)> {
    let Ok(files) =
        crate::kustomize::discover(&ctx.root, std::slice::from_ref(&ctx.settings.manifests))
    else {
        return Vec::new();
    };
    files
        .files
        .into_iter()
        .filter_map(|f| {
            Some((
                f.clone(),
                crate::files::read_text(&ctx.root.join(&f)).ok()?.0,
            ))
        })
        .collect()
}

fn network_checks(
    ctx: &Ctx,
    runner: &Runner,
    found: &[Found],
    deployed: &[Deployed],
) -> Vec<Check> {
    let s = &ctx.settings;
    let tool = match read_tool(Choice::Auto, runner) {
        Ok(tool) => tool,
        Err(e) => {
            return vec![
                check(
                    "registry",
                    "registry tool",
                    Level::Warn,
                    format!("registries not checked: {e:#}"),
                )
                .fix(tools::SKOPEO.hint),
            ];
        }
    };
    let cosign = found
        .iter()
        .any(|f| f.name == COSIGN.name && f.path.is_some());
    let probe = |r: &ImageRef| {
        let out = runner.output(&registry::inspect_digest(tool, r, plain_http(r, false)));
        match out {
            Ok(out) => deploy_checks::classify(&out, |stdout| {
                registry::parse_inspect_digest(tool, stdout).ok()
            }),
            Err(e) => Probe::Unreachable(format!("{e:#}")),
        }
    };
    let mut out = Vec::new();
    let mut facts: Vec<TagFacts> = Vec::new();
    for (role, registry) in [
        (Role::Primary, &s.registry),
        (Role::Backup, &s.backup_registry),
    ] {
        let name =
            |d: &Deployed| resolve::image_name(registry, &d.image).map(|r| r.with_tag(&d.tag));
        let mut failure = None;
        for (i, d) in deployed.iter().enumerate() {
            let result = match (&failure, name(d)) {
                (None, Ok(r)) => probe(&r),
                _ => Probe::Unreachable(String::new()),
            };
            if matches!(result, Probe::Unreachable(_) | Probe::Denied(_)) && failure.is_none() {
                failure = Some(result.clone());
            }
            match role {
                Role::Primary => facts.push(TagFacts {
                    primary: result,
                    backup: None,
                    platforms: None,
                    signed: None,
                }),
                Role::Backup => facts[i].backup = failure.is_none().then_some(result),
            }
        }
        if deployed.is_empty() {
            let bare = s.images.first().map(|i| {
                let [primary, backup] = resolve::names(s, &i.name);
                if role == Role::Primary {
                    primary
                } else {
                    backup
                }
            });
            if let Some(r) = bare {
                failure = Some(probe(&r))
                    .filter(|p| matches!(p, Probe::Unreachable(_) | Probe::Denied(_)));
            }
        }
        out.push(deploy_checks::registry_check(
            role,
            registry,
            failure.as_ref(),
            s.network_timeout.as_secs(),
        ));
    }
    for (d, f) in deployed.iter().zip(facts.iter_mut()) {
        if let Probe::Found(digest) = &f.primary {
            let [named, _] = resolve::names(s, &d.image);
            f.platforms = Some(platforms(runner, tool, &named.with_tag(&d.tag)));
            f.signed = cosign.then(|| signed(runner, &named.with_digest(digest)));
        }
        out.extend(deploy_checks::tag_checks(d, f, s));
    }
    out
}

fn platforms(runner: &Runner, tool: RegistryTool, r: &ImageRef) -> Result<Vec<String>, String> {
    registry::index_platforms(runner, tool, r, plain_http(r, false)).map_err(|e| format!("{e:#}"))
}

fn signed(runner: &Runner, r: &ImageRef) -> Result<bool, String> {
    let version = runner
        .output(&cosign::version_cmd())
        .map_err(|e| format!("{e:#}"))?;
    let major = cosign::parse_version(&format!("{}{}", version.stdout, version.stderr))
        .map_err(|e| format!("{e:#}"))?;
    let target = cosign::Target {
        reference: r,
        insecure: plain_http(r, false),
        tlog: !plain_http(r, false),
        major,
    };
    let cmd = cosign::tree(&target).map_err(|e| e.to_string())?;
    let stdout = runner.read(&cmd).map_err(|e| format!("{e:#}"))?;
    Ok(cosign::tree_has_signature(&stdout))
}

fn report(format: DoctorFormat, found: &[Found], deployed: &[Deployed], all: &[Check]) {
    if format == DoctorFormat::Json {
        let json = serde_json::json!({
            "ok": !checks::failed(all),
            "tools": found,
            "deployed": deployed,
            "checks": all,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("plain data serialises")
        );
    }
    for c in all {
        let level = match c.level {
            Level::Ok => "ok",
            Level::Skip => "skip",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        eprintln!("{level:<5} {:<9} {}: {}", c.area, c.subject, c.message);
        if let Some(fix) = &c.fix
            && c.level != Level::Ok
        {
            eprintln!("{:16}fix: {fix}", "");
        }
    }
    let count = |l| all.iter().filter(|c| c.level == l).count();
    eprintln!(
        "doctor: {} problem(s), {} warning(s), {} ok",
        count(Level::Fail),
        count(Level::Warn),
        count(Level::Ok)
    );
}
