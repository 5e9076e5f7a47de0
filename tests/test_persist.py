"""What survives a restart (in-process): alert events, acknowledgements, tuned settings,
active alerts re-derived by the first tick rather than logged again."""

import dataclasses
import sqlite3

import pytest
import requests

from prsm_monitor import MetricsCollector
from prsm_monitor.api import build_app
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.thresholds import Threshold
from prsm_monitor.settings.values import ConfigError

from .fixtures.server import InProcessServer

T0 = 1_700_000_000.0


class Dial:
    """A system source whose values the test sets, stamped with the test's clock."""

    components = ("system",)
    fields = {
        "system": (
            TIMESTAMP,
            Field("cpu_percent", "%", GAUGE, "CPU"),
            Field("memory_percent", "%", GAUGE, "memory"),
        )
    }

    def __init__(self, clock):
        self.clock = clock
        self.cpu = 10.0
        self.memory = 10.0

    def collect(self):
        return {"system": {"timestamp": self.clock(), "cpu_percent": self.cpu, "memory_percent": self.memory}}


class Run:
    """One run of a collector on ``data_dir``, ticking on a fake clock."""

    def __init__(self, data_dir, settings: Settings | None = None, start=T0):
        self.now = start
        self.dial = Dial(lambda: self.now)
        settings = settings or Settings(demo=False)
        self.collector = MetricsCollector(
            settings=dataclasses.replace(settings, data_dir=str(data_dir)), sources=[self.dial], clock=lambda: self.now
        )

    def tick(self, n=1):
        for _ in range(n):
            self.collector.collect_once()
            self.now += 1.0
        return self.collector

    def close(self):
        self.collector.close()
        return self.now


def fire_memory_alert(run) -> dict:
    run.collector.configure(thresholds={"memory": (50, 90)}, collection_interval=2.0)
    run.dial.memory = 60.0
    run.tick(3)
    (alert,) = run.collector.get_active_alerts()
    assert run.collector.acknowledge(alert["id"])
    run.tick()
    return alert


def test_events_acknowledgements_and_tuned_settings_survive(tmp_path):
    first = Run(tmp_path)
    alert = fire_memory_alert(first)
    events = first.collector.get_alerts()
    end = first.close()

    second = Run(tmp_path, start=end)
    c = second.collector
    assert c.get_alerts() == events
    assert (c.rules["memory"].warning, c.rules["memory"].critical) == (50, 90)
    assert c.collection_interval == 2.0
    (active,) = c.get_active_alerts()
    assert (active["id"], active["acknowledged"], active["level"]) == (alert["id"], True, "warning")
    second.dial.memory = 60.0
    second.tick(3)  # still above: active, acknowledged, and no new event
    assert c.get_alerts() == events
    assert c.get_active_alerts()[0]["acknowledged"] is True
    second.dial.memory = 10.0
    second.tick()
    resolved = c.get_alerts()[-1]
    assert (resolved["kind"], resolved["alert_id"], resolved["id"]) == ("resolved", alert["id"], events[-1]["id"] + 1)
    assert c.get_active_alerts() == []
    second.close()


def test_an_alert_that_ended_while_down_is_resolved_on_the_first_tick(tmp_path):
    first = Run(tmp_path)
    fire_memory_alert(first)
    end = first.close()
    second = Run(tmp_path, start=end + 3600)
    second.tick()  # memory back at 10
    kinds = [e["kind"] for e in second.collector.get_alerts()]
    assert kinds.count("fired") == 1 and kinds[-1] == "resolved"
    second.close()


def test_history_is_back_after_a_restart(tmp_path):
    first = Run(tmp_path)
    first.tick(120)
    end = first.close()
    second = Run(tmp_path, start=end)
    c = second.collector
    assert c.store.count("system") == 120
    assert c.history_start("system") == T0
    frame = c.store.query("system", T0, None)
    assert frame["timestamp"].tolist() == [T0 + i for i in range(120)]
    second.close()


def test_the_environment_wins_and_the_tuned_value_waits(tmp_path):
    first = Run(tmp_path)
    fire_memory_alert(first)
    first.close()
    env = Settings.from_env({"PRSM_MEMORY_THRESHOLD": "70", "PRSM_METRICS_INTERVAL": "0.5", "PRSM_DEMO": "false"})
    second = Run(tmp_path, settings=env)
    assert second.collector.rules["memory"].warning == 70
    assert second.collector.collection_interval == 0.5
    second.tick()
    second.close()
    third = Run(tmp_path)  # no variable set: the tuned values again
    assert third.collector.rules["memory"].warning == 50
    assert third.collector.collection_interval == 2.0
    third.close()


def test_tuning_back_to_the_default_forgets_the_saved_value(tmp_path):
    first = Run(tmp_path)
    first.collector.configure(thresholds={"cpu": (70, 90)})
    first.tick()
    first.close()
    second = Run(tmp_path)
    assert second.collector.rules["cpu"].warning == 70
    second.collector.configure(thresholds={"cpu": Threshold(80.0, 95.0, "above")})
    second.tick()
    second.close()
    third = Run(tmp_path)
    assert third.collector.rules["cpu"].warning == 80
    third.close()


@pytest.mark.parametrize("persist", [False, True])
def test_memory_only_mode_writes_nothing(tmp_path, persist):
    settings = Settings.from_env({"PRSM_DATA_DIR": str(tmp_path / "h"), "PRSM_PERSIST": str(persist).lower()})
    assert (settings.data_dir is not None) is persist
    assert Settings.from_env({"PRSM_DATA_DIR": ""}).data_dir is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PRSM_RETENTION_RAW", "24"),  # no unit
        ("PRSM_RETENTION_MINUTE", "30 days"),
        ("PRSM_RETENTION_HOUR", "10s"),  # under a minute
        ("PRSM_RETENTION_MAX_MB", "0.5"),
        ("PRSM_PERSIST", "sometimes"),
        ("PRSM_PROMETHEUS_URL", "prometheus:9090"),
        ("PRSM_PROMETHEUS_SELECTOR", "instance=monitor"),
        ("PRSM_ANONYMIZE", "2"),
    ],
)
def test_bad_history_settings_name_the_variable(variable, value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})
    assert str(error.value).startswith(f"{variable}={value!r} is invalid: expected ")


def test_history_settings_are_read_with_units():
    settings = Settings.from_env(
        {"PRSM_RETENTION_RAW": "90m", "PRSM_RETENTION_MINUTE": "7d", "PRSM_RETENTION_HOUR": "1.5d"}
    )
    assert (settings.retention_raw, settings.retention_minute, settings.retention_hour) == (
        5400,
        7 * 86400,
        1.5 * 86400,
    )


def test_disk_use_is_in_the_collector_record_and_in_metrics(tmp_path):
    run = Run(tmp_path)
    run.tick(3)
    assert run.collector.store.writer.flush()
    run.tick()
    disk_mb = run.collector.latest("collector")["store_disk_mb"]
    assert disk_mb == pytest.approx(run.collector.store.writer.db.file_bytes() / 2**20, rel=0.5) and disk_mb > 0
    with InProcessServer(build_app(Settings(demo=False), run.collector)) as app:
        text = requests.get(app.url + "/metrics", timeout=10).text
    (line,) = [x for x in text.splitlines() if x.startswith("prsm_collector_store_disk_bytes ")]
    assert float(line.split()[1]) > 0
    run.close()


def test_unreadable_saved_state_starts_afresh_with_one_alert(tmp_path):
    first = Run(tmp_path)
    first.tick()
    first.close()
    conn = sqlite3.connect(tmp_path / "history.db")
    conn.execute("UPDATE meta SET value='{not json' WHERE key='settings'")
    conn.commit()
    conn.close()
    second = Run(tmp_path)
    (error,) = [e for e in second.collector.get_alerts() if e["kind"] == "error"]
    assert "could not be read" in error["message"]
    second.tick()
    assert second.collector.store.writer.flush()
    assert second.collector.get_alerts()[-1]["kind"] == "recovered"
    second.close()
