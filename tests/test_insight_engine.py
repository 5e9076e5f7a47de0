"""The insight inside a real collector: anomaly and forecast alerts in the log, /metrics, learning."""

from __future__ import annotations

import time

import numpy as np
import pytest
from prometheus_client import generate_latest

from prsm_monitor import MetricsCollector, Settings
from prsm_monitor.api.exposition import make_registry
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.insight import Insight, engine
from prsm_monitor.units import value_text


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Scripted:
    """Network latency and disk use the test sets, stamped with the test's clock."""

    components = ("system", "network")
    fields = {
        "system": (TIMESTAMP, Field("disk_percent", "%", GAUGE, "test")),
        "network": (
            TIMESTAMP,
            Field("average_latency", "ms", GAUGE, "test"),
            Field("active_nodes", "1", GAUGE, "test"),
        ),
    }

    def __init__(self, clock: Clock):
        self.clock = clock
        self.latency = 20.0
        self.disk = 40.0
        self.rng = np.random.default_rng(0)

    def collect(self):
        now = self.clock.now
        latency = self.latency + self.rng.normal(0, 1.0)
        return {
            "system": {"timestamp": now, "disk_percent": self.disk},
            "network": {"timestamp": now, "average_latency": latency, "active_nodes": 5},
        }


@pytest.fixture
def rig():
    clock = Clock(time.time() - 3000)  # history queries reach back from the real now
    source = Scripted(clock)
    collector = MetricsCollector(settings=Settings(demo=False), sources=[source], clock=clock)
    collector.insight.close()
    collector.insight = Insight(collector, learn_seconds=300, threaded=False, warm_start=False)
    yield collector, source, clock
    collector.close()


def tick(collector, clock, seconds: int, every=None) -> None:
    for _ in range(seconds):
        clock.now += 1
        if every:
            every()
        collector.collect_once()
        if int(clock.now) % 5 == 0:
            collector.insight.learn(clock.now)


def kinds(collector, prefix: str) -> list[tuple[str, str]]:
    return [(e["kind"], e["level"]) for e in collector.get_alerts() if e["message"].startswith(prefix)]


def test_learning_then_an_anomaly_opens_and_resolves_as_its_own_alert(rig):
    collector, source, clock = rig
    tick(collector, clock, 150)  # learnt from 145 to 150 ticks by the last pass
    assert collector.insight.learning_text() == "learning, 2 min of 5"
    tick(collector, clock, 270)
    assert collector.insight.learning() is None
    assert not collector.get_active_alerts()  # noise alone raises nothing

    source.latency = 60.0  # triples, still under the 100 ms threshold of the latency rule
    tick(collector, clock, 16)  # the 12 s hold
    active = [a for a in collector.get_active_alerts() if a["key"].startswith("anomaly:")]
    assert [(a["component"], a["level"]) for a in active] == [("network", "warning")]
    assert active[0]["message"].startswith("Unusual average_latency: ")
    source.latency = 80.0  # the active alert says what holds now
    tick(collector, clock, 1)
    now = [a for a in collector.get_active_alerts() if a["key"].startswith("anomaly:")][0]
    value = now["details"]["value"]
    assert 75 < value < 85 and now["message"].startswith(f"Unusual average_latency: {value_text(value, 'ms')}")
    assert kinds(collector, "Unusual") == [("anomaly", "warning")]

    body = generate_latest(make_registry(lambda: collector)).decode()
    assert 'prsm_anomalies_total{component="network",field="average_latency"} 1.0' in body

    source.latency = 20.0
    tick(collector, clock, int(engine.CLEAR) - 2)
    assert collector.get_active_alerts()  # back inside, not yet for the clear hold
    tick(collector, clock, 5)
    assert not collector.get_active_alerts()
    assert kinds(collector, "Back to normal") == [("resolved", "info")]
    episode = collector.insight.anomalies_of("network", ["average_latency"], 0)[0]
    assert episode.end is not None and episode.end - episode.start >= 10


def test_a_limit_forecast_within_the_horizon_is_an_alert(rig):
    collector, source, clock = rig
    collector.insight.horizon = 7200.0

    def fill():
        source.disk += 0.01  # 0.6 % a minute: from 40 % it is full within the two hours

    tick(collector, clock, 700, every=fill)  # a forecast needs 10 minutes of one straight line
    forecast = collector.insight.forecast_of("system", "disk_percent")
    truth = (100 - source.disk) / 0.01
    assert forecast.eta == pytest.approx(truth, rel=0.05)
    assert forecast.text.startswith("disk full in ") and "(at the current rate over the last" in forecast.text
    alerts = [a for a in collector.get_active_alerts() if a["key"] == "forecast:system:disk_percent"]
    assert alerts and alerts[0]["message"].startswith("Forecast: disk full in ")
    assert kinds(collector, "Forecast: disk full in") == [("forecast", "warning")]

    source.disk = source.disk  # the growth stops: the forecast goes, and its alert resolves
    tick(collector, clock, 400)
    assert collector.insight.forecast_of("system", "disk_percent").eta is None
    assert not [a for a in collector.get_active_alerts() if a["key"].startswith("forecast:")]


def test_capacity_growth_per_day(rig):
    collector, source, clock = rig

    def fill():
        source.disk += 0.001

    tick(collector, clock, 300, every=fill)
    assert collector.insight.capacity["Disk"].per_day == pytest.approx(86.4, rel=0.05)
    reads = []  # one refit reads each series once (its long and its recent read), for all its fields
    real = collector.history_columns
    collector.history_columns = lambda series, minutes, **options: (
        reads.append(series) or real(series, minutes, **options)
    )
    collector.insight.update_forecasts(clock.now)
    assert reads.count("system") == 2  # the forecast's disk and the panel's disk and memory: one long, one recent read
    assert max(reads.count(series) for series in reads) == 2
    forecast = collector.insight.forecasts[("system", "disk_percent")]
    assert collector.insight.capacity["Disk"] is forecast.trend  # the same fit, not a second one


def test_a_preloaded_baseline_is_judged_against_at_once(rig):
    """A restart learns from stored history (and the benchmark's --quick from a recorded
    baseline) through Insight.preload: values are judged from the first tick, no learning wait."""
    collector, source, clock = rig
    tick(collector, clock, 400)  # a history of healthy values
    earlier = {"network": collector.history("network", 60, max_points=600)}  # the clock is 50 min back
    collector.insight = Insight(collector, learn_seconds=300, threaded=False, warm_start=False)
    assert collector.insight.preload(earlier)
    assert not collector.insight.preload({"nothing": earlier["network"]})  # unknown series: nothing learnt
    collector.insight.learn(clock.now)
    assert collector.insight.learning() is None
    source.latency = 80.0
    tick(collector, clock, 20)
    assert ("anomaly", "warning") in kinds(collector, "Unusual average_latency")
