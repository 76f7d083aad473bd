//! The OCI labels of a base-image build (`org.opencontainers.image.*`): revision, source,
//! created, title and version, with `created` in RFC 3339 from the commit time. Pure: the
//! caller passes the environment and the origin URL in.

use crate::repo::Commit;

/// The OCI labels: revision, source (when known), created, title, version.
pub fn labels(
    commit: &Commit,
    tag: &str,
    title: &str,
    source: Option<String>,
) -> Vec<(String, String)> {
    let key = |k: &str| format!("org.opencontainers.image.{k}");
    let mut labels = vec![(key("revision"), commit.id.clone())];
    if let Some(source) = source {
        labels.push((key("source"), source));
    }
    labels.push((key("created"), rfc3339(commit.time)));
    labels.push((key("title"), title.to_string()));
    labels.push((key("version"), tag.to_string()));
    labels
}

/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY`, else the origin remote as an https URL without
/// credentials.
pub fn source_url(env: impl Fn(&str) -> Option<String>, origin: Option<&str>) -> Option<String> {
    if let (Some(server), Some(repo)) = (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY")) {
        return Some(format!("{}/{repo}", server.trim_end_matches('/')));
    }
    let url = origin?.trim();
    let rest = if let Some(rest) = url.strip_prefix("git@") {
        // git@github.com:owner/repo.git
        rest.replacen(':', "/", 1)
    } else if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(scheme, "https" | "http" | "ssh" | "git") {
            return None;
        }
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        // ssh://git@host:22/owner/repo: drop the port
        match rest.split_once('/') {
            Some((host, path)) => {
                let host = host.split(':').next().unwrap_or(host);
                format!("{host}/{path}")
            }
            None => return None,
        }
    } else {
        return None;
    };
    let rest = rest.trim_end_matches('/');
    Some(format!(
        "https://{}",
        rest.strip_suffix(".git").unwrap_or(rest)
    ))
}

/// Seconds since the epoch as RFC 3339 UTC, e.g. `2023-11-14T22:13:20Z`.
pub fn rfc3339(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn source_url_from_github_env_or_origin() {
        let none = |_: &str| None;
        let gh = |k: &str| match k {
            "GITHUB_SERVER_URL" => Some("https://github.com".to_string()),
            "GITHUB_REPOSITORY" => Some("dcasati/homelab".to_string()),
            _ => None,
        };
        assert_eq!(
            source_url(gh, Some("git@elsewhere:x/y.git")).as_deref(),
            Some("https://github.com/dcasati/homelab")
        );
        for (origin, want) in [
            (
                "git@github.com:dcasati/homelab.git",
                Some("https://github.com/dcasati/homelab"),
            ),
            (
                "https://github.com/dcasati/homelab.git",
                Some("https://github.com/dcasati/homelab"),
            ),
            (
                "https://x-access-token:ghp_s3cret@github.com/d/h",
                Some("https://github.com/d/h"),
            ),
            (
                "ssh://git@github.com:22/d/h.git",
                Some("https://github.com/d/h"),
            ),
            ("https://gitlab.com/a/b/", Some("https://gitlab.com/a/b")),
            ("/srv/git/homelab", None),
            ("file:///srv/git/homelab", None),
        ] {
            assert_eq!(source_url(none, Some(origin)).as_deref(), want, "{origin}");
        }
        assert_eq!(source_url(none, None), None);
    }

    #[test]
    fn labels_carry_commit_time_and_tag() {
        let commit = Commit {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            time: 1_700_000_000,
        };
        let labels = labels(&commit, "sha-0123456", "python-base", None);
        let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            pairs,
            [
                "org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567",
                "org.opencontainers.image.created=2023-11-14T22:13:20Z",
                "org.opencontainers.image.title=python-base",
                "org.opencontainers.image.version=sha-0123456",
            ]
        );
    }
}
