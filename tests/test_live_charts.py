"""A live chart is a body that holds still between steps of its range and a tail up to the
newest stored value (issue 24: viewer bytes; issue 21: every chart reaches now).

The body is the same object, so the same Streamlit message, on every rerun until a step of its
range closes: Streamlit then sends a viewer who holds it a reference instead of the chart."""

from __future__ import annotations

import json
import math
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from streamlit.elements import vega_charts
from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart

from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.ui import shared_views
from prsm_monitor.ui.chart_rows import at_step
from prsm_monitor.ui.timechart import TimeChart

# Streamlit sends an element the browser holds as a reference from this size on (our config.toml)
CACHED = tomllib.loads((Path(__file__).parents[1] / ".streamlit" / "config.toml").read_text())["global"][
    "minCachedMessageSize"
]
MEMORY = TimeChart("Memory", {"memory_percent": "Memory"}, "%", "In use", rule="memory")
SOCKETS = TimeChart("Sockets", {"active_connections": "Sockets"}, "sockets", "Open")


def message(spec: dict) -> bytes:
    """The bytes Streamlit sends for ``st.vega_lite_chart(None, spec)`` (as st.vega_lite_chart marshals it)."""
    proto = VegaLiteChart()
    spec = vega_charts._prepare_vega_lite_spec(dict(spec), True)
    vega_charts._marshall_chart_data(proto, spec, None)
    proto.spec = vega_charts._stabilize_vega_json_spec(json.dumps(spec))
    return proto.SerializeToString(deterministic=True)


@pytest.fixture
def collector():
    c = MetricsCollector(5000, settings=Settings(demo=False, interval=1))  # never started: ticks are the tests'
    yield c
    c.close()


def fill(collector: MetricsCollector, seconds: int, now: float) -> None:
    for i in range(seconds):
        stamp = now - seconds + i
        collector.store.append("system", {"timestamp": stamp, "memory_percent": 20 + (i % 7), "active_connections": i})


def tick(collector: MetricsCollector, stamp: float, value: float) -> None:
    """A new row and a new collector version (as a tick makes)."""
    collector.store.append("system", {"timestamp": stamp, "memory_percent": value, "active_connections": value})
    collector.create_alert("info", "system", f"row at {stamp}")  # an alert event: a new version


def tail_end(live: shared_views.Live) -> tuple[float, float]:
    """The time (epoch s) and value where the drawn line ends: the tail's last row, else the body's."""
    if live.tail is not None:
        row = live.tail["layer"][0]["data"]["values"][-1]
        return live.body.window["x"] / 1000 + row["t"], row["s0"]
    rows = live.body.data
    return live.body.window["x"] / 1000 + float(rows["t"][-1].as_py()), float(rows["s0"][-1].as_py())


def test_the_body_holds_still_within_a_step_and_the_tail_reaches_the_newest_value(collector, monkeypatch):
    step = shared_views.hold_of(15, 150)
    now = (math.floor(time.time() / step) + 0.5) * step  # mid-step: the next ticks stay in this step
    fill(collector, 600, now - 1)
    shared_views.clear()
    monkeypatch.setattr(shared_views, "clock", lambda: now)
    first = shared_views.chart(collector, MEMORY, "system", 15)
    tick(collector, now + 0.2, 55.0)
    monkeypatch.setattr(shared_views, "clock", lambda: now + 0.2)
    second = shared_views.chart(collector, MEMORY, "system", 15)
    assert second.body is first.body  # no new bucket: the same chart object
    assert message(second.body.vega_lite()) == message(first.body.vega_lite())  # so the same message
    assert tail_end(second) == pytest.approx((now + 0.2, 55.0), abs=1e-3)  # the line reaches the newest value
    assert len(message(second.tail)) < 1000 < 3000 < len(message(second.body.vega_lite()))  # what moves is small
    tick(collector, now + step, 56.0)
    monkeypatch.setattr(shared_views, "clock", lambda: now + step)  # a step closed
    third = shared_views.chart(collector, MEMORY, "system", 15)
    assert third.body is not first.body
    assert tail_end(third)[1] == 56.0


def test_a_value_beyond_the_body_s_axis_makes_a_new_body_that_holds_it(collector, monkeypatch):
    step = shared_views.hold_of(15, 150)
    now = (math.floor(time.time() / step) + 0.5) * step
    fill(collector, 300, now - 1)
    shared_views.clear()
    monkeypatch.setattr(shared_views, "clock", lambda: now)
    first = shared_views.chart(collector, SOCKETS, "system", 15)
    tick(collector, now + 0.2, 10_000.0)
    second = shared_views.chart(collector, SOCKETS, "system", 15)
    assert second.body is not first.body and second.body.window["y2"] >= 10_000
    assert tail_end(second)[1] == 10_000.0


@pytest.mark.parametrize(("minutes", "points"), [(5, 150), (15, 100), (60, 80), (1440, 150)])
def test_every_range_s_line_ends_at_the_newest_stored_value(collector, minutes, points):
    now = time.time()
    fill(collector, 1200, now)
    shared_views.clear()
    live = shared_views.chart(collector, MEMORY, "system", minutes, points=points)
    newest = collector.store.query("system").iloc[-1]
    end, value = tail_end(live)
    assert end == pytest.approx(newest["timestamp"], abs=1.0) and value == newest["memory_percent"]
    assert live.body.window["x2"] / 1000 >= end  # inside the time axis
    times = [r["t"] for r in live.tail["layer"][0]["data"]["values"]] if live.tail else []
    assert len(times) <= 34 and np.all(np.diff(times) > 0)


def test_a_series_whose_values_all_came_after_the_step_end_is_drawn(collector, monkeypatch):
    """A field that only started reporting within the current step (the body's part of the
    range has rows, but none of that field's values) is drawn, not left empty."""
    step = shared_views.hold_of(15, 150)
    now = (math.floor(time.time() / step) + 0.9) * step
    for i in range(300):  # sockets reported all along, memory not yet
        collector.store.append("system", {"timestamp": now - 300 + i, "active_connections": i})
    for i in range(3):  # memory's first values, all after the step's end
        collector.store.append("system", {"timestamp": now - 2 + i, "memory_percent": 40.0 + i})
    shared_views.clear()
    monkeypatch.setattr(shared_views, "clock", lambda: now + 0.5)
    drawn = shared_views.chart(collector, MEMORY, "system", 15)
    assert drawn.body is not None and drawn.body.shape is not None  # was None: "no data" under data
    at, value = tail_end(drawn)
    assert now - step <= at <= now and 40.0 <= value <= 42.0  # memory's newest bucket


def test_rows_after_the_body_are_drawn_at_its_resolution_up_to_the_newest_row():
    times = np.array([101.0, 103.0, 105.0, 107.0, 111.0, 112.0])
    values = np.array([[1.0, 3.0, np.nan, 5.0, 7.0, 9.0]])
    stamps, drawn = at_step(times, values, since=100.0, step=6.0)
    # steps (100, 106] and (106, 112]: the first closed (its mean, at its end), the second open
    assert stamps.tolist() == [106.0, 112.0] and drawn.tolist() == [[2.0, 9.0]]
    assert at_step(times[:2], values[:, :2], since=100.0, step=6.0)[0].tolist() == [103.0]  # only the open step


def test_a_tail_is_kept_while_recent_and_remade_when_not(collector, monkeypatch):
    hold = shared_views.hold_of(15, 150)
    now = (math.floor(time.time() / hold) + 0.5) * hold  # mid-hold, on a step: the body ends here
    fill(collector, 600, now + 1)  # its last row at ``now``: the tail's steps are (now, now + 6], ...
    now += 0.2  # every tick below in the first of them
    shared_views.clear()
    monkeypatch.setattr(shared_views, "RECENT_INTERVALS", 1 / collector.collection_interval)  # one second
    monkeypatch.setattr(shared_views, "clock", lambda: now)
    tick(collector, now, 30.0)
    first = shared_views.chart(collector, MEMORY, "system", 15)
    tick(collector, now + 0.8, 45.0)  # moved, but the drawn end is younger than a second
    second = shared_views.chart(collector, MEMORY, "system", 15)
    assert second.body is first.body and second.tail is first.tail
    assert message(second.tail) == message(first.tail) and len(message(first.tail)) >= CACHED  # sent as a reference
    tick(collector, now + 1.6, 45.0)  # the same value, but the drawn end is older than a second
    third = shared_views.chart(collector, MEMORY, "system", 15)
    assert third.tail is not first.tail and tail_end(third) == pytest.approx((now + 1.6, 45.0), abs=1e-3)
    monkeypatch.setattr(shared_views, "RECENT_INTERVALS", 0)  # no age allowed: every new row a new tail
    tick(collector, now + 1.7, 45.0)
    fourth = shared_views.chart(collector, MEMORY, "system", 15)
    assert fourth.tail is not third.tail and tail_end(fourth)[0] == pytest.approx(now + 1.7, abs=1e-3)
