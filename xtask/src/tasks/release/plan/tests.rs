//! Unit tests of the release plan, its parse, the `--dry-run` text and the summary table.

use super::*;
use crate::flags::{EngineChoice, ScanFormat};
use crate::trivy::Scanner;

/// `cargo xtask release ARGS` (split at spaces), parsed.
fn release(args: &str) -> flags::Release {
    let argv = ["cargo xtask", "release"]
        .into_iter()
        .chain(args.split_whitespace());
    match flags::Xtask::try_parse_from(argv).unwrap().command {
        Command::Release(f) => f,
        other => panic!("{other:?}"),
    }
}

fn outputs() -> Outputs {
    Outputs::new(Path::new("/repo"), "python-base")
}

/// The plan of `release ARGS`, one line a step.
fn lines(args: &str) -> String {
    let steps = plan(&release(args), "python-base", &outputs());
    let lines: Vec<String> = steps
        .iter()
        .map(|s| match &s.action {
            Action::Run(argv) => command_line(argv),
            Action::Skip(why) => format!("{}: {why}", s.name.label()),
        })
        .collect();
    lines.join("\n")
}

#[test]
fn the_default_plan_builds_scans_signs_and_deploys_without_mirror_or_commit() {
    assert_eq!(
        lines(""),
        "\
cargo xtask build-base --engine auto --image python-base --push --skip-existing
cargo xtask smoke --engine auto --image python-base
cargo xtask trivy-scan --image --scanners vuln,secret --sbom /repo/target/xtask/sbom/python-base.cdx.json --format sarif --output /repo/target/xtask/sarif/python-base.sarif
cargo xtask sign --image python-base --attest-sbom /repo/target/xtask/sbom/python-base.cdx.json
push --mirror: skipped (no --mirror)
cargo xtask update-images --image python-base"
    );
}

#[test]
fn every_flag_reaches_the_step_that_takes_it() {
    let args = "--engine podman --registry 127.0.0.1:5000/homelab --to backup \
                --scanners secret --mirror --commit";
    assert_eq!(
        lines(args),
        "\
cargo xtask build-base --engine podman --image python-base --registry 127.0.0.1:5000/homelab --push --skip-existing
cargo xtask smoke --engine podman --image python-base --registry 127.0.0.1:5000/homelab
cargo xtask trivy-scan --image --scanners secret --registry 127.0.0.1:5000/homelab --sbom /repo/target/xtask/sbom/python-base.cdx.json --format sarif --output /repo/target/xtask/sarif/python-base.sarif
cargo xtask sign --image python-base --registry 127.0.0.1:5000/homelab --attest-sbom /repo/target/xtask/sbom/python-base.cdx.json
cargo xtask push --mirror --engine podman --image python-base --registry 127.0.0.1:5000/homelab --to backup
cargo xtask update-images --image python-base --commit"
    );
}

#[test]
fn every_planned_line_parses_into_its_task_with_its_flags() {
    let flags = release("--engine docker --registry ghcr --mirror --commit --scanners secret");
    let out = outputs();
    let parsed: Vec<Command> = plan(&flags, "python-base", &out)
        .iter()
        .map(|s| match &s.action {
            Action::Run(argv) => parse(argv).unwrap(),
            Action::Skip(why) => panic!("{why}"),
        })
        .collect();
    let ghcr = Some("ghcr");
    let docker = EngineChoice::Docker;
    let [build, smoke, scan, sign, mirror, deploy] = &parsed[..] else {
        panic!("{parsed:?}")
    };
    assert!(
        matches!(build, Command::BuildBase(b) if b.push && b.skip_existing && !b.dry_run
            && b.engine == docker && b.target.registry.as_deref() == ghcr),
        "{build:?}"
    );
    // The smoke test runs the build record's digest, with the release's engine.
    assert!(
        matches!(smoke, Command::Smoke(s) if s.digest.is_none() && s.target.sha.is_none()
            && s.engine == crate::flags::SmokeEngine::Docker
            && s.target.image.as_deref() == Some("python-base")
            && s.target.registry.as_deref() == ghcr),
        "{smoke:?}"
    );
    // The build record's digest (no REF), every platform, the SBOM and the SARIF file.
    assert!(
        matches!(scan, Command::TrivyScan(t) if t.image == Some(None)
            && t.scanners == [Scanner::Secret] && t.format == ScanFormat::Sarif
            && t.sbom.as_ref() == Some(&out.sbom) && t.output.as_ref() == Some(&out.sarif)
            && t.registry.as_deref() == ghcr),
        "{scan:?}"
    );
    assert!(
        matches!(sign, Command::Sign(s) if !s.verify && !s.dry_run && s.digest.is_none()
            && s.attest_sbom.as_ref() == Some(&out.sbom) && s.target.registry.as_deref() == ghcr),
        "{sign:?}"
    );
    assert!(
        matches!(mirror, Command::Push(p) if p.mirror && p.to.is_none() && p.engine == docker
            && p.target.registry.as_deref() == ghcr),
        "{mirror:?}"
    );
    assert!(
        matches!(deploy, Command::UpdateImages(u) if u.commit && u.sha.is_none()
            && u.image == ["python-base"]),
        "{deploy:?}"
    );
}

#[test]
fn skip_sign_skips_only_the_signature_and_says_so_loudly() {
    let steps = plan(&release("--skip-sign --mirror"), "python-base", &outputs());
    let names: Vec<_> = steps
        .iter()
        .filter(|s| matches!(s.action, Action::Run(_)))
        .map(|s| s.name)
        .collect();
    use StepName::*;
    assert_eq!(names, [Build, Smoke, Scan, Mirror, Deploy]);
    assert_eq!(
        steps[3].action,
        Action::Skip("SKIPPED (--skip-sign): NOT SIGNED")
    );
    let text = describe(&steps, Path::new("rec.json"), &[false; 4], true);
    assert!(
        text.contains("4. sign           SKIPPED (--skip-sign): NOT SIGNED"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: --skip-sign: the image is released UNSIGNED"),
        "{text}"
    );
}

#[test]
fn the_dry_run_text_lists_every_step_and_each_secret_by_name_only() {
    let steps = plan(&release(""), "python-base", &outputs());
    let text = describe(
        &steps,
        Path::new("/repo/rec.json"),
        &[true, true, false, false],
        false,
    );
    let expected = [
        "release plan (--dry-run: nothing runs):",
        "  1. build-base     cargo xtask build-base --engine auto",
        "  2. smoke          cargo xtask smoke --engine auto --image python-base",
        "  5. push --mirror  skipped (no --mirror)",
        "  6. update-images  cargo xtask update-images --image python-base",
        "digest step 1 records in /repo/rec.json (each checks",
        "  COSIGN_PRIVATE_KEY set      sign: cosign --key env://COSIGN_PRIVATE_KEY",
        "  COSIGN_PASSWORD    set      sign: the key's password",
        "  GITHUB_TOKEN       not set  trivy-scan: ghcr.io's password",
        "  REGISTRY_TOKEN     not set  trivy-scan",
    ];
    for line in expected {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    assert!(!text.contains("WARNING"), "{text}");
}

#[test]
fn the_summary_is_a_table_of_step_result_time_and_digest() {
    let d = format!("sha256:{}", "d".repeat(64));
    let row = |name, outcome, secs: Option<f64>, digest: Option<&str>| Row {
        name,
        outcome,
        time: secs.map(Duration::from_secs_f64),
        digest: digest.map(str::to_string),
        detail: None,
    };
    let smoke = Row {
        detail: Some("linux/amd64 passed, linux/arm64 NOT RUN".into()),
        ..row(StepName::Smoke, Outcome::Ok, Some(1.5), Some(&d))
    };
    let rows = [
        row(StepName::Build, Outcome::Ok, Some(12.34), Some(&d)),
        smoke,
        row(StepName::Scan, Outcome::Found, Some(3.0), Some(&d)),
        row(StepName::Sign, Outcome::NotRun, None, None),
        row(
            StepName::Mirror,
            Outcome::Skipped("skipped (no --mirror)"),
            None,
            None,
        ),
        row(StepName::Deploy, Outcome::Failed, Some(0.05), None),
    ];
    assert_eq!(
        summary(&rows),
        format!(
            "step           result                                         time  digest\n\
             build-base     ok                                            12.3s  {d}\n\
             smoke          ok (linux/amd64 passed, linux/arm64 NOT RUN)   1.5s  {d}\n\
             trivy-scan     FOUND (exit 1)                                 3.0s  {d}\n\
             sign           not run                                           -  -\n\
             push --mirror  skipped (no --mirror)                             -  -\n\
             update-images  FAILED (exit 2)                                0.1s  -\n"
        )
    );
}

#[test]
fn merge_replaces_the_build_and_builder_reaches_build_base() {
    let merged = lines("--merge /dl/digests --registry ghcr");
    assert!(
        merged.starts_with(
            "cargo xtask push --merge /dl/digests --engine auto --image python-base \
             --registry ghcr\ncargo xtask smoke --engine auto --image python-base \
             --registry ghcr\ncargo xtask trivy-scan"
        ),
        "{merged}"
    );
    assert!(!merged.contains("build-base"), "{merged}");
    let steps = plan(&release("--merge /dl/digests"), "python-base", &outputs());
    assert_eq!(steps[0].name, StepName::Merge);
    assert_eq!(steps[0].name.label(), "push --merge");
    for step in &steps {
        if let Action::Run(argv) = &step.action {
            parse(argv).unwrap();
        }
    }
    assert!(
        lines("--builder homelab").starts_with(
            "cargo xtask build-base --engine auto --image python-base --builder homelab --push \
             --skip-existing"
        ),
        "{}",
        lines("--builder homelab")
    );
    let both = ["cargo xtask", "release", "--merge", "d", "--builder", "b"];
    let err = flags::Xtask::try_parse_from(both).unwrap_err().to_string();
    assert!(err.contains("cannot be used with"), "{err}");
}
