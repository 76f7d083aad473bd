//! OCI image references: `registry[:port]/path[:tag][@sha256:hex]`, parsed, validated and
//! formatted by the rules of the distribution reference grammar.

use anyhow::{Result, anyhow};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `ghcr.io`, `localhost:32000`, `127.0.0.1:5000`; `None` for Docker Hub short names.
    pub registry: Option<String>,
    /// `dcasati/python-base`.
    pub path: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<ImageRef> {
        let bad = |why: &str| Err(anyhow!("invalid image reference `{s}`: {why}"));
        if s.is_empty() {
            return bad("it is empty");
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, digest)) => {
                if !is_digest(digest) {
                    return bad("the digest must be sha256: followed by 64 lowercase hex digits");
                }
                (rest, Some(digest.to_string()))
            }
            None => (s, None),
        };
        let (registry, remainder) = match rest.split_once('/') {
            Some((first, after)) if looks_like_registry(first) => (Some(first), after),
            _ => (None, rest),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let last_slash = remainder.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match remainder[last_slash..].rfind(':') {
            Some(i) => (
                &remainder[..last_slash + i],
                Some(&remainder[last_slash + i + 1..]),
            ),
            None => (remainder, None),
        };
        if let Some(registry) = registry
            && !is_registry(registry)
        {
            return bad("the registry must be a host name or address with an optional :port");
        }
        if path.is_empty() || !path.split('/').all(is_path_component) {
            return bad("path components must be lowercase letters, digits and . _ - separators");
        }
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return bad("a tag is 1-128 of [A-Za-z0-9_.-] and cannot start with . or -");
        }
        Ok(ImageRef {
            registry: registry.map(str::to_string),
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The name without tag or digest: `ghcr.io/dcasati/python-base`.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// The registry host without its port.
    pub fn host(&self) -> Option<&str> {
        let registry = self.registry.as_deref()?;
        Some(registry.rsplit_once(':').map_or(registry, |(host, _)| host))
    }

    /// `localhost`, `127.x.x.x` and `::1` registries, which speak plain HTTP.
    pub fn is_loopback(&self) -> bool {
        self.host().is_some_and(is_loopback_host)
    }

    pub fn with_tag(&self, tag: &str) -> ImageRef {
        ImageRef {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    pub fn with_digest(&self, digest: &str) -> ImageRef {
        ImageRef {
            tag: None,
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

/// `sha256:` followed by 64 lowercase hex digits.
pub fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn looks_like_registry(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn is_registry(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || s.starts_with('[') => (host, Some(port)),
        _ => (s, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host == "[::1]"
        || (!host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    port_ok && host_ok
}

fn is_path_component(c: &str) -> bool {
    // [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let sep_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[sep_start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

fn is_tag(t: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
    (1..=128).contains(&t.len()) && !t.starts_with(['.', '-']) && t.bytes().all(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_port_nested_path_tag_and_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!(
            "localhost:32000/homelab/tools/python-base:sha-abc1234@{digest}"
        ))
        .unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:32000"));
        assert_eq!(r.path, "homelab/tools/python-base");
        assert_eq!(r.tag.as_deref(), Some("sha-abc1234"));
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));
        assert_eq!(r.host(), Some("localhost"));
        assert!(r.is_loopback());
        assert_eq!(
            r.to_string(),
            format!("localhost:32000/homelab/tools/python-base:sha-abc1234@{digest}")
        );
    }

    #[test]
    fn short_names_have_no_registry() {
        let r = ImageRef::parse("python:3.11-slim").unwrap();
        assert_eq!(
            (r.registry, r.path.as_str(), r.tag.as_deref()),
            (None, "python", Some("3.11-slim"))
        );
        let r = ImageRef::parse("ghcr.io/dcasati/python-base").unwrap();
        assert_eq!(r.name(), "ghcr.io/dcasati/python-base");
        assert_eq!(r.tag, None);
        assert!(!r.is_loopback());
        assert!(ImageRef::parse("127.0.0.1:5000/x").unwrap().is_loopback());
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "Ghcr.io/x/UPPER",
            "ghcr.io/x/y:",
            "ghcr.io/x/y:-tag",
            "ghcr.io/x/y@sha256:abc",
            "ghcr.io:port/x",
            "ghcr.io/x//y",
            "ghcr.io/x/y-",
            "ghcr.io/x/y:a b",
        ] {
            let err = ImageRef::parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
        }
    }

    #[test]
    fn with_tag_and_digest_replace_each_other() {
        let r = ImageRef::parse("ghcr.io/dcasati/python-base:old").unwrap();
        assert_eq!(
            r.with_tag("sha-1234567").to_string(),
            "ghcr.io/dcasati/python-base:sha-1234567"
        );
        let d = format!("sha256:{}", "0".repeat(64));
        assert_eq!(
            r.with_digest(&d).to_string(),
            format!("ghcr.io/dcasati/python-base@{d}")
        );
    }
}
