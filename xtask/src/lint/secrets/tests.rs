//! Token-shaped test values are generated at run time, so that no literal in the source looks
//! like a real credential to a secret scanner.

use super::*;

/// `n` pseudo-random characters from `alphabet` (a fixed LCG, so tests are repeatable).
fn random(alphabet: &str, n: usize, seed: u64) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            chars[(x >> 33) as usize % chars.len()]
        })
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_NUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &str = "0123456789abcdef";

fn aws_key() -> String {
    format!("{}{}", "AKIA", random(UPPER_NUM, 16, 1))
}

fn jwt_token() -> String {
    let head = format!("{}{}", "eyJ", random(B64URL, 33, 2));
    let body = format!("{}{}", "eyJ", random(B64URL, 60, 3));
    format!("{head}.{body}.{}", random(B64URL, 43, 4))
}

fn influx_token() -> String {
    format!("{}==", random(B64URL, 86, 5))
}

#[test]
fn token_formats_anywhere_in_the_value() {
    let cases: Vec<(String, &str)> = vec![
        (aws_key(), "an AWS access key id"),
        (format!("id: {}\n", aws_key()), "an AWS access key id"),
        (
            format!("{}{}", "A3TX", random(UPPER_NUM, 16, 6)),
            "an AWS access key id",
        ),
        (
            format!("{}{}", "ghp_", random(ALNUM, 36, 7)),
            "a GitHub token",
        ),
        (
            format!("{}{}", "gho_", random(ALNUM, 36, 8)),
            "a GitHub token",
        ),
        (
            format!("{}{}", "ghs_", random(ALNUM, 36, 9)),
            "a GitHub token",
        ),
        (
            format!(
                "{}{}_{}",
                "github_pat_",
                random(ALNUM, 22, 10),
                random(ALNUM, 59, 11)
            ),
            "a GitHub fine-grained token",
        ),
        (
            format!("{}{}", "glpat-", random(ALNUM, 20, 12)),
            "a GitLab personal access token",
        ),
        (
            format!(
                "{}{}-{}",
                "xoxb-",
                random("0123456789", 12, 13),
                random(ALNUM, 24, 14)
            ),
            "a Slack token",
        ),
        (
            format!(
                "{}T{}/B{}/{}",
                "https://hooks.slack.com/services/",
                random(UPPER_NUM, 8, 15),
                random(UPPER_NUM, 10, 16),
                random(ALNUM, 24, 17)
            ),
            "a Slack webhook URL",
        ),
        (
            format!("{}{}", "sk_live_", random(ALNUM, 24, 18)),
            "a Stripe secret key",
        ),
        (
            format!(
                "-----BEGIN {}-----\n{}\n{}\n-----END RSA PRIVATE KEY-----\n",
                "RSA PRIVATE KEY",
                random(B64, 64, 19),
                random(B64, 40, 20)
            ),
            "a private key",
        ),
        (
            format!(
                "-----BEGIN {}-----\n{}",
                "OPENSSH PRIVATE KEY",
                random(B64, 70, 21)
            ),
            "a private key",
        ),
        (jwt_token(), "a JWT"),
        (format!("Authorization: Bearer {}", jwt_token()), "a JWT"),
        (
            "postgres://app:s3cr3t-pw@db.default.svc:5432/app".to_string(),
            "a URL with a password in it",
        ),
        (
            "redis://:hunter2@redis:6379/0".to_string(),
            "a URL with a password in it",
        ),
    ];
    for (value, want) in &cases {
        // Under an innocent key, so only the value can be the evidence.
        assert_eq!(looks_like_secret("config", value), Some(*want), "{value}");
    }
}

#[test]
fn token_formats_need_their_full_shape() {
    for value in [
        "AKIA".to_string(),
        format!("{}{}", "AKIA", random(UPPER_NUM, 15, 1)), // one short
        format!("{}{}", "AKIA", random(UPPER_NUM, 17, 1)), // one long
        format!("X{}{}", "AKIA", random(UPPER_NUM, 16, 1)), // inside a word
        format!("{}{}", "ghp_", random(ALNUM, 20, 2)),
        "xoxb-short".to_string(),
        "-----BEGIN PRIVATE KEY-----".to_string(),
        "if line.startswith('-----BEGIN PRIVATE KEY-----'):".to_string(),
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ\n-----END CERTIFICATE-----".to_string(),
        "eyJhbGciOiJIUzI1NiJ9".to_string(),
        "https://user@example.com/".to_string(),
        "postgres://app:${DB_PASSWORD}@db:5432/app".to_string(),
        "postgres://app:$(DB_PASSWORD)@db:5432/app".to_string(),
        "http://[::1]:8086/query".to_string(),
        "mailto:someone@example.com".to_string(),
    ] {
        assert_eq!(looks_like_secret("config", &value), None, "{value}");
    }
}

#[test]
fn credential_keys_with_literal_values() {
    for key in [
        "password",
        "PASSWORD",
        "db_password",
        "INFLUX_TOKEN",
        "influxToken",
        "api_key",
        "apiKey",
        "API-KEY",
        "apikey",
        "private_key",
        "privateKey",
        "AWS_SECRET_ACCESS_KEY",
        "aws_access_key",
        "client_secret",
        "credentials",
        "MQTT_PASSWD",
        "SMTP_PASS",
        "passphrase",
        "github.token",
    ] {
        assert_eq!(
            looks_like_secret(key, "hunter2"),
            Some("a literal value under a credential-like key"),
            "{key}"
        );
    }
}

#[test]
fn placeholders_under_credential_keys_are_still_reported() {
    // Decision: `changeme` is the password the app really runs with; it belongs in a Secret.
    for value in ["changeme", "CHANGE_ME", "xxx", "<your token here>", "TODO"] {
        assert_eq!(
            looks_like_secret("INFLUX_PASSWORD", value),
            Some("a literal value under a credential-like key"),
            "{value}"
        );
    }
}

#[test]
fn credential_keys_without_a_literal_credential() {
    for (key, value) in [
        ("INFLUX_TOKEN", ""),
        ("INFLUX_TOKEN", "   "),
        ("INFLUX_TOKEN", "$(INFLUX_TOKEN)"),
        ("INFLUX_TOKEN", "${INFLUX_TOKEN}"),
        ("INFLUX_TOKEN", "$INFLUX_TOKEN"),
        ("password", "{{ .Values.password }}"),
        ("TOKEN_FILE", "hunter2"),
        ("token_url", "hunter2"),
        ("password_file", "/run/secrets/db"),
        ("INFLUX_TOKEN", "/var/run/secrets/influx/token"),
        ("secret_name", "influx-auth"),
        ("secretName", "influx-auth"),
        ("TOKEN_TTL", "3600"),
        ("token_type", "Bearer"),
        ("TOKEN_REFRESH_SECONDS", "300"),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("use_token", "true"),
        ("SECRET_ENABLED", "false"),
        ("AUTH_TOKEN_ENDPOINT", "https://auth.example.com/token"),
        ("token.py", "import os\nprint(os.environ['INFLUX_TOKEN'])\n"),
        ("token", "line one\nline two\n"),
        ("passthrough", "yes-please"),
        ("bypass_cache", "1"),
        ("compass_heading", "north"),
        ("PWD", "/app"),
        ("tokenizer", "whitespace"),
    ] {
        assert_eq!(looks_like_secret(key, value), None, "{key}={value:?}");
    }
}

#[test]
fn high_entropy_words() {
    assert_eq!(
        looks_like_secret("INFLUX_ADMIN", &influx_token()),
        Some("a long high-entropy string")
    );
    let line = format!("auth = \"{}\"", random(B64, 40, 30));
    assert_eq!(
        looks_like_secret("settings.ini", &line),
        Some("a long high-entropy string")
    );
    assert_eq!(
        looks_like_secret("app.ini", &format!("secret = {}", random(HEX, 40, 31))),
        Some("a long random-looking hex string")
    );
    // Issue 16: hex under a key that names no credential is a hash or an ID.
    assert_eq!(looks_like_secret("WEBHOOK", &random(HEX, 40, 31)), None);
}

#[test]
fn high_entropy_skips_digests_and_commits() {
    let sha = random(HEX, 64, 40);
    assert_eq!(
        looks_like_secret("IMAGE", &format!("python@sha256:{sha}")),
        None
    );
    assert_eq!(looks_like_secret("note", &format!("sha256:{sha}")), None);
    assert_eq!(looks_like_secret("IMAGE_DIGEST", &sha), None);
    assert_eq!(looks_like_secret("GIT_COMMIT", &random(HEX, 40, 41)), None);
    assert_eq!(looks_like_secret("checksum", &sha), None);
}

#[test]
fn ordinary_config_is_not_a_secret() {
    let long_name = "INFLUX_DATABASE_NAME_FOR_SENSOR_READINGS_V2";
    let camel = "ThisIsAVeryLongFunctionNameForTestingPurposes1";
    for (key, value) in [
        (
            "INFLUX_URL",
            "http://influxdb.monitoring.svc.cluster.local:8086",
        ),
        ("INFLUX_HOST", "influxdb.monitoring.svc.cluster.local"),
        ("INFLUX_DB", "homelab_sensors"),
        ("INFLUX_ORG_ID", "0123456789abcdef"),
        ("SCHEDULE", "*/10 * * * *"),
        ("DASHBOARD_UID", "550e8400-e29b-41d4-a716-446655440000"),
        (
            "LOG_FORMAT",
            "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
        ),
        (
            "REPO",
            "https://github.com/dcasati/homelab/tree/main/k8s-apps/iot-stack",
        ),
        ("TABLE", long_name),
        ("FN", camel),
        (
            "PATH",
            "/usr/local/lib/python3.11/site-packages:/opt/venv/bin",
        ),
        ("IMAGE", "ghcr.io/dcasati/python-base:sha-abc1234"),
        ("TZ", "Europe/Kyiv"),
    ] {
        assert_eq!(looks_like_secret(key, value), None, "{key}={value}");
    }
}

#[test]
fn a_service_script_that_reads_its_token_from_the_environment_is_clean() {
    let script = r#"#!/usr/bin/env python3
"""Collects sensor readings and writes them to InfluxDB."""
import os
import time
import requests

INFLUX_URL = os.environ.get("INFLUX_URL", "http://influxdb:8086")
INFLUX_TOKEN = os.environ["INFLUX_TOKEN"]
API_KEY = os.getenv("WEATHER_API_KEY")
password = os.environ.get("MQTT_PASSWORD", "")
HEADERS = {"Authorization": f"Token {INFLUX_TOKEN}", "Content-Type": "text/plain"}

def write(measurement: str, value: float) -> None:
    line = f"{measurement},host=pi-01 value={value} {time.time_ns()}"
    r = requests.post(f"{INFLUX_URL}/api/v2/write?org=home&bucket=sensors&precision=ns",
                      data=line, headers=HEADERS, timeout=10)
    r.raise_for_status()

if __name__ == "__main__":
    # token = "paste-your-token-here"
    write("temperature", 21.5)
"#;
    assert_eq!(looks_like_secret("collector.py", script), None);
    let shell = "#!/bin/sh\nset -eu\ncurl -fsS -H \"Authorization: Token ${INFLUX_TOKEN}\" \\\n  \"$INFLUX_URL/api/v2/buckets\"\n";
    assert_eq!(looks_like_secret("check.sh", shell), None);
}

#[test]
fn a_script_with_a_hard_coded_token_is_caught() {
    let script = format!(
        "import os\nINFLUX_TOKEN = \"{}\"\nprint(INFLUX_TOKEN)\n",
        influx_token()
    );
    assert_eq!(
        looks_like_secret("collector.py", &script),
        Some("a long high-entropy string")
    );
    let script = format!("GH = '{}{}'\n", "ghp_", random(ALNUM, 36, 50));
    assert_eq!(
        looks_like_secret("sync.py", &script),
        Some("a GitHub token")
    );
}

#[test]
fn key_words_split_snake_kebab_camel_and_dots() {
    assert_eq!(
        key_words("AWS_SECRET_ACCESS_KEY"),
        ["aws", "secret", "access", "key"]
    );
    assert_eq!(key_words("influxToken"), ["influx", "token"]);
    assert_eq!(key_words("api-key.v2"), ["api", "key", "v2"]);
    assert_eq!(key_words("HTTPProxy"), ["httpproxy"]);
}

#[test]
fn entropy_in_bits() {
    assert_eq!(entropy("aaaa"), 0.0);
    assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    assert!((entropy(&random(HEX, 4096, 1)) - 4.0).abs() < 0.01);
}

#[test]
fn assignments_and_paths_are_not_one_word() {
    // Seen in CPython's sysconfig data: a path glued to a variable name.
    let v = "LDFLAGS='-L/build/x' LD_LIBRARY_PATH=/build/reproducible-path/python3.11/Lib3x";
    assert_eq!(looks_like_secret("cfg", v), None);
    let v = format!("AWS_SECRET={}", random(B64, 40, 60));
    assert_eq!(
        looks_like_secret("cfg", &v),
        Some("a long high-entropy string")
    );
}

#[test]
fn placeholders_are_not_secrets() {
    for (key, value) in [
        (
            "config.yml",
            "path: rtsp://view:{FRIGATE_RTSP_PASSWORD}@10.0.0.5:554/live",
        ),
        ("config.yml", "path: rtsp://view:${RTSP_PASSWORD}@cam/live"),
        (
            "config.yml",
            "url: postgres://app:<DB_PASSWORD>@db:5432/app",
        ),
        (
            "config.yml",
            "url: postgres://app:{{ .Values.db.password }}@db/app",
        ),
        ("MQTT_PASSWORD", "{MQTT_PASSWORD}"),
        ("MQTT_PASSWORD", "<mqtt-password>"),
        ("API_TOKEN", "${API_TOKEN}"),
    ] {
        assert_eq!(looks_like_secret(key, value), None, "{key}={value:?}");
    }
    // Real credentials still are, in the same places.
    assert_eq!(
        looks_like_secret("config.yml", "path: rtsp://view:hunter2@cam/live"),
        Some("a URL with a password in it")
    );
    assert_eq!(
        looks_like_secret("MQTT_PASSWORD", "hunter2"),
        Some("a literal value under a credential-like key")
    );
}

#[test]
fn hex_ids_under_identifier_keys_are_not_secrets() {
    let (a, b) = (random(HEX, 32, 70), random(HEX, 32, 71));
    let recyclarr = format!(
        "sonarr:\n  main:\n    custom_formats:\n      - trash_ids:\n          - {a} # x265\n          - {b}\n        assign_scores_to:\n          - name: WEB-1080p\n"
    );
    assert_eq!(looks_like_secret("recyclarr.yml", &recyclarr), None);
    let json = format!("{{\"trash_id\": \"{a}\", \"name\": \"x265\"}}");
    assert_eq!(looks_like_secret("cf.json", &json), None);
    assert_eq!(looks_like_secret("DEVICE_ID", &a), None);
    // Recyclarr's `select:` lists hold TRaSH ids too; an OAuth client id is public.
    let select = format!("groups:\n  - trash_id: {a}\n    select:\n      - {b} # SDR\n");
    assert_eq!(looks_like_secret("recyclarr.yml", &select), None);
    let oidc = format!("auth_oidc:\n  client_id: '{}'\n", random(B64URL, 60, 72));
    assert_eq!(looks_like_secret("configuration.yaml", &oidc), None);
    let oidc = oidc.replace("client_id", "client_secret");
    assert_eq!(
        looks_like_secret("configuration.yaml", &oidc),
        Some("a long high-entropy string")
    );
    // Under a credential key, hex still is a secret.
    let hook = format!("notify:\n  webhook_token: {}\n", random(HEX, 40, 31));
    assert_eq!(
        looks_like_secret("config.yml", &hook),
        Some("a long random-looking hex string")
    );
    let key = format!("radarr:\n  api_key: {a}\n");
    assert_eq!(
        find_secret("config.yml", &key),
        Some((
            "a long random-looking hex string",
            key.find(&a).unwrap()..key.len() - 1
        ))
    );
}

#[test]
fn evidence_ranges_point_at_the_word() {
    let v = "a: 1\nurl: rtsp://view:hunter2@cam/live\n";
    let (_, r) = find_secret("config.yml", v).unwrap();
    assert_eq!(&v[r], "rtsp://view:hunter2");
    let gh = format!("x = '{}{}'\n", "ghp_", random(ALNUM, 36, 80));
    let (_, r) = find_secret("s.py", &gh).unwrap();
    assert_eq!(r, 5..5 + 40);
    let (_, r) = find_secret("PASSWORD", "  hunter2 ").unwrap();
    assert_eq!(r, 2..9);
}
