//! Tag patterns as Argo CD Image Updater reads them: Go regular expressions (`regexp:` in
//! `allowTags`, matched with `MatchString`, so unanchored) and the glob patterns of
//! `ignoreTags` and `namePattern` (`*`, `?`).
//!
//! Regexps go through `regex-lite`, which takes Go's RE2 syntax (flags such as `(?i)`, `\b`,
//! POSIX classes, lazy quantifiers) with Go's ASCII meaning of `\d`, `\w`, `\s` and `\b`, and
//! matches in linear time. What it does not take (Unicode classes such as `\pL`) is refused with
//! its reason, never guessed.

use std::collections::BTreeSet;

/// A compiled regexp.
#[derive(Debug, Clone)]
pub struct Regexp(regex_lite::Regex);

/// The largest compiled pattern accepted: `a{1000}{1000}` and the like are refused.
const SIZE_LIMIT: usize = 1 << 20;

impl Regexp {
    /// Compiles `pattern`, or says why it cannot.
    pub fn new(pattern: &str) -> Result<Regexp, String> {
        if let Some(count) = repeat_counts(pattern).find(|&n| n > MAX_REPEAT) {
            // Go's regexp/syntax refuses these; regex-lite would take them.
            return Err(format!(
                "invalid repeat count {count}: Go allows at most {MAX_REPEAT}"
            ));
        }
        if let Some(at) = nested_repetition(pattern) {
            return Err(format!(
                "invalid nested repetition operator at byte {at}, as Go says"
            ));
        }
        regex_lite::RegexBuilder::new(pattern)
            .size_limit(SIZE_LIMIT)
            .build()
            .map(Regexp)
            .map_err(|e| {
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
    }

    /// Go's `MatchString`: true when the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

/// The most a `{n,m}` may count, as in Go.
const MAX_REPEAT: usize = 1000;

/// The numbers of every `{n}`, `{n,}` and `{n,m}` in `pattern` (escaped braces included: a
/// count that large is refused either way).
fn repeat_counts(pattern: &str) -> impl Iterator<Item = usize> + '_ {
    pattern.split('{').skip(1).flat_map(|rest| {
        let inner = rest.split_once('}').map_or("", |(inner, _)| inner);
        let counts = inner.split(',').map(|n| n.trim().parse::<usize>());
        let ok = !inner.is_empty() && inner.split(',').count() <= 2;
        counts.filter_map(move |n| n.ok().filter(|_| ok))
    })
}

/// Where a repetition repeats a repetition (`a**`, `a+?*`, `a{2}+`): Go refuses it, regex-lite
/// would take it. A `?` right after a repetition makes it lazy, once. Escapes and classes are
/// skipped.
fn nested_repetition(pattern: &str) -> Option<usize> {
    let bytes = pattern.as_bytes();
    // 0: after an atom; 1: after a repetition; 2: after a lazy repetition.
    let (mut i, mut state) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let repeat = match b {
            b'*' | b'+' => true,
            b'?' if state == 1 => {
                state = 2;
                i += 1;
                continue;
            }
            b'?' => true,
            b'{' => pattern[i + 1..].split_once('}').is_some_and(|(inner, _)| {
                !inner.is_empty()
                    && inner
                        .split(',')
                        .all(|n| n.is_empty() || n.parse::<usize>().is_ok())
            }),
            _ => false,
        };
        if repeat {
            if state != 0 {
                return Some(i);
            }
            state = 1;
            i = match b {
                b'{' => i + pattern[i..].find('}').unwrap_or(0) + 1,
                _ => i + 1,
            };
            continue;
        }
        state = 0;
        i += match b {
            b'\\' => 2,
            b'[' => class_len(&pattern[i..]),
            _ => 1,
        };
    }
    None
}

/// The length of the class at the start of `s` (`[...]`, `[]a]`, `[^]a]`, `[[:alpha:]]`).
fn class_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' if b.get(i + 1) == Some(&b':') => {
                i += s[i..].find(":]").map_or(1, |j| j + 2);
            }
            b']' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// A glob as Image Updater's `ignoreTags` and `namePattern` take it: `*` any run, `?` any one
/// character, everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let mut states: BTreeSet<usize> = BTreeSet::from([0]);
    for &c in &t {
        let mut next = BTreeSet::new();
        for &i in &closure(&p, &states) {
            match p.get(i) {
                Some('*') => {
                    next.insert(i);
                }
                Some('?') => {
                    next.insert(i + 1);
                }
                Some(&x) if x == c => {
                    next.insert(i + 1);
                }
                _ => {}
            }
        }
        states = next;
    }
    closure(&p, &states).contains(&p.len())
}

/// `states` plus every state reached by letting a `*` match nothing.
fn closure(p: &[char], states: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut out = states.clone();
    for &i in states {
        let mut j = i;
        while p.get(j) == Some(&'*') {
            j += 1;
            out.insert(j);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Regexp::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn our_tag_pattern_accepts_sha_tags_only() {
        let re = "^sha-[0-9a-f]{7}$";
        assert!(m(re, "sha-522a89c") && m(re, "sha-0000000"));
        assert!(!m(re, "latest") && !m(re, "sha-522a89") && !m(re, "sha-522a89cd"));
        assert!(!m(re, "sha-522A89C") && !m(re, "xsha-522a89c") && !m(re, "sha-522a89c-dirty"));
    }

    #[test]
    fn unanchored_patterns_search_like_go() {
        assert!(m("sha-", "build-sha-1"));
        assert!(m(".*", "latest"));
        assert!(m("^(v\\d+\\.\\d+|sha-\\w+)$", "v1.2") && m("^(v\\d+\\.\\d+|sha-\\w+)$", "sha-x"));
        assert!(!m("^(v\\d+\\.\\d+|sha-\\w+)$", "v1.2.3"));
        assert!(m("^[^l].*$", "sha-1") && !m("^[^l].*$", "latest"));
        assert!(m("^a{2,}b?$", "aaa") && !m("^a{2,}b?$", "a"));
        assert!(m("^a{1,2}$", "aa") && !m("^a{1,2}$", "aaa"));
        assert!(m("^(a*)*$", &"a".repeat(200)), "no exponential blow-up");
        assert!(m("^[a-]+$", "a-a"));
    }

    #[test]
    fn go_syntax_is_taken_and_broken_patterns_are_refused() {
        assert!(m("(?i)^SHA-", "sha-522a89c") && !m("^SHA-", "sha-522a89c"));
        assert!(m("\\bsha-", "x sha-1") && !m("\\bsha-", "xsha-1"));
        assert!(m("^[[:alpha:]]+$", "latest") && !m("^[[:alpha:]]+$", "sha-1"));
        assert!(
            m("^a+?$", "aaa") && !m("^\\d$", "\u{663}"),
            "\\d is ASCII, as in Go"
        );
        for bad in [
            "sha)", "(sha", "[abc", "*x", "a{1001}", "\\pL", "(?P<n", "a**",
        ] {
            let err = Regexp::new(bad).err();
            assert!(
                err.as_ref().is_some_and(|e| !e.is_empty()),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("latest", "latest") && glob_match("*", "latest"));
        assert!(glob_match("lat*", "latest") && glob_match("l?test", "latest"));
        assert!(glob_match("iot-*", "iot-stack") && glob_match("*stack", "iot-stack"));
        assert!(!glob_match("sha-*", "latest") && !glob_match("iot-?", "iot-stack"));
    }
}
