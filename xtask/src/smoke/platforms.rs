//! Can this machine run an image's platform? Natively when the machine is that platform; under
//! an emulator when binfmt_misc has a qemu-user-static handler for it, enabled, with the `F`
//! (fix binary) flag that containers need (the interpreter is opened on the host, since it is
//! not in the image); else not at all, with the reason and the fix.
//!
//! The handlers are read from `/proc/sys/fs/binfmt_misc/qemu-*`. `XTASK_BINFMT_DIR` points
//! that folder elsewhere; it exists for tests, which simulate a machine with or without an
//! emulator (an empty temp folder has none).

use std::path::{Path, PathBuf};

/// How this machine can run a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runnable {
    /// The machine is that platform.
    Native,
    /// Through the binfmt_misc handler `handler` (`qemu-aarch64`).
    Emulated { handler: String },
    /// Not at all: why, and what to do about it.
    No { reason: String, fix: String },
}

impl Runnable {
    /// `native`, `emulated (qemu-aarch64)` or `not at all`.
    pub fn label(&self) -> String {
        match self {
            Runnable::Native => "native".into(),
            Runnable::Emulated { handler } => format!("emulated ({handler})"),
            Runnable::No { .. } => "not at all".into(),
        }
    }
}

/// One binfmt_misc handler, as its file under binfmt_misc reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// `qemu-aarch64`.
    pub name: String,
    pub enabled: bool,
    /// The `flags:` letters (`POCF`).
    pub flags: String,
}

/// The folder binfmt_misc handlers are read from: `XTASK_BINFMT_DIR` (tests), else
/// `/proc/sys/fs/binfmt_misc`.
pub fn binfmt_dir() -> PathBuf {
    std::env::var_os("XTASK_BINFMT_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/proc/sys/fs/binfmt_misc"), PathBuf::from)
}

/// Every `qemu-*` handler in `dir`; an unreadable or missing folder has none.
pub fn handlers(dir: &Path) -> Vec<Handler> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Handler> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !name.starts_with("qemu-") || !e.file_type().ok()?.is_file() {
                return None;
            }
            let (text, _) = crate::files::read_text(&e.path()).ok()?;
            Some(parse_handler(&name, &text))
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// A handler file's text: `enabled`, `interpreter …`, `flags: POCF`, …
pub fn parse_handler(name: &str, text: &str) -> Handler {
    Handler {
        name: name.to_string(),
        enabled: text.lines().next().map(str::trim) == Some("enabled"),
        flags: text
            .lines()
            .find_map(|l| l.trim().strip_prefix("flags:"))
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// This machine's platform, as an image index names it: `linux/amd64`, `linux/arm64`, …
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm/v7",
        "powerpc64" => "ppc64le",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

/// The qemu name of a platform's architecture: `aarch64` for `linux/arm64`.
pub fn qemu_arch(platform: &str) -> Option<&'static str> {
    let mut parts = platform.split('/');
    let (_os, arch) = (parts.next()?, parts.next()?);
    Some(match arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "arm" => "arm",
        "386" => "i386",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "mips64le" => "mips64el",
        "loong64" => "loongarch64",
        _ => return None,
    })
}

/// Whether `platform` runs on a machine of platform `host` with `handlers` registered. Pure.
pub fn runnable(platform: &str, host: &str, handlers: &[Handler]) -> Runnable {
    // linux/arm64/v8 is linux/arm64.
    let base = |p: &str| p.strip_suffix("/v8").unwrap_or(p).to_string();
    if base(platform) == base(host) {
        return Runnable::Native;
    }
    let fix = format!(
        "run it on a native {platform} runner or builder (build-images.yml's per-platform job), \
         or register qemu on this machine: `sudo apt-get install qemu-user-static binfmt-support` \
         (Debian/Ubuntu), or `docker run --privileged --rm tonistiigi/binfmt --install {}`",
        platform.split('/').nth(1).unwrap_or(platform)
    );
    let Some(arch) = qemu_arch(platform) else {
        return Runnable::No {
            reason: format!("no qemu emulator is known for {platform}"),
            fix,
        };
    };
    let name = format!("qemu-{arch}");
    match handlers.iter().find(|h| h.name == name) {
        Some(h) if h.enabled && h.flags.contains('F') => Runnable::Emulated { handler: name },
        Some(h) if !h.enabled => Runnable::No {
            reason: format!("the binfmt_misc handler {name} is registered but disabled"),
            fix: format!("enable it: `echo 1 | sudo tee /proc/sys/fs/binfmt_misc/{name}`"),
        },
        Some(h) => Runnable::No {
            reason: format!(
                "the binfmt_misc handler {name} lacks the F (fix binary) flag (flags: {}), \
                 without which no container can start the emulator",
                h.flags
            ),
            fix: "register it with the F flag: `sudo apt-get install qemu-user-static \
                  binfmt-support` does, as does `docker run --privileged --rm tonistiigi/binfmt \
                  --install all`"
                .into(),
        },
        None => Runnable::No {
            reason: format!(
                "this machine is {host} and no emulator for {platform} is registered (no \
                 binfmt_misc handler {name})"
            ),
            fix,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handler(name: &str, text: &str) -> Handler {
        parse_handler(name, text)
    }

    #[test]
    fn native_emulated_or_not_at_all() {
        let qemu = handler(
            "qemu-aarch64",
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\n",
        );
        assert_eq!(qemu.flags, "POCF");
        assert_eq!(
            runnable("linux/amd64", "linux/amd64", &[]),
            Runnable::Native
        );
        assert_eq!(
            runnable("linux/arm64/v8", "linux/arm64", &[]),
            Runnable::Native
        );
        assert_eq!(
            runnable("linux/arm64", "linux/amd64", std::slice::from_ref(&qemu)),
            Runnable::Emulated {
                handler: "qemu-aarch64".into()
            }
        );
        let Runnable::No { reason, fix } = runnable("linux/arm64", "linux/amd64", &[]) else {
            panic!("no handler, no emulation")
        };
        assert!(
            reason.contains("no binfmt_misc handler qemu-aarch64"),
            "{reason}"
        );
        assert!(
            fix.contains("native linux/arm64 runner") && fix.contains("qemu-user-static"),
            "{fix}"
        );
        let disabled = handler("qemu-aarch64", "disabled\nflags: F\n");
        let Runnable::No { reason, .. } = runnable("linux/arm64", "linux/amd64", &[disabled])
        else {
            panic!("disabled")
        };
        assert!(reason.contains("disabled"), "{reason}");
        let no_f = handler("qemu-aarch64", "enabled\nflags: OC\n");
        let Runnable::No { reason, .. } = runnable("linux/arm64", "linux/amd64", &[no_f]) else {
            panic!("no F flag")
        };
        assert!(reason.contains("F (fix binary)"), "{reason}");
        assert_eq!(
            runnable("linux/amd64", "linux/arm64", &[]).label(),
            "not at all"
        );
    }

    #[test]
    fn handlers_are_read_from_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("qemu-aarch64"), "enabled\nflags: PF\n").unwrap();
        std::fs::write(dir.path().join("register"), "").unwrap();
        std::fs::write(dir.path().join("python3.11"), "enabled\n").unwrap();
        std::fs::create_dir(dir.path().join("qemu-dir")).unwrap();
        let found = handlers(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].name.as_str(), found[0].enabled),
            ("qemu-aarch64", true)
        );
        assert!(handlers(&dir.path().join("missing")).is_empty());
        assert_eq!(qemu_arch("linux/arm/v7"), Some("arm"));
        assert_eq!(qemu_arch("linux"), None);
        assert!(host_platform().starts_with("linux/"));
    }
}
