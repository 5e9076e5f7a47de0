"""``kill -9`` mid-run, then a restart: history, the alert log, acknowledgements and tuned
thresholds are back, with at most the last batch (about a second) lost."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from prsm_monitor import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.system import SystemSource
from prsm_monitor.store.rowlog import RowLog

from .conftest import wait_until
from .fixtures.server import StreamlitServer

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1.0  # seconds between the writer's commits
SLACK = 1.5  # the writer thread scheduled late on a busy 2-core test machine

# A collector run the way an operator would tune it: memory threshold lowered (so the memory
# alert fires), the alert acknowledged; then it prints one JSON line per tick until killed.
CHILD = """
import json, sys, threading
from prsm_monitor import MetricsCollector
c = MetricsCollector()
c.configure(thresholds={"memory": (1, 100)})
c.collect_once()
alert = next(a for a in c.get_active_alerts() if a["key"] == "rule:memory")
c.acknowledge(alert["id"])
class Tick:
    def process(self, metrics):
        print(json.dumps({"ts": metrics["system"]["timestamp"], "alert": alert["id"]}), flush=True)
c.add_plugin(Tick())
c.start()
threading.Event().wait()
"""


def env_for(data_dir) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PRSM_PERSIST": "true",
        "PRSM_DATA_DIR": str(data_dir),
        "PRSM_DEMO": "false",
        "PRSM_METRICS_INTERVAL": "0.1",
    }


def saved(data_dir, key):
    """A value the writer committed, read as another program would (None until it is there)."""
    try:
        conn = sqlite3.connect(f"file:{data_dir / 'history.db'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else json.loads(row[0])


def test_sigkill_loses_at_most_the_last_batch(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env_for(tmp_path), stdout=subprocess.PIPE)
    try:
        lines = []

        def acknowledged_on_disk():
            active = saved(tmp_path, "alerts.active") or []
            return any(a["key"] == "rule:memory" and a["acknowledged"] for a in active)

        wait_until(acknowledged_on_disk, timeout=30)
        while len(lines) < 30:  # three seconds more of ticks
            lines.append(json.loads(child.stdout.readline()))
        last = lines[-1]["ts"]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()

    settings = Settings.from_env(env_for(tmp_path))
    with MetricsCollector(settings=settings, sources=[SystemSource()]) as collector:
        frame = collector.store.query("system", last - 3600, None)
        assert last - frame["timestamp"].max() <= BATCH + SLACK  # at most the last batch lost
        assert frame["timestamp"].is_monotonic_increasing and frame["timestamp"].is_unique
        assert (collector.rules["memory"].warning, collector.rules["memory"].critical) == (1, 100)
        events = collector.get_alerts()
        assert [e["kind"] for e in events][:2] == ["changed", "fired"]
        (memory,) = [a for a in collector.get_active_alerts() if a["key"] == "rule:memory"]
        assert memory["id"] == lines[-1]["alert"] and memory["acknowledged"] is True
        collector.collect_once()  # memory is still above 1 %: re-derived, not fired again
        assert collector.get_alerts() == events
        assert [a for a in collector.get_active_alerts() if a["key"] == "rule:memory"][0]["acknowledged"]


def test_the_app_collects_from_its_start_and_keeps_its_history_across_a_sigkill(tmp_path):
    env = {"PRSM_PERSIST": "true", "PRSM_DATA_DIR": str(tmp_path), "PRSM_METRICS_INTERVAL": "0.2"}
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env)
    try:
        # no page view and no API call: rows reach the disk because collection began at the import
        wait_until(lambda: (saved(tmp_path, "schema") is not None) and _raw_rows(tmp_path) >= 5, timeout=60)
        server.wait()
        body = {"thresholds": {"cpu": {"warning": 42, "critical": 99}}}
        assert requests.post(server.url + "/api/settings", json=body, timeout=10).status_code == 200
        wait_until(lambda: (saved(tmp_path, "settings") or {}).get("thresholds", {}).get("cpu") == [42, 99])
        before = requests.get(server.url + "/api/historical/system?minutes=10", timeout=10).json()["data"]
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(10)
    finally:
        server.stop()
    started = time.monotonic()
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env)
    try:
        server.wait()
        wait_until(lambda: requests.get(server.url + "/health", timeout=5).status_code == 200, timeout=30)
        print(f"restart to first /health 200: {time.monotonic() - started:.2f} s")
        settings = requests.get(server.url + "/api/settings", timeout=10).json()
        assert settings["thresholds"]["cpu"]["warning"] == 42
        after = requests.get(server.url + "/api/historical/system?minutes=10", timeout=10).json()["data"]
        assert after[0] == before[0]  # the first run's points are back, from its very first
        assert len(after) >= len(before) - (BATCH + SLACK) / 0.2
    finally:
        server.stop()


def _raw_rows(data_dir) -> int:
    """Raw rows on disk, read as another program would: in closed chunks and in the row log."""
    logged = len(RowLog(data_dir / "history.db-recent").read())
    try:
        conn = sqlite3.connect(f"file:{data_dir / 'history.db'}?mode=ro", uri=True)
        try:
            return logged + (conn.execute("SELECT sum(rows) FROM chunks WHERE tier=0").fetchone()[0] or 0)
        finally:
            conn.close()
    except sqlite3.Error:
        return logged
