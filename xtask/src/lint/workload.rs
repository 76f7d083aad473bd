//! Workload rules (WL-*) for CronJob, Job, Deployment, StatefulSet, DaemonSet, ReplicaSet and Pod:
//! image tags, CronJob schedules and time zones, Job restart policies, and the facts the tree
//! pass needs (images, ConfigMap volumes, scripts run from ConfigMap mounts).

use super::{Doc, Finding, Rule, Severity};
use crate::settings::Settings;
use crate::yaml::{Node, Pos, Style};
use std::path::Path;

pub const BASE_IMAGE_TAGGED: Rule = Rule {
    id: "WL-BASE-IMAGE-TAGGED",
    severity: Severity::Error,
    summary: "configured base image carries a tag in the manifest",
    explain: "Containers of an image this repo builds (settings `images`, e.g. python-base) must \
name it WITHOUT a tag or digest. The tag lives only in the `images:` list of kustomization.yaml, \
which Argo CD Image Updater and `cargo xtask update-images` maintain; a tag in the manifest is \
either overridden silently or, if the names differ, goes stale.",
};
pub const LATEST: Rule = Rule {
    id: "WL-LATEST",
    severity: Severity::Error,
    summary: "image tagged :latest",
    explain: "`:latest` deploys whatever was pushed last, differs between nodes, and cannot be \
rolled back. Pin a version tag or a digest (kube-linter latest-tag; trivy KSV013).",
};
pub const CRON_SCHEDULE: Rule = Rule {
    id: "WL-CRON-SCHEDULE",
    severity: Severity::Error,
    summary: "CronJob schedule is not valid cron",
    explain: "`spec.schedule` of a CronJob must be a five-field cron expression (minute hour \
day-of-month month day-of-week, with ranges, steps, lists and names) or a macro such as \
@hourly. The API server rejects anything else, and Argo CD shows the application degraded.",
};
pub const TIMEZONE: Rule = Rule {
    id: "WL-TIMEZONE",
    severity: Severity::Error,
    summary: "CronJob timeZone is not an IANA zone",
    explain: "`spec.timeZone` must name a zone of the IANA time zone database, such as \
Europe/Berlin or Etc/UTC. Abbreviations (CET, PST) and offsets (+02:00) are rejected by the API \
server.",
};
pub const JOB_RESTART_ALWAYS: Rule = Rule {
    id: "WL-JOB-RESTART-ALWAYS",
    severity: Severity::Error,
    summary: "Job pod template restartPolicy is Always or missing",
    explain: "The pod template of a Job (and of a CronJob's jobTemplate) must set restartPolicy \
to OnFailure or Never. `Always`, or no restartPolicy (which defaults to Always), is rejected by \
the API server.",
};
pub const CONFIGMAP_MISSING: Rule = Rule {
    id: "WL-CONFIGMAP-MISSING",
    severity: Severity::Error,
    summary: "configMap volume names a ConfigMap the kustomization lacks",
    explain: "A `configMap` volume (or projected source) names a ConfigMap that the kustomization \
building this workload neither generates (configMapGenerator) nor includes as a resource, and \
the volume is not `optional: true`. The pod stays in ContainerCreating.",
};
pub const SCRIPT_NOT_IN_CONFIGMAP: Rule = Rule {
    id: "WL-SCRIPT-NOT-IN-CONFIGMAP",
    severity: Severity::Error,
    summary: "command runs a file that the mounted ConfigMap lacks",
    explain: "The container's command or args name a path (e.g. `python /app/forecast.py`) under \
the mount path of a ConfigMap volume, but the ConfigMap has no such key (or `items:` does not \
project it). The job starts and fails with `No such file or directory`. Add the file to the \
configMapGenerator or fix the path.",
};

pub const RULES: &[Rule] = &[
    BASE_IMAGE_TAGGED,
    LATEST,
    CRON_SCHEDULE,
    TIMEZONE,
    JOB_RESTART_ALWAYS,
    CONFIGMAP_MISSING,
    SCRIPT_NOT_IN_CONFIGMAP,
];

/// What the tree pass needs of a workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    pub images: Vec<ImageUse>,
    pub config_maps: Vec<ConfigMapUse>,
    pub scripts: Vec<ScriptUse>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUse {
    pub image: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMapUse {
    pub name: String,
    pub pos: Pos,
    pub optional: bool,
}

/// A path in a command that lies in a ConfigMap mount: it must be the ConfigMap's key `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUse {
    pub config_map: String,
    pub key: String,
    pub mount_path: String,
    pub pos: Pos,
}

/// A workload document, for the security family.
pub struct Pod<'a> {
    pub facts: Workload,
    pub spec: &'a Node,
}

/// Every container of a pod spec, init and ephemeral ones included.
pub fn containers<'a>(doc: &Doc<'a>, spec: &'a Node) -> Vec<&'a Node> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| doc.seq(spec, k))
        .map(|c| doc.resolve(c))
        .collect()
}

/// The pod spec of a workload kind.
pub fn pod_spec<'a>(doc: &Doc<'a>, kind: &str) -> Option<&'a Node> {
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    };
    doc.path(doc.root, path)
}

/// Splits an image reference into name, tag and digest.
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

/// True when the image is one of the images this repo builds, by its short name or its name in
/// a configured registry ([`crate::resolve::configured`]).
pub fn is_configured(settings: &Settings, name: &str) -> bool {
    crate::resolve::configured(settings, name).is_some()
}

/// The workload rules of one document; `None` when it is not a workload.
pub fn check<'a>(
    file: &Path,
    doc: &Doc<'a>,
    kind: &str,
    settings: &Settings,
    out: &mut Vec<Finding>,
) -> Option<Pod<'a>> {
    let spec = pod_spec(doc, kind)?;
    let root = doc.root;
    let name = doc
        .path(root, &["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or_default();
    let mut facts = Workload {
        kind: kind.to_string(),
        name: name.to_string(),
        ..Workload::default()
    };
    if kind == "CronJob" {
        check_cron(file, doc, out);
    }
    if kind == "Job" || kind == "CronJob" {
        match doc.get(spec, "restartPolicy") {
            None => out.push(Finding::new(
                &JOB_RESTART_ALWAYS,
                file,
                spec.start,
                format!("{kind} `{name}` has no restartPolicy, which defaults to Always; set OnFailure or Never"),
            )),
            Some(p) if p.as_str() == Some("Always") => out.push(Finding::new(
                &JOB_RESTART_ALWAYS,
                file,
                p.start,
                format!("{kind} `{name}` has restartPolicy Always; set OnFailure or Never"),
            )),
            Some(_) => {}
        }
    }
    let mut volumes: Vec<CmVolume> = Vec::new();
    for v in doc.seq(spec, "volumes") {
        let v = doc.resolve(v);
        let vname = doc.str(v, "name").unwrap_or_default();
        let mut sources: Vec<&Node> = doc.get(v, "configMap").into_iter().collect();
        for p in doc.seq(v, "projected").iter().chain(
            doc.get(v, "projected")
                .map_or(&[][..], |p| doc.seq(p, "sources")),
        ) {
            sources.extend(doc.get(p, "configMap"));
        }
        for cm in sources {
            let Some(cm_name) = doc.get(cm, "name") else {
                continue;
            };
            let optional = doc.is_true(cm, "optional") == Some(true);
            facts.config_maps.push(ConfigMapUse {
                name: cm_name.as_str().unwrap_or_default().to_string(),
                pos: cm_name.start,
                optional,
            });
            let items = doc.get(cm, "items").and_then(Node::as_seq).map(|items| {
                items
                    .iter()
                    .filter_map(|i| Some((doc.str(i, "key")?, doc.str(i, "path")?)))
                    .collect()
            });
            volumes.push(CmVolume {
                volume: vname,
                config_map: cm_name.as_str().unwrap_or_default(),
                items,
            });
        }
    }
    for c in containers(doc, spec) {
        if let Some(image) = doc.get(c, "image")
            && let Some(text) = image.as_str()
        {
            check_image(file, image, text, settings, out);
            facts.images.push(ImageUse {
                image: text.to_string(),
                pos: image.start,
            });
        }
        scripts(file, doc, c, &volumes, &mut facts.scripts, out);
    }
    Some(Pod { facts, spec })
}

fn check_image(file: &Path, node: &Node, image: &str, settings: &Settings, out: &mut Vec<Finding>) {
    let (name, tag, digest) = split_image(image);
    if is_configured(settings, name) {
        if tag.is_some() || digest.is_some() {
            out.push(Finding::new(
                &BASE_IMAGE_TAGGED,
                file,
                node.start,
                format!("`{image}`: name the base image without a tag (`{name}`); its tag belongs in the images: list of kustomization.yaml"),
            ));
        }
    } else if tag == Some("latest") {
        out.push(Finding::new(
            &LATEST,
            file,
            node.start,
            format!("`{image}` is tagged latest; pin a version or a digest"),
        ));
    }
}

fn check_cron(file: &Path, doc: &Doc, out: &mut Vec<Finding>) {
    let spec = doc.get(doc.root, "spec");
    match spec.and_then(|s| doc.get(s, "schedule")) {
        None => out.push(Finding::new(
            &CRON_SCHEDULE,
            file,
            spec.map_or(doc.root.start, |s| s.start),
            "CronJob has no spec.schedule",
        )),
        Some(s) => {
            if let Err(why) = super::cron::check_schedule(s.as_str().unwrap_or_default()) {
                out.push(Finding::new(
                    &CRON_SCHEDULE,
                    file,
                    s.start,
                    format!("schedule `{}`: {why}", s.as_str().unwrap_or_default()),
                ));
            }
        }
    }
    if let Some(tz) = spec.and_then(|s| doc.get(s, "timeZone"))
        && !tz.as_str().is_some_and(super::cron::is_iana_zone)
    {
        out.push(Finding::new(
            &TIMEZONE,
            file,
            tz.start,
            format!(
                "timeZone `{}` is not an IANA time zone name (e.g. Europe/Berlin, Etc/UTC)",
                tz.as_str().unwrap_or_default()
            ),
        ));
    }
}

/// A ConfigMap volume of the pod: its name, the ConfigMap's, and `items:` as (key, path).
struct CmVolume<'a> {
    volume: &'a str,
    config_map: &'a str,
    items: Option<Vec<(&'a str, &'a str)>>,
}

/// A container's volume mount.
#[derive(Debug, PartialEq)]
struct Mount<'a> {
    volume: &'a str,
    path: &'a str,
    sub_path: Option<&'a str>,
}

/// Paths in the command and args that lie under a ConfigMap mount.
fn scripts(
    file: &Path,
    doc: &Doc,
    container: &Node,
    volumes: &[CmVolume],
    found: &mut Vec<ScriptUse>,
    out: &mut Vec<Finding>,
) {
    let mounts: Vec<Mount> = doc
        .seq(container, "volumeMounts")
        .iter()
        .filter_map(|m| {
            Some(Mount {
                volume: doc.str(m, "name")?,
                path: doc.str(m, "mountPath")?.trim_end_matches('/'),
                sub_path: doc.str(m, "subPath"),
            })
        })
        .collect();
    if mounts.is_empty() {
        return;
    }
    let words = ["command", "args"]
        .iter()
        .flat_map(|k| doc.seq(container, k))
        .map(|n| doc.resolve(n));
    for node in words {
        let Some(text) = node.as_str() else { continue };
        for token in text.split(|c: char| c.is_whitespace() || c == ';' || c == '"' || c == '\'') {
            if !token.starts_with('/') {
                continue;
            }
            let Some((mount, rel)) = mount_for(&mounts, token) else {
                continue;
            };
            let Some(CmVolume {
                config_map: cm,
                items,
                ..
            }) = volumes.iter().find(|v| v.volume == mount.volume)
            else {
                continue;
            };
            let pos = token_pos(node, text, token);
            let key = match items {
                Some(items) => match items.iter().find(|(_, path)| *path == rel) {
                    Some((key, _)) => key.to_string(),
                    None => {
                        out.push(Finding::new(
                            &SCRIPT_NOT_IN_CONFIGMAP,
                            file,
                            pos,
                            format!("`{token}` is not projected: the items: of ConfigMap volume `{cm}` have no path `{rel}`"),
                        ));
                        continue;
                    }
                },
                None => rel.to_string(),
            };
            found.push(ScriptUse {
                config_map: cm.to_string(),
                key,
                mount_path: mount.path.to_string(),
                pos,
            });
        }
    }
}

/// The mount that holds `path`, and the path relative to it (the key, for a subPath mount).
fn mount_for<'m, 'p>(mounts: &'m [Mount<'m>], path: &'p str) -> Option<(&'m Mount<'m>, &'p str)>
where
    'm: 'p,
{
    let mut best: Option<(&Mount, &str)> = None;
    for m in mounts {
        let rel = match m.sub_path {
            Some(sub) if path == m.path => sub,
            Some(_) => continue,
            None => match path.strip_prefix(m.path).and_then(|r| r.strip_prefix('/')) {
                Some(rel) if !rel.is_empty() => rel,
                _ => continue,
            },
        };
        if best.is_none_or(|(b, _)| m.path.len() > b.path.len()) {
            best = Some((m, rel));
        }
    }
    best
}

/// Where `token` (a slice of `text`) starts in the source, for a one-line scalar.
fn token_pos(node: &Node, text: &str, token: &str) -> Pos {
    let single_line = node.start.line == node.end.line
        || matches!(
            node.style(),
            Some(Style::Plain | Style::SingleQuoted | Style::DoubleQuoted)
        ) && !text.contains('\n');
    if !single_line || matches!(node.style(), Some(Style::Literal | Style::Folded)) {
        return node.start;
    }
    let before = token.as_ptr() as usize - text.as_ptr() as usize;
    let quote = usize::from(matches!(
        node.style(),
        Some(Style::SingleQuoted | Style::DoubleQuoted)
    ));
    Pos {
        column: node.start.column + quote + text[..before].chars().count(),
        ..node.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::yaml_rules::check_document;

    fn run(src: &str) -> (Vec<(&'static str, usize, usize)>, Workload) {
        let docs = crate::yaml::load(src).unwrap();
        let mut out = Vec::new();
        let doc = check_document(Path::new("w.yaml"), &docs[0].root, &mut out);
        let kind = doc.str(doc.root, "kind").unwrap();
        let w = check(
            Path::new("w.yaml"),
            &doc,
            kind,
            &Settings::default(),
            &mut out,
        )
        .map(|p| p.facts)
        .unwrap_or_default();
        (out.iter().map(|f| (f.rule, f.line, f.column)).collect(), w)
    }

    const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: forecast
spec:
  schedule: \"*/15 * * * *\"
  timeZone: Europe/Berlin
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: forecast
              image: ghcr.io/dcasati/python-base
              command: [\"python\", \"/app/forecast.py\"]
              volumeMounts:
                - name: scripts
                  mountPath: /app
          volumes:
            - name: scripts
              configMap:
                name: forecast-scripts
";

    #[test]
    fn clean_cronjob_gives_facts_and_no_findings() {
        let (found, w) = run(CRONJOB);
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(w.images[0].image, "ghcr.io/dcasati/python-base");
        assert_eq!((w.images[0].pos.line, w.images[0].pos.column), (15, 22));
        assert_eq!(w.config_maps[0].name, "forecast-scripts");
        assert_eq!(
            w.scripts,
            [ScriptUse {
                config_map: "forecast-scripts".into(),
                key: "forecast.py".into(),
                mount_path: "/app".into(),
                pos: Pos {
                    offset: w.scripts[0].pos.offset,
                    line: 16,
                    column: 36
                }
            }]
        );
    }

    #[test]
    fn tagged_base_image_latest_and_restart_policy() {
        let src = CRONJOB
            .replace(
                "image: ghcr.io/dcasati/python-base",
                "image: ghcr.io/dcasati/python-base:sha-abc1234",
            )
            .replace("restartPolicy: OnFailure", "restartPolicy: Always")
            .replace(
                "            - name: forecast\n",
                "            - name: side\n              image: busybox:latest\n            - name: forecast\n",
            );
        let (found, _) = run(&src);
        assert_eq!(
            found,
            [
                ("WL-JOB-RESTART-ALWAYS", 12, 26),
                ("WL-LATEST", 15, 22),
                ("WL-BASE-IMAGE-TAGGED", 17, 22)
            ]
        );
        let (found, _) = run(&CRONJOB.replace("          restartPolicy: OnFailure\n", ""));
        assert_eq!(found, [("WL-JOB-RESTART-ALWAYS", 12, 11)]);
    }

    #[test]
    fn items_must_project_the_script() {
        let src = CRONJOB.replace(
            "                name: forecast-scripts\n",
            "                name: forecast-scripts\n                items:\n                  - key: main.py\n                    path: main.py\n",
        );
        let (found, w) = run(&src);
        assert_eq!(found, [("WL-SCRIPT-NOT-IN-CONFIGMAP", 16, 36)]);
        assert!(w.scripts.is_empty());
    }

    #[test]
    fn images_split_and_match_the_configured_name() {
        assert_eq!(
            split_image("localhost:32000/homelab/python-base:sha-1@sha256:ab"),
            (
                "localhost:32000/homelab/python-base",
                Some("sha-1"),
                Some("sha256:ab")
            )
        );
        assert_eq!(
            split_image("localhost:5000/x"),
            ("localhost:5000/x", None, None)
        );
        let s = Settings::default();
        assert!(is_configured(&s, "python-base"));
        assert!(is_configured(&s, "ghcr.io/dcasati/python-base:v1"));
        assert!(!is_configured(&s, "ghcr.io/dcasati/not-python-base"));
        assert!(!is_configured(&s, "busybox"));
    }

    #[test]
    fn mount_for_prefers_the_longest_mount_and_subpaths() {
        let mount = |volume, path, sub_path| Mount {
            volume,
            path,
            sub_path,
        };
        let mounts = [
            mount("a", "/app", None),
            mount("b", "/app/lib", None),
            mount("c", "/etc/run.sh", Some("run.sh")),
        ];
        assert_eq!(mount_for(&mounts, "/app/lib/x.py").unwrap().1, "x.py");
        assert_eq!(mount_for(&mounts, "/app/x.py").unwrap().0.volume, "a");
        assert_eq!(mount_for(&mounts, "/etc/run.sh").unwrap().1, "run.sh");
        assert!(mount_for(&mounts, "/usr/bin/python").is_none());
    }
}
