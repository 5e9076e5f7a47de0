"""Issue 21, item 6: statistics computed the way their names say, every value with its unit."""

from __future__ import annotations

import numpy as np
import pytest

from prsm_monitor.sources.prsm.report import RTT_BUCKETS_MS, TIME_BUCKETS_S, Histogram, NetworkReport
from prsm_monitor.sources.prsm.window import ALL, CounterWindow
from prsm_monitor.units import range_text, value_text


def window_at(now: float) -> CounterWindow:
    win = CounterWindow(10.0)
    win.take(NetworkReport(now, {}, {}, {}))
    return win


def test_a_p95_is_the_95th_percentile_of_the_windows_samples():
    """The issue: latency p95 473 ms while every link was at most 301 ms (a guess inside the
    300-500 ms bucket), and a healthy p95 below the mean."""
    now = 1000.0
    rng = np.random.default_rng(6)
    slow = Histogram(RTT_BUCKETS_MS)
    values = rng.uniform(250.0, 301.0, 400)
    for i, v in enumerate(values):
        slow.observe(float(v), at=now - 9.0 + i * 0.02)
    slow.observe(9999.0, at=now - 30.0)  # before the window: not in its p95
    win = window_at(now)
    (p95,) = win.quantiles((ALL, "rtt"), RTT_BUCKETS_MS, 0.95, samples=[slow.snapshot()])
    assert p95 == pytest.approx(np.quantile(values, 0.95)) and p95 <= 301.0
    healthy = Histogram(RTT_BUCKETS_MS)
    quick = np.r_[rng.uniform(0.5, 0.9, 380), rng.uniform(0.9, 3.0, 20)]
    for i, v in enumerate(quick):
        healthy.observe(float(v), at=now - 5 + i * 0.01)
    p50, p95 = win.quantiles((ALL, "rtt"), RTT_BUCKETS_MS, 0.5, 0.95, samples=[healthy.snapshot()])
    assert p50 <= quick.mean() <= p95
    assert (p50, p95) == pytest.approx(tuple(np.quantile(quick, [0.5, 0.95])))


def test_window_quantiles_equal_numpys_over_the_samples_after_the_windows_start():
    """The samples are found by bisection on their times and interpolated without NumPy: the
    same numbers as ``numpy.quantile`` over exactly the samples after ``since`` (one observed
    at ``since`` itself is out), from several histograms, one of them past its RECENT limit."""
    from prsm_monitor.sources.prsm.report import RECENT, sample_quantiles

    rng = np.random.default_rng(26)
    since, qs = 1000.0, (0.0, 0.05, 0.5, 0.95, 0.99, 1.0)
    for count in (1, 2, 3, 10, 37, 2 * RECENT):
        hists, inside = [], []
        for _ in range(3):
            h = Histogram(RTT_BUCKETS_MS)
            times = np.sort(rng.uniform(since - 20.0, since + 10.0, count))
            times[count // 2] = since  # on the edge: not after it
            for t, v in zip(times, rng.lognormal(0.0, 1.0, count), strict=True):
                h.observe(float(v), at=float(t))
            hists.append(h.snapshot())
            inside += [v for t, v in h.recent if t > since]
        got = sample_quantiles(hists, since, *qs)
        if inside:
            assert got == [float(x) for x in np.quantile(np.asarray(inside), qs)], count
        else:
            assert got == [None] * len(qs)
    assert sample_quantiles([Histogram(RTT_BUCKETS_MS).snapshot()], since, 0.5) is None
    full = Histogram(RTT_BUCKETS_MS)  # observed out of time order: kept in it, the latest RECENT
    for i in range(RECENT):
        full.observe(float(i), at=since + i)
    full.observe(-1.0, at=since - 1.0)  # older than all kept: counted, not kept
    full.observe(-2.0, at=since + 0.5)
    assert full.count == RECENT + 2 and len(full.recent) == RECENT
    assert [t for t, _ in full.recent][:3] == [since + 0.5, since + 1, since + 2]
    assert sample_quantiles([full.snapshot()], since + 0.25, 0.0) == [-2.0]


def test_a_producer_without_samples_still_gets_its_buckets_quantiles():
    now = 1000.0
    win = CounterWindow(10.0)
    win.take(NetworkReport(now - 1, {}, {}, {}))
    assert win.quantiles((ALL, "gw", "time"), TIME_BUCKETS_S, 0.5, samples=[]) == [None]
    empty = Histogram(TIME_BUCKETS_S).snapshot()
    assert win.quantiles((ALL, "gw", "time"), TIME_BUCKETS_S, 0.5, samples=[empty]) == [None]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (11630.0, "messages/s", "11.6 k messages/s"),  # was "1.163e+04"
        (99.94, "%", "99.9%"),
        (43.45, "ms", "43.5 ms"),
        (1500.0, "ms", "1.5 s"),
        (1.2e6, "B/s", "1.2 MB/s"),
        (0.0, "1", "0"),
        (None, "%", "–"),
        (float("nan"), "s", "–"),
    ],
)
def test_every_value_with_its_unit(value, unit, text):
    assert value_text(value, unit) == text


def test_a_normal_range_says_its_unit_once():
    assert range_text(0.0, 91.39, "%") == "0 to 91.4%"  # was "0 to 91.39" with no unit
    assert range_text(2100.0, 11630.0, "messages/s") == "2.1 to 11.6 k messages/s"
