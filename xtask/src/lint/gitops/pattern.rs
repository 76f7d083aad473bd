//! Tag patterns as Argo CD Image Updater reads them: Go regular expressions (`regexp:` in
//! `allowTags`, matched with `MatchString`, so unanchored) and the glob patterns of
//! `ignoreTags` and `namePattern` (`*`, `?`).
//!
//! The regexp engine is small on purpose: it runs a few tags through a few patterns. It takes
//! literals, `.`, classes (`[a-f0-9]`, `[^x]`, `\d`, `\w`, `\s`), groups with `|`, the anchors `^`
//! and `$`, and the quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (lazy forms match the same
//! set). Anything else (flags, `\b`, POSIX classes) is refused, never guessed. Matching tracks
//! the set of reachable positions, so no pattern can make it backtrack exponentially.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: Option<usize>,
    },
}

/// A compiled regexp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regexp(Vec<Vec<Node>>);

/// The most a `{n,m}` may count.
const MAX_REPEAT: usize = 1000;

impl Regexp {
    /// Compiles `pattern`, or says which construct this engine does not take.
    pub fn new(pattern: &str) -> Result<Regexp, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut at = 0;
        let alts = alternatives(&chars, &mut at)?;
        if at < chars.len() {
            return Err(format!("unbalanced `)` at character {}", at + 1));
        }
        Ok(Regexp(alts))
    }

    /// Does the pattern match anywhere in `text` (Go's `MatchString`)?
    pub fn is_match(&self, text: &str) -> bool {
        let s: Vec<char> = text.chars().collect();
        let starts: BTreeSet<usize> = (0..=s.len()).collect();
        !ends(&Node::Group(self.0.clone()), &s, &starts).is_empty()
    }
}

fn alternatives(p: &[char], at: &mut usize) -> Result<Vec<Vec<Node>>, String> {
    let mut alts = vec![Vec::new()];
    while *at < p.len() {
        let c = p[*at];
        match c {
            ')' => break,
            '|' => {
                *at += 1;
                alts.push(Vec::new());
                continue;
            }
            '*' | '+' | '?' | '{' => {
                let last = alts.last_mut().unwrap();
                let node = last.pop().ok_or(format!("`{c}` repeats nothing"))?;
                let (min, max) = quantifier(p, at)?;
                last.push(Node::Repeat {
                    node: Box::new(node),
                    min,
                    max,
                });
                if p.get(*at) == Some(&'?') {
                    *at += 1;
                }
                continue;
            }
            _ => {}
        }
        let node = atom(p, at)?;
        alts.last_mut().unwrap().push(node);
    }
    Ok(alts)
}

fn quantifier(p: &[char], at: &mut usize) -> Result<(usize, Option<usize>), String> {
    let c = p[*at];
    *at += 1;
    match c {
        '*' => Ok((0, None)),
        '+' => Ok((1, None)),
        '?' => Ok((0, Some(1))),
        _ => {
            let close = p[*at..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("`{` without `}`")?;
            let body: String = p[*at..*at + close].iter().collect();
            *at += close + 1;
            let number = |s: &str| -> Result<usize, String> {
                s.parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_REPEAT)
                    .ok_or(format!(
                        "`{{{body}}}` is not a repeat count up to {MAX_REPEAT}"
                    ))
            };
            match body.split_once(',') {
                None => number(&body).map(|n| (n, Some(n))),
                Some((min, "")) => Ok((number(min)?, None)),
                Some((min, max)) => Ok((number(min)?, Some(number(max)?))),
            }
        }
    }
}

fn atom(p: &[char], at: &mut usize) -> Result<Node, String> {
    let c = p[*at];
    *at += 1;
    Ok(match c {
        '.' => Node::Any,
        '^' => Node::Start,
        '$' => Node::End,
        '(' => {
            if p.get(*at) == Some(&'?') {
                return Err("group flags `(?…)` are not supported".into());
            }
            let alts = alternatives(p, at)?;
            if p.get(*at) != Some(&')') {
                return Err("`(` without `)`".into());
            }
            *at += 1;
            Node::Group(alts)
        }
        '[' => class(p, at)?,
        '\\' => escape(p, at)?,
        c => Node::Char(c),
    })
}

fn escape(p: &[char], at: &mut usize) -> Result<Node, String> {
    let c = *p.get(*at).ok_or("trailing `\\`")?;
    *at += 1;
    let class = |ranges: &[(char, char)]| Node::Class {
        ranges: ranges.to_vec(),
        negated: false,
    };
    Ok(match c {
        'd' => class(&[('0', '9')]),
        'w' => class(&[('0', '9'), ('a', 'z'), ('A', 'Z'), ('_', '_')]),
        's' => class(&[(' ', ' '), ('\t', '\r')]),
        c if c.is_ascii_punctuation() => Node::Char(c),
        c => return Err(format!("`\\{c}` is not supported")),
    })
}

fn class(p: &[char], at: &mut usize) -> Result<Node, String> {
    let negated = p.get(*at) == Some(&'^');
    if negated {
        *at += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *p.get(*at).ok_or("`[` without `]`")?;
        *at += 1;
        match c {
            ']' if !first => break,
            '[' if p.get(*at) == Some(&':') => return Err("POSIX classes are not supported".into()),
            '\\' => match escape(p, at)? {
                Node::Class { ranges: r, .. } => ranges.extend(r),
                Node::Char(c) => ranges.push((c, c)),
                _ => unreachable!("escape gives a class or a char"),
            },
            c if p.get(*at) == Some(&'-') && p.get(*at + 1).is_some_and(|&e| e != ']') => {
                let end = p[*at + 1];
                *at += 2;
                if end < c {
                    return Err(format!("bad range `{c}-{end}`"));
                }
                ranges.push((c, end));
            }
            c => ranges.push((c, c)),
        }
        first = false;
    }
    Ok(Node::Class { ranges, negated })
}

fn ends(node: &Node, s: &[char], starts: &BTreeSet<usize>) -> BTreeSet<usize> {
    let step = |ok: &dyn Fn(char) -> bool| -> BTreeSet<usize> {
        starts
            .iter()
            .filter(|&&p| s.get(p).is_some_and(|&c| ok(c)))
            .map(|p| p + 1)
            .collect()
    };
    match node {
        Node::Char(want) => step(&|c| c == *want),
        Node::Any => step(&|c| c != '\n'),
        Node::Class { ranges, negated } => {
            step(&|c| ranges.iter().any(|&(a, b)| a <= c && c <= b) != *negated)
        }
        Node::Start => starts.iter().copied().filter(|&p| p == 0).collect(),
        Node::End => starts.iter().copied().filter(|&p| p == s.len()).collect(),
        Node::Group(alts) => alts
            .iter()
            .flat_map(|seq| seq.iter().fold(starts.clone(), |cur, n| ends(n, s, &cur)))
            .collect(),
        Node::Repeat { node, min, max } => {
            let mut all = if *min == 0 {
                starts.clone()
            } else {
                BTreeSet::new()
            };
            let mut cur = starts.clone();
            let limit = max.unwrap_or((*min).max(s.len() + 1));
            for count in 1..=limit {
                let next = ends(node, s, &cur);
                if next.is_empty() || (max.is_none() && count > *min && next == cur) {
                    break;
                }
                if count >= *min {
                    all.extend(next.iter().copied());
                }
                cur = next;
            }
            all
        }
    }
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
    fn unsupported_constructs_are_refused() {
        for bad in [
            "(?i)sha",
            "\\bsha",
            "[[:alpha:]]",
            "sha)",
            "(sha",
            "[abc",
            "*x",
            "a{99999}",
        ] {
            assert!(Regexp::new(bad).is_err(), "{bad}");
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
