"""What a forecast's refit reads from the history on disk (issue 26: the cost at rest after hours).

The trends' long read over 6 h asked for 400 points, finer than a minute, so the store answered
from its raw tier: from the first hour after start, every refit (every 10 s) decoded the raw
rows on disk, up to 5 h of them. Once part of the window is older than the in-memory ring, the
read asks for as many points as it has minutes, which the minute tier gives.
"""

from __future__ import annotations

import math
import time

import pytest

from prsm_monitor import MetricsCollector
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.insight import forecasting
from prsm_monitor.insight.forecast import fit, readings
from prsm_monitor.settings.model import Settings

WINDOW = 6 * 3600.0
STEP = 10.0  # seconds between ticks
RISE = 0.5  # % of memory per hour


class Line:
    """A system source on the test's clock: memory rising ``RISE`` % an hour, with a wobble of
    ±0.05 % as a real reading has (on a perfectly straight line the buckets' half-step
    offsets alone make every stretch look bent)."""

    components = ("system",)
    fields = {"system": (TIMESTAMP, Field("memory_percent", "%", GAUGE, "memory"))}

    def __init__(self, clock, start):
        self.clock, self.start = clock, start

    def collect(self):
        now = self.clock()
        rise = RISE * (now - self.start) / 3600
        return {"system": {"timestamp": now, "memory_percent": 40.0 + rise + 0.05 * math.sin(now / 37.0)}}


@pytest.fixture
def hours_on_disk(tmp_path):
    """A collector whose 3 h of history (a tick every 10 s, up to now) went through its writer:
    the newest hour in its ring, the rest on disk in the raw and minute tiers."""
    start = time.time() - 3 * 3600  # reads are relative to the wall clock: the history ends now
    clock = {"now": start}
    settings = Settings(demo=False, interval=STEP, data_dir=str(tmp_path))
    collector = MetricsCollector(
        settings=settings, sources=[Line(lambda: clock["now"], start)], clock=lambda: clock["now"]
    )
    early = None
    while clock["now"] < time.time():
        collector.collect_once()
        if early is None and clock["now"] - start >= 1800:
            early = forecasting.long_points(collector, "system", clock["now"], WINDOW)
        clock["now"] += STEP
    collector.store.writer.flush()
    yield collector, clock["now"], early
    collector.close()


def test_a_refit_reads_one_point_a_minute_from_the_minute_tier_once_the_window_reaches_the_disk(hours_on_disk):
    collector, now, early = hours_on_disk
    assert early == forecasting.POINTS  # half an hour in: all in the ring, the read as fine as before
    points = forecasting.long_points(collector, "system", now, WINDOW)
    assert 175 <= points <= 181  # 3 h stored: as many as it has minutes
    long = collector.history_columns("system", WINDOW / 60, max_points=points)
    assert long.attrs["tier"] == "minute" and len(long) >= 85  # the minute buckets, two by two
    old = collector.history_columns("system", WINDOW / 60, max_points=forecasting.POINTS)
    assert old.attrs["tier"] == "raw"  # what every refit decoded before


def test_the_trend_from_minute_points_is_the_line_the_history_follows(hours_on_disk):
    collector, now, _ = hours_on_disk
    line = forecasting.trend(collector, "system", "memory_percent", now, WINDOW)
    assert line is not None
    assert line.slope * 3600 == pytest.approx(RISE, rel=0.02)
    assert line.window > 2.5 * 3600  # fitted over the hours on disk, not only the ring's hour
    t, y = readings(collector.history_columns, "system", "memory_percent", WINDOW, forecasting.POINTS)
    raw = fit(t, y, now, WINDOW)  # the raw tier's read, as before
    assert line.slope == pytest.approx(raw.slope, rel=0.01) and line.level == pytest.approx(raw.level, abs=0.01)


def test_memory_only_history_keeps_the_full_read():
    collector = MetricsCollector(settings=Settings(demo=False), sources=[])
    try:
        assert forecasting.long_points(collector, "system", time.time(), WINDOW) == forecasting.POINTS
    finally:
        collector.close()
