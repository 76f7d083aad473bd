"""Both scripts against a real influxd 1.x started on loopback by the `influxd` fixture."""

import datetime as dt
import math
import time
import urllib.request
from zoneinfo import ZoneInfo

from conftest import FORECAST, SUNRISE, free_port, influx_query, run_script

TORONTO = {"SUN_LATITUDE": "43.6532", "SUN_LONGITUDE": "-79.3832",
           "SUN_TIMEZONE": "America/Toronto", "SUN_LOCATION": "toronto"}
FAST_RETRY = {"INFLUX_RETRIES": "3", "INFLUX_RETRY_BACKOFF_S": "0.01", "INFLUX_TIMEOUT_S": "2"}


def seed(url, db, lines):
    req = urllib.request.Request(f"{url}/write?db={db}&precision=s",
                                 data="\n".join(lines).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as response:
        assert response.status == 204


def rows(url, db, q):
    series = influx_query(url, q, db=db)
    if not series:
        return []
    columns = series[0]["columns"]
    return [dict(zip(columns, values)) for s in series for values in s["values"]]


def test_sunrise_writes_a_point_that_reads_back(influxd, database):
    env = {"INFLUX_URL": influxd, "INFLUX_DB": database, "SUN_DATE": "2024-06-21", **TORONTO}
    code, _, stderr, records = run_script(SUNRISE, env)
    assert code == 0, stderr
    [point] = rows(influxd, database, "SELECT * FROM sun")
    midnight = dt.datetime(2024, 6, 21, tzinfo=ZoneInfo("America/Toronto"))
    assert point["time"] == int(midnight.timestamp())
    assert point["location"] == "toronto"
    assert point["daylight"] == "normal"
    # Toronto, 2024-06-21: sunrise about 05:36 EDT, sunset about 21:03 EDT
    assert point["sunrise"].startswith("2024-06-21T05:3") and point["sunrise"].endswith("-04:00")
    assert point["sunset"].startswith("2024-06-21T21:0")
    assert 15.3 * 3600 < point["day_length_s"] < 15.6 * 3600
    assert records[-1]["event"] == "written"


def test_sunrise_rerun_overwrites_the_days_point(influxd, database):
    env = {"INFLUX_URL": influxd, "INFLUX_DB": database, "SUN_DATE": "2024-03-01", **TORONTO}
    for _ in range(2):
        assert run_script(SUNRISE, env)[0] == 0
    assert len(rows(influxd, database, "SELECT * FROM sun")) == 1
    assert run_script(SUNRISE, {**env, "SUN_DATE": "2024-03-02"})[0] == 0
    assert len(rows(influxd, database, "SELECT * FROM sun")) == 2


def test_sunrise_polar_night_point_has_no_rise_or_set(influxd, database):
    env = {"INFLUX_URL": influxd, "INFLUX_DB": database, "SUN_DATE": "2024-12-21",
           "SUN_LATITUDE": "69.6492", "SUN_LONGITUDE": "18.9553",
           "SUN_TIMEZONE": "Europe/Oslo", "SUN_LOCATION": "tromso"}
    assert run_script(SUNRISE, env)[0] == 0
    [point] = rows(influxd, database, "SELECT * FROM sun")
    assert point["daylight"] == "polar_night"
    assert point["day_length_s"] == 0
    assert "sunrise" not in point and "sunset" not in point  # the fields are absent
    assert point["solar_noon"].startswith("2024-12-21T11:")


def daily_temperature(ts):
    hour = (ts % 86400) / 3600
    return 20 + 4 * math.sin(2 * math.pi * (hour - 9) / 24)


def test_forecast_reads_history_and_writes_24_hours(influxd, database):
    now = int(time.time())
    start = now - 4 * 86400
    seed(influxd, database, [f"temperature,room=living value={daily_temperature(t):.3f} {t}"
                             for t in range(start, now, 600)])
    seed(influxd, database, [f"temperature,room=attic value=99 {t}"
                             for t in range(start, now, 600)])
    env = {"INFLUX_URL": influxd, "INFLUX_DB": database, "FORECAST_MEASUREMENT": "temperature",
           "FORECAST_FIELD": "value", "FORECAST_TAG_FILTER": "room=living",
           "FORECAST_HISTORY_DAYS": "7"}
    code, _, stderr, records = run_script(FORECAST, env)
    assert code == 0, stderr
    points = rows(influxd, database, "SELECT * FROM forecast GROUP BY *")
    assert len(points) == 24
    hour = now // 3600 * 3600
    assert [p["time"] for p in points] == [hour + i * 3600 for i in range(24)]
    assert [p["horizon_h"] for p in points] == list(range(1, 25))
    tags = influx_query(influxd, "SHOW TAG VALUES FROM forecast WITH KEY IN "
                        "(\"model\", \"source_measurement\", \"source_field\", "
                        "\"source_filter\")", db=database)[0]["values"]
    assert sorted(tags) == [["model", "holt_winters_additive"], ["source_field", "value"],
                            ["source_filter", "room=living"],
                            ["source_measurement", "temperature"]]
    # The hourly mean of the seeded curve at bucket t is the curve at about t + 25 min.
    for p in points:
        assert abs(p["value"] - daily_temperature(p["time"] + 1500)) < 0.5, p
    assert records[-1]["event"] == "written" and records[-1]["points_written"] == 24
    assert run_script(FORECAST, env)[0] == 0
    assert len(rows(influxd, database, "SELECT * FROM forecast GROUP BY *")) == 24


def test_forecast_with_too_little_history_exits_3(influxd, database):
    now = int(time.time())
    seed(influxd, database, [f"temperature value=20 {t}" for t in range(now - 10 * 3600, now, 600)])
    env = {"INFLUX_URL": influxd, "INFLUX_DB": database, "FORECAST_MEASUREMENT": "temperature",
           "FORECAST_FIELD": "value"}
    code, _, stderr, records = run_script(FORECAST, env)
    assert code == 3
    assert "Traceback" not in stderr
    assert records[-1]["event"] == "not_enough_data"
    assert "at least 48 are needed" in records[-1]["error"]
    assert rows(influxd, database, "SELECT * FROM forecast") == []


def test_unknown_database_is_an_influx_error_exit_5(influxd):
    env = {"INFLUX_URL": influxd, "INFLUX_DB": "no_such_db", "SUN_DATE": "2024-03-01",
           **TORONTO}
    code, _, stderr, records = run_script(SUNRISE, env)
    assert code == 5
    assert "Traceback" not in stderr
    assert records[-1]["event"] == "influx_error" and "404" in records[-1]["error"]


def test_server_down_retries_then_exits_4_for_both_scripts():
    down = f"http://127.0.0.1:{free_port()}"
    common = {"INFLUX_URL": down, "INFLUX_DB": "iot", **FAST_RETRY}
    for script, env in ((SUNRISE, TORONTO),
                        (FORECAST, {"FORECAST_MEASUREMENT": "t", "FORECAST_FIELD": "v"})):
        code, stdout, stderr, records = run_script(script, {**common, **env})
        assert code == 4, stderr
        assert "Traceback" not in stderr and stdout == ""
        retries = [r for r in records if r["event"] == "influx_retry"]
        assert [r["attempt"] for r in retries] == [1, 2, 3]
        assert [r["delay_s"] for r in retries] == [0.01, 0.02, 0.04]
        assert all(r["attempts"] == 4 for r in retries)
        assert records[-1]["event"] == "influx_unreachable"
        assert "after 4 attempts" in records[-1]["error"]
