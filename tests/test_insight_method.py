"""The kept anomaly method and the trend fit on synthetic series: what must and must not be flagged."""

from __future__ import annotations

import numpy as np
import pytest

from prsm_monitor.insight.anomaly import Episodes
from prsm_monitor.insight.baseline import GUARD_SECONDS, RobustMethod, Seasonal, _quantiles, per_column, robust_band
from prsm_monitor.insight.forecast import MAX_POINTS, fit, median, readings, theil_sen
from prsm_monitor.store.ring import HistoryStore

LEARN = 300


def run(series: np.ndarray, floors=(0.0,), hold: float = 8.0, refresh: int = 5) -> list[int]:
    """Feed ``series`` (rows: seconds, columns: values) through the method and the episodes as
    the engine does; return the seconds at which an anomaly opened."""
    series = np.asarray(series, dtype="float64").reshape(len(series), -1)
    method = RobustMethod(1800, learn_samples=LEARN)
    method.declare(list(floors) * series.shape[1] if len(floors) == 1 else list(floors))
    episodes = Episodes(hold, clear=10.0)
    opened_at = []
    for t, values in enumerate(series):
        if t % refresh == 0:
            method.learn(series.shape[1], float(t))
        outside, judged = method.judge(values, episodes.open_since, float(t))
        opened, _ = episodes.update(outside, judged, float(t))
        for i in opened:
            method.forget(int(i), hold, 1.0)
            opened_at.append(t)
    return opened_at


def noise(n: int, seed: int = 1, level: float = 50.0, sd: float = 2.0) -> np.ndarray:
    return level + np.random.default_rng(seed).normal(0, sd, n)


def test_noise_alone_raises_nothing():
    assert run(noise(3000)) == []


def test_a_step_is_flagged_after_the_hold():
    series = noise(1200)
    series[900:] += 25
    opened = run(series)
    assert opened and 900 + 8 <= opened[0] <= 900 + 8 + 2


def test_a_short_spike_is_not_an_anomaly():
    series = noise(1200)
    series[900:904] += 60  # four seconds: shorter than the hold
    assert run(series) == []


def test_a_fault_does_not_become_normal_while_it_lasts():
    """The step's values are not learnt: the anomaly stays open, one opening only."""
    series = noise(1800)
    series[900:] += 25
    assert len(run(series)) == 1


def test_nothing_is_judged_while_learning():
    series = noise(600)
    series[100:] += 40  # a change inside the learning period is not flagged
    assert [t for t in run(series) if t < LEARN] == []


def test_a_constant_gets_a_band_and_any_change_of_it_shows():
    series = np.full(900, 5.0)
    series[700:] = 4.0  # one node of five down
    assert run(series, floors=(0.5,))[0] == 708


def test_a_change_below_the_floor_is_not_unusual():
    series = noise(1200, sd=0.1)
    series[900:] += 0.8  # 8 sd, but under the 1.0 floor of the field
    assert run(series, floors=(1.0,)) == []


def test_a_slow_ramp_is_flagged_once_it_leaves_the_band():
    series = noise(2400)
    series[1000:] += np.arange(1400) * 0.05  # +1 per 20 s
    opened = run(series)
    assert opened and 1000 < opened[0] < 1400


def test_guard_keeps_the_latest_samples_out_of_the_band():
    method = RobustMethod(600, learn_samples=10)
    method.declare([0.0])
    for t in range(400):
        method.judge(np.array([10.0 if t < 400 - int(GUARD_SECONDS) else 90.0]), np.zeros(0), float(t))
    method.learn(1, 400.0)
    assert method.band.hi[0] < 20


def test_seasonal_band_accepts_the_hour_s_usual_peak():
    minutes = np.arange(7 * 1440 + 60) * 60.0
    hour = (minutes % 86400) // 3600
    values = np.where(hour == 14, 80.0, 20.0) + np.random.default_rng(2).normal(0, 1, minutes.size)
    seasonal = Seasonal()
    seasonal.learn(minutes, values.reshape(-1, 1), k=5.0)
    assert seasonal.ready
    at_14, at_3 = seasonal.band(14 * 3600 + 60.0), seasonal.band(3 * 3600 + 60.0)
    assert at_14.lo[0] < 80 < at_14.hi[0]  # normal at 14:00 ...
    assert not at_3.lo[0] < 80 < at_3.hi[0]  # ... unusual at 03:00


def test_seasonal_needs_a_week():
    seasonal = Seasonal()
    minutes = np.arange(3 * 1440) * 60.0
    seasonal.learn(minutes, np.ones((minutes.size, 1)), k=5.0)
    assert not seasonal.ready


def test_robust_band_ignores_a_minority_of_wild_points():
    values = noise(1000).reshape(-1, 1)
    values[::10] = 1000.0  # 10 % outliers
    band = robust_band(values, k=5.0)
    assert 40 < band.centre[0] < 60 and band.hi[0] < 100


def test_theil_sen_recovers_a_line_through_outliers():
    t = np.arange(100.0)
    y = 3.0 + 0.5 * t
    y[::9] += 50  # 12 % outliers
    slope, _, agreement = theil_sen(t, y)
    assert slope == pytest.approx(0.5, rel=1e-6) and agreement > 0.8


def test_bands_are_numpys_nan_statistics_whether_or_not_a_column_has_gaps():
    """Columns without a gap go through one vectorised median/quantile, the others column by
    column: the same numbers as ``np.nanmedian``/``np.nanquantile`` over the whole block."""
    rng = np.random.default_rng(9)
    values = rng.lognormal(1.0, 1.0, (1800, 12))
    values[rng.random((1800, 12)) < 0.1 * (np.arange(12) % 3 == 0)] = np.nan  # gaps in 4 columns
    values[:, 5] = np.nan  # never seen
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        centre = np.nanmedian(values, axis=0)
        quantiles = np.nanquantile(values, [0.005, 0.995], axis=0)
    band = robust_band(values, 5.0)
    np.testing.assert_array_equal(band.centre, centre)
    np.testing.assert_array_equal(per_column(_quantiles, values, (2,)), quantiles)
    clean = np.delete(values, [0, 3, 5, 6, 9], axis=1)  # no gap at all: the vectorised path alone
    np.testing.assert_array_equal(robust_band(clean, 5.0).centre, np.median(clean, axis=0))


def test_the_fits_median_is_numpys():
    rng = np.random.default_rng(5)
    for size in [*range(1, 40), MAX_POINTS, 7140]:
        values = rng.lognormal(0.0, 3.0, size) * rng.choice([-1.0, 1.0], size)
        values[: size // 4] = values[-1]  # ties
        assert median(values) == float(np.median(values)), size


@pytest.mark.parametrize("size", [2, 7, MAX_POINTS, 700])
def test_theil_sen_is_the_median_of_every_pair_s_slope(size):
    """Against the definition, on rising times and on times with repeats and steps back (pairs
    without a later time left out), falling and rising data: the pairs made once per size and
    the shortcuts for rising times change no number."""
    rng = np.random.default_rng(size)
    for t, y in [
        (np.cumsum(rng.uniform(0.5, 1.5, size)), rng.normal(0, 1, size).cumsum()),
        (rng.integers(0, max(2, size // 3), size).astype(float), -np.arange(size) + rng.normal(0, 5, size)),
    ]:
        pick = np.linspace(0, size - 1, MAX_POINTS).round().astype(int) if size > MAX_POINTS else np.arange(size)
        ts, ys = t[pick], y[pick]
        pairs = [
            (ys[b] - ys[a]) / (ts[b] - ts[a]) for a in range(ts.size) for b in range(a + 1, ts.size) if ts[b] > ts[a]
        ]
        slope, intercept, agreement = theil_sen(t, y)
        if not pairs:
            assert (slope, agreement) == (0.0, 0.0)
            continue
        assert slope == float(np.median(pairs)) and intercept == float(np.median(ys - slope * ts))
        assert agreement == np.mean(np.sign(pairs) == np.sign(slope))


def test_forecast_of_a_known_linear_ramp():
    """Memory from 40 % rising 1 % a minute, with noise: full (100 %) in 60 min."""
    t = np.arange(0, 1200.0)
    y = 40 + t / 60 + np.random.default_rng(3).normal(0, 0.3, t.size)
    now = t[-1]
    trend = fit(t, y, now)
    truth = (100 - (40 + now / 60)) * 60
    assert trend.eta(100.0) == pytest.approx(truth, rel=0.05)
    assert trend.per_day == pytest.approx(1440, rel=0.05)


def test_forecast_uses_the_recent_part_after_a_change_of_course():
    """Flat for an hour, then a leak for 15 min: the rate is the leak's, not diluted."""
    t = np.arange(0, 4500.0, 5)
    y = np.where(t < 3600, 10.0, 10.0 + (t - 3600) * 0.05) + np.random.default_rng(4).normal(0, 0.1, t.size)
    trend = fit(t, y, t[-1])
    assert trend.slope == pytest.approx(0.05, rel=0.1)
    assert trend.window < 1800


def test_flat_or_noisy_series_forecasts_nothing():
    t = np.arange(0, 3600.0, 10)
    trend = fit(t, noise(t.size), t[-1])
    assert trend.eta(100.0) is None


def test_too_little_history_gives_no_trend():
    assert fit(np.arange(10.0), np.arange(10.0), 9.0) is None


def test_a_leak_that_stopped_is_no_longer_forecast():
    t = np.arange(0, 3600.0, 5)
    y = np.where(t < 2400, 10 + t * 0.01, 34.0) + np.random.default_rng(5).normal(0, 0.05, t.size)
    assert fit(t, y, t[-1]).eta(100.0) is None


def test_a_short_noisy_swing_is_no_forecast():
    """A host whose memory jumps between 6 and 24 % as builds come and go is not 'full in 17 min'."""
    rng = np.random.default_rng(6)
    t = np.arange(0, 600.0)
    y = 6 + 18 * (rng.random(t.size) < 0.5) + t * 0.01
    assert fit(t, y, t[-1]).eta(100.0) is None


def test_no_forecast_beyond_twelve_windows():
    t = np.arange(0, 300.0)
    trend = fit(t, 10 + t * 0.001, t[-1])  # 90 points to go at 0.001/s: 25 h from 5 min of data
    assert trend.slope > 0 and trend.eta(100.0) is None


def test_a_shift_that_straddles_the_band_edge_is_flagged_when_mostly_outside():
    """A windowed statistic of a few requests (the demo's input drift at a drift of 0.3) is
    outside its band on most ticks, not all: back inside for one tick in seven still opens
    an anomaly after the hold; outside one tick in two does not."""
    mostly = noise(1200)
    mostly[900:] += 25
    mostly[900::7] = 50.0  # one tick in seven back at normal
    opened = run(mostly)
    assert opened and 900 + 8 <= opened[0] <= 900 + 8 + 3
    half = noise(1200)
    half[900::2] += 25  # every other tick
    assert run(half) == []


def leak_readings(now: float, rise_per_s: float, start: float = 3300.0, step: float = 0.39):
    """Read as the engine reads it (:func:`readings` on a real history store): a node's memory
    flat for 55 min, then growing ``rise_per_s`` in steps of ``step`` (the demo's 256 KiB)."""
    store = HistoryStore(capacity=5000)
    store.declare("node:node-0", ("timestamp", "memory_percent"))
    for t in np.arange(0.0, now + 1):
        leaked = max(0.0, t - start) * rise_per_s
        store.append("node:node-0", {"timestamp": t, "memory_percent": 0.0077 + leaked - leaked % step})
    history = lambda series, minutes, max_points: store.query(series, now - minutes * 60, now, max_points)  # noqa: E731
    return readings(history, "node:node-0", "memory_percent", 6 * 3600.0)


def test_the_demos_leak_is_forecast_within_its_first_minutes():
    """The issue: a forecast needed ten minutes of one straight line, so the demo's 3-minute
    leak (16 MiB/min on a 64 MiB node: 0.42 %/s, full in ~4 min) was never forecast."""
    now = 3300.0 + 75
    t, y = leak_readings(now, 0.42)
    trend = fit(t, y, now)
    truth = (100 - 75 * 0.42) / 0.42
    assert trend.eta(100.0) == pytest.approx(truth, rel=0.1)
    assert trend.window < 120  # the leak's own minute, not the flat hour before it


def test_a_minute_of_healthy_rise_is_no_forecast():
    """A value climbing along a clean line for 90 s (a host's memory while a build starts, 1.3 %
    a minute) would reach 100 % in 45 min: 30 of its windows ahead, beyond the 4 a short line
    may reach."""
    now = 3300.0 + 90
    t, y = leak_readings(now, 1.3 / 60, step=0.01)
    trend = fit(t, y, now)
    assert trend.slope > 0 and trend.eta(100.0) is None
