//! Every subcommand and flag of `cargo xtask`, with its help text, in one place.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The homelab repo's automation: build, tag, lint, scan and sign the shared base image and the
/// manifests Argo CD deploys.
///
/// Exit codes: 0 success; 1 the check found something; 2 bad input, a missing tool or a tool failure.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    max_term_width = 100
)]
pub struct Xtask {
    /// Repository root (default: the git work tree containing the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    UpdateImages(UpdateImages),
    Test(Test),
    LintManifests(LintManifests),
    BuildBase(BuildBase),
    Push(Push),
    TrivyScan(TrivyScan),
    Sign(Sign),
    Release(Release),
    Doctor(Doctor),
    Diff(Diff),
    Smoke(Smoke),
}

/// Set the base image's tag in every kustomization.yaml, keeping every other byte.
///
/// The tag is `sha-` plus the first 7 hex digits of the commit. With no SHA it is the last commit
/// that changed the image's build context, since that is the commit the image was built from.
#[derive(Debug, Args)]
pub struct UpdateImages {
    /// Commit to tag with: 7 to 40 hex digits naming a commit of this repo.
    pub sha: Option<String>,

    /// Kustomization file or folder to update (repeatable; default: every kustomization under the
    /// manifests root).
    #[arg(long, value_name = "PATH")]
    pub path: Vec<PathBuf>,

    /// Only update entries for this image: a configured short name (python-base) or a full name
    /// (ghcr.io/dcasati/python-base) (repeatable).
    #[arg(long, value_name = "NAME")]
    pub image: Vec<String>,

    /// Print a unified diff and write nothing.
    #[arg(long, conflicts_with_all = ["check", "commit"])]
    pub dry_run: bool,

    /// Write nothing; exit 1 if any file would change.
    #[arg(long, conflicts_with = "commit")]
    pub check: bool,

    /// Commit exactly the changed kustomization files: "Update images to sha-abc1234".
    #[arg(long)]
    pub commit: bool,

    /// Check that the tag exists in the primary registry (skopeo, or docker buildx imagetools)
    /// before anything is written.
    #[arg(long)]
    pub verify: bool,

    /// Also pin each entry's `digest` to the image's digest in the primary registry (implies
    /// --verify).
    #[arg(long)]
    pub digest: bool,
}

/// Run every test of the repo: the Rust suite, then the Python services' pytest suite.
///
/// The Rust tests run with nextest when it is installed. The Python side runs in a virtual
/// environment under target/xtask/venv, made once with `python3 -m venv` and reused; the system
/// Python is never changed. `XTASK_E2E=1` adds the end-to-end tests against real tools (and
/// requirements-e2e.txt to the environment), and a missing tool then fails instead of skipping.
#[derive(Debug, Args)]
pub struct Test {
    /// Only the Rust tests.
    #[arg(long, conflicts_with = "python")]
    pub rust: bool,

    /// Only the Python tests.
    #[arg(long)]
    pub python: bool,

    /// Only make or update the Python test environment (target/xtask/venv); run no test.
    #[arg(long, conflicts_with_all = ["rust", "python"])]
    pub setup: bool,
}

/// Lint the manifests root (k8s-apps): YAML, kustomizations, workloads, security and Dockerfiles,
/// with exact file:line:column positions.
///
/// Suppress a finding on its line or the line above with
/// `# xtask-lint: allow RULE-ID reason` (the reason is required). Turn rules off or change their
/// severity in `[workspace.metadata.xtask.lint.rules]`: RULE-ID = "off" | "warning" | "error".
/// Exit 1 when an error is found (or a warning, under --deny-warnings).
#[derive(Debug, Args)]
pub struct LintManifests {
    /// Files or folders to report on (as pre-commit passes them); cross-file relations are still
    /// resolved against the whole tree. Default: everything under the manifests root.
    pub paths: Vec<PathBuf>,

    /// Output format: human (stderr), json, github or sarif (stdout).
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,

    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Also render every kustomization root with `kustomize build` or `kubectl kustomize`.
    #[arg(long)]
    pub render: bool,

    /// Print what RULE checks and why, then exit.
    #[arg(long, value_name = "RULE", conflicts_with_all = ["paths", "list_rules"])]
    pub explain: Option<String>,

    /// List every rule with its default severity, then exit.
    #[arg(long)]
    pub list_rules: bool,

    /// Benchmark baseline: only read and parse the files (same walk, threads and parser).
    #[arg(long, hide = true)]
    pub parse_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    Github,
    Sarif,
}

/// The program that builds images and talks to registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineChoice {
    /// docker when `docker buildx version` works, else podman.
    Auto,
    Docker,
    Podman,
}

impl From<EngineChoice> for crate::engine::Choice {
    fn from(choice: EngineChoice) -> Self {
        match choice {
            EngineChoice::Auto => Self::Auto,
            EngineChoice::Docker => Self::Docker,
            EngineChoice::Podman => Self::Podman,
        }
    }
}

/// The image flags of build-base, push and sign, resolved once per run (`resolve::target`).
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The configured image (default: the first, python-base). sign also takes a full reference
    /// with a digest, REGISTRY/PATH@sha256:….
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,

    /// The registry: ghcr, backup, or HOST[:PORT]/PATH (default: the build record's for that
    /// tag, else the primary; build-base: the primary). push: the source registry.
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,

    /// The commit whose `sha-<7 hex>` tag to use (7 to 40 hex digits; default: build-base,
    /// HEAD's context; push and sign, the build record's). build-base builds a commit other
    /// than HEAD from its own tree, exported to a temp folder; sign signs the digest the tag
    /// has in the registry.
    #[arg(long, value_name = "SHA")]
    pub sha: Option<String>,

    /// Talk plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    pub insecure_registry: bool,
}

impl ImageArgs {
    /// What the resolver takes: the same flags, borrowed.
    pub fn wanted(&self) -> crate::resolve::Wanted<'_> {
        crate::resolve::Wanted {
            image: self.image.as_deref(),
            registry: self.registry.as_deref(),
            sha: self.sha.as_deref(),
            insecure: self.insecure_registry,
        }
    }
}

/// Image Updater's and cosign's issuer of GitHub Actions' OIDC tokens (`cosign::GITHUB_ISSUER`).
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Build the base image for linux/amd64 and linux/arm64, tagged `sha-<7 hex>` of the commit.
///
/// The build record goes to target/xtask/images/<image>.json; the reference with its digest is
/// printed on stdout. Replaces `./build.sh [SHA]`.
#[derive(Debug, Args)]
pub struct BuildBase {
    #[command(flatten)]
    pub target: ImageArgs,

    /// Which engine builds: docker (buildx) or podman.
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,

    /// Build a context with uncommitted changes; the tag gets `-dirty` and cannot be pushed.
    #[arg(long)]
    pub allow_dirty: bool,

    /// Platforms, os/arch[/variant], comma-separated or repeated (default: the settings').
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub platform: Vec<String>,

    /// Build cache: auto (gha under GitHub Actions, else none), gha, registry, local:DIR, none.
    #[arg(long, value_name = "CACHE", default_value = "auto")]
    pub cache: String,

    /// Push the image to the registry.
    #[arg(long, conflicts_with = "load")]
    pub push: bool,

    /// Build the one --platform given and push it with no tag, by digest only; the digest goes
    /// to target/xtask/digests/<os>-<arch> for `push --merge` (one runner or node a platform).
    #[arg(long, conflicts_with_all = ["push", "load", "skip_existing"])]
    pub push_by_digest: bool,

    /// The buildx builder to build with (docker only), e.g. a two-node builder whose nodes
    /// each build their own platform natively.
    #[arg(long, value_name = "NAME")]
    pub builder: Option<String>,

    /// Load a single-platform image into the local image store.
    #[arg(long)]
    pub load: bool,

    /// Build only if the context changed between BASE (default: the merge-base with main or
    /// master, else the commit's parent) and the commit; else say why and exit 0.
    #[arg(long, value_name = "BASE", num_args = 0..=1, default_missing_value = "")]
    pub if_changed: Option<String>,

    /// Skip the build when the registry already has the tag.
    #[arg(long)]
    pub skip_existing: bool,

    /// Log in to the registry first: token from GITHUB_TOKEN (ghcr.io) or REGISTRY_TOKEN, user
    /// from GITHUB_ACTOR or the settings' registry-user.
    #[arg(long)]
    pub login: bool,

    /// Print the commands and run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Push a built image to a registry, or mirror it registry to registry by digest, then check
/// that the destination's digest equals the source's.
#[derive(Debug, Args)]
pub struct Push {
    #[command(flatten)]
    pub target: ImageArgs,

    /// docker (buildx imagetools, docker push) or podman (podman manifest push, skopeo copy).
    /// With auto, --mirror uses skopeo when installed, else docker buildx.
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,

    /// The destination registry: ghcr, backup, or HOST[:PORT]/PATH (default: the backup with
    /// --mirror, else the primary).
    #[arg(long, value_name = "REGISTRY")]
    pub to: Option<String>,

    /// Copy the multi-platform image by digest from --registry to --to, pulling nothing locally.
    #[arg(long, conflicts_with = "merge")]
    pub mirror: bool,

    /// Merge the per-platform digests in DIR (files named <os>-<arch>, written by
    /// `build-base --push-by-digest`) into one index, pushed under the tag to --registry; needs
    /// no local image. Every configured platform must be there exactly once.
    #[arg(long, value_name = "DIR", conflicts_with = "to")]
    pub merge: Option<PathBuf>,

    /// Log in to the destination registry first (GITHUB_TOKEN or REGISTRY_TOKEN on stdin).
    #[arg(long)]
    pub login: bool,

    /// Print the commands and run nothing (registry reads still run).
    #[arg(long)]
    pub dry_run: bool,
}

/// Machine output of `trivy-scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Only the summary, on stderr.
    Human,
    /// The summary on stderr, and every finding as JSON on stdout.
    Json,
    /// The summary on stderr, and SARIF 2.1.0 for GitHub code scanning on stdout: the findings
    /// at or above the threshold, one run (`automationDetails.id`) per scan kind.
    Sarif,
}

/// Scan with trivy: the image's vulnerabilities and secrets (every platform of it), the
/// manifests' misconfigurations, secrets in the tree, or a CycloneDX SBOM. Any combination runs
/// in one go. The repo's `.trivyignore` is honoured; each ID in it needs a `# reason` comment.
///
/// Exit 1 when any finding is at or above --severity-threshold; 2 when trivy is missing or fails
/// (an image scan needs trivy's vulnerability DB: on a machine without network access, fill the
/// cache first with `trivy image --download-db-only --cache-dir DIR`, then pass --offline).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scan").required(true).multiple(true)
    .args(["image", "config", "secrets", "sbom"])))]
pub struct TrivyScan {
    /// Scan an image for vulnerabilities and secrets, one run per platform (default: the build
    /// record's image, by digest; or the `sha-<7 hex>` tag of --sha).
    #[arg(long, value_name = "REF", num_args = 0..=1)]
    pub image: Option<Option<String>>,

    /// With --image: what to look for, with trivy's names (vuln needs the vulnerability DB;
    /// secret does not). Every platform of a multi-platform image is scanned.
    #[arg(
        long,
        value_enum,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "vuln,secret",
        requires = "image"
    )]
    pub scanners: Vec<crate::trivy::Scanner>,

    /// With --image and no REF: scan this commit's tag instead of the build record's digest.
    #[arg(long, value_name = "SHA", requires = "image")]
    pub sha: Option<String>,

    /// With --image and no REF: ghcr, backup, or HOST[:PORT]/PATH (default: the build record's).
    #[arg(long, value_name = "REGISTRY", requires = "image")]
    pub registry: Option<String>,

    /// Scan Kubernetes manifests and Dockerfiles for misconfigurations (default: the manifests
    /// root).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub config: Option<Option<PathBuf>>,

    /// Scan files for secrets (default: the repo root; target/ and node_modules/ are skipped).
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub secrets: Option<Option<PathBuf>>,

    /// Write a CycloneDX SBOM to FILE: of the image with --image, else of the build context.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,

    /// The directory --sbom describes (default: the image's build context).
    #[arg(long, value_name = "DIR", requires = "sbom")]
    pub context: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        default_value = "HIGH",
        value_name = "LEVEL"
    )]
    pub severity_threshold: crate::trivy::Severity,

    /// Also report vulnerabilities that have no fixed version yet (default: only fixable ones).
    #[arg(long)]
    pub include_unfixed: bool,

    /// Use the cached vulnerability DB only and make no network requests.
    #[arg(long)]
    pub offline: bool,

    /// trivy's cache folder (default: trivy's, or TRIVY_CACHE_DIR).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Talk plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    pub insecure_registry: bool,

    /// `json` adds every finding, normalized, on stdout; `sarif` those at or above the threshold.
    #[arg(long, value_enum, default_value_t = ScanFormat::Human)]
    pub format: ScanFormat,

    /// Write the --format json or sarif output to FILE (whole or not at all) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Sign the image with cosign, by digest only, or with --verify check its signature.
///
/// The key: --key, else `env://COSIGN_PRIVATE_KEY` when that variable is set (its password in
/// COSIGN_PASSWORD), else keyless (in GitHub Actions: `permissions: id-token: write`). Verify
/// uses --key, else `env://COSIGN_PUBLIC_KEY` when set, else keyless with the workflow identity
/// of GITHUB_REPOSITORY. Exit 1 when verification fails. cosign 2.x and 3.x are supported (read
/// from `cosign version`).
#[derive(Debug, Args)]
pub struct Sign {
    #[command(flatten)]
    pub target: ImageArgs,

    /// Verify the signature instead of signing.
    #[arg(long)]
    pub verify: bool,

    /// The digest to sign (default: the build record's).
    #[arg(long, value_name = "sha256:…", conflicts_with = "sha")]
    pub digest: Option<String>,

    /// Key reference for cosign: env://VAR, a file, or a KMS URI.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    /// Also attest FILE, a CycloneDX SBOM (`trivy-scan --image --sbom FILE`), on the same digest
    /// with the same key or keyless identity (`cosign attest --type cyclonedx`). With --verify:
    /// also verify that attestation.
    #[arg(long, value_name = "FILE")]
    pub attest_sbom: Option<PathBuf>,

    /// With --verify: also verify the CycloneDX SBOM attestation (`cosign verify-attestation`).
    #[arg(long, requires = "verify")]
    pub attestations: bool,

    /// Keyless verify: the signer identity regexp (default: GITHUB_REPOSITORY's workflows).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,

    /// Keyless verify: the OIDC issuer.
    #[arg(long, value_name = "URL", default_value = GITHUB_ISSUER)]
    pub certificate_oidc_issuer: String,

    /// Print the cosign command and run nothing (registry reads for --sha still run).
    #[arg(long)]
    pub dry_run: bool,
}

/// Build, push, smoke-test, scan, sign, mirror and deploy the base image in one go, by running
/// the other subcommands in order: build-base --push --skip-existing; smoke of the pushed digest
/// (every platform this machine can run); trivy-scan of the pushed digest,
/// every platform (SBOM in target/xtask/sbom/, SARIF in target/xtask/sarif/); sign
/// --attest-sbom of that SBOM; push --mirror (with --mirror); update-images to the same tag.
///
/// Each step's output is shown, then a summary table (step, result, time, digest). It stops at
/// the first failing step and runs nothing after it: an image that fails its smoke test or its
/// scan is pushed but never signed, mirrored or deployed. Exit 1 when the smoke test fails or
/// the scan finds something at or above HIGH; 2 when a step fails (a tool, the registry, bad
/// input).
#[derive(Debug, Args)]
pub struct Release {
    /// Which engine builds and mirrors: docker (buildx) or podman (with skopeo).
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,

    /// Registry to release to: ghcr, backup, or HOST[:PORT]/PATH (default: the primary).
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<String>,

    /// With --mirror: the copy's destination, ghcr, backup, or HOST[:PORT]/PATH (default: the
    /// backup).
    #[arg(long, value_name = "REGISTRY", requires = "mirror")]
    pub to: Option<String>,

    /// What the image scan looks for, passed to trivy-scan (vuln needs trivy's vulnerability
    /// DB; secret does not).
    #[arg(
        long,
        value_enum,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "vuln,secret"
    )]
    pub scanners: Vec<crate::trivy::Scanner>,

    /// Also copy the image by digest to the backup registry (or --to), after it is signed.
    #[arg(long)]
    pub mirror: bool,

    /// Build nothing: merge the per-platform digests in DIR (`push --merge DIR`), then scan,
    /// sign, mirror and update as usual.
    #[arg(long, value_name = "DIR", conflicts_with = "builder")]
    pub merge: Option<PathBuf>,

    /// The buildx builder that build-base uses (docker only).
    #[arg(long, value_name = "NAME")]
    pub builder: Option<String>,

    /// Commit the updated kustomizations ("Update images to sha-abc1234").
    #[arg(long)]
    pub commit: bool,

    /// Do not sign. The scan still gates the mirror and the deploy, but the image is released
    /// UNSIGNED: Image Updater's signature check refuses it, and doctor reports it. The summary
    /// says so.
    #[arg(long)]
    pub skip_sign: bool,

    /// Print the whole plan (each step as the `cargo xtask` command it runs, secrets by name
    /// only) and run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Why doesn't it work? Checks the tools, the settings, both registries, and that every tag
/// Argo CD will deploy exists in both registries under one digest, for every platform, signed.
///
/// Each problem is named with the command that fixes it. Exit 0 when all is well; 1 when
/// something is wrong (a missing tool only counts when no build engine is found at all, or when
/// --for names a subcommand that needs it); 2 for bad input.
#[derive(Debug, Args)]
pub struct Doctor {
    /// Also exit 1 when a tool that SUBCOMMAND needs is missing (e.g. sign needs cosign).
    #[arg(long = "for", value_name = "SUBCOMMAND")]
    pub for_command: Option<String>,

    /// Skip every network check (registries, tags, signatures).
    #[arg(long)]
    pub offline: bool,

    /// The buildx builder to inspect (default: the current one): which node builds each
    /// configured platform natively, and which only under QEMU.
    #[arg(long, value_name = "NAME")]
    pub builder: Option<String>,

    /// human (stderr) or json (stdout).
    #[arg(long, value_enum, default_value_t = DoctorFormat::Human)]
    pub format: DoctorFormat,
}

/// Run the pushed image before anyone deploys it: its smoke command (the settings' `smoke`;
/// for the base image, the interpreter importing every third-party module the services'
/// scripts import), then its own CMD, on every platform of its index, by digest.
///
/// Each run is hardened like the CronJobs: UID 65534, read-only root filesystem, no network
/// (the output says what the engine could not apply). A platform runs natively, or under qemu
/// when binfmt_misc has an emulator for it; else it is NOT RUN, with the fix, and never counts
/// as passed. Exit 0 when every platform that ran passed; 1 when one failed; 2 on bad input, a
/// tool failure, or when no platform could run.
#[derive(Debug, Args)]
pub struct Smoke {
    #[command(flatten)]
    pub target: ImageArgs,

    /// docker, podman, or buildah (chroot isolation). auto: docker when its daemon answers, else
    /// podman, else buildah; podman falls back to buildah where it cannot start containers.
    #[arg(long, value_enum, default_value_t = SmokeEngine::Auto)]
    pub engine: SmokeEngine,

    /// Test this digest (default: the build record's, once its tag still holds it; with --sha,
    /// the digest that tag has in the registry).
    #[arg(long, value_name = "sha256:…", conflicts_with = "sha")]
    pub digest: Option<String>,

    /// Test the digest that `build-base --push-by-digest` wrote to DIR (target/xtask/digests)
    /// for the configured platform: exactly one must be configured (XTASK_PLATFORMS on a
    /// per-platform runner) and present.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["sha", "digest"])]
    pub digests: Option<std::path::PathBuf>,
}

/// The program `smoke` runs the image with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmokeEngine {
    Auto,
    Docker,
    Podman,
    Buildah,
}

/// Output of `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// One line a check, on stderr.
    Human,
    /// The same facts as JSON, on stdout.
    Json,
}

/// What will Argo CD change? Renders every Application of this repo (and every top-level
/// kustomization no Application covers) at BASE and at HEAD, offline, and compares the objects.
///
/// Objects are compared by group, kind, namespace and name (a generated ConfigMap's hash suffix
/// folded); Secret values are never printed. Exit 0 with or without changes (1 when there are
/// changes, with --exit-code); 2 when a unit fails to render or BASE is not in a shallow clone.
#[derive(Debug, Args)]
pub struct Diff {
    /// The commit to compare against (default: the merge-base of --head and origin/HEAD, else
    /// main).
    pub base: Option<String>,

    /// The commit to compare.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub head: String,

    /// human (stdout, coloured on a terminal), markdown (a PR comment) or json (stdout).
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,

    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Let kustomize fetch remote resources (bases on GitHub, Helm chart repos); by default a
    /// unit that names one is refused, since diff needs no network.
    #[arg(long)]
    pub allow_remote: bool,

    /// Exit 1 when anything changed, like `git diff --exit-code`.
    #[arg(long)]
    pub exit_code: bool,
}

/// Output of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Image lines, then each unit's object diffs.
    Human,
    /// A pull-request comment within GitHub's 65,536-character limit.
    Markdown,
    /// The stable JSON shape the README documents.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Xtask::command().debug_assert();
    }

    #[test]
    fn the_default_issuer_is_cosigns() {
        assert_eq!(GITHUB_ISSUER, crate::cosign::GITHUB_ISSUER);
    }
}
