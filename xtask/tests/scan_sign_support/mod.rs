//! Helpers for the trivy-scan and sign tests: a fixture repo, a runner for the built binary
//! with a clean environment, and recording stand-ins (`cosign` cannot be installed here;
//! `trivy` can, but its image scan needs a vulnerability DB that cannot be downloaded here).
#![allow(dead_code)]

#[path = "../support/mod.rs"]
#[macro_use]
pub mod shared;

use shared::GitRepo;
pub use shared::{Outcome, xtask};
use std::path::{Path, PathBuf};
use xtask::build_record::BuildRecord;

pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

repo_fixture! {
    /// A git repo with a root Cargo.toml (default settings) and the base image's context.
    Fixture
}

impl Fixture {
    pub fn new() -> Fixture {
        let fixture = Fixture(GitRepo::new());
        fixture.write("Cargo.toml", "[workspace]\n");
        fixture.write(
            "k8s-apps/base-images/Dockerfile",
            "FROM python:3.11-slim\nUSER 10001\n",
        );
        fixture
    }

    /// Writes the build record build-base would leave.
    pub fn record(&self, registry: &str, digest: Option<String>, pushed: bool) {
        BuildRecord {
            image: "python-base".into(),
            registry: registry.into(),
            tag: "sha-abc1234".into(),
            digest,
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            commit: "abc1234".repeat(5) + "abcde",
            pushed,
            engine: "podman".into(),
        }
        .write(self.root())
        .unwrap();
    }
}

/// The recording stand-in for `cosign`, `trivy` or `skopeo`: each call gets `<record>/<n>/`
/// with `argv` (one argument a line), `stdin`, and `env.NAME` for each of the variables below
/// that is set. `$FAKE_FAIL` makes it print that text on stderr and exit 1 (`leak` prints the
/// password, as a careless tool might); `$FAKE_STDOUT` is printed on stdout.
/// How every stand-in ends: `$FAKE_STDOUT` on stdout, then `$FAKE_FAIL` (see [`STAND_IN`]).
macro_rules! stand_in_answer {
    () => {
        r#"[ -n "$FAKE_STDOUT" ] && printf '%s\n' "$FAKE_STDOUT"
case "$FAKE_FAIL" in
"") exit 0 ;;
leak) echo "Error: decrypting the key with password $COSIGN_PASSWORD failed" >&2; exit 1 ;;
*) printf '%s\n' "$FAKE_FAIL" >&2; exit 1 ;;
esac
"#
    };
}

pub const STAND_IN: &str = concat!(
    r#"#!/bin/sh
rec="$FAKE_RECORD"
n=$(ls "$rec" | grep -c '^[0-9]')
n=$((n + 1))
mkdir "$rec/$n"
for a in "$@"; do printf '%s\n' "$a"; done > "$rec/$n/argv"
cat > "$rec/$n/stdin"
for v in COSIGN_PRIVATE_KEY COSIGN_PASSWORD COSIGN_PUBLIC_KEY TRIVY_USERNAME TRIVY_PASSWORD; do
  eval "set=\${$v+x} val=\${$v}"
  [ -n "$set" ] && printf '%s' "$val" > "$rec/$n/env.$v"
done
"#,
    stand_in_answer!()
);

/// A bin folder holding stand-ins, and the folder their calls are recorded in.
pub struct StandIn {
    pub bin: tempfile::TempDir,
    pub record: tempfile::TempDir,
}

impl StandIn {
    /// Stand-ins named `programs`, all recording into one folder.
    pub fn new(programs: &[&str]) -> StandIn {
        let stand_in = StandIn {
            bin: tempfile::tempdir().unwrap(),
            record: tempfile::tempdir().unwrap(),
        };
        for program in programs {
            shared::install_script(stand_in.bin.path(), program, STAND_IN);
        }
        stand_in
    }

    /// PATH with the stand-ins first, then the system's folders (for sh, ls, grep, cat).
    pub fn path(&self) -> String {
        format!("{}:/usr/bin:/bin", self.bin.path().display())
    }

    /// `FAKE_RECORD` and the caller's stand-in controls.
    pub fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![("FAKE_RECORD", self.record.path().to_str().unwrap())];
        env.extend_from_slice(extra);
        env
    }

    /// Runs `xtask --root ROOT ARGS` with the stand-ins on PATH, `FAKE_RECORD` and `extra` set.
    pub fn run(&self, root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Outcome {
        xtask(root, args, &self.env(extra), Some(&self.path()))
    }

    /// How many calls were recorded (the numbered folders).
    pub fn calls(&self) -> usize {
        shared::recorded_calls(self.record.path()).len()
    }

    fn call(&self, n: usize) -> PathBuf {
        self.record.path().join(n.to_string())
    }

    pub fn argv(&self, n: usize) -> Vec<String> {
        std::fs::read_to_string(self.call(n).join("argv"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The value a variable had in call `n`, or `None` when it was not set.
    pub fn env_of(&self, n: usize, var: &str) -> Option<String> {
        std::fs::read_to_string(self.call(n).join(format!("env.{var}"))).ok()
    }

    pub fn stdin(&self, n: usize) -> String {
        std::fs::read_to_string(self.call(n).join("stdin")).unwrap()
    }
}

/// Flags each cosign subcommand we call accepts, as cobra registers them at v2.5.3 and v3.1.2
/// (sigstore/cosign `cmd/cosign/cli/options/*.go`: the command's own AddFlags plus the option
/// groups it embeds, plus the root's persistent flags). Bool flags take no separate value.
struct CosignFlags {
    bools: &'static str,
    values: &'static str,
}

const ROOT_BOOLS: &str = "verbose";
const ROOT_VALUES: &str = "output-file timeout";
/// Registry, Rekor, Fulcio, OIDC, SecurityKey option groups (identical in both versions).
const REGISTRY_BOOLS: &str = "allow-insecure-registry allow-http-registry k8s-keychain";
const REGISTRY_VALUES: &str = "registry-username registry-password registry-token \
    registry-cacert registry-client-cert registry-client-key registry-server-name \
    registry-referrers-mode";
const SIGNER_BOOLS: &str = "insecure-skip-verify oidc-disable-ambient-providers sk";
const SIGNER_VALUES: &str = "rekor-url fulcio-url identity-token fulcio-auth-flow oidc-issuer \
    oidc-client-id oidc-client-secret-file oidc-redirect-url oidc-provider slot";
const TSA_VALUES: &str = "timestamp-client-cacert timestamp-client-cert timestamp-client-key \
    timestamp-server-name timestamp-server-url";
/// CertVerify, CommonVerify, SecurityKey, Rekor for verify and verify-attestation.
const VERIFY_BOOLS: &str = "insecure-ignore-sct offline use-signed-timestamps \
    insecure-ignore-tlog private-infrastructure experimental-oci11 new-bundle-format sk \
    check-claims local-image";
const VERIFY_VALUES: &str = "certificate certificate-identity certificate-identity-regexp \
    certificate-oidc-issuer certificate-oidc-issuer-regexp certificate-github-workflow-trigger \
    certificate-github-workflow-sha certificate-github-workflow-name \
    certificate-github-workflow-repository certificate-github-workflow-ref ca-intermediates \
    ca-roots certificate-chain sct timestamp-certificate-chain max-workers trusted-root slot \
    rekor-url key output";

fn cosign_flags(major: u8, subcommand: &str) -> (String, String) {
    let own = match (major, subcommand) {
        (2, "sign") => CosignFlags {
            bools: "upload recursive yes tlog-upload issue-certificate record-creation-timestamp",
            values: "key certificate certificate-chain output-signature output-payload \
                output-certificate payload attachment sign-container-identity annotations",
        },
        (3, "sign") => CosignFlags {
            bools: "upload recursive yes tlog-upload issue-certificate record-creation-timestamp \
                new-bundle-format use-signing-config",
            values: "key certificate certificate-chain output-signature output-payload \
                output-certificate payload attachment sign-container-identity annotations bundle \
                signing-config trusted-root",
        },
        (2, "attest") => CosignFlags {
            bools: "no-upload replace yes tlog-upload record-creation-timestamp new-bundle-format",
            values: "key certificate certificate-chain rekor-entry-type type predicate",
        },
        (3, "attest") => CosignFlags {
            bools: "no-upload replace yes tlog-upload record-creation-timestamp new-bundle-format \
                issue-certificate use-signing-config",
            values: "key certificate certificate-chain rekor-entry-type type predicate statement \
                bundle signing-config trusted-root",
        },
        (_, "verify") => CosignFlags {
            bools: "",
            values: "attachment signature payload signature-digest-algorithm annotations",
        },
        (2, "verify-attestation") => CosignFlags {
            bools: "",
            values: "type policy",
        },
        (3, "verify-attestation") => CosignFlags {
            bools: "",
            values: "type policy signature-digest-algorithm",
        },
        _ => panic!("no cosign {major} {subcommand} in the stand-in"),
    };
    let (bools, values) = if subcommand.starts_with("verify") {
        (VERIFY_BOOLS.to_string(), VERIFY_VALUES.to_string())
    } else {
        (
            SIGNER_BOOLS.to_string(),
            format!("{SIGNER_VALUES} {TSA_VALUES}"),
        )
    };
    let squeeze = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    (
        squeeze(format!(
            "{ROOT_BOOLS} {REGISTRY_BOOLS} {bools} {}",
            own.bools
        )),
        squeeze(format!(
            "{ROOT_VALUES} {REGISTRY_VALUES} {values} {}",
            own.values
        )),
    )
}

/// The strict stand-in for cosign `major` (2 claims v2.5.3, 3 claims v3.1.2). It records each
/// sign, attest, verify and verify-attestation call as [`STAND_IN`] does (`cosign version` is
/// answered on stderr, as cobra's Println does, and only counted in `<record>/versions`), and
/// before that fails exactly where that cosign would:
/// - an unknown flag or shorthand, a bool given a non-bool value, a value flag without one;
/// - the mutually exclusive groups (`use-signing-config`/`signing-config` in v3;
///   `ca-roots`/`certificate-chain` and `ca-intermediates`/`certificate-chain` in verify), the
///   required `--predicate` (v2) or one of `--predicate`/`--statement` (v3) of attest;
/// - v3's PreRunE bundle check and `LoadTrustedMaterialAndSigningConfig` (signcommon/common.go):
///   with a signing config (the default), `--tlog-upload=false` or a service URL is an error;
/// - keyless verification without an identity and issuer;
/// - and, once anything was signed into this record folder, verification against it: a
///   signature or attestation made with `--tlog-upload=false` verifies only with
///   `--insecure-ignore-tlog=true`, an attestation only for its `--type`.
///
/// `FAKE_COSIGN_VERSION` overrides the version it claims.
pub fn cosign_stand_in(major: u8) -> String {
    let version = match major {
        2 => "v2.5.3",
        3 => "v3.1.2",
        _ => panic!("cosign {major} has no stand-in"),
    };
    let table = ["sign", "attest", "verify", "verify-attestation"]
        .iter()
        .map(|sub| {
            let (bools, values) = cosign_flags(major, sub);
            format!("{sub}) bools=\" {bools} \"; values=\" {values} \" ;;\n")
        })
        .collect::<String>();
    COSIGN_STAND_IN
        .replace("@VERSION@", version)
        .replace("@MAJOR@", &major.to_string())
        .replace("@TABLE@", &table)
}

const COSIGN_STAND_IN: &str = concat!(
    r#"#!/bin/sh
rec="$FAKE_RECORD"
version="${FAKE_COSIGN_VERSION:-@VERSION@}"
major=@MAJOR@
fail() { printf 'Error: %s\n' "$1" >&2; exit 1; }
sub="$1"
[ $# -gt 0 ] && shift
case "$sub" in
version) echo x >> "$rec/versions"
  printf '%s\n' "  ______   ______        _______. __    _______ .__   __." \
    "cosign: A tool for Container Signing, Verification and Storage in an OCI registry." "" \
    "GitVersion:    $version" "GitCommit:     0000000" "GitTreeState:  clean" >&2
  exit 0 ;;
@TABLE@
*) fail "unknown command \"$sub\" for \"cosign\"" ;;
esac
n=$(ls "$rec" | grep -c '^[0-9]')
n=$((n + 1))
mkdir "$rec/$n"
{ printf '%s\n' "$sub"; for a in "$@"; do printf '%s\n' "$a"; done; } > "$rec/$n/argv"
cat > "$rec/$n/stdin"
for v in COSIGN_PRIVATE_KEY COSIGN_PASSWORD COSIGN_PUBLIC_KEY; do
  eval "set=\${$v+x} val=\${$v}"
  [ -n "$set" ] && printf '%s' "$val" > "$rec/$n/env.$v"
done
given=" "; pos=""
while [ $# -gt 0 ]; do
  a="$1"; shift
  case "$a" in
  --) pos="$pos $*"; break ;;
  --*=*) name="${a%%=*}"; name="${name#--}"; val="${a#*=}"
    case "$bools" in
    *" $name "*) case "$val" in 1|t|T|true|TRUE|True) val=true ;; 0|f|F|false|FALSE|False) val=false ;;
      *) fail "invalid argument \"$val\" for \"--$name\" flag: strconv.ParseBool: parsing \"$val\": invalid syntax" ;; esac ;;
    *) case "$values" in *" $name "*) ;; *) fail "unknown flag: --$name" ;; esac ;;
    esac ;;
  --*) name="${a#--}"
    case "$bools" in
    *" $name "*) val=true ;;
    *) case "$values" in *" $name "*) [ $# -gt 0 ] || fail "flag needs an argument: --$name"; val="$1"; shift ;;
       *) fail "unknown flag: --$name" ;; esac ;;
    esac ;;
  -y) name=yes; val=true ;;
  -o) name=output; [ $# -gt 0 ] || fail "flag needs an argument: 'o' in -o"; val="$1"; shift ;;
  -*) fail "unknown shorthand flag: '${a#-}' in $a" ;;
  *) pos="$pos $a"; continue ;;
  esac
  given="$given$name "
  eval "f_$(printf '%s' "$name" | tr - _)=\"\$val\""
done
has() { case "$given" in *" $1 "*) return 0 ;; esac; return 1; }
[ -n "$pos" ] || fail "requires at least 1 arg(s), only received 0"
exclusive() { if has "$1" && has "$2"; then fail "if any flags in the group [$1 $2] are set none of the others can be; [$(printf '%s\n' "$1" "$2" | sort | tr '\n' ' ' | sed 's/ $//')] were all set"; fi; }
tlog="${f_tlog_upload:-true}"
case "$sub" in
sign|attest)
  if [ "$sub" = attest ]; then
    if [ $major = 2 ]; then has predicate || fail 'required flag(s) "predicate" not set'
    else has predicate || has statement || fail "at least one of the flags in the group [predicate statement] is required"; fi
  fi
  if [ $major = 3 ]; then
    exclusive use-signing-config signing-config
    nbf="${f_new_bundle_format:-true}"
    if [ "$sub" = sign ]; then noupload=$([ "${f_upload:-true}" = false ] && echo true || echo false)
    else noupload="${f_no_upload:-false}"; fi
    if [ "$nbf" = true ] && [ "$noupload" = true ] && ! has bundle; then
      fail "must enable upload to the OCI registry or specify a local --bundle path with --new-bundle-format"; fi
    if [ "${f_use_signing_config:-true}" = true ] || has signing-config; then
      if has rekor-url || has fulcio-url || has oidc-issuer || has timestamp-server-url; then
        fail "cannot specify service URLs and use signing config"; fi
      [ "$tlog" = true ] || fail "--tlog-upload=false is not supported with --signing-config or --use-signing-config. Provide a signing config with --signing-config without a transparency log service, which can be created with \`cosign signing-config create\` or \`curl https://raw.githubusercontent.com/sigstore/root-signing/refs/heads/main/targets/signing_config.v0.2.json | jq 'del(.rekorTlogUrls)'\` for the public instance"
      [ "$nbf" = true ] || has bundle || fail "must provide --new-bundle-format or --bundle where applicable with --signing-config or --use-signing-config"
    fi
  fi ;;
verify|verify-attestation)
  exclusive ca-roots certificate-chain
  exclusive ca-intermediates certificate-chain
  if ! has key; then
    has certificate-identity || has certificate-identity-regexp || fail "--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode"
    has certificate-oidc-issuer || has certificate-oidc-issuer-regexp || fail "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode"
  fi ;;
esac
ref="${pos# }"
mode=$(has key && echo key || echo keyless)
case "$sub" in
sign) printf 'sig %s %s tlog=%s\n' "$ref" "$mode" "$tlog" >> "$rec/store" ;;
attest) printf 'att-%s %s %s tlog=%s\n' "${f_type:-custom}" "$ref" "$mode" "$tlog" >> "$rec/store" ;;
verify|verify-attestation)
  if [ -f "$rec/store" ] && [ -z "$FAKE_FAIL" ]; then
    kind=sig; [ "$sub" = verify-attestation ] && kind="att-${f_type:-custom}"
    line=$(grep "^$kind $ref $mode " "$rec/store" | tail -1)
    [ -n "$line" ] || fail "no matching signatures: none of the $kind entries for $ref were made in $mode mode"
    case "$line" in *tlog=false) [ "${f_insecure_ignore_tlog:-false}" = true ] || fail "no matching signatures: signature not found in transparency log" ;; esac
  fi ;;
esac
"#,
    stand_in_answer!()
);

/// A `skopeo` that answers `inspect --format {{.Digest}}` with `$FAKE_TAG_DIGEST` (not found
/// when unset), as the registry read behind the build-record check, and `inspect --raw` with
/// `$FAKE_RAW_MANIFEST` (default: a single-platform manifest). Its calls are not numbered:
/// they are appended to `<record>/skopeo`.
pub const SKOPEO_ANSWER: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_RECORD/skopeo"
case " $* " in *" --raw "*)
  single='{"schemaVersion":2,"config":{},"layers":[]}'
  printf '%s\n' "${FAKE_RAW_MANIFEST:-$single}"; exit 0 ;;
esac
[ -n "$FAKE_TAG_DIGEST" ] && { printf '%s\n' "$FAKE_TAG_DIGEST"; exit 0; }
eval "ref=\${$#}"
echo "FATA[0000] Error parsing image name \"$ref\": reading manifest sha-x in $ref: manifest unknown" >&2
exit 1
"#;

impl StandIn {
    /// The answering `skopeo` ([`SKOPEO_ANSWER`]) and `others` recording.
    pub fn answering(others: &[&str]) -> StandIn {
        let stand_in = StandIn::new(others);
        shared::install_script(stand_in.bin.path(), "skopeo", SKOPEO_ANSWER);
        stand_in
    }

    /// The strict cosign stand-in of `major`, the answering `skopeo`, and `others` recording.
    pub fn cosign(major: u8, others: &[&str]) -> StandIn {
        let stand_in = StandIn::answering(others);
        shared::install_script(stand_in.bin.path(), "cosign", &cosign_stand_in(major));
        stand_in
    }

    /// How many times `cosign version` was asked.
    pub fn version_calls(&self) -> usize {
        std::fs::read_to_string(self.record.path().join("versions"))
            .map_or(0, |t| t.lines().count())
    }

    /// The registry reads the answering `skopeo` got, one line of argv each.
    pub fn skopeo_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.record.path().join("skopeo"))
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }
}
