//! Output formats for findings: human (rustc-style, stderr), json, github workflow commands and
//! SARIF 2.1.0 (stdout). Pure functions from findings to text.

use super::{Finding, Rule, Severity};
use crate::output::{escape, escape_line};
use crate::sarif::{self, slash_path, uri};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    (errors, findings.len() - errors)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The summary line: counts per severity.
pub fn summary(findings: &[Finding], files: usize) -> String {
    let (errors, warnings) = counts(findings);
    format!(
        "lint-manifests: {}, {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}

struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What a human snippet shows in place of a secret's value, whatever its length.
const SECRET_MASK: &str = "********";

/// rustc-style diagnostics with a snippet and a caret, then the summary line. `source` gives a
/// file's text (for the snippet); `color` adds ANSI colours.
pub fn human(
    findings: &[Finding],
    files: usize,
    source: &dyn Fn(&Path) -> Option<String>,
    color: bool,
) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    let mut cached: Option<(&Path, Option<String>)> = None;
    for f in findings {
        if cached.as_ref().is_none_or(|(p, _)| *p != f.file.as_path()) {
            cached = Some((f.file.as_path(), source(&f.file)));
        }
        let text = cached.as_ref().and_then(|(_, t)| t.as_deref());
        let (label, code) = match f.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        let _ = writeln!(
            out,
            "{}{}",
            paint.code(code, &format!("{label}[{}]", f.rule)),
            paint.code("1", &format!(": {}", escape(&f.message)))
        );
        let width = f.line.to_string().len();
        let pad = " ".repeat(width);
        let bar = paint.code("1;34", "|");
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            paint.code("1;34", "-->"),
            escape(&slash_path(&f.file)),
            f.line,
            f.column
        );
        if let Some(line) = text.and_then(|t| t.lines().nth(f.line - 1)) {
            let line = line.trim_end_matches('\r');
            let head: String = line.chars().take(f.column - 1).collect();
            let head = escape_line(&head).into_owned();
            // A secret's value is never printed: the line is cut at it.
            let line = if f.rule == super::security::SECRET_IN_CONFIG.id {
                format!("{head}{SECRET_MASK}")
            } else {
                escape_line(line).into_owned()
            };
            // Keep tabs so the caret lines up; replace every other character by a space.
            let before: String = head
                .chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} {bar}");
            let _ = writeln!(
                out,
                "{} {bar} {line}",
                paint.code("1;34", &f.line.to_string())
            );
            let _ = writeln!(out, "{pad} {bar} {before}{}", paint.code(code, "^"));
        }
        let _ = writeln!(
            out,
            "{pad} {} help: cargo xtask lint-manifests --explain {}",
            paint.code("1;34", "="),
            f.rule
        );
        out.push('\n');
    }
    out.push_str(&summary(findings, files));
    out.push('\n');
    out
}

/// A JSON array of `{rule, severity, file, line, column, message}`.
pub fn json(findings: &[Finding]) -> String {
    let items: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "severity": f.severity,
                "file": slash_path(&f.file),
                "line": f.line,
                "column": f.column,
                "message": f.message,
            })
        })
        .collect();
    let mut text = crate::output::json_for_log(
        serde_json::to_string_pretty(&items).expect("findings serialize"),
    );
    text.push('\n');
    text
}

/// Escapes a workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub workflow commands: `::error file=…,line=…,col=…,title=RULE::message`.
pub fn github(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "::{level} file={},line={},col={},title={}::{}",
            escape_property(&slash_path(&f.file)),
            f.line,
            f.column,
            escape_property(f.rule),
            escape_data(&f.message)
        );
    }
    out
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// SARIF 2.1.0, as github/codeql-action/upload-sarif accepts it. `rules` are listed in the
/// driver (with help text); results refer to them by id and index.
pub fn sarif(findings: &[Finding], rules: &[&Rule]) -> String {
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.explain },
                "help": {
                    "text": format!("{}\n\ncargo xtask lint-manifests --explain {}", r.explain, r.id),
                },
                "defaultConfiguration": { "level": level(r.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.file), "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": f.line, "startColumn": f.column },
                    }
                }],
            });
            if let Some(i) = rules.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();
    let extra = json!({ "columnKind": "unicodeCodePoints" });
    let log = sarif::log(vec![sarif::run(
        "xtask-lint-manifests",
        descriptors,
        results,
        extra,
    )]);
    let mut text =
        crate::output::json_for_log(serde_json::to_string_pretty(&log).expect("sarif serializes"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Pos;
    use std::path::PathBuf;

    fn findings() -> Vec<Finding> {
        let at = |line, column| Pos {
            offset: 0,
            line,
            column,
        };
        vec![
            Finding::new(
                &crate::lint::security::PRIVILEGED,
                Path::new("k8s-apps/a b/job.yaml"),
                at(2, 5),
                "container `x`: privileged: true",
            ),
            Finding::new(
                &crate::lint::kustomize_rules::IMAGE_UNUSED,
                Path::new("k8s-apps/kustomization.yaml"),
                at(1, 1),
                "50% done, a:b\nnext",
            ),
        ]
    }

    #[test]
    fn human_has_snippet_caret_and_summary() {
        let src = |p: &Path| {
            (p == Path::new("k8s-apps/a b/job.yaml"))
                .then(|| "kind: Pod\n\tx: privileged\n".to_string())
        };
        let text = human(&findings(), 3, &src, false);
        let expected = "\
error[SEC-PRIVILEGED]: container `x`: privileged: true
 --> k8s-apps/a b/job.yaml:2:5
  |
2 | \tx: privileged
  | \t   ^
  = help: cargo xtask lint-manifests --explain SEC-PRIVILEGED
";
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.ends_with("lint-manifests: 1 error, 1 warning in 3 files\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        assert!(human(&findings(), 3, &src, true).contains("\x1b[1;31merror[SEC-PRIVILEGED]"));
    }

    #[test]
    fn json_is_an_array_of_plain_findings() {
        let v: Value = serde_json::from_str(&json(&findings())).unwrap();
        assert_eq!(
            v[0],
            json!({"rule": "SEC-PRIVILEGED", "severity": "error", "file": "k8s-apps/a b/job.yaml", "line": 2, "column": 5, "message": "container `x`: privileged: true"})
        );
        assert_eq!(v[1]["severity"], "warning");
    }

    #[test]
    fn github_commands_are_escaped() {
        let text = github(&findings());
        assert_eq!(
            text,
            "::error file=k8s-apps/a b/job.yaml,line=2,col=5,title=SEC-PRIVILEGED::container `x`: privileged: true\n\
             ::warning file=k8s-apps/kustomization.yaml,line=1,col=1,title=KUS-IMAGE-UNUSED::50%25 done, a:b%0Anext\n"
        );
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn sarif_has_rules_results_and_locations() {
        let rules = crate::lint::registry();
        let v: Value = serde_json::from_str(&sarif(&findings(), &rules)).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let index = run["results"][0]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            "SEC-PRIVILEGED"
        );
        assert!(
            run["tool"]["driver"]["rules"][index]["help"]["text"]
                .as_str()
                .unwrap()
                .contains("KSV017")
        );
        let loc = &run["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "k8s-apps/a%20b/job.yaml");
        assert_eq!(loc["region"]["startLine"], 2);
        assert_eq!(loc["region"]["startColumn"], 5);
        assert_eq!(run["results"][1]["level"], "warning");
        let _ = PathBuf::new();
    }
}
