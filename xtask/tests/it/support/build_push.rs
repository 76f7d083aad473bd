//! Helpers for the build-base and push tests: a temporary git repo with the base image's
//! context, a runner for the built binary with a clean environment, the recording `docker`
//! stand-in, and (for XTASK_E2E=1) a real `docker-registry` on a loopback port.
use super::GitRepo;
pub use super::{Outcome, free_port, temp_dir};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const CONTEXT: &str = "k8s-apps/base-images";
/// Commit times are fixed, so the `created` label is known.
pub const FIRST_TIME: i64 = super::FIRST_TIME;

/// A git repo holding a Cargo.toml with `[workspace.metadata.xtask]` and the base image context.
/// Its commits are 60 s apart, starting at [`FIRST_TIME`].
pub struct Fixture(GitRepo);

impl std::ops::Deref for Fixture {
    type Target = GitRepo;
    fn deref(&self) -> &GitRepo {
        &self.0
    }
}

impl Fixture {
    /// `settings` is the body of `[workspace.metadata.xtask]` (may be empty: the defaults).
    pub fn new(name: &str, settings: &str, dockerfile: &str) -> Fixture {
        let fixture = Fixture(GitRepo::named(&format!("bp-{name}")));
        fixture.write(
            "Cargo.toml",
            format!("[workspace]\n\n[workspace.metadata.xtask]\n{settings}\n"),
        );
        fixture.write(".gitignore", "/target\n");
        fixture.write(&format!("{CONTEXT}/Dockerfile"), dockerfile);
        fixture
    }

    pub fn copy_in(&self, from: &Path, to: &str) {
        let full = self.root().join(to);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::copy(from, full).unwrap();
    }

    pub fn set_origin(&self, url: &str) {
        self.git.remote("origin", url).unwrap();
    }

    pub fn record_path(&self) -> PathBuf {
        self.root().join("target/xtask/images/python-base.json")
    }

    pub fn record(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.record_path()).ok()?;
        Some(serde_json::from_str(&text).unwrap())
    }
}

/// Runs `cargo xtask ARGS` in `root` with a clean environment, then `env` applied.
/// `path` replaces PATH when given.
pub fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)], path: Option<&str>) -> Outcome {
    super::xtask_in(root, args, env, path)
}

/// The recording stand-in for `docker` (docker buildx cannot be installed here). Each call gets
/// a folder `<record>/<n>/` with `argv` (one argument a line), `env` and, for
/// `--password-stdin`, `stdin`. It answers `buildx version`; `buildx build` writes
/// `{"containerimage.digest": $FAKE_DOCKER_DIGEST}` to the `--metadata-file` and copies the
/// context's Dockerfile, or exits 1 when `FAKE_DOCKER_FAIL=build`; `imagetools inspect` answers
/// the next word of `$FAKE_DOCKER_INSPECT` (`missing` = not found), and `--format {{json .Image}}`
/// a linux/amd64 config; `image inspect` answers
/// RepoDigests `["<name>@$FAKE_DOCKER_DIGEST"]`; `run` prints `$FAKE_DOCKER_RUN_OUTPUT` and exits
/// `$FAKE_DOCKER_RUN_EXIT` (0). `--version` answers as the CLI does with no daemon; `version`
/// (which asks the daemon) prints `$FAKE_DOCKER_SERVER` when set, else fails as the CLI does when
/// no daemon answers (docker/cli `cli/command/system/version.go`, `cmd/docker/docker.go`).
///
/// For builds spread over machines (buildx v0.19.0): `--output` values are checked as
/// `util/buildflags/export.go` and `build/opt.go` check them, and a push by digest gets a
/// metadata file with `containerimage.descriptor`, `containerimage.digest` and `image.name`;
/// `imagetools create` refuses as `commands/imagetools/create.go` does and keeps its sources
/// (`<record>/created`); `imagetools inspect --raw REPO@DIGEST` and `--format '{{json .Image}}'`
/// answer from `$FAKE_DOCKER_IMAGES`, when set (`DIGEST=os/arch` words; absent = not found), and
/// `--raw` of a tag answers the index `imagetools create` made. `buildx inspect` prints
/// `$FAKE_DOCKER_BUILDX_INSPECT`.
pub const FAKE_DOCKER: &str = r#"#!/bin/sh
rec="$FAKE_DOCKER_RECORD"
n=$(ls "$rec" | grep -c '^[0-9]')
n=$((n + 1))
mkdir "$rec/$n"
for a in "$@"; do printf '%s\n' "$a"; done > "$rec/$n/argv"
env > "$rec/$n/env"
case " $* " in *" --password-stdin "*) cat > "$rec/$n/stdin" ;; esac
# The flags each subcommand takes and the checks it makes, from docker/buildx
# (commands/build.go, commands/imagetools/{inspect,create}.go) and docker/cli
# (cli/command/registry/login.go, image/{tag,push,inspect}.go): cobra refuses an unknown
# flag ("unknown flag: --x", exit 1) and a wrong number of arguments.
case "$1 $2 $3" in
"--version"*|"-v "*) echo "Docker version 27.5.1, build 9f9e405"; exit 0 ;;
"buildx build"*) words=2
  values=" --file -f --platform --tag -t --label --output -o --metadata-file --cache-from --cache-to --build-arg --builder --progress --target --secret --ssh --iidfile --network --add-host --allow --annotation --attest --provenance --sbom --build-context --shm-size --ulimit --cgroup-parent --call "
  bools=" --push --load --no-cache --pull --quiet -q --check " ;;
"buildx imagetools inspect") words=3
  values=" --format --builder "; bools=" --raw " ;;
"buildx imagetools create") words=3
  values=" --tag -t --file -f --builder --progress --annotation "; bools=" --append --dry-run --prefer-index " ;;
"buildx version"*) words=2; values=" "; bools=" " ;;
"buildx inspect"*) words=2; values=" --builder "; bools=" --bootstrap " ;;
login*) words=1; values=" --username -u --password -p "; bools=" --password-stdin " ;;
tag*) words=1; values=" "; bools=" " ;;
push*) words=1; values=" --platform "; bools=" --all-tags -a --disable-content-trust --quiet -q " ;;
"image inspect"*) words=2; values=" --format -f --type "; bools=" --size -s " ;;
version*) words=1; values=" --format -f --kubeconfig "; bools=" " ;;
run*) words=1
  values=" --platform --name --detach-keys --pull --attach -a --env -e --env-file --entrypoint --group-add --hostname -h --domainname --label -l --label-file --restart --stop-signal --stop-timeout --sysctl --ulimit --user -u --workdir -w --cap-add --cap-drop --security-opt --userns --cgroupns --add-host --dns --dns-option --dns-search --expose --ip --ip6 --link --link-local-ip --mac-address --publish -p --network --net --network-alias --net-alias --log-driver --log-opt --mount --tmpfs --volume -v --volumes-from --volume-driver --health-cmd --health-interval --health-retries --health-timeout --health-start-period --cpus --cpu-shares -c --memory -m --memory-swap --runtime --shm-size --isolation --pids-limit --gpus --cidfile --ipc --pid --uts --cgroup-parent --device "
  bools=" --rm --read-only --detach -d --interactive -i --tty -t --privileged --publish-all -P --no-healthcheck --init --oom-kill-disable --disable-content-trust --quiet -q --sig-proxy " ;;
*) echo "docker: unknown command: docker $1" >&2; exit 1 ;;
esac
set_flags=" "; args=0; want_value=""; skip=$words
pull=missing
for a in "$@"; do
  if [ "$skip" -gt 0 ]; then skip=$((skip - 1)); continue; fi
  if [ -n "$want_value" ]; then [ "$want_value" = pull ] && pull="$a"; want_value=""; continue; fi
  # `docker run` stops reading flags at the image (flags.SetInterspersed(false)): the rest is
  # the container's command.
  if [ "$1" = run ] && [ "$args" -ge 1 ]; then args=$((args + 1)); continue; fi
  case "$a" in
  -*) name="${a%%=*}"
    case "$values" in *" $name "*) set_flags="$set_flags$name "; [ "$name" = "$a" ] && want_value=1
      [ "$name" = --pull ] && { [ "$name" = "$a" ] && want_value=pull || pull="${a#*=}"; }; continue ;; esac
    case "$bools" in *" $name "*) set_flags="$set_flags$name "; continue ;; esac
    echo "unknown flag: $name" >&2; exit 1 ;;
  *) args=$((args + 1)) ;;
  esac
done
[ -n "$want_value" ] && { echo "flag needs an argument" >&2; exit 1; }
has() { case "$set_flags" in *" $1 "*) return 0 ;; esac; return 1; }
case "$1 $2 $3" in
"buildx build"*)
  [ "$args" -eq 1 ] || { echo "ERROR: \"docker buildx build\" requires exactly 1 argument." >&2; exit 1; }
  if has --push && has --load; then echo "ERROR: push and load may not be set together at the moment" >&2; exit 1; fi
  # Each --output: one field that is not `type=...` is a local folder; otherwise every
  # comma-separated field is key=value and type is required (ExportEntry.UnmarshalText and
  # validate). An image exporter that pushes needs a name or a --tag (toSolveOpt: "tag is
  # needed when pushing to registry"); with --tag, the tags replace the name.
  prev=""
  for a in "$@"; do
    if [ "$prev" = --output ] || [ "$prev" = -o ]; then
      case "$a" in type=*|*,*) ;; *) prev="$a"; continue ;; esac
      typ=""; oname=""; opush=""; old_ifs=$IFS; IFS=,
      for field in $a; do
        case "$field" in *=*) ;; *) IFS=$old_ifs; echo "ERROR: invalid value $field" >&2; exit 1 ;; esac
        case "${field%%=*}" in type) typ="${field#*=}" ;; name) oname="${field#*=}" ;; push) opush="${field#*=}" ;; esac
      done
      IFS=$old_ifs
      [ -n "$typ" ] || { echo "ERROR: type is required for output" >&2; exit 1; }
      case "$opush" in 1|t|T|true|TRUE|True) opush=true ;; esac
      if [ "$typ" = image ] && [ "$opush" = true ] && [ -z "$oname" ] && ! has --tag && ! has -t; then
        echo "ERROR: tag is needed when pushing to registry" >&2; exit 1
      fi
    fi
    prev="$a"
  done ;;
"buildx imagetools inspect")
  [ "$args" -eq 1 ] || { echo "ERROR: \"docker buildx imagetools inspect\" requires exactly 1 argument." >&2; exit 1; }
  if has --format && has --raw; then echo "ERROR: format and raw cannot be used together" >&2; exit 1; fi ;;
"buildx imagetools create")
  [ "$args" -ge 1 ] || has --file || has -f || { echo "ERROR: no sources specified" >&2; exit 1; }
  has --tag || has -t || has --dry-run || { echo "ERROR: can't push with no tags specified, please set --tag or --dry-run" >&2; exit 1; } ;;
login*)
  [ "$args" -le 1 ] || { echo "\"docker login\" requires at most 1 argument." >&2; exit 1; }
  if (has --password || has -p) && has --password-stdin; then echo "--password and --password-stdin are mutually exclusive" >&2; exit 1; fi
  if has --password-stdin && ! (has --username || has -u); then echo "Must provide --username with --password-stdin" >&2; exit 1; fi ;;
tag*) [ "$args" -eq 2 ] || { echo "\"docker tag\" requires exactly 2 arguments." >&2; exit 1; } ;;
push*) [ "$args" -eq 1 ] || { echo "\"docker push\" requires exactly 1 argument." >&2; exit 1; } ;;
"image inspect"*) [ "$args" -ge 1 ] || { echo "\"docker image inspect\" requires at least 1 argument." >&2; exit 1; } ;;
version*) [ "$args" -eq 0 ] || { echo "\"docker version\" accepts no arguments." >&2; exit 1; }
  [ -n "$FAKE_DOCKER_SERVER" ] && { echo "$FAKE_DOCKER_SERVER"; exit 0; }
  echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
run*) [ "$args" -ge 1 ] || { echo "\"docker run\" requires at least 1 argument." >&2; exit 1; }
  case "$pull" in always|missing|never) ;; *) echo "docker: invalid pull option: '$pull': must be one of \"always\", \"missing\" or \"never\"." >&2; exit 125 ;; esac ;;
esac
case "$1 $2 $3" in
"buildx version"*) echo "github.com/docker/buildx v0.19.0 fake"; exit 0 ;;
"buildx inspect"*) printf '%s\n' "$FAKE_DOCKER_BUILDX_INSPECT"; exit 0 ;;
"buildx build"*)
  if [ "$FAKE_DOCKER_FAIL" = build ]; then echo "ERROR: failed to solve: boom" >&2; exit 1; fi
  meta=""; prev=""; last=""
  for a in "$@"; do
    [ "$prev" = "--metadata-file" ] && meta="$a"
    prev="$a"; last="$a"
  done
  cp "$last/Dockerfile" "$rec/$n/Dockerfile" 2>/dev/null
  case " $* " in
  *"push-by-digest=true"*)
    oname=""; old_ifs=$IFS; IFS=,
    for a in "$@"; do case "$a" in type=image,*) for field in $a; do case "$field" in name=*) oname="${field#name=}" ;; esac; done ;; esac; done
    IFS=$old_ifs
    [ -n "$meta" ] && printf '{"buildx.build.ref":"b","containerimage.descriptor":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1},"containerimage.digest":"%s","image.name":"%s"}' "$FAKE_DOCKER_DIGEST" "$FAKE_DOCKER_DIGEST" "$oname" > "$meta" ;;
  *) [ -n "$meta" ] && printf '{"buildx.build.ref":"b","containerimage.digest":"%s"}' "$FAKE_DOCKER_DIGEST" > "$meta" ;;
  esac
  exit 0 ;;
"buildx imagetools create")
  skip=3; prev=""
  for a in "$@"; do
    if [ "$skip" -gt 0 ]; then skip=$((skip - 1)); prev="$a"; continue; fi
    case "$prev" in --tag|-t|--file|-f|--annotation|--progress|--builder) prev="$a"; continue ;; esac
    case "$a" in -*) ;; *) printf '%s\n' "$a" >> "$rec/created" ;; esac
    prev="$a"
  done
  exit 0 ;;
"buildx imagetools inspect")
  eval "ref=\${$#}"
  image=""
  case "$ref" in *@*)
    for pair in $FAKE_DOCKER_IMAGES; do case "$pair" in "${ref#*@}="*) image="${pair#*=}" ;; esac; done ;;
  esac
  want_image=""
  case " $* " in *" {{json .Image}} "*) want_image=1 ;; esac
  if [ -n "$FAKE_DOCKER_IMAGES" ] && { has --raw || [ -n "$want_image" ]; }; then
    case "$ref" in
    *@*) [ -n "$image" ] || { echo "ERROR: $ref: not found" >&2; exit 1; }
      if has --raw; then
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:c","size":1},"layers":[]}\n'
      else
        printf '{"architecture":"%s","os":"%s","config":{}}\n' "${image#*/}" "${image%%/*}"
      fi ;;
    *) [ -f "$rec/created" ] || { echo "ERROR: $ref: not found" >&2; exit 1; }
      sep=""; printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
      for src in $(cat "$rec/created"); do printf '%s{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1}' "$sep" "${src#*@}"; sep=","; done
      printf ']}\n' ;;
    esac
    exit 0
  fi
  # A single-platform image's config (smoke reads its platform): answered without using a turn.
  case " $* " in *" {{json .Image}} "*) printf '{"architecture":"amd64","os":"linux"}\n'; exit 0 ;; esac
  i=$(ls "$rec" | grep -c '^inspect')
  i=$((i + 1))
  touch "$rec/inspect$i"
  d=$(echo "$FAKE_DOCKER_INSPECT" | cut -d' ' -f$i)
  eval "ref=\${$#}"
  if [ -z "$d" ] || [ "$d" = missing ]; then echo "ERROR: $ref: not found" >&2; exit 1; fi
  printf '{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":1}\n' "$d"
  exit 0 ;;
run*)
  printf '%s\n' "${FAKE_DOCKER_RUN_OUTPUT:-}"
  exit "${FAKE_DOCKER_RUN_EXIT:-0}" ;;
"image inspect"*)
  eval "ref=\${$#}"
  printf '["%s@%s"]\n' "${ref%:*}" "$FAKE_DOCKER_DIGEST"
  exit 0 ;;
esac
exit 0
"#;

/// A bin folder holding the stand-in `docker`, and the folder its calls are recorded in.
pub struct FakeDocker {
    pub bin: tempfile::TempDir,
    pub record: tempfile::TempDir,
}

impl FakeDocker {
    pub fn new() -> FakeDocker {
        let bin = temp_dir("bin");
        let record = temp_dir("record");
        super::install_script(bin.path(), "docker", FAKE_DOCKER);
        // Only the utilities the stand-in uses: no podman or skopeo can be picked instead.
        for util in ["ls", "grep", "mkdir", "env", "cat", "cp", "cut", "touch"] {
            let real = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(util))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("{util} is needed by the docker stand-in"));
            std::os::unix::fs::symlink(real, bin.path().join(util)).unwrap();
        }
        FakeDocker { bin, record }
    }

    /// PATH holding the stand-in and its utilities, and nothing else.
    pub fn path(&self) -> String {
        self.bin.path().display().to_string()
    }

    /// Runs `cargo xtask ARGS` in `root` with only the stand-in on PATH, recording into this
    /// stand-in's folder, with `extra` set.
    pub fn run(&self, root: &Path, args: &[&str], extra: &[(&str, &str)]) -> Outcome {
        let record = self.record.path().to_str().unwrap();
        let mut env = vec![("FAKE_DOCKER_RECORD", record)];
        env.extend_from_slice(extra);
        xtask(root, args, &env, Some(&self.path()))
    }

    /// Every call, in order.
    pub fn calls(&self) -> Vec<Call> {
        let mut calls = Vec::new();
        for dir in super::recorded_calls(self.record.path()) {
            let argv = std::fs::read_to_string(dir.join("argv")).unwrap();
            let env = std::fs::read_to_string(dir.join("env"))
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            calls.push(Call {
                argv: argv.lines().map(str::to_string).collect(),
                env,
                stdin: std::fs::read_to_string(dir.join("stdin")).ok(),
                dockerfile: std::fs::read_to_string(dir.join("Dockerfile")).ok(),
            });
        }
        calls
    }
}

#[derive(Debug)]
pub struct Call {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub stdin: Option<String>,
    pub dockerfile: Option<String>,
}

/// Debian's `docker-registry` on 127.0.0.1, killed on drop.
pub struct Registry {
    pub port: u16,
    handle: Option<duct::Handle>,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start(name: &str) -> Registry {
        Registry::start_with(name, "", &[])
    }

    /// A registry that wants HTTP basic auth: `htpasswd` is one `user:bcrypt-hash` line.
    pub fn start_with_auth(name: &str, htpasswd: &str) -> Registry {
        let auth = "auth:\n  htpasswd:\n    realm: test\n    path: {dir}/htpasswd\n";
        Registry::start_with(name, auth, &[("htpasswd", format!("{htpasswd}\n"))])
    }

    /// `extra` is appended to the registry's config.yml, with `{dir}` standing for the
    /// registry's own folder, where `files` (name, content) are written first.
    pub fn start_with(name: &str, extra: &str, files: &[(&str, String)]) -> Registry {
        let dir = temp_dir(name);
        for (file, content) in files {
            std::fs::write(dir.path().join(file), content).unwrap();
        }
        let extra = extra.replace("{dir}", &dir.path().display().to_string());
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n{extra}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let handle = duct::cmd!("docker-registry", "serve", &config)
            .stdout_null()
            .stderr_path(dir.path().join("registry.log"))
            .unchecked()
            .start()
            .expect("docker-registry must be installed for XTASK_E2E=1");
        let registry = Registry {
            port,
            handle: Some(handle),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !registry.answers() {
            assert!(
                Instant::now() < deadline,
                "docker-registry on port {port} did not answer GET /v2/ (200, or 401 with auth)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = std::net::TcpStream::connect(self.addr()) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream
            .write_all(b"GET /v2/ HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok()
            && head.starts_with(b"HTTP/1.")
            && matches!(&head[9..12], b"200" | b"401")
    }

    pub fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.kill();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Two registries, `NAME-primary` and `NAME-backup`, and the settings that name them
/// (`registry` and `backup-registry`, each under the `homelab` path).
pub fn registry_pair(name: &str) -> (Registry, Registry, String) {
    let primary = Registry::start(&format!("{name}-primary"));
    let backup = Registry::start(&format!("{name}-backup"));
    let settings = format!(
        "registry = \"{}/homelab\"\nbackup-registry = \"{}/homelab\"\n",
        primary.addr(),
        backup.addr()
    );
    (primary, backup, settings)
}

/// Runs a tool the test itself needs (skopeo), failing the test when it fails.
pub fn tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed for XTASK_E2E=1: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Podman state of this test's own, as root: vfs storage and libpod's runtime directory
/// (`tmp_dir`, by default the shared /run/libpod) under a temp dir, and chroot isolation. A
/// podman that a timeout test kills mid-run then cannot break another test's podman.
pub struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    pub fn new() -> Podman {
        let dir = temp_dir("podman");
        let storage = format!(
            "[storage]\ndriver = \"vfs\"\nrunroot = \"{0}/run\"\ngraphroot = \"{0}/root\"\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("storage.conf"), storage).unwrap();
        let engine = format!("[engine]\ntmp_dir = \"{}/libpod\"\n", dir.path().display());
        std::fs::write(dir.path().join("containers.conf"), engine).unwrap();
        Podman { dir }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "CONTAINERS_STORAGE_CONF",
                self.dir.path().join("storage.conf").display().to_string(),
            ),
            (
                "CONTAINERS_CONF",
                self.dir
                    .path()
                    .join("containers.conf")
                    .display()
                    .to_string(),
            ),
            ("BUILDAH_ISOLATION", "chroot".into()),
        ]
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // vfs layers may be read-only directories; let podman remove its own storage.
        let env = self.env();
        let _ = std::process::Command::new("podman")
            .args(["system", "reset", "--force"])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output();
    }
}
