//! Doctor's smoke checks, pure: for each configured platform, whether this machine can run
//! the image's smoke test on it (natively, emulated under qemu, or not at all, with the fix).

use super::checks::{Check, Level, check};
use crate::smoke::platforms::{Handler, Runnable, runnable};

/// One check a configured platform. A platform this machine cannot run is a warning: `smoke`
/// names it NOT RUN there, and a native runner (or qemu) must run it instead.
pub fn platform_checks(platforms: &[String], host: &str, handlers: &[Handler]) -> Vec<Check> {
    platforms
        .iter()
        .map(|p| match runnable(p, host, handlers) {
            Runnable::No { reason, fix } => check(
                "smoke",
                p.clone(),
                Level::Warn,
                format!("cannot run here, so `cargo xtask smoke` reports it NOT RUN: {reason}"),
            )
            .fix(fix),
            how => check(
                "smoke",
                p.clone(),
                Level::Ok,
                format!("`cargo xtask smoke` runs it here: {}", how.label()),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoke::platforms::parse_handler;

    #[test]
    fn each_platform_is_native_emulated_or_a_warning_with_the_fix() {
        let both = ["linux/amd64".to_string(), "linux/arm64".to_string()];
        let none = platform_checks(&both, "linux/amd64", &[]);
        assert_eq!(
            (none[0].level, none[0].message.as_str()),
            (Level::Ok, "`cargo xtask smoke` runs it here: native")
        );
        assert_eq!(none[1].level, Level::Warn);
        assert!(none[1].message.contains("NOT RUN"), "{}", none[1].message);
        assert!(
            none[1]
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("qemu-user-static")),
            "{:?}",
            none[1].fix
        );
        let qemu = parse_handler("qemu-aarch64", "enabled\nflags: POCF\n");
        let emulated = platform_checks(&both, "linux/amd64", &[qemu]);
        assert_eq!(
            emulated[1].message,
            "`cargo xtask smoke` runs it here: emulated (qemu-aarch64)"
        );
        assert_eq!(emulated[1].level, Level::Ok);
    }
}
