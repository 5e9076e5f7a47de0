"""What keeps the monitor light at rest (issue #26): /health answers while the collector is
still being created and reads a per-version cache; ``import prsm_monitor`` does not load the
demo network, the fleet poller or the instance source; the history ring is bounded by time;
the entry file's front answers /health before the API loads; work at rest never imports pandas."""

from __future__ import annotations

import subprocess
import sys
import threading

import requests
from starlette.applications import Starlette

from prsm_monitor.api.front import Front
from prsm_monitor.api.providers import FixedCollector
from prsm_monitor.api.routes import Api
from prsm_monitor.api.wiring import middleware
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.insight import engine
from prsm_monitor.settings.model import Settings
from prsm_monitor.store import HistoryStore

from .conftest import wait_until
from .fixtures.server import ROOT, InProcessServer
from .test_insight_engine import rig  # noqa: F401 - rig is a fixture


class GatedProvider:
    """Creates a real collector only once ``gate`` is set: a slow start-up (demo network)."""

    def __init__(self):
        self.gate = threading.Event()
        self.collector: MetricsCollector | None = None
        self._lock = threading.Lock()

    def current(self) -> MetricsCollector | None:
        return self.collector

    def get(self) -> MetricsCollector:
        with self._lock:
            if self.collector is None:
                assert self.gate.wait(30), "the test never opened the gate"
                collector = MetricsCollector(settings=Settings(demo=False, interval=0.1, data_dir=None))
                collector.collect_once()
                collector.start()
                self.collector = collector
            return self.collector


def test_health_says_starting_while_the_collector_is_created_then_healthy():
    provider = GatedProvider()
    app = Starlette(routes=Api(provider).routes, middleware=middleware(Settings()))
    try:
        with InProcessServer(app) as server:
            first = requests.get(server.url + "/health", timeout=5)
            assert first.status_code == 200 and first.json()["status"] == "starting"
            assert first.json()["collector"]["running"] is None
            provider.gate.set()
            wait_until(lambda: requests.get(server.url + "/health", timeout=5).json()["status"] == "healthy")
    finally:
        provider.gate.set()
        if provider.collector is not None:
            provider.collector.close()


def test_health_reads_the_per_version_cache():
    collector = MetricsCollector(settings=Settings(demo=False, data_dir=None))
    try:
        collector.collect_once()  # no thread: the version moves only when the test ticks
        api = Api(FixedCollector(collector))
        app = Starlette(routes=api.routes, middleware=middleware(Settings()))
        with InProcessServer(app) as server:
            requests.get(server.url + "/health", timeout=5)
            facts = api.health.facts.cached(collector)
            assert facts is not None
            second = requests.get(server.url + "/health", timeout=5).json()
            assert api.health.facts.cached(collector) is facts  # not recomputed within a version
            assert second["collector"]["ticks_total"] == facts["record"]["ticks_total"]
            collector.collect_once()
            third = requests.get(server.url + "/health", timeout=5).json()
            assert api.health.facts.cached(collector) is not facts
            assert third["collector"]["ticks_total"] == second["collector"]["ticks_total"] + 1
    finally:
        collector.close()


def test_import_does_not_load_the_demo_network_or_the_fleet():
    code = (
        "import sys, prsm_monitor\n"
        "heavy = ('prsm_monitor.demo.network', 'prsm_monitor.fleet', 'prsm_monitor.fleet.instance_source',"
        " 'prsm_monitor.guide')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
        "prsm_monitor.DemoNetwork, prsm_monitor.PRSMMonitoringDashboard\n"
        "print('prsm_monitor.demo.network' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "True"]


def ticks(collector, clock, count: int) -> None:
    for _ in range(count):
        clock.now += 1
        collector.collect_once()


def test_learning_works_in_proportion_to_new_samples(rig):  # noqa: F811 - the insight engine's rig
    collector, _source, clock = rig
    insight = collector.insight
    ticks(collector, clock, 400)
    assert insight.learn_what_changed(clock.now)  # first wake-up: bands and forecasts
    assert not insight.learn_what_changed(clock.now + 1)  # nothing new: nothing learnt
    needed = max(1, int(engine.RELEARN_SHARE * insight.method.ring.filled) + 1)
    ticks(collector, clock, needed - 1)
    bands_before = insight.method.band
    insight.learn_what_changed(clock.now)
    assert insight.method.band is bands_before  # too few new samples for the bands
    ticks(collector, clock, 1)
    assert insight.learn_what_changed(clock.now)
    assert insight.method.band is not bands_before


def test_the_ring_holds_a_time_span_when_older_rows_are_on_disk():
    store = HistoryStore(100_000)
    store.declare("system", ["timestamp", "cpu_percent"])
    for t in range(300):  # append_row (the disk writer's path) across a growth of the arrays
        _, row = store.append_row("system", {"timestamp": 1000.0 + t, "cpu_percent": float(t)})
        assert row[1] == t
    grown = store.allocated_bytes()["system"]
    assert grown < 100_000 * 2 * 8 / 10  # memory follows the rows held, not the capacity
    store.keep_for(60.0)
    for t in range(300, 5000):
        store.append("system", {"timestamp": 1000.0 + t, "cpu_percent": float(t)})
    assert store.allocated_bytes()["system"] == grown  # it spanned 60 s already: it wraps
    frame = store.query("system")
    assert frame["timestamp"].iloc[-1] == 5999.0 and frame["timestamp"].iloc[0] <= 5999.0 - 60
    assert (frame["timestamp"].diff().dropna() == 1.0).all()  # oldest first, nothing lost inside
    held = store.count("system")
    assert held < 5000
    store.keep_for(None)  # no disk: up to the capacity again
    for t in range(5000, 9000):
        store.append("system", {"timestamp": 1000.0 + t, "cpu_percent": float(t)})
    assert store.count("system") == held + 4000


def test_the_entry_file_imports_only_the_light_front():
    # what streamlit_app.py imports before the port opens: no collector, NumPy, pandas or Socket.IO
    code = (
        "import sys, streamlit\n"
        "import prsm_monitor.address, prsm_monitor.api.front\n"
        "heavy = ('numpy', 'pandas', 'pyarrow', 'socketio', 'prsm_monitor.core', 'prsm_monitor.api.routes')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_health_says_starting_before_the_api_loads_and_other_paths_wait_for_it():
    collector = MetricsCollector(settings=Settings(demo=False, data_dir=None))
    try:
        collector.collect_once()
        front = Front(Settings(), provider=FixedCollector(collector))
        app = Starlette(routes=front.routes(), middleware=front.middleware())  # no lifespan: loads on a wait
        with InProcessServer(app) as server:
            early = requests.get(server.url + "/health", timeout=5)
            assert early.status_code == 200 and early.json()["status"] == "starting"
            assert requests.get(server.url + "/health?strict=maybe", timeout=5).status_code == 400
            assert not front.loaded.is_set()  # /health did not wait for the load
            metrics = requests.get(server.url + "/api/metrics", timeout=30)  # waits for the load
            assert metrics.status_code == 200 and front.loaded.is_set()
            assert "system" in metrics.json()
            late = requests.get(server.url + "/health", timeout=5).json()
            assert late["collector"]["ticks_total"] == 1  # the API's own /health now
            assert requests.get(server.url + "/socket.io/socket.io.min.js", timeout=5).status_code == 200
    finally:
        collector.close()


def test_work_at_rest_never_imports_pandas(tmp_path):
    # ticks with history on disk, the insight engine's learning (bands, forecasts, warm start) and
    # /health: none of it builds a DataFrame; a page's frame then does
    code = (
        "import sys, time\n"
        "from prsm_monitor.core.collector import MetricsCollector\n"
        "from prsm_monitor.health import health_report\n"
        "from prsm_monitor.settings.model import Settings\n"
        f"c = MetricsCollector(settings=Settings(demo=False, data_dir={str(tmp_path)!r}))\n"
        "for _ in range(5): c.collect_once()\n"
        "learnt = c.insight.learn_what_changed(time.time())\n"
        "health_report(c, time.time())\n"
        "c.close()\n"
        f"c = MetricsCollector(settings=Settings(demo=False, data_dir={str(tmp_path)!r}))\n"
        "c.collect_once()\n"
        "print('pandas' in sys.modules, 'pyarrow' in sys.modules, learnt)\n"
        "print(len(c.history('system')) > 0, 'pandas' in sys.modules)\n"
        "c.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["False False True", "True True"]
