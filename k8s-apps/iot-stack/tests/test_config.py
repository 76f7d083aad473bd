"""Configuration validation of both scripts: every problem named, exit code 2, no traceback."""

import pytest

from conftest import FORECAST, SUNRISE, run_script

INFLUX = {"INFLUX_URL": "http://127.0.0.1:1", "INFLUX_DB": "iot"}
SUN = {"SUN_LATITUDE": "52.5", "SUN_LONGITUDE": "13.4", "SUN_TIMEZONE": "Europe/Berlin"}
FC = {"FORECAST_MEASUREMENT": "temperature", "FORECAST_FIELD": "value"}


def test_valid_sunrise_config_is_accepted(sunrise):
    cfg = sunrise.load_config({**INFLUX, **SUN, "INFLUX_TOKEN": "t", "SUN_DATE": "2024-01-31"})
    assert cfg["lat"] == 52.5 and cfg["tz"].key == "Europe/Berlin"
    assert cfg["influx"]["retries"] == 5 and cfg["influx"]["backoff_s"] == 1.0
    assert cfg["date"].isoformat() == "2024-01-31" and cfg["location"] == "home"


@pytest.mark.parametrize("env,message", [
    ({}, "INFLUX_URL is required"),
    ({"INFLUX_URL": "influx:8086"}, "must be an http:// or https:// URL"),
    ({"INFLUX_DB": ""}, "INFLUX_DB is required"),
    ({"SUN_LATITUDE": "91"}, "SUN_LATITUDE='91' must be between -90 and 90"),
    ({"SUN_LONGITUDE": "east"}, "SUN_LONGITUDE='east' is not a valid float"),
    ({"SUN_TIMEZONE": "Mars/Olympus"}, "SUN_TIMEZONE='Mars/Olympus' is not a known IANA"),
    ({"SUN_DATE": "31/01/2024"}, "SUN_DATE='31/01/2024' is not a date"),
    ({"INFLUX_TOKEN": "t", "INFLUX_USERNAME": "u", "INFLUX_PASSWORD": "p"},
     "set either INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD, not both"),
    ({"INFLUX_USERNAME": "u"}, "INFLUX_USERNAME and INFLUX_PASSWORD must be set together"),
    ({"INFLUX_RETRIES": "-1"}, "INFLUX_RETRIES='-1' must be between 0 and 20"),
])
def test_sunrise_config_errors(sunrise, influx_v1, env, message):
    base = {**INFLUX, **SUN} if env else {}
    with pytest.raises(influx_v1.ConfigError, match=message.replace("(", r"\(")):
        sunrise.load_config({**base, **env})


def test_all_problems_are_reported_at_once(sunrise, influx_v1):
    with pytest.raises(influx_v1.ConfigError) as err:
        sunrise.load_config({})
    for name in ("INFLUX_URL", "INFLUX_DB", "SUN_LATITUDE", "SUN_LONGITUDE", "SUN_TIMEZONE"):
        assert name in str(err.value)


@pytest.mark.parametrize("env,message", [
    ({"FORECAST_FIELD": ""}, "FORECAST_FIELD is required"),
    ({"FORECAST_HISTORY_DAYS": "1"}, "FORECAST_HISTORY_DAYS='1' must be between 2 and 90"),
    ({"FORECAST_HISTORY_DAYS": "7.5"}, "FORECAST_HISTORY_DAYS='7.5' is not a valid int"),
    ({"FORECAST_TAG_FILTER": "room"}, "FORECAST_TAG_FILTER item 'room' must look like name=value"),
])
def test_forecast_config_errors(forecast, influx_v1, env, message):
    with pytest.raises(influx_v1.ConfigError, match=message):
        forecast.load_config({**INFLUX, **FC, **env})


def test_forecast_tag_filter_is_parsed(forecast):
    cfg = forecast.load_config({**INFLUX, **FC, "FORECAST_TAG_FILTER": "room=attic, floor=2"})
    assert cfg["tags"] == {"room": "attic", "floor": "2"} and cfg["days"] == 7


@pytest.mark.parametrize("script", [SUNRISE, FORECAST])
def test_config_error_exits_2_with_one_log_line(script):
    code, stdout, stderr, records = run_script(script, {"INFLUX_URL": "ftp://x"})
    assert code == 2
    assert "Traceback" not in stderr and stdout == ""
    assert len(records) == 1 and records[0]["event"] == "config_invalid"
    assert "INFLUX_URL='ftp://x' must be an http:// or https:// URL" in records[0]["error"]
