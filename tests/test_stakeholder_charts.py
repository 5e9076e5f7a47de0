"""Issue 21, items 1 and 2: a chart's data is buckets evenly spaced in time (their mean as the
line, minimum and maximum as a band) and reaches the newest stored value, for every range and
tier (the 24 h range ended 13 minutes before now; 15 minutes of history turned into dashes)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import requests

from prsm_monitor.api import build_app
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.store import HistoryStore
from prsm_monitor.store.tiers import Rollup, downsample_rollup
from prsm_monitor.ui import shared_views

from .fixtures.server import InProcessServer


def fill(collector: MetricsCollector, component: str, seconds: int, step: float = 1.0) -> float:
    """``seconds`` of rows of ``component`` a ``step`` apart (with a little jitter, as ticks
    have), ending now; the values rise by one per row. Returns the newest row's time."""
    now = time.time()
    jitter = np.random.default_rng(21).uniform(-0.05, 0.05, seconds)
    for i in range(seconds):
        stamp = now - (seconds - 1 - i) * step + jitter[i] * step
        collector.store.append(component, {"timestamp": stamp, "memory_percent": float(i)})
    return now + jitter[-1] * step


@pytest.fixture
def collector():
    c = MetricsCollector(20_000, settings=Settings(demo=False, interval=3600))  # never ticks
    yield c
    c.close()


def test_downsampled_buckets_are_evenly_spaced_with_mean_and_band():
    store = HistoryStore(2000)
    store.declare("c", ("timestamp", "a"))
    rng = np.random.default_rng(1)
    ts = 1_000_000 + np.cumsum(rng.uniform(0.9, 1.1, 1200))  # 20 minutes of ticks, jittered
    values = rng.normal(size=1200)
    values[700] = 50.0  # a one-sample spike
    for t, v in zip(ts, values, strict=True):
        store.append("c", {"timestamp": t, "a": v})
    frame = store.query("c", ts[-1] - 900, ts[-1], max_points=80)
    assert list(frame.columns) == ["timestamp", "a", "a_min", "a_max"]
    assert 60 <= len(frame) <= 80
    steps = np.diff(frame["timestamp"].to_numpy())
    assert np.allclose(steps, steps[0]), steps  # one grid, no pairs of points a second apart
    assert frame["timestamp"].iloc[-1] == ts[-1]  # the newest bucket ends at the newest row
    assert frame["a_max"].max() == 50.0  # the spike is in the band, not lost
    assert frame["a"].max() < 50.0  # and not in the line: the line is a mean
    assert (frame["a_min"] <= frame["a"]).all() and (frame["a"] <= frame["a_max"]).all()


def test_a_stopped_monitor_stays_a_gap_and_nothing_else_does():
    store = HistoryStore(2000)
    store.declare("c", ("timestamp", "a"))
    stamps = [*np.arange(0, 600.0), *np.arange(900.0, 1500.0)]  # stopped for 5 minutes
    for t in stamps:
        store.append("c", {"timestamp": t, "a": 1.0})
    frame = store.query("c", max_points=100)
    steps = np.diff(frame["timestamp"].to_numpy())
    typical = np.median(steps)
    assert (steps > 5 * typical).sum() == 1  # one break, where the record has one
    assert np.allclose(np.mod(steps, typical), 0) or np.allclose(steps[steps <= 5 * typical], typical)


def test_rollups_merge_on_an_even_grid_ending_at_the_newest_bucket():
    ts = np.r_[np.arange(0, 600) * 60.0, np.arange(700, 1440) * 60.0]  # a day of minutes, a gap
    ones = np.ones(len(ts))
    small = downsample_rollup(Rollup(ts, np.stack([ones, ones, ones, ones])[:, None, :]), 150)
    assert len(small) <= 150 and small.ts[-1] == ts[-1]
    steps = np.diff(small.ts)
    assert set(np.round(steps[steps < 3600] / 600)) == {1.0}  # 10-minute groups on one grid
    assert small.stats[3].sum() == len(ts)  # every minute counted once


def test_the_api_returns_evenly_spaced_timestamps(collector):
    newest = fill(collector, "system", 20 * 60)
    with InProcessServer(build_app(Settings(), collector)) as server:
        body = requests.get(
            server.url + "/api/historical/system", params={"minutes": 15, "points": 80}, timeout=10
        ).json()
    stamps = np.array([row["timestamp"] for row in body["data"]])
    steps = np.diff(stamps)
    assert len(stamps) >= 60 and np.allclose(steps, steps[0], atol=1e-3), steps
    assert abs(stamps[-1] - newest) < 1e-3


@pytest.mark.parametrize("minutes", [5, 15, 60, 360, 1440, 10080])
@pytest.mark.parametrize("points", [shared_views.COMPACT_POINTS, shared_views.HALF_POINTS, 150])
def test_every_range_reaches_the_newest_value(collector, minutes, points):
    newest = fill(collector, "system", 5 * 60, step=1.0)
    shared_views.clear()
    frame = shared_views.history(collector, "system", minutes, points)
    assert frame["timestamp"].iloc[-1] >= newest - 1.0  # rounded to whole seconds at most
    last = frame.iloc[-1]
    assert last.get("memory_percent_max", last["memory_percent"]) == 299.0  # the newest value


def test_a_rollup_range_is_extended_to_the_newest_raw_row():
    """The minute and hour tiers stamp their newest bucket with its start (up to an hour
    before now): the chart's data still ends at the newest raw point, with its value."""
    rollup = pd.DataFrame({"timestamp": [0.0, 60.0], "a": [1.0, 2.0], "a_min": [0.5, 1.5], "a_max": [1.5, 2.5]})
    rollup.attrs["tier"] = "minute"
    recent = pd.DataFrame({"timestamp": [100.0, 101.0], "a": [7.0, 8.0]})
    frame = shared_views.reaching_newest(rollup, recent)
    assert frame["timestamp"].tolist() == [0.0, 60.0, 101.0]
    assert frame.iloc[-1][["a", "a_min", "a_max"]].tolist() == [8.0, 8.0, 8.0]
    assert frame.attrs["tier"] == "minute"
    assert shared_views.reaching_newest(rollup, recent.iloc[:0]) is rollup
