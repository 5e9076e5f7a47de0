import asyncio
import threading
import time

import pytest

from prsm_monitor import MetricsCollector
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.health import health_report
from prsm_monitor.settings.limits import history_ceiling
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.values import ConfigError
from prsm_monitor.sources.system import SystemSource

from .conftest import wait_until

REFERENCE_SYSTEM = {
    "timestamp": float,
    "cpu_percent": float,
    "memory_percent": float,
    "memory_used_gb": float,
    "memory_total_gb": float,
    "disk_percent": float,
    "network_sent_mb": float,
    "network_recv_mb": float,
    "active_connections": int,
}


class Scripted:
    """A source whose next value the test sets; it raises while ``failing`` is set."""

    components = ("system",)
    fields = {"system": (TIMESTAMP, Field("cpu_percent", "%", GAUGE, "test value"))}

    def __init__(self, value=10.0, delay=0.0):
        self.value = value
        self.failing = None
        self.delay = delay
        self.calls = 0
        self.times: list[float] = []  # monotonic, one per call

    def collect(self):
        self.calls += 1
        self.times.append(time.monotonic())
        if self.delay:
            time.sleep(self.delay)  # the workload of a slow source, not synchronisation
        if self.failing:
            raise self.failing
        return {"system": {"timestamp": time.time(), "cpu_percent": self.value}}


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def make(no_demo, source=None, **kwargs):
    return MetricsCollector(settings=no_demo, sources=[source or Scripted()], **kwargs)


def collector_threads():
    return [t for t in threading.enumerate() if t.name == "prsm-collector"]


def test_latest_metrics_have_every_reference_field_with_its_type(no_demo):
    now = [1000.0]  # the source's clock: spans of rates, decided by the test, not by the machine's load
    collector = MetricsCollector(settings=no_demo, sources=[SystemSource(clock=lambda: now[0])])
    now[0] += 0.05
    assert collector.collect_once()["system"]["cpu_percent"] is None  # under 0.1 s since the first reading
    now[0] += 1.0
    metrics = collector.collect_once()
    assert metrics["system"]["cpu_percent"] is not None
    assert set(metrics) >= {"system", "network", "ai", "alerts"}
    for name, kind in REFERENCE_SYSTEM.items():
        assert isinstance(metrics["system"][name], kind), name
    assert 0 <= metrics["system"]["cpu_percent"] <= 100
    assert metrics["system"]["memory_used_gb"] < metrics["system"]["memory_total_gb"]
    assert metrics["network"] is None and metrics["ai"] is None  # no source: None, not invented
    assert metrics["alerts"] == []
    assert metrics["collector"]["ticks_total"] >= 2


def test_reads_are_copies(no_demo):
    collector = make(no_demo)
    metrics = collector.collect_once()
    metrics["system"]["cpu_percent"] = -1
    assert collector.get_latest_metrics()["system"]["cpu_percent"] == 10.0


def test_start_twice_runs_one_thread_and_stop_leaves_none(no_demo):
    collector = make(no_demo)
    collector.configure(collection_interval=0.1)
    collector.start()
    collector.start()
    assert len(collector_threads()) == 1
    wait_until(lambda: collector.get_latest_metrics()["collector"])
    collector.stop()
    collector.stop()
    assert collector_threads() == [] and not collector.running
    collector.start()  # and it can start again
    assert len(collector_threads()) == 1
    collector.close()
    assert collector_threads() == []


def test_stop_wakes_the_thread_mid_wait_instead_of_waiting_out_the_interval(no_demo):
    collector = make(no_demo)
    collector.configure(collection_interval=3600)
    collector.start()
    wait_until(lambda: collector.get_latest_metrics()["collector"])  # now waiting an hour for the next tick
    stopper = threading.Thread(target=collector.stop)
    stopper.start()
    stopper.join(timeout=30)  # a deadline, not a measurement: far below the hour it would otherwise wait
    assert not stopper.is_alive()
    assert collector_threads() == []


def test_interval_change_takes_effect_while_running(no_demo):
    source = Scripted()
    collector = make(no_demo, source)
    collector.configure(collection_interval=3600)
    collector.start()
    try:
        wait_until(lambda: source.calls == 1)
        collector.collection_interval = 0.1  # with an hour's interval, no second tick would come
        wait_until(lambda: source.calls >= 5, timeout=5)
        assert collector.collection_interval == 0.1
    finally:
        collector.stop()


def test_a_tick_run_before_start_keeps_the_threads_schedule(no_demo):
    source = Scripted()
    collector = make(no_demo, source)
    collector.configure(collection_interval=0.5)
    collector.collect_once()  # the first page view's tick
    collector.start()
    try:
        wait_until(lambda: source.calls >= 2, timeout=10)
    finally:
        collector.stop()
    first, second = source.times[:2]  # (later ticks keep their slots: one may follow a late one sooner)
    assert second - first >= 0.45  # not a second tick at once, whose rates would span no time


def test_an_overrunning_tick_skips_slots_instead_of_bunching(no_demo):
    source = Scripted(delay=0.35)
    collector = make(no_demo, source)
    collector.configure(collection_interval=0.1)
    collector.start()
    try:
        wait_until(lambda: source.calls >= 3, timeout=5)
    finally:
        collector.stop()
    own = collector.get_latest_metrics()["collector"]
    assert own["missed_ticks_total"] >= 2 * (own["ticks_total"] - 1)  # ~3 slots lost per 0.35 s tick
    assert own["tick_duration_ms"] >= 350


def test_a_raising_source_gives_one_error_and_one_recovery(no_demo):
    source = Scripted()
    collector = make(no_demo, source)
    collector.collect_once()
    source.failing = OSError("sensor unplugged")
    for _ in range(5):
        metrics = collector.collect_once()
    errors = collector.get_alerts(level="error")
    assert len(errors) == 1 and errors[0]["component"] == "system"
    assert "sensor unplugged" in errors[0]["message"]
    assert metrics["errors"] == {"system": errors[0]["message"]}
    assert collector.get_latest_metrics()["collector"]["ticks_total"] == 6  # it kept ticking
    source.failing = None
    collector.collect_once()
    collector.collect_once()
    recovered = [e for e in collector.get_alerts() if e["kind"] == "recovered"]
    assert len(recovered) == 1 and recovered[0]["level"] == "info"
    assert collector.get_active_alerts() == [] and collector.get_latest_metrics()["errors"] == {}


def test_a_source_failing_beside_another_of_the_same_component_stays_one_error(no_demo):
    broken, working = Scripted(), type("Spare", (Scripted,), {})()  # two sources, named for their classes
    broken.failing = OSError("sensor unplugged")
    collector = MetricsCollector(settings=no_demo, sources=[broken, working])
    for _ in range(4):
        collector.collect_once()
    kinds = [e["kind"] for e in collector.get_alerts() if e["details"].get("source")]
    assert kinds == ["error"]  # not an error and a recovery on every tick
    broken.failing = None
    collector.collect_once()
    assert [e["kind"] for e in collector.get_alerts() if e["details"].get("source")] == ["error", "recovered"]


def test_threshold_rule_fires_once_and_threshold_change_applies_next_tick(no_demo):
    clock = FakeClock()
    collector = MetricsCollector(settings=no_demo, sources=[Scripted(value=50.0)], clock=clock)
    collector.collect_once()
    collector.configure(thresholds={"cpu": (40, 90)})
    assert [(e["kind"], e["level"]) for e in collector.get_alerts()] == [("changed", "info")]
    assert collector.rules["cpu"].warning == 40
    collector.collect_once()  # the next tick sees the new threshold: pending for the CPU rule's "for" duration
    assert collector.get_active_alerts() == []
    wait = collector.rules["cpu"].for_seconds
    for _ in range(int(wait) + 20):
        clock.now += 1
        collector.collect_once()
    fired = [e for e in collector.get_alerts() if e["kind"] == "fired"]
    assert len(fired) == 1 and fired[0]["level"] == "warning" and fired[0]["details"]["threshold"] == 40
    assert fired[0]["timestamp"] == 1000.0 + wait  # after the "for" duration, once


def test_bad_settings_change_is_rejected_whole(no_demo):
    collector = make(no_demo)
    with pytest.raises(ConfigError, match="thresholds.cpu.warning"):
        collector.configure(collection_interval=2.0, thresholds={"cpu": (99, 90)})
    assert collector.collection_interval == no_demo.interval  # nothing applied
    with pytest.raises(ConfigError, match="collection_interval"):
        collector.collection_interval = -1
    with pytest.raises(ConfigError, match="thresholds"):
        collector.configure(thresholds={"gpu": (1, 2)})
    with pytest.raises(ConfigError, match="thresholds.cpu"):
        collector.configure(thresholds={"cpu": 90})
    with pytest.raises(ConfigError, match="max_history"):
        MetricsCollector(5, settings=no_demo, sources=[])


@pytest.mark.parametrize("seconds", [1e-320, 1e-310, 1e-6, 0.0, -1, float("inf"), float("nan"), 10**400])
def test_an_interval_that_would_break_the_loop_is_refused_and_the_thread_ticks_on(no_demo, seconds):
    """Issue 9: 1e-320 raised OverflowError outside the loop's try (the thread died), 1e-310
    failed every tick, 1e-6 spun a core; each is now a ConfigError and nothing changes."""
    collector = make(no_demo)
    collector.configure(collection_interval=0.1)
    collector.start()
    try:
        wait_until(lambda: collector.latest("collector"))
        with pytest.raises(ConfigError, match="collection_interval") as info:
            collector.configure(collection_interval=seconds)
        assert "from 0.1 to 3600" in str(info.value)
        with pytest.raises(ConfigError):
            collector.collection_interval = seconds
        ticks = collector.latest("collector")["ticks_total"]
        wait_until(lambda: collector.latest("collector")["ticks_total"] >= ticks + 2)
        assert collector.running and collector.collection_interval == 0.1
    finally:
        collector.close()


def test_history_beyond_the_memory_budget_is_refused(no_demo):
    """Issue 9: {"max_history": 1000000} took the process from 149 to 690 MB."""
    collector = MetricsCollector(settings=no_demo)  # this machine's fields: 8 bytes each per point
    capacity = collector.store.capacity
    assert capacity == 86_400  # 24 h at 1 Hz: the longest range the pages offer
    with pytest.raises(ConfigError, match="max_history") as info:
        collector.configure(max_history=1_000_000)
    assert "PRSM_MEMORY_BUDGET_MB" in str(info.value)
    assert collector.store.capacity == capacity
    collector.close()
    small = MetricsCollector(settings=Settings(demo=False, memory_budget_mb=16), sources=[Scripted()])
    ceiling = history_ceiling(small.point_bytes, 16)
    assert small.store.capacity == min(86_400, ceiling)  # a default that fits whatever the budget
    small.configure(max_history=ceiling)
    with pytest.raises(ConfigError, match=f"from 10 to {ceiling}"):
        small.configure(max_history=ceiling + 1)
    with pytest.raises(ConfigError, match="history"):
        MetricsCollector(settings=Settings(demo=False, memory_budget_mb=16, history=ceiling + 1), sources=[Scripted()])
    env = Settings.from_env({"PRSM_DEMO": "false", "PRSM_MEMORY_BUDGET_MB": "16", "PRSM_METRICS_HISTORY": "10000000"})
    with pytest.raises(ConfigError, match="PRSM_METRICS_HISTORY='10000000'.*PRSM_MEMORY_BUDGET_MB=16"):
        MetricsCollector(settings=env, sources=[Scripted()])  # issue 9: 5.5 GB; named by its variable


class Unstorable(Scripted):
    """Reports a value the history cannot hold while ``bad`` is set: the tick itself fails."""

    bad = True

    def collect(self):
        record = super().collect()
        if self.bad:
            record["system"]["cpu_percent"] = "not a number"
        return record


def test_a_failing_tick_is_one_error_alert_and_the_loop_goes_on(no_demo):
    source = Unstorable()
    collector = make(no_demo, source)
    collector.configure(collection_interval=0.1)
    collector.start()
    try:
        wait_until(lambda: source.calls >= 5)
        assert collector.running
        errors = [e for e in collector.get_alerts(level="error") if e["details"].get("source") == "collector tick"]
        assert len(errors) == 1 and "collector tick failed: ValueError" in errors[0]["message"]
        source.bad = False
        wait_until(lambda: collector.latest("collector"))  # ticks complete again
        wait_until(lambda: any(e["kind"] == "recovered" for e in collector.get_alerts()))
        assert collector.running and not collector.get_active_alerts()
    finally:
        collector.close()


def test_not_even_system_exit_from_a_plugin_ends_the_thread(no_demo):
    source = Scripted()
    collector = make(no_demo, source)
    collector.configure(collection_interval=0.1)

    class Exiting:
        def process(self, metrics):
            raise SystemExit("plugin called sys.exit()")

    collector.add_plugin(Exiting())
    collector.start()
    try:
        wait_until(lambda: source.calls >= 4)  # the loop goes on, though each tick fails at the plugin
        assert collector.running and collector.stopped_by is None
        errors = [e for e in collector.get_alerts(level="error") if "SystemExit" in e["message"]]
        assert len(errors) == 1 and errors[0]["message"].startswith("collector tick failed: SystemExit")
    finally:
        collector.close()


class Fatal(BaseException):
    """Stands for whatever could still end the thread (nothing of ours does)."""


def test_if_the_thread_ends_anyway_it_says_why_and_keeps_its_state(no_demo, monkeypatch):
    collector = make(no_demo)
    collector.configure(collection_interval=0.1)
    collector.start()
    wait_until(lambda: collector.latest("collector"))
    history = len(collector.history("system", None))

    def fatal(next_at):
        raise Fatal("the interpreter is shutting down")

    monkeypatch.setattr(collector.loop, "_cycle", fatal)
    wait_until(lambda: not collector.running)
    assert collector.stopped_by == "Fatal: the interpreter is shutting down"
    assert len(collector.history("system", None)) >= history  # nothing thrown away
    status, body = health_report(collector, time.time())
    assert status == 503 and "thread stopped (Fatal: the interpreter is shutting down)" in body["problems"][0]
    monkeypatch.undo()
    collector.start()  # started again on purpose, the same object goes on
    wait_until(lambda: collector.running and collector.stopped_by is None)
    collector.close()


def test_custom_rule_alert_is_logged_once_while_active_then_resolved(no_demo):
    source = Scripted(value=10.0)
    collector = make(no_demo, source)

    def low_cpu(metrics):
        if metrics["system"]["cpu_percent"] < 20:
            collector.create_alert(
                "warning", "system", "CPU suspiciously idle", {"cpu": metrics["system"]["cpu_percent"]}
            )

    async def async_rule(metrics):  # the asyncio spelling: await collector._create_alert(...)
        if metrics["system"]["cpu_percent"] < 20:
            await collector._create_alert("critical", "system", "Async rule", {})

    collector.add_alert_rule(low_cpu)
    collector.add_alert_rule(async_rule)
    for _ in range(10):
        collector.collect_once()
    fired = [e for e in collector.get_alerts() if e["kind"] == "fired"]
    assert sorted(e["message"] for e in fired) == ["Async rule", "CPU suspiciously idle"]
    assert len(collector.get_active_alerts()) == 2
    source.value = 50.0
    collector.collect_once()
    collector.collect_once()
    assert collector.get_active_alerts() == []
    assert len([e for e in collector.get_alerts() if e["kind"] == "resolved"]) == 2
    collector.close()


def test_plugin_runs_each_tick_and_its_errors_are_isolated(no_demo):
    collector = make(no_demo)
    seen = []

    class Recorder:
        def process(self, metrics):
            seen.append(metrics["system"]["cpu_percent"])

    class Broken:
        def process(self, metrics):
            raise RuntimeError("boom")

    collector.add_plugin(Broken())
    collector.add_plugin(Recorder())
    for _ in range(3):
        collector.collect_once()
    assert seen == [10.0, 10.0, 10.0]
    errors = collector.get_alerts(level="error")
    assert len(errors) == 1 and "plugin Broken failed: RuntimeError: boom" in errors[0]["message"]


def test_create_alert_rejects_unknown_level_and_component(no_demo):
    collector = make(no_demo)
    with pytest.raises(ValueError, match="level='fatal'"):
        collector.create_alert("fatal", "system", "x")
    with pytest.raises(ValueError, match="component='gpu'"):
        collector.create_alert("info", "gpu", "x")


def test_historical_data_and_history_frames(no_demo):
    collector = make(no_demo)
    for value in (1.0, 2.0, 3.0):
        collector.sources[0].value = value
        collector.collect_once()
    records = collector.get_historical_data("system", duration_minutes=5)
    assert [r["cpu_percent"] for r in records] == [1.0, 2.0, 3.0]
    assert collector.get_historical_data("network") == []
    assert list(collector.history("collector")["ticks_total"]) == [1, 2, 3]
    with pytest.raises(ValueError, match="component='gpu'"):
        collector.history("gpu")


def test_history_size_changes_at_run_time(no_demo):
    collector = make(no_demo, max_history=10)
    for _ in range(15):
        collector.collect_once()
    assert len(collector.history("system", None)) == 10
    collector.configure(max_history=20)
    for _ in range(15):
        collector.collect_once()
    assert len(collector.history("system", None)) == 20


def test_async_start_collection_returns_once_running_and_runs_until_stop_collection(no_demo):
    source = Scripted()
    collector = make(no_demo, source)
    collector.configure(collection_interval=0.1)

    async def main():
        await asyncio.wait_for(collector.start_collection(), 5)  # returns: the guide prints next
        assert collector.running and collector.get_latest_metrics()["system"]["cpu_percent"] == 10.0
        while source.calls < 3:
            await asyncio.sleep(0.01)
        collector.stop_collection()
        assert not collector.running

    asyncio.run(main())
    assert collector_threads() == []


def test_the_collection_start_collection_started_ends_with_its_event_loop(no_demo):
    collector = make(no_demo)

    async def main():
        await collector.start_collection()
        assert collector.running

    asyncio.run(main())  # returns: nothing of ours holds the loop's executor
    assert not collector.running and collector_threads() == []
