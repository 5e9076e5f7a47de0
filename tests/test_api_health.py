"""/health against the API served by uvicorn in this process, where the test can stop or stall
the collector itself; the process-wide collector of prsm_monitor.shared is the one served."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from prsm_monitor import shared
from prsm_monitor.api import build_app, health_report, stall_seconds
from prsm_monitor.collector import MetricsCollector
from prsm_monitor.config import Settings
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field

from .conftest import wait_until
from .fixtures.server import InProcessServer

TOKEN = "health-token-0123456789abcdef"


@pytest.fixture
def shared_collector():
    shared.release_collector()
    collector = shared.get_collector(Settings(demo=False, interval=0.05))
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
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.05), sources=[source])
    collector.start()
    try:
        with InProcessServer(build_app(Settings(), collector)) as server:
            wait_until(lambda: requests.get(server.url + "/health", timeout=5).status_code == 200)
            source.gate.clear()  # the next tick hangs; the thread is alive but no tick completes
            (response,) = wait_until(  # (a 503 Response is falsy: wrap it)
                lambda: (r := requests.get(server.url + "/health", timeout=5)).status_code == 503 and (r,),
                timeout=stall_seconds(0.05) + 5,
            )
            body = response.json()
            assert body["collector"]["running"] is True
            assert body["collector"]["last_tick_age_seconds"] > stall_seconds(0.05)
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
