"""/health against the API served by uvicorn in this process, where the test can stop or stall
the collector itself; the process-wide collector of prsm_monitor.core.shared is the one served."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from prsm_monitor.api import build_app, health_report, stall_seconds
from prsm_monitor.core import shared
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.settings.model import Settings

from .conftest import wait_until
from .fixtures.server import ROOT, InProcessServer, StreamlitServer

TOKEN = "health-token-0123456789abcdef"


@pytest.fixture
def shared_collector():
    shared.release_collector()
    collector = shared.get_collector(Settings(demo=False, interval=0.1))
    yield collector
    shared.release_collector()


def test_health_is_503_when_the_shared_collector_stops(shared_collector):
    with InProcessServer(build_app(Settings())) as server:
        wait_until(lambda: requests.get(server.url + "/health", timeout=5).json()["status"] == "healthy")
        shared_collector.stop()
        response = requests.get(server.url + "/health", timeout=5)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy" and body["collector"]["running"] is False
        assert "not running" in body["problems"][0]
        # HEAD works for curl -I style checks too
        assert requests.head(server.url + "/health", timeout=5).status_code == 503


class Stalling:
    """A source whose collect() blocks while ``gate`` is clear: a hung tick."""

    components = ("network",)
    fields = {"network": (TIMESTAMP, Field("total_nodes", "1", GAUGE, "nodes"))}

    def __init__(self):
        self.gate = threading.Event()
        self.gate.set()

    def collect(self):
        self.gate.wait(30)
        return {"network": {"timestamp": time.time(), "total_nodes": 3}}


def test_health_is_503_when_the_collector_stalls():
    source = Stalling()
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.1), sources=[source])
    collector.start()
    try:
        with InProcessServer(build_app(Settings(), collector)) as server:
            wait_until(lambda: requests.get(server.url + "/health", timeout=5).status_code == 200)
            source.gate.clear()  # the next tick hangs; the thread is alive but no tick completes
            (response,) = wait_until(  # (a 503 Response is falsy: wrap it)
                lambda: (r := requests.get(server.url + "/health", timeout=5)).status_code == 503 and (r,),
                timeout=stall_seconds(0.1) + 5,
            )
            body = response.json()
            assert body["collector"]["running"] is True
            assert body["collector"]["last_tick_age_seconds"] > stall_seconds(0.1)
            assert "not ticked" in body["problems"][0]
            source.gate.set()
            wait_until(lambda: requests.get(server.url + "/health", timeout=5).status_code == 200)
    finally:
        source.gate.set()
        collector.close()


def test_strict_health_is_503_while_a_critical_alert_fires():
    collector = MetricsCollector(settings=Settings(demo=False))
    try:
        collector.configure(thresholds={"memory": (0.0, 0.01)})
        collector.start()
        wait_until(lambda: collector.get_active_alerts())
        with InProcessServer(build_app(Settings(), collector)) as server:
            plain = requests.get(server.url + "/health", timeout=5)
            strict = requests.get(server.url + "/health?strict=true", timeout=5)
        assert plain.status_code == 200 and plain.json()["status"] == "degraded"
        assert plain.json()["memory_ok"] is False and plain.json()["active_alerts"]["critical"] >= 1
        assert strict.status_code == 503 and strict.json()["strict"] is True
    finally:
        collector.close()


def test_health_auth_protects_health_when_asked():
    collector = MetricsCollector(settings=Settings(demo=False))
    collector.start()
    try:
        with (
            InProcessServer(build_app(Settings(api_token=TOKEN, health_auth=True), collector)) as closed,
            InProcessServer(build_app(Settings(api_token=TOKEN), collector)) as open_,
        ):
            assert requests.get(closed.url + "/health", timeout=5).status_code == 401
            headers = {"Authorization": f"Bearer {TOKEN}"}
            assert requests.get(closed.url + "/health", headers=headers, timeout=5).status_code == 200
            assert requests.get(open_.url + "/health", timeout=5).status_code == 200
            assert requests.get(open_.url + "/api/metrics", timeout=5).status_code == 401
    finally:
        collector.close()


def test_report_before_the_first_tick_is_starting_and_after_a_stop_unhealthy():
    source = Stalling()
    source.gate.clear()  # the first tick hangs: running, but no tick yet
    fresh = MetricsCollector(settings=Settings(demo=False), sources=[source])
    fresh.start()
    try:
        status, body = health_report(fresh, time.time())
        assert (status, body["status"]) == (200, "starting") and body["network_ok"] is None
    finally:
        source.gate.set()
        fresh.close()
    stopped = MetricsCollector(settings=Settings(demo=False))
    stopped.collect_once()
    status, body = health_report(stopped, time.time())
    assert (status, body["status"]) == (503, "unhealthy") and body["cpu_ok"] is True
    stopped.close()


def test_a_stopped_collector_is_never_replaced_by_an_api_call(shared_collector):
    """Issue 9: after the thread died, the next /api/metrics silently created a new collector
    (history, alerts and tuned thresholds gone)."""
    shared_collector.configure(thresholds={"cpu": (70, 90)})
    with InProcessServer(build_app(Settings())) as server:
        wait_until(lambda: requests.get(server.url + "/api/metrics", timeout=5).json()["collector"])
        shared_collector.stop()
        before = requests.get(server.url + "/api/metrics", timeout=5).json()["collector"]["ticks_total"]
        for path in ("/api/metrics", "/api/settings", "/metrics", "/api/historical/system", "/health"):
            assert requests.get(server.url + path, timeout=5).status_code in (200, 503)
        assert shared.current_collector() is shared_collector and shared.get_collector() is shared_collector
        body = requests.get(server.url + "/api/metrics", timeout=5).json()
        assert body["collector"]["ticks_total"] == before  # the same counters, not a fresh collector's
        assert requests.get(server.url + "/api/settings", timeout=5).json()["thresholds"]["cpu"]["warning"] == 70
        health = requests.get(server.url + "/health", timeout=5).json()
        assert health["collector"]["created_at"] == shared_collector.created_at


class Slow:
    """A source whose collect() takes ``delay`` seconds: ticks longer than the interval."""

    components = ("network",)
    fields = {"network": (TIMESTAMP, Field("total_nodes", "1", GAUGE, "nodes"))}

    def __init__(self, delay):
        self.delay = delay

    def collect(self):
        time.sleep(self.delay)  # the slow work itself, not synchronisation
        return {"network": {"timestamp": time.time(), "total_nodes": 3}}


def test_health_degrades_when_missed_ticks_grow():
    """Issue 8: at 1,600 ticks/s with 84k missed ticks, /health still said healthy."""
    source = Slow(0.0)
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.1), sources=[source])
    collector.start()
    try:
        with InProcessServer(build_app(Settings(), collector)) as server:
            wait_until(lambda: requests.get(server.url + "/health", timeout=5).json()["status"] == "healthy")
            source.delay = 0.35  # each tick now skips about three slots
            (response,) = wait_until(
                lambda: (r := requests.get(server.url + "/health", timeout=5)).status_code == 503 and (r,)
            )
            body = response.json()
            assert body["status"] == "degraded" and body["collector"]["running"] is True
            assert "skipped" in body["problems"][0] and "longer than the 0.1 s interval" in body["problems"][0]
            source.delay = 0.0
    finally:
        collector.close()


def test_a_bad_setting_makes_every_api_path_a_json_503_naming_it():
    """Issue 8: with PRSM_CPU_THRESHOLD=abc, /health, /api/metrics and /metrics answered
    200 with the dashboard's HTML, so `curl -fsS /health` said healthy."""
    server = StreamlitServer(ROOT / "streamlit_app.py", env={"PRSM_CPU_THRESHOLD": "abc"}).wait()
    try:
        paths = (("GET", "/health"), ("GET", "/api/metrics"), ("GET", "/metrics"), ("POST", "/api/x"))
        for method, path in (*paths, ("GET", "/socket.io/?EIO=4&transport=polling")):
            response = requests.request(method, server.url + path, timeout=10)
            assert response.status_code == 503, (path, response.text[:200])
            assert response.headers["content-type"].startswith("application/json")
            body = response.json()
            assert body["error"] == "configuration_error" and body["setting"] == "PRSM_CPU_THRESHOLD"
            assert body["value"] == "abc" and "PRSM_CPU_THRESHOLD='abc'" in body["message"]
        assert requests.get(server.url + "/", timeout=10).status_code == 200  # the page shows the error
    finally:
        server.stop()
