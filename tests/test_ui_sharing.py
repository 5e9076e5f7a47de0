"""Viewers share what pages compute: once per collector version, whatever the number of sessions;
a changed threshold or range still shows at once."""

import json
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor.core import shared
from prsm_monitor.per_version import PerVersion
from prsm_monitor.ui import shared_views
from prsm_monitor.ui.page import refresh_period

SYSTEM = "pages/1_System.py"


def quiet(monkeypatch, **env):
    """The dashboard's collector with no demo and an hour between ticks: its version stays put
    unless a test changes something (its one tick runs before ``get_collector`` returns; the
    thread's next comes an hour after it)."""
    for name, value in {"PRSM_DEMO": "false", "PRSM_METRICS_INTERVAL": "3600", **env}.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()
    shared.release_collector()
    shared_views.clear()
    collector = shared.get_collector()
    assert collector.version[0] == 1
    yield collector
    st.cache_resource.clear()
    shared.release_collector()
    shared_views.clear()


@pytest.fixture
def quiet_collector(monkeypatch):
    yield from quiet(monkeypatch)


@pytest.fixture
def ten_point_collector(monkeypatch):
    """The same, keeping the latest ten points of each series."""
    yield from quiet(monkeypatch, PRSM_METRICS_HISTORY="10")


def session(path: str = SYSTEM) -> AppTest:
    """A new browser session on ``path`` (AppTests in one process share the collector and the cache)."""
    at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    if path != "streamlit_app.py":
        at.switch_page(path)
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def specs(at: AppTest) -> list[str]:
    return [element.proto.spec for element in at.get("vega_lite_chart")]


def memory_chart(at: AppTest) -> dict[str, list[dict]]:
    """The System page's memory chart's datasets as rows (CPU has no value on the first,
    back-to-back ticks): the spec is the shape's, its values are the datasets'."""
    proto = next(element.proto for element in at.get("vega_lite_chart") if '"Memory"' in element.proto.spec)
    return {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist() for d in proto.datasets}


def test_two_sessions_of_the_same_page_and_range_share_the_computed_charts(quiet_collector):
    version = quiet_collector.version
    first = run(session())
    computed = dict(shared_views.computed)
    assert computed["chart"] >= 7 and computed["history"] >= 1  # the System page's seven charts
    second = run(session())
    assert quiet_collector.version == version  # nothing changed in between
    assert dict(shared_views.computed) == computed  # the second viewer computed nothing
    assert specs(second) == specs(first)

    quiet_collector.collect_once()  # a tick: a new version, computed once for both viewers
    run(first), run(second)
    assert shared_views.computed["chart"] == 2 * computed["chart"]
    assert shared_views.computed["history"] == 2 * computed["history"]
    assert specs(second) == specs(first)


def test_a_changed_threshold_shows_at_once_to_every_viewer(quiet_collector):
    first, second = run(session()), run(session())
    assert "warning 42.5%" not in json.dumps(memory_chart(first))
    quiet_collector.configure(thresholds={"memory": (42.5, 97.0)})  # from another viewer, or the API
    for viewer in (run(first), run(second)):
        labels = json.dumps(memory_chart(viewer))
        assert "warning 42.5%" in labels and "critical 97%" in labels


def test_a_changed_range_shows_at_once(ten_point_collector):
    collector, now = ten_point_collector, time.time()
    latest = collector.latest("system")
    for i in range(10):  # points 70 s apart, oldest first: they replace the first ticks
        collector.store.append("system", {**latest, "timestamp": now - 700 + 70 * i})
    collector.collect_once()  # and a tick (a new version): now - 630 ... now - 70, now

    def first_time(at: AppTest) -> float:
        window = memory_chart(at)["marks"][0]  # the window row
        return window["x"] / 1000

    at, other = run(session()), run(session())
    assert first_time(at) == pytest.approx(now - 630, abs=0.5)  # 15 min (the default): all of it
    at.segmented_control(key="range").set_value("5 min")
    run(at)
    assert first_time(at) == pytest.approx(now - 280, abs=0.5)  # the same version, another range
    assert first_time(run(other)) == pytest.approx(now - 630, abs=0.5)  # the other viewer's range


def test_charts_get_whole_seconds_and_whole_large_values_only_where_rounding_is_invisible():
    frame = pd.DataFrame({"timestamp": [10.3, 11.6, 13.1], "rate": [1234.56, 5.55, np.nan], "ratio": [0.51, 0.25, 1]})
    rounded = shared_views.visible_precision(frame)
    assert rounded["timestamp"].tolist() == [10.0, 12.0, 13.0]  # points 1.4 s apart; tooltips show hh:mm:ss
    assert rounded["rate"].tolist()[:2] == [1235.0, 5.55] and np.isnan(rounded["rate"].iloc[2])
    assert rounded["ratio"].tolist() == [0.51, 0.25, 1]
    fast = pd.DataFrame({"timestamp": [10.1, 10.3, 10.5], "x": [1.0, 2.0, 3.0]})  # 0.2 s apart: kept
    assert shared_views.visible_precision(fast)["timestamp"].tolist() == [10.1, 10.3, 10.5]


class Versioned:
    def __init__(self):
        self.version = (1, 0, 0)


def test_per_version_values_belong_to_one_object_and_none_is_a_value():
    calls = []
    cache = PerVersion(lambda c: calls.append(c) or None)
    a, b = Versioned(), Versioned()
    assert cache.get(a) is None and cache.get(a) is None
    assert calls == [a]  # None was cached, not recomputed
    cache.get(b)  # same version, another object: its own value
    assert calls == [a, b]
    b.version = (2, 0, 0)
    cache.get(b)
    assert calls == [a, b, b]


def test_a_refresh_faster_than_the_collection_interval_waits_for_the_next_tick():
    class Collector:
        collection_interval = 5.0

    assert refresh_period(1, Collector()) == 5.0
    assert refresh_period(10, Collector()) == 10.0
    assert refresh_period(None, Collector()) is None


def test_a_steady_drawing_is_the_same_object_until_its_state_changes_or_it_is_old():
    """The topology and the latency heatmap change colour only when a link's band or a node's
    status does; their tooltips' latencies may be seconds old. Kept as the same object, the
    drawing is sent as a reference; a state change shows on the next version at once."""
    shared_views.clear()
    collector, clock = Versioned(), [100.0]
    state, made = ["calm"], []

    def draw(c):
        made.append(state[0])
        return {"look": state[0], "n": len(made)}

    def get():
        return shared_views.steady(collector, ("drawing",), lambda c: state[0], draw, seconds=5, now=lambda: clock[0])

    first = get()
    for tick in range(2, 5):  # three ticks, state unchanged, within 5 s
        collector.version, clock[0] = (tick, 0, 0), 100.0 + tick
        assert get() is first
    state[0] = "critical"  # a link turned red: redrawn on this version
    collector.version = (5, 0, 0)
    red = get()
    assert red is not first and red["look"] == "critical"
    collector.version, clock[0] = (6, 0, 0), 104.9
    assert get() is red
    collector.version, clock[0] = (7, 0, 0), 110.0  # 5 s old: redrawn with today's tooltips
    assert get() is not red
    assert made == ["calm", "critical", "critical"]
    other = Versioned()  # another collector never gets this one's drawing
    assert shared_views.steady(other, ("drawing",), lambda c: state[0], draw, now=lambda: clock[0]) is not red
    shared_views.clear()


def test_the_model_distribution_is_rebuilt_only_when_the_counts_change():
    """The AI page's bars of instances per framework: one chart object across ticks while the
    counts stay (a reference to every viewer), a new one the tick they change."""
    from prsm_monitor.ui.views import ai

    shared_views.clear()
    collector = Versioned()
    counts = {"numpy": 3, "sklearn": 2}
    collector.get_latest_metrics = lambda: {"ai": {"distribution_by_framework": dict(counts)}}
    first = ai.distribution(collector, "distribution_by_framework", "Instances by framework")
    collector.version = (2, 0, 0)
    assert ai.distribution(collector, "distribution_by_framework", "Instances by framework") is first
    counts["numpy"] = 2  # an instance went away
    collector.version = (3, 0, 0)
    fewer = ai.distribution(collector, "distribution_by_framework", "Instances by framework")
    assert fewer is not first
    assert fewer.datasets["rows"].to_pydict() == {"name": ["numpy", "sklearn"], "count": [2, 2]}
    collector.get_latest_metrics = lambda: {"ai": None}  # no AI record: no chart, said in words
    collector.version = (4, 0, 0)
    assert ai.distribution(collector, "distribution_by_framework", "Instances by framework") is None
    shared_views.clear()


def test_the_proposals_table_is_rebuilt_when_a_shown_value_changes_not_every_tick():
    """The Network page's recent proposals: the same Arrow table across ticks while every value
    it shows stays (a reference to every viewer), a new one the tick a vote or a commit lands."""
    from zoneinfo import ZoneInfo

    from prsm_monitor.ui.views import network

    shared_views.clear()
    collector, zone = Versioned(), ZoneInfo("UTC")
    proposal = {"id": "p1", "proposer": "node-0", "started": 1_800_000_000.0, "quorum": 4, "live_nodes": 5}
    proposal |= {"votes": 1, "outcome": "pending", "time_to_commit_ms": None}
    record = {"nodes": [], "edges": [], "consensus_history": [proposal]}
    collector.get_latest_metrics = lambda: {"network": json.loads(json.dumps(record))}
    pending = network.proposal_table(collector, zone)
    collector.version = (2, 0, 0)
    assert network.proposal_table(collector, zone) is pending
    proposal |= {"votes": 4, "outcome": "committed", "time_to_commit_ms": 20.7}
    collector.version = (3, 0, 0)
    committed = network.proposal_table(collector, zone)
    assert committed is not pending
    assert committed.column("outcome").to_pylist() == ["committed"] and committed.column("votes").to_pylist() == [4]
    shared_views.clear()
