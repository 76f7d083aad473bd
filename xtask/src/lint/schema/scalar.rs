//! How the API server's YAML reader types a scalar, and the formats of the SCHEMA rules.
//!
//! kubectl and Argo CD read manifests with sigs.k8s.io/yaml, which is go-yaml v2: YAML 1.1
//! resolution. A plain `yes`, `on` or `y` is a boolean, `0x1F` and `0o17` (and `017`) are
//! integers, underscores in numbers are dropped; anything quoted, a block scalar, or a `!!str`
//! tag is a string.

use crate::yaml::{Node, Style, Value};

/// A scalar's JSON type after YAML 1.1 resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Null,
    Bool,
    Int(i128),
    Float(f64),
    Str,
}

impl Scalar {
    pub fn describe(self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool => "a boolean",
            Scalar::Int(_) => "an integer",
            Scalar::Float(_) => "a number",
            Scalar::Str => "a string",
        }
    }
}

/// The type sigs.k8s.io/yaml gives `node` (a scalar).
pub fn resolve(node: &Node) -> Scalar {
    let Value::Scalar { text, style } = &node.value else {
        return Scalar::Str;
    };
    match node.tag.as_deref() {
        Some("!!str" | "tag:yaml.org,2002:str") => return Scalar::Str,
        Some("!!null") => return Scalar::Null,
        _ => {}
    }
    if *style != Style::Plain {
        return Scalar::Str;
    }
    resolve_plain(text)
}

/// go-yaml v2's resolve table for a plain scalar.
pub fn resolve_plain(text: &str) -> Scalar {
    // This runs for every plain value: most are decided by their first byte.
    let Some(&first) = text.as_bytes().first() else {
        return Scalar::Null;
    };
    match first {
        b'0'..=b'9' | b'+' | b'-' | b'.' => resolve_number(text, first),
        b'~' | b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
            if text.len() <= 5 =>
        {
            match text {
                "~" | "null" | "Null" | "NULL" => Scalar::Null,
                "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On"
                | "ON" | "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off"
                | "Off" | "OFF" => Scalar::Bool,
                _ => Scalar::Str,
            }
        }
        _ => Scalar::Str,
    }
}

/// A plain scalar starting with a digit, sign or dot: an integer, a float or a string.
fn resolve_number(text: &str, first: u8) -> Scalar {
    let bytes = text.as_bytes();
    // Plain decimal integers, the common case, without the general parse.
    if bytes.len() < 19
        && (bytes.len() == 1 || first != b'0')
        && bytes.iter().all(u8::is_ascii_digit)
    {
        return Scalar::Int(text.parse::<i128>().unwrap_or_default());
    }
    // Anything with a byte no number has (`50m`, `64Mi`, `5 * * * *`) is a string.
    if !bytes
        .iter()
        .all(|b| b.is_ascii_hexdigit() || b"xXoO_+-.".contains(b))
    {
        return match text {
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf"
            | "-.INF" | ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
            _ => Scalar::Str,
        };
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(n) = parse_int(&plain) {
        return Scalar::Int(n);
    }
    if is_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    Scalar::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)` (then ParseUint): sign, `0x`, `0o`, `0b`, leading-0 octal.
fn parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from_str_radix(digits, radix).ok()?;
    let n = if neg { -n } else { n };
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&n)
        .then_some(n)
}

/// go-yaml v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exp_ok
}

/// A resource quantity as `resource.ParseQuantity` reads it: a signed decimal number, then a
/// binary (Ki..Ei), decimal (n, u, m, k, M, G, T, P, E) or exponent (e3, E-2) suffix.
/// A whole value that is a variable for a tool to substitute before the API server sees it:
/// Flux's post-build `${VAR}`, `${VAR:=default}` or `${VAR:-default}`. Its type and format are
/// the substituted value's, so the schema rules leave it alone.
pub fn is_substitution(text: &str) -> bool {
    let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
        return false;
    };
    let name_len = inner
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    name_len > 0
        && !inner.contains('}')
        && (name_len == inner.len()
            || inner[name_len..].starts_with(":=")
            || inner[name_len..].starts_with(":-"))
}

pub fn is_quantity(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(end);
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 || number.matches('.').count() > 1 {
        return false;
    }
    const SUFFIXES: [&str; 16] = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    if SUFFIXES.contains(&suffix) {
        return true;
    }
    match suffix.strip_prefix(['e', 'E']) {
        Some(exp) => {
            let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// Standard base64 with padding, as encoding/json decodes `[]byte` (line breaks ignored).
pub fn is_base64(s: &str) -> bool {
    let clean: Vec<u8> = s.bytes().filter(|b| !matches!(b, b'\n' | b'\r')).collect();
    if !clean.len().is_multiple_of(4) {
        return false;
    }
    let pad = clean.iter().rev().take_while(|&&b| b == b'=').count();
    pad <= 2
        && clean[..clean.len() - pad]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_resolution_as_go_yaml_v2() {
        for b in ["yes", "Yes", "on", "OFF", "y", "N", "true", "False"] {
            assert_eq!(resolve_plain(b), Scalar::Bool, "{b}");
        }
        assert_eq!(resolve_plain("3"), Scalar::Int(3));
        assert_eq!(resolve_plain("0x1F"), Scalar::Int(31));
        assert_eq!(resolve_plain("017"), Scalar::Int(15));
        assert_eq!(resolve_plain("1_000"), Scalar::Int(1000));
        assert_eq!(resolve_plain("-2"), Scalar::Int(-2));
        assert_eq!(resolve_plain("1.5"), Scalar::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Scalar::Float(1000.0));
        assert_eq!(resolve_plain("~"), Scalar::Null);
        for s in [
            "True1", "0.5.1", "128Mi", "08:00", "1.2e", "v1", "-", "yess",
        ] {
            assert_eq!(resolve_plain(s), Scalar::Str, "{s}");
        }
    }

    #[test]
    fn quoted_and_tagged_scalars_are_strings() {
        let docs =
            crate::yaml::load("a: \"true\"\nb: 'yes'\nc: !!str 5\nd: |\n  5\ne: yes\n").unwrap();
        let root = &docs[0].root;
        let got: Vec<Scalar> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|k| resolve(root.get(k).unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                Scalar::Str,
                Scalar::Str,
                Scalar::Str,
                Scalar::Str,
                Scalar::Bool
            ]
        );
    }

    #[test]
    fn quantities() {
        for q in [
            "100m", "128Mi", "1Gi", "0.5", "1e3", "2E-2", "+1k", ".5", "1.", "500u",
        ] {
            assert!(is_quantity(q), "{q}");
        }
        for q in ["128MB", "1 Gi", "Mi", "", "1.2.3", "one", "10mi", "1e"] {
            assert!(!is_quantity(q), "{q}");
        }
    }

    #[test]
    fn base64() {
        assert!(is_base64("aGVsbG8="));
        assert!(is_base64("aGVs\nbG8="));
        assert!(!is_base64("hello"));
        assert!(!is_base64("aGVsbG8=x==="));
    }
}
