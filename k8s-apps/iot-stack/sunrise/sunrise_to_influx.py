"""Write today's sunrise, sunset, solar noon and day length to InfluxDB.

Runs once per day as a Kubernetes CronJob. It computes the sun times with the NOAA
solar calculator algorithm (the equations of gml.noaa.gov/grad/solcalc, after Meeus),
in two passes as NOAA does: the event time from a first pass at the date is fed back
to evaluate the sun's position at that time. Polar day and polar night are explicit:
the `daylight` field says `normal`, `polar_day` or `polar_night`; in the polar cases
sunrise and sunset are absent and the day length is 24 h or 0 h.

One point per day: measurement SUN_MEASUREMENT, tag `location`, timestamp = local
midnight of the day. InfluxDB keeps one point per (measurement, tag set, timestamp),
so a rerun on the same day overwrites that point instead of adding one.

Environment (validated at start; every problem is reported at once):
  INFLUX_*          the InfluxDB connection, as in influx_v1.py (URL, DB, RP, TOKEN or
                    USERNAME/PASSWORD, TIMEOUT_S, RETRIES, RETRY_BACKOFF_S)
  SUN_LATITUDE      required, degrees north (-90..90)
  SUN_LONGITUDE     required, degrees east (-180..180)
  SUN_TIMEZONE      required, IANA zone such as Europe/Oslo
  SUN_LOCATION      tag value, default "home"
  SUN_MEASUREMENT   default "sun"
  SUN_DATE          optional YYYY-MM-DD (default: today in SUN_TIMEZONE), for backfills

Exit codes: 0 ok; 1 unexpected error (logged, no traceback); 2 configuration error;
4 InfluxDB unreachable after the retries; 5 InfluxDB answered with an error.
(3, "no data", is used by forecast.py only.) Logs are one JSON object per line on stderr.
"""

import datetime as dt
import math
import os
import sys
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import influx_v1  # next to this script in /app (same ConfigMap); sys.path[0] is /app

SERVICE = "sunrise"
influx_v1.configure(service=SERVICE)


# ---------------------------------------------------------------- configuration

def load_config(env):
    """Return the validated configuration, or raise ConfigError naming every problem."""
    errors = []
    cfg = {"influx": influx_v1.influx_config(env, errors)}
    cfg["lat"] = influx_v1.number(env, "SUN_LATITUDE", errors, lo=-90, hi=90)
    cfg["lon"] = influx_v1.number(env, "SUN_LONGITUDE", errors, lo=-180, hi=180)
    tz_name = env.get("SUN_TIMEZONE", "").strip()
    cfg["tz"] = None
    if not tz_name:
        errors.append("SUN_TIMEZONE is required (an IANA zone such as Europe/Oslo)")
    else:
        try:
            cfg["tz"] = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(f"SUN_TIMEZONE={tz_name!r} is not a known IANA time zone")
    cfg["location"] = env.get("SUN_LOCATION", "home").strip()
    cfg["measurement"] = env.get("SUN_MEASUREMENT", "sun").strip()
    for key, name in (("location", "SUN_LOCATION"), ("measurement", "SUN_MEASUREMENT")):
        if not cfg[key]:
            errors.append(f"{name} must not be empty")
    raw_date = env.get("SUN_DATE", "").strip()
    cfg["date"] = None
    if raw_date:
        try:
            cfg["date"] = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"SUN_DATE={raw_date!r} is not a date in YYYY-MM-DD form")
    if errors:
        raise influx_v1.ConfigError("; ".join(errors))
    return cfg


# ---------------------------------------------------------------- NOAA solar algorithm

def _julian_century(jd):
    return (jd - 2451545.0) / 36525.0


def _sun_geometry(t):
    """Return (declination in degrees, equation of time in minutes) at Julian century t."""
    l0 = (280.46646 + t * (36000.76983 + 0.0003032 * t)) % 360.0
    m = 357.52911 + t * (35999.05029 - 0.0001537 * t)
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    mr = math.radians(m)
    center = (math.sin(mr) * (1.914602 - t * (0.004817 + 0.000014 * t))
              + math.sin(2 * mr) * (0.019993 - 0.000101 * t) + math.sin(3 * mr) * 0.000289)
    omega = math.radians(125.04 - 1934.136 * t)
    apparent_long = math.radians(l0 + center - 0.00569 - 0.00478 * math.sin(omega))
    seconds = 21.448 - t * (46.8150 + t * (0.00059 - t * 0.001813))
    obliquity = math.radians(23.0 + (26.0 + seconds / 60.0) / 60.0 + 0.00256 * math.cos(omega))
    declination = math.degrees(math.asin(math.sin(obliquity) * math.sin(apparent_long)))
    y = math.tan(obliquity / 2.0) ** 2
    l0r = math.radians(l0)
    eq_time = (y * math.sin(2 * l0r) - 2 * e * math.sin(mr)
               + 4 * e * y * math.sin(mr) * math.cos(2 * l0r)
               - 0.5 * y * y * math.sin(4 * l0r) - 1.25 * e * e * math.sin(2 * mr))
    return declination, math.degrees(eq_time) * 4.0


def _hour_angle_cos(lat, declination):
    """cos of the sunrise hour angle for the standard -0.833 degree altitude."""
    latr, decr = math.radians(lat), math.radians(declination)
    return (math.cos(math.radians(90.833)) / (math.cos(latr) * math.cos(decr))
            - math.tan(latr) * math.tan(decr))


def _noon_minutes(jd, lon):
    """Solar noon in minutes after 0h UT of the day jd starts."""
    _, eq_time = _sun_geometry(_julian_century(jd - lon / 360.0))
    first = 720.0 - 4.0 * lon - eq_time
    _, eq_time = _sun_geometry(_julian_century(jd + first / 1440.0))
    return 720.0 - 4.0 * lon - eq_time


def _event_minutes(jd, lat, lon, rise):
    """Sunrise/sunset in minutes after 0h UT, or 'polar_day'/'polar_night'."""
    minutes = None
    at = jd
    for _ in range(2):
        declination, eq_time = _sun_geometry(_julian_century(at))
        cos_ha = _hour_angle_cos(lat, declination)
        if cos_ha > 1.0 or cos_ha < -1.0:
            if minutes is None:
                return "polar_night" if cos_ha > 1.0 else "polar_day"
            break  # keep the first result, the second evaluation fell past the edge
        ha = math.degrees(math.acos(cos_ha))
        minutes = 720.0 - 4.0 * (lon + (ha if rise else -ha)) - eq_time
        at = jd + minutes / 1440.0
    return minutes


def _jd_at_0h_ut(day):
    return day.toordinal() + 1721424.5


def sun_times(day, lat, lon, tz):
    """Sun times for the local date `day` as a dict of aware datetimes in tz.

    Keys: daylight ('normal'|'polar_day'|'polar_night'), solar_noon, sunrise, sunset
    (None when polar), day_length_s.
    """
    def local(base, minutes):
        utc = dt.datetime.combine(base, dt.time(), dt.timezone.utc) + dt.timedelta(minutes=minutes)
        return utc.astimezone(tz)

    def on_day(compute):
        # The UT day that holds the local day's event can differ from `day` far from the
        # zone's meridian: retry with the neighbouring UT day when the date comes out wrong.
        result = None
        for base in (day, day - dt.timedelta(days=1), day + dt.timedelta(days=1)):
            value = compute(base)
            if isinstance(value, str):
                return value
            result = local(base, value)
            if result.date() == day:
                return result
        return result

    noon = on_day(lambda base: _noon_minutes(_jd_at_0h_ut(base), lon))
    rise = on_day(lambda base: _event_minutes(_jd_at_0h_ut(base), lat, lon, True))
    sset = on_day(lambda base: _event_minutes(_jd_at_0h_ut(base), lat, lon, False))
    if isinstance(rise, str) or isinstance(sset, str):
        daylight = rise if isinstance(rise, str) else sset
        return {"daylight": daylight, "solar_noon": noon, "sunrise": None, "sunset": None,
                "day_length_s": 86400.0 if daylight == "polar_day" else 0.0}
    return {"daylight": "normal", "solar_noon": noon, "sunrise": rise, "sunset": sset,
            "day_length_s": round((sset - rise).total_seconds(), 1)}


# ---------------------------------------------------------------- main

def build_point(cfg, day):
    """Return (line, times) for the local date `day`."""
    times = sun_times(day, cfg["lat"], cfg["lon"], cfg["tz"])
    fields = {"daylight": times["daylight"], "day_length_s": float(times["day_length_s"]),
              "solar_noon": times["solar_noon"].isoformat(timespec="seconds")}
    for key in ("sunrise", "sunset"):
        if times[key] is not None:
            fields[key] = times[key].isoformat(timespec="seconds")
    midnight = dt.datetime.combine(day, dt.time(), cfg["tz"])
    line = influx_v1.line_protocol(cfg["measurement"], {"location": cfg["location"]},
                                   fields, int(midnight.timestamp()))
    return line, times


def main(env=None):
    env = os.environ if env is None else env

    def job():
        cfg = load_config(env)
        day = cfg["date"] or dt.datetime.now(cfg["tz"]).date()
        line, times = build_point(cfg, day)
        influx_v1.write_points(cfg["influx"], [line])
        return {"date": day.isoformat(), "location": cfg["location"],
                "daylight": times["daylight"], "sunrise": times["sunrise"],
                "sunset": times["sunset"], "solar_noon": times["solar_noon"],
                "day_length_s": times["day_length_s"]}

    return influx_v1.run_main(job)


if __name__ == "__main__":
    sys.exit(main())
