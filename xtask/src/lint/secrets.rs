//! Does a ConfigMap `data` entry or a container env `value:` literal look like a secret?
//!
//! Three kinds of evidence, checked in this order, and the first one found is the answer:
//! 1. Token formats, wherever they appear in the value (also inside scripts), after trivy's
//!    built-in secret rules: AWS access key ids, GitHub, GitLab, Slack and Stripe tokens, Slack
//!    webhooks, PEM private keys (a header followed by key material), JWTs, and URLs with a
//!    password in them.
//! 2. A credential-like key (`password`, `passwd`, `passphrase`, `secret`, `token`,
//!    `credentials`, `api_key`, `private_key`, `access_key`, a final `pass`) holding a one-line
//!    literal. Not: keys that name something about a credential (`token_url`, `password_file`,
//!    `secret_name`, `token_ttl`, ...), file-like keys (`token.py`: their values are file bodies),
//!    empty values, booleans, paths, and references (`$(VAR)`, `${VAR}`, `$VAR`, `{{ ... }}`).
//!    A placeholder such as `changeme` IS reported: it is the credential the app runs with, and
//!    it belongs in a Secret just the same.
//! 3. A long random-looking word (32+ characters of one base64 alphabet, standard `+/` or
//!    url-safe `-_`, never both): Shannon entropy of at least 4.5 bits per character, with digits
//!    and both cases, not under an identifier key (`client_id`); or hex with at least 3.5 bits,
//!    letters and digits, not a `sha256:` digest, under a key that names a credential (as in
//!    2.): hex under any other key (`trash_id`, `webhook`, a `trash_ids` list) is a hash or an
//!    ID. The key is the one on the word's own line, or the list's key above it (see
//!    [`context`]), else the value's own key.
//!
//! Placeholders are never secrets: `$(VAR)`, `${VAR}`, `$VAR`, `{VAR}`, `<VAR>` and `{{ … }}`,
//! whole or as a URL's password (`rtsp://view:{FRIGATE_RTSP_PASSWORD}@cam`).
//! [`find_secret`] also says where in the value the evidence is, so that a finding inside a
//! block scalar points at its own line and column.
//!
//! Identifiers in code (`os.environ["INFLUX_TOKEN"]`), URLs without credentials, host names,
//! database names, UUIDs and cron expressions do not match any of these.

pub mod context;

use std::ops::Range;

/// What `value` (under `key`) looks like, if it looks like a secret.
pub fn looks_like_secret(key: &str, value: &str) -> Option<&'static str> {
    find_secret(key, value).map(|(reason, _)| reason)
}

/// What `value` (under `key`) looks like, if it looks like a secret, and the bytes of `value`
/// that are the evidence.
pub fn find_secret(key: &str, value: &str) -> Option<(&'static str, Range<usize>)> {
    token_format(value)
        .or_else(|| credential_key(key, value))
        .or_else(|| high_entropy(key, value))
}

fn token_format(v: &str) -> Option<(&'static str, Range<usize>)> {
    const AWS: &[&str] = &[
        "AKIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ASIA", "A3T",
    ];
    let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    for p in AWS {
        // 20 characters in all (`A3T` takes one more of the class), then a word boundary.
        let need = 20 - p.len();
        if let Some(m) = prefixed(v, p, upper_alnum).find(|&(_, n)| n == need) {
            return Some(("an AWS access key id", span(p, m)));
        }
    }
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if let Some(m) = prefixed(v, p, alnum).find(|&(_, n)| n >= 36) {
            return Some(("a GitHub token", span(p, m)));
        }
    }
    let pat_body = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let p = "github_pat_";
    if let Some(m) = prefixed(v, p, pat_body).find(|&(_, n)| n >= 82) {
        return Some(("a GitHub fine-grained token", span(p, m)));
    }
    let dash_word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if let Some(m) = prefixed(v, "glpat-", dash_word).find(|&(_, n)| n >= 20) {
        return Some(("a GitLab personal access token", span("glpat-", m)));
    }
    for p in ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"] {
        if let Some(m) = prefixed(v, p, alnum).find(|&(_, n)| n >= 10) {
            return Some(("a Slack token", span(p, m)));
        }
    }
    let hook = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    let p = "https://hooks.slack.com/services/";
    if let Some(m) = prefixed(v, p, hook).find(|&(_, n)| n >= 44) {
        return Some(("a Slack webhook URL", span(p, m)));
    }
    if let Some(m) = prefixed(v, "sk_live_", alnum).find(|&(_, n)| n >= 10) {
        return Some(("a Stripe secret key", span("sk_live_", m)));
    }
    if let Some(r) = private_key(v) {
        return Some(("a private key", r));
    }
    if let Some(r) = jwt(v) {
        return Some(("a JWT", r));
    }
    if let Some(r) = url_with_password(v) {
        return Some(("a URL with a password in it", r));
    }
    None
}

/// The bytes of a `prefix` match at `i` with `n` more bytes.
fn span(prefix: &str, (i, n): (usize, usize)) -> Range<usize> {
    i..i + prefix.len() + n
}

/// For each `prefix` at a word start in `v`: where it starts and how many bytes of `class`
/// follow it, if then the word ends.
fn prefixed<'a>(
    v: &'a str,
    prefix: &'a str,
    class: impl Fn(u8) -> bool + 'a,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let b = v.as_bytes();
    starts_of(v, prefix).filter_map(move |i| {
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            return None;
        }
        let rest = &b[i + prefix.len()..];
        let n = rest.iter().take_while(|&&c| class(c)).count();
        let ends = rest.get(n).is_none_or(|c| !c.is_ascii_alphanumeric());
        ends.then_some((i, n))
    })
}

/// Where `needle` occurs in `v`. Most values lack its first byte, and then none is searched.
fn starts_of<'a>(v: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let first = needle.as_bytes().first();
    let present = first.is_none_or(|c| v.as_bytes().contains(c));
    let found = present.then(|| v.match_indices(needle).map(|(i, _)| i));
    found.into_iter().flatten()
}

/// `-----BEGIN ... PRIVATE KEY-----` followed by at least 32 characters of base64: the header.
fn private_key(v: &str) -> Option<Range<usize>> {
    let found = starts_of(v, "-----BEGIN ").find(|&i| {
        let rest = &v[i + "-----BEGIN ".len()..];
        let Some(end) = rest.find("-----") else {
            return false;
        };
        let label = &rest[..end];
        let label_ok = label.len() <= 100
            && (label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK"))
            && label
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || b" _-".contains(&c));
        let body = rest[end + 5..]
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || b"+/=\\\r\n\t ".contains(c))
            .filter(|c| !c.is_ascii_whitespace())
            .count();
        label_ok && body >= 32
    })?;
    let end = v[found..].find('\n').map_or(v.len(), |n| found + n);
    Some(found..end)
}

/// `eyJ...` `.eyJ...` `.` signature (which may be empty): two base64url JSON parts.
fn jwt(v: &str) -> Option<Range<usize>> {
    let b64url = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
    let found = starts_of(v, "eyJ").find(|&i| {
        let b = &v.as_bytes()[i..];
        let head = b.iter().take_while(|c| b64url(c)).count();
        if head < 20 || b.get(head) != Some(&b'.') {
            return false;
        }
        let p = &b[head + 1..];
        let body = p.iter().take_while(|c| b64url(c)).count();
        p.starts_with(b"eyJ") && body >= 20 && p.get(body) == Some(&b'.')
    })?;
    let len = v.as_bytes()[found..]
        .iter()
        .take_while(|c| b64url(c) || **c == b'.')
        .count();
    Some(found..found + len)
}

/// `scheme://user:password@host` with a literal password: the URL up to its host.
fn url_with_password(v: &str) -> Option<Range<usize>> {
    starts_of(v, "://").find_map(|i| {
        let rest = &v[i + 3..];
        let auth_end = rest
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || "\"'`".contains(c)
            })
            .unwrap_or(rest.len());
        let at = rest[..auth_end].rfind('@')?;
        let (_, pass) = rest[..at].split_once(':')?;
        if pass.is_empty() || is_reference(pass) {
            return None;
        }
        let scheme = v[..i]
            .bytes()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || b"+.-".contains(c))
            .count();
        Some(i - scheme..i + 3 + at)
    })
}

/// A reference or placeholder, not a value: `$(VAR)`, `${VAR}`, `$VAR`, `{VAR}`, `<VAR>`,
/// `{{ … }}`, `%VAR%`.
fn is_reference(v: &str) -> bool {
    let v = v.trim();
    let var = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    let name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
    };
    let inner = |open: char, close: char| v.strip_prefix(open)?.strip_suffix(close);
    (v.starts_with("$(") && v.ends_with(')'))
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || v.strip_prefix('$').is_some_and(var)
        || inner('{', '}').is_some_and(name)
        || inner('<', '>').is_some_and(name)
        || (v.starts_with('%') && v.ends_with('%') && v.len() > 2)
}

/// The words of a key: split at non-alphanumerics and lower-to-upper case changes, lowercased.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn credential_key(key: &str, value: &str) -> Option<(&'static str, Range<usize>)> {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "apikey",
        "privatekey",
        "accesskey",
        "secretkey",
    ];
    const PAIRS: &[(&str, &str)] = &[
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("secret", "key"),
    ];
    /// A last word that makes the key about a credential rather than the credential itself.
    const ABOUT: &[&str] = &[
        "file",
        "path",
        "dir",
        "url",
        "uri",
        "endpoint",
        "host",
        "name",
        "ref",
        "env",
        "var",
        "id",
        "type",
        "length",
        "len",
        "ttl",
        "expiry",
        "expires",
        "timeout",
        "lifetime",
        "seconds",
        "interval",
        "header",
        "field",
        "mount",
        "enabled",
        "required",
        "count",
        "size",
        "format",
        "algorithm",
        "version",
        "prefix",
        "issuer",
        "audience",
        "scope",
        "scopes",
        "mode",
    ];
    /// Extensions of ConfigMap keys whose values are file bodies (scripts, configs).
    const FILE_EXTS: &[&str] = &[
        "py",
        "sh",
        "bash",
        "json",
        "yaml",
        "yml",
        "toml",
        "ini",
        "conf",
        "cfg",
        "txt",
        "js",
        "ts",
        "lua",
        "sql",
        "csv",
        "properties",
        "env",
        "xml",
        "html",
        "md",
        "tpl",
        "j2",
        "rb",
        "pl",
        "service",
        "crt",
        "pem",
    ];
    let is_file_key = key.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && FILE_EXTS.contains(&ext.to_ascii_lowercase().as_str())
    });
    let words = key_words(key);
    let last = words.last()?;
    let named = words.iter().any(|w| WORDS.contains(&w.as_str()))
        || words
            .windows(2)
            .any(|p| PAIRS.contains(&(p[0].as_str(), p[1].as_str())))
        || last == "pass";
    let v = value.trim();
    let boolean = matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~"
    );
    let path = (v.starts_with('/') || v.starts_with("./")) && !v.contains(char::is_whitespace);
    let url = v.contains("://");
    let literal =
        !v.is_empty() && !v.contains('\n') && !boolean && !path && !url && !is_reference(v);
    let start = value.len() - value.trim_start().len();
    (named && !is_file_key && !ABOUT.contains(&last.as_str()) && literal).then_some((
        "a literal value under a credential-like key",
        start..start + v.len(),
    ))
}

/// Words of a key whose hex values are digests or identifiers, not credentials.
const DIGEST_KEYS: &[&str] = &[
    "digest",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "hash",
    "checksum",
    "commit",
    "md5",
    "id",
    "ids",
    "uid",
    "uuid",
    "guid",
    "fingerprint",
    "etag",
];

fn high_entropy(key: &str, value: &str) -> Option<(&'static str, Range<usize>)> {
    let digest_key = |key: &str| {
        key_words(key)
            .iter()
            .any(|w| DIGEST_KEYS.contains(&w.as_str()))
    };
    // Base64 (`+/`) or base64url (`-_`) words; `=` only as padding, so `KEY=value` is two words.
    let word_byte = |c: u8| c.is_ascii_alphanumeric() || b"+/_-".contains(&c);
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !word_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && word_byte(b[i]) {
            i += 1;
        }
        let word = &value[start..i];
        if word.len() < 32 {
            continue;
        }
        // One encoding never mixes the two alphabets: `LD_PATH/usr/lib-x` is a path.
        if word.contains(['+', '/']) && word.contains(['-', '_']) {
            continue;
        }
        let digits = word.bytes().any(|c| c.is_ascii_digit());
        let hex = word.bytes().all(|c| c.is_ascii_hexdigit());
        if hex {
            let after_digest = value[..start].ends_with(':') && {
                let algo = value[..start - 1]
                    .rsplit(|c: char| !c.is_ascii_alphanumeric())
                    .next();
                algo.is_some_and(|a| a.starts_with("sha") || a == "md5")
            };
            let letters = word.bytes().any(|c| c.is_ascii_alphabetic());
            // A hex word is a hash or an ID (a TRaSH guide id, a device id) unless the key it
            // stands under (on its line, else the value's own key) names a credential.
            let local = context::line_key(value, start);
            let secret_key = || {
                let k = local.unwrap_or(key);
                !digest_key(k) && credential_key(k, "x").is_some()
            };
            if !after_digest && digits && letters && entropy(word) >= 3.5 && secret_key() {
                return Some(("a long random-looking hex string", start..i));
            }
        } else {
            let upper = word.bytes().any(|c| c.is_ascii_uppercase());
            let lower = word.bytes().any(|c| c.is_ascii_lowercase());
            // Under an identifier key (`client_id`), a random-looking word is an ID.
            let id_key = || context::line_key(value, start).is_some_and(digest_key);
            if digits && upper && lower && entropy(word) >= 4.5 && !id_key() {
                return Some(("a long high-entropy string", start..i));
            }
        }
    }
    None
}

/// Shannon entropy in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests;
