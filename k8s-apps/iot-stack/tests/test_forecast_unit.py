"""Holt-Winters on synthetic data, gap filling, and the InfluxQL the forecast sends."""

import math
import random

import pytest


def synthetic(days, seed):
    """Hourly daily-seasonal series: level drift + daily sine + noise (sd 0.8)."""
    rng = random.Random(seed)
    return [15 + 0.02 * t + 5 * math.sin(2 * math.pi * (t % 24) / 24)
            + 2 * math.cos(4 * math.pi * (t % 24) / 24) + rng.gauss(0, 0.8)
            for t in range(days * 24)]


def mae(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_holt_winters_beats_seasonal_naive_on_held_out_day(forecast, seed):
    series = synthetic(10, seed)
    train, held_out = series[:-24], series[-24:]
    prediction, params = forecast.holt_winters(train, 24)
    seasonal_naive = train[-24:]          # baseline: tomorrow repeats the last day
    hw_error, naive_error = mae(prediction, held_out), mae(seasonal_naive, held_out)
    assert hw_error < naive_error, (hw_error, naive_error, params)
    assert hw_error < 1.2                 # close to the noise floor (sd 0.8 -> MAE ~0.64)


def test_holt_winters_tracks_a_clean_season_exactly(forecast):
    season = [math.sin(2 * math.pi * h / 24) for h in range(24)]
    prediction, params = forecast.holt_winters(season * 5, 30)
    assert len(prediction) == 30
    assert prediction == pytest.approx((season * 2)[:30], abs=1e-6)
    assert params["rmse"] == pytest.approx(0, abs=1e-6)


def test_holt_winters_refuses_less_than_two_seasons(forecast, influx_v1):
    with pytest.raises(influx_v1.NoData, match="at least 48 hourly values, have 47"):
        forecast.holt_winters([1.0] * 47, 24)


def test_hourly_series_interpolates_inner_gaps_and_trims_the_ends(forecast):
    h = 3600
    rows = [(0, None), (h, 10.0), (2 * h, None), (3 * h, None), (4 * h, 16.0), (5 * h, 17.0),
            (6 * h, None)]
    first, values = forecast.hourly_series(rows)
    assert first == h
    assert values == [10.0, 12.0, 14.0, 16.0, 17.0]
    assert forecast.hourly_series([(0, None)]) == (None, [])


def test_query_selects_hourly_means_with_quoted_identifiers(forecast):
    cfg = {"measurement": 'temp "x"', "field": "value", "tags": {"room": "kid's"},
           "influx": {"rp": "autogen"}}
    q = forecast.build_query(cfg, 3600, 7200)
    assert q == ('SELECT mean("value") FROM "autogen"."temp \\"x\\"" WHERE time >= 3600s '
                 "AND time < 7200s AND \"room\" = 'kid\\'s' GROUP BY time(1h) fill(null)")
