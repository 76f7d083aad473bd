//! Why a registry command failed, read from what skopeo, podman, docker or cosign printed: the
//! name does not resolve (DNS), nothing listens (connection refused), TLS failed, the registry
//! refused our credentials (401/403), or it did not answer in time. Each cause carries the
//! sentence and the fix that doctor prints; push and the other tasks put the same in front of
//! the tool's own error. Pure: unit-tested on the tools' real texts.

use anyhow::anyhow;

/// What went wrong between us and a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Dns,
    Refused,
    Tls,
    Denied,
    Timeout,
    /// The registry answered that the tag or repository is not there.
    NotFound,
    Other,
}

/// The cause in a tool's error text (stderr, or an error chain that carries it).
pub fn classify(text: &str) -> Cause {
    let lower = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    // Order matters: "lookup …: i/o timeout" is DNS, a TLS handshake timeout is a timeout.
    if has(&[
        "no such host",
        "server misbehaving",
        "temporary failure in name resolution",
        "name or service not known",
        "could not resolve host",
    ]) {
        Cause::Dns
    } else if has(&["connection refused"]) {
        Cause::Refused
    } else if has(&[
        "i/o timeout",
        "deadline exceeded",
        "handshake timeout",
        "client.timeout",
        "no answer from the registry",
        "timed out",
    ]) {
        Cause::Timeout
    } else if has(&[
        "x509:",
        "tls:",
        "certificate",
        "http response to https client",
    ]) {
        Cause::Tls
    } else if has(&[
        "unauthorized",
        "denied",
        "authentication required",
        "forbidden",
        "incorrect username or password",
    ]) {
        Cause::Denied
    } else if crate::registry::is_not_found(text) || has(&["repository name not known"]) {
        Cause::NotFound
    } else {
        Cause::Other
    }
}

/// The tool's own error without skopeo's log wrapper (`time=… level=fatal msg="…"`, quotes
/// escaped) and its misleading `Error parsing image name "…":` prefix: its last non-empty line.
pub fn detail(text: &str) -> String {
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let line = match line.find("msg=\"") {
        Some(at) => line[at + 5..].trim_end_matches('"').replace("\\\"", "\""),
        None => line.to_string(),
    };
    match line.strip_prefix("Error parsing image name \"") {
        Some(rest) => rest
            .split_once("\": ")
            .map_or(line.clone(), |(_, why)| why.to_string()),
        None => line,
    }
}

/// The sentence and the fix for `cause` with the registry `host`; `backup`: the MicroK8s
/// registry of the settings (its fix is `microk8s enable registry`). `None` for not-found and
/// unknown causes, which keep the tool's own words.
pub fn explain(cause: Cause, host: &str, backup: bool) -> Option<(String, String)> {
    let settings = "[workspace.metadata.xtask] in Cargo.toml, XTASK_REGISTRY or --registry";
    Some(match cause {
        Cause::Dns => (
            format!("the registry name {host} does not resolve (DNS: no such host)"),
            format!(
                "check the spelling of {host} ({settings}) and this machine's DNS (/etc/resolv.conf)"
            ),
        ),
        Cause::Refused if backup => (
            format!(
                "nothing listens at {host} (connection refused): the backup registry is not running"
            ),
            format!("start the MicroK8s registry that serves {host}: `microk8s enable registry`"),
        ),
        Cause::Refused => (
            format!("nothing listens at {host} (connection refused)"),
            format!("start the registry, or check its host and port ({settings})"),
        ),
        Cause::Tls => (
            format!(
                "TLS with {host} failed (a plain-HTTP registry, or a certificate this machine does not trust)"
            ),
            format!(
                "give {host} a trusted certificate, or for a plain-HTTP registry on a trusted \
                 network use 127.0.0.1/localhost (no TLS is asked there) or pass --insecure-registry"
            ),
        ),
        Cause::Denied => {
            let var = crate::registry::token_variable(host);
            (
                format!("{host} refused us (401/403: not logged in, or the token lacks access)"),
                format!(
                    "log in: pass --login (token from {var} on stdin), or `echo \"${var}\" | \
                     docker login {host} -u USER --password-stdin`; a GitHub token needs \
                     read:packages (write:packages to push)"
                ),
            )
        }
        Cause::Timeout => (
            format!("no answer from {host} in time (timeout)"),
            "check the network path to the registry (VPN, proxy, firewall); to wait longer, set \
             network-timeout in [workspace.metadata.xtask] or XTASK_NETWORK_TIMEOUT (seconds)"
                .to_string(),
        ),
        Cause::NotFound | Cause::Other => return None,
    })
}

/// `err` from a command that talked to `host`, with the cause and its fix first and the tool's
/// words after; unchanged when the cause is unknown.
pub fn with_cause(err: anyhow::Error, host: &str, backup: bool) -> anyhow::Error {
    let text = format!("{err:#}");
    match explain(classify(&text), host, backup) {
        Some((what, fix)) => anyhow!("{what}\n  fix: {fix}\n  the tool said: {}", detail(&text)),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real texts: skopeo 1.9 (Debian 12) against loopback servers, and Go's net errors.
    const REFUSED: &str = r#"time="2026-12-07T07:59:48Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:1/x/y:t\": pinging container registry 127.0.0.1:1: Get \"https://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused""#;
    const PLAIN_HTTP: &str = r#"time="2026-12-07T07:59:49Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:18765/x/y:t\": pinging container registry 127.0.0.1:18765: Get \"https://127.0.0.1:18765/v2/\": tls: first record does not look like a TLS handshake""#;
    const UNAUTHORIZED: &str = r#"time="2026-12-07T07:59:56Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:18766/x/y:t\": reading manifest t in 127.0.0.1:18766/x/y: unauthorized""#;
    const FORBIDDEN: &str = r#"time="2026-12-07T07:59:56Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:18767/x/y:t\": pinging container registry 127.0.0.1:18767: invalid status code from registry 403 (Forbidden)""#;
    const DNS: &str = r#"time="2026-12-07T08:00:00Z" level=fatal msg="Error parsing image name \"docker://ghcr.example/dcasati/python-base:sha-1\": pinging container registry ghcr.example: Get \"https://ghcr.example/v2/\": dial tcp: lookup ghcr.example on 127.0.0.53:53: no such host""#;
    const TIMEOUT: &str = r#"time="2026-12-07T08:00:00Z" level=fatal msg="Error parsing image name \"docker://10.9.9.9:5000/x:t\": pinging container registry 10.9.9.9:5000: Get \"https://10.9.9.9:5000/v2/\": dial tcp 10.9.9.9:5000: i/o timeout""#;
    const X509: &str = "Error: initializing source docker://reg.lan/x:t: pinging container registry reg.lan: Get \"https://reg.lan/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority";
    const PODMAN_REFUSED: &str = "Error: initializing source docker://127.0.0.1:1/x/y:t: pinging container registry 127.0.0.1:1: Get \"https://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused";
    const MISSING: &str = r#"time="2026-12-07T08:00:00Z" level=fatal msg="Error parsing image name \"docker://127.0.0.1:5000/x:t\": reading manifest t in 127.0.0.1:5000/x: manifest unknown""#;

    #[test]
    fn each_cause_is_told_apart() {
        assert_eq!(classify(REFUSED), Cause::Refused);
        assert_eq!(classify(PODMAN_REFUSED), Cause::Refused);
        assert_eq!(classify(PLAIN_HTTP), Cause::Tls);
        assert_eq!(classify(X509), Cause::Tls);
        assert_eq!(classify(UNAUTHORIZED), Cause::Denied);
        assert_eq!(classify(FORBIDDEN), Cause::Denied);
        assert_eq!(classify(DNS), Cause::Dns);
        assert_eq!(classify(TIMEOUT), Cause::Timeout);
        assert_eq!(
            classify("`skopeo inspect` timed out: no answer from the registry h within 60 s"),
            Cause::Timeout
        );
        assert_eq!(classify(MISSING), Cause::NotFound);
        assert_eq!(classify("Error: something else"), Cause::Other);
    }

    #[test]
    fn detail_drops_skopeos_wrapper_and_its_misleading_prefix() {
        assert_eq!(
            detail(DNS),
            "pinging container registry ghcr.example: Get \"https://ghcr.example/v2/\": dial tcp: lookup ghcr.example on 127.0.0.53:53: no such host"
        );
        assert_eq!(detail(PODMAN_REFUSED), PODMAN_REFUSED);
        assert_eq!(detail("a\nb\n\n"), "b");
    }

    #[test]
    fn every_cause_has_its_own_fix() {
        let fix = |cause, backup| explain(cause, "localhost:32000", backup).unwrap().1;
        assert!(fix(Cause::Refused, true).contains("microk8s enable registry"));
        assert!(!fix(Cause::Refused, false).contains("microk8s"));
        assert!(fix(Cause::Dns, false).contains("DNS"));
        assert!(fix(Cause::Tls, false).contains("--insecure-registry"));
        assert!(fix(Cause::Denied, false).contains("--login"));
        assert!(fix(Cause::Timeout, false).contains("XTASK_NETWORK_TIMEOUT"));
        assert!(explain(Cause::NotFound, "h", false).is_none());
    }

    #[test]
    fn with_cause_puts_the_cause_and_fix_first() {
        let err = anyhow!("`skopeo copy …` failed with exit code 1:\n{REFUSED}");
        let text = format!("{:#}", with_cause(err, "127.0.0.1:1", true));
        assert!(
            text.starts_with("nothing listens at 127.0.0.1:1 (connection refused): the backup registry is not running\n  fix: start the MicroK8s registry"),
            "{text}"
        );
        assert!(
            text.ends_with("dial tcp 127.0.0.1:1: connect: connection refused"),
            "{text}"
        );
        assert!(!text.contains("level=fatal") && !text.contains("Error parsing image name"));
        let other = with_cause(anyhow!("boom"), "h", false);
        assert_eq!(other.to_string(), "boom");
    }
}
