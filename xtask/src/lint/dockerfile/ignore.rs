//! `.dockerignore` as BuildKit applies it (moby/patternmatcher): one pattern a line, `#`
//! comments, a leading `!` re-includes, a leading `/` is dropped; `*` and `?` stay within one
//! path segment, `**` spans any number, `[...]` is a class and `\` escapes. A path is excluded
//! when the last pattern that matches it, or one of its parent folders, is not negated. So
//! `*` then `!requirements.txt` sends only requirements.txt. `<Dockerfile>.dockerignore` beside
//! the Dockerfile wins over `.dockerignore`.

use std::path::Path;

#[derive(Debug, Default)]
pub struct Ignore {
    /// (negated, segments, 1-based line, the pattern as written)
    patterns: Vec<(bool, Vec<String>, usize, String)>,
}

impl Ignore {
    /// The ignore file for `dockerfile` (a file name) in the context folder `dir` (relative to
    /// `root`). One that is not a regular file inside the repository (a symlink out of it, a
    /// FIFO) is never read: [`crate::files::read_in_repo`].
    pub fn for_context(root: &Path, dir: &Path, dockerfile: &str) -> (Ignore, &'static str) {
        for (name, label) in [
            (
                format!("{dockerfile}.dockerignore"),
                "<Dockerfile>.dockerignore",
            ),
            (".dockerignore".to_string(), ".dockerignore"),
        ] {
            let read = crate::files::read_in_repo(root, &dir.join(&name), crate::files::READ_LIMIT);
            if let Ok(Some((text, _))) = read {
                return (Ignore::parse(&text), label);
            }
        }
        (Ignore::default(), ".dockerignore")
    }

    pub fn parse(text: &str) -> Ignore {
        let mut patterns = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, pat) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let segs: Vec<String> = pat
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .map(str::to_string)
                .collect();
            if !segs.is_empty() {
                patterns.push((negated, segs, i + 1, line.to_string()));
            }
        }
        Ignore { patterns }
    }

    /// The pattern (line and text) that excludes `path` (context-relative, `/`-separated), if
    /// one does.
    pub fn excluded_by(&self, path: &str) -> Option<(usize, &str)> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut last = None;
        for (negated, pat, line, text) in &self.patterns {
            let hit = (1..=segs.len()).any(|n| match_segs(pat, &segs[..n]));
            if hit {
                last = (!negated).then_some((*line, text.as_str()));
            }
        }
        last
    }

    /// True when a `!` pattern could re-include something under the folder `dir`.
    pub fn may_include_under(&self, dir: &str) -> bool {
        let segs: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        self.patterns.iter().any(|(negated, pat, _, _)| {
            *negated
                && pat.len() > segs.len()
                && pat.iter().zip(&segs).all(|(p, s)| p == "**" || glob(p, s))
        })
    }
}

/// Whole-path match of pattern segments (`**` matches zero or more segments).
fn match_segs(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => (0..=path.len()).any(|k| match_segs(rest, &path[k..])),
        Some((p, rest)) => !path.is_empty() && glob(p, path[0]) && match_segs(rest, &path[1..]),
    }
}

/// One segment against a glob with `*`, `?`, `[...]` (with `^`/`!` negation and ranges) and `\`.
fn glob(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = s.chars().collect();
    glob_at(&p, &s)
}

fn glob_at(p: &[char], s: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('*') => (0..=s.len()).any(|k| glob_at(&p[1..], &s[k..])),
        Some('?') => !s.is_empty() && glob_at(&p[1..], &s[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                return !s.is_empty() && s[0] == '[' && glob_at(&p[1..], &s[1..]);
            };
            let Some(&c) = s.first() else { return false };
            let class = &p[1..close];
            let (neg, class) = match class.first() {
                Some('^' | '!') => (true, &class[1..]),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == '-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != neg && glob_at(&p[close + 1..], &s[1..])
        }
        Some('\\') if p.len() > 1 => !s.is_empty() && s[0] == p[1] && glob_at(&p[2..], &s[1..]),
        Some(&c) => !s.is_empty() && s[0] == c && glob_at(&p[1..], &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_and_parents() {
        let ig = Ignore::parse("# only these\n*\n!requirements.txt\n!src/app.py\n");
        assert_eq!(ig.excluded_by("Dockerfile.dev"), Some((2, "*")));
        assert_eq!(ig.excluded_by("requirements.txt"), None);
        assert_eq!(ig.excluded_by("src/app.py"), None);
        assert_eq!(ig.excluded_by("src/other.py"), Some((2, "*")));
        assert!(ig.may_include_under("src"));
        assert!(!ig.may_include_under("tests"));
    }

    #[test]
    fn globs_and_double_star() {
        let ig = Ignore::parse("**/*.pyc\n/build\ndocs/[a-c]*.md\n");
        assert!(ig.excluded_by("a/b/c.pyc").is_some());
        assert!(ig.excluded_by("c.pyc").is_some());
        assert!(ig.excluded_by("build/out/x").is_some());
        assert!(ig.excluded_by("src/build").is_none());
        assert!(ig.excluded_by("docs/api.md").is_some());
        assert!(ig.excluded_by("docs/readme.md").is_none());
        assert!(ig.excluded_by("app.py").is_none());
    }
}
