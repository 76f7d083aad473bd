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
  INFLUX_*             the InfluxDB connection, as in influx_v1.py (URL, DB, RP, TOKEN or
                       USERNAME/PASSWORD, TIMEOUT_S, RETRIES, RETRY_BACKOFF_S)
  FORECAST_MEASUREMENT required, the sensor measurement, e.g. temperature
  FORECAST_FIELD       required, the numeric field, e.g. value
  FORECAST_TAG_FILTER  optional "name=value[,name=value]" to select one sensor
  FORECAST_HISTORY_DAYS  days of history to read, default 7 (2..90)

Exit codes: 0 ok; 1 unexpected error (logged, no traceback); 2 configuration error;
3 too little data (fewer than 48 hourly buckets, or nothing in the last 24 h);
4 InfluxDB unreachable after the retries; 5 InfluxDB answered with an error.
Logs are one JSON object per line on stderr.
"""

import math
import os
import sys
import time

import influx_v1  # next to this script in /app (same ConfigMap); sys.path[0] is /app

SERVICE = "forecast"
influx_v1.configure(service=SERVICE)
SEASON = 24                      # hourly buckets per day
MIN_BUCKETS = 2 * SEASON         # two full seasons to initialise level, trend and season
MODEL = "holt_winters_additive"
OUTPUT_MEASUREMENT = "forecast"


# ---------------------------------------------------------------- configuration

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
    cfg = {"influx": influx_v1.influx_config(env, errors)}
    for key, name in (("measurement", "FORECAST_MEASUREMENT"), ("field", "FORECAST_FIELD")):
        cfg[key] = env.get(name, "").strip()
        if not cfg[key]:
            errors.append(f"{name} is required")
    cfg["tags"] = parse_tag_filter(env.get("FORECAST_TAG_FILTER", ""), errors)
    cfg["days"] = influx_v1.number(env, "FORECAST_HISTORY_DAYS", errors, 7, 2, 90, int)
    if errors:
        raise influx_v1.ConfigError("; ".join(errors))
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
        raise influx_v1.NoData(f"need at least {2 * m} hourly values, have {len(series)}")
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


# ---------------------------------------------------------------- InfluxQL and line protocol

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
    series_list = influx_v1.query(cfg["influx"], build_query(cfg, start, end))
    rows = []
    for series in series_list:
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
        ts = end_s + i * 3600
        lines.append(influx_v1.line_protocol(OUTPUT_MEASUREMENT, tags, fields, ts))
    return lines


def run(cfg, now_s):
    rows, end = read_history(cfg, now_s)
    first_ts, values = hourly_series(rows)
    observed = sum(1 for _, value in rows if value is not None)
    if observed < MIN_BUCKETS:
        source = f"{cfg['measurement']}.{cfg['field']}"
        raise influx_v1.NoData(f"{observed} non-empty hourly buckets of {source} in the last "
                     f"{cfg['days']} days; at least {MIN_BUCKETS} are needed")
    last_ts = first_ts + (len(values) - 1) * 3600
    if last_ts < end - 86400:
        raise influx_v1.NoData(f"no data in the last 24 h (last bucket {last_ts})")
    # The last bucket is at end - gap*3600 - 3600; forecast the 24 buckets from `end` on.
    gap = (end - 3600 - last_ts) // 3600
    prediction, params = holt_winters(values, gap + 24)
    lines = forecast_lines(cfg, end, prediction[gap:])
    influx_v1.write_points(cfg["influx"], lines)
    return {"buckets": observed, "interpolated": len(values) - observed,
            "points_written": len(lines), **params, "from": end, "to": end + 23 * 3600}


def main(env=None, now_s=None):
    env = os.environ if env is None else env

    def job():
        cfg = load_config(env)
        summary = run(cfg, int(time.time()) if now_s is None else now_s)
        return {"model": MODEL, "measurement": cfg["measurement"], "field": cfg["field"],
                **summary}

    return influx_v1.run_main(job)


if __name__ == "__main__":
    sys.exit(main())
