"""The HTTP API against a real ``streamlit run`` server (the st.App wiring of streamlit_app.py)."""

from __future__ import annotations

import csv
import http.client as httpclient
import io
import json
import math
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from prsm_monitor.settings.thresholds import default_thresholds
from prsm_monitor.sources.system import InterfaceCounters

from .conftest import wait_until
from .fixtures.server import StreamlitServer

INTERVAL = 0.2


@pytest.fixture(scope="module")
def server():
    srv = StreamlitServer(env={"PRSM_METRICS_INTERVAL": str(INTERVAL)}).wait()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def get(http, server, path, **params):
    return http.get(server.url + path, params=params, timeout=10)


def assert_error(response, status, parameter=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and body["error"] and body["message"]
    if parameter is not None:
        assert body["parameter"] == parameter and body["expected"]
    return body


# -- shapes -----------------------------------------------------------------------------------
def test_metrics_has_the_reference_shape(http, server):
    wait_until(lambda: get(http, server, "/api/metrics").json()["system"])
    body = get(http, server, "/api/metrics").json()
    assert {"system", "network", "ai", "alerts", "collector", "active_alerts", "errors"} <= set(body)
    for name in (
        "timestamp",
        "cpu_percent",
        "memory_percent",
        "memory_used_gb",
        "memory_total_gb",
        "disk_percent",
        "network_sent_mb",
        "network_recv_mb",
        "active_connections",
    ):
        assert name in body["system"]
    assert body["network"] is None and body["ai"] is None  # PRSM_DEMO=false: no invented numbers
    assert isinstance(body["alerts"], list) and len(body["alerts"]) <= 10


def test_historical_json_csv_alias_and_downsampling(http, server):
    wait_until(lambda: get(http, server, "/api/historical/system", minutes=5).json()["count"] >= 4)
    body = get(http, server, "/api/historical/system", minutes=5).json()
    assert body["component"] == "system" and body["minutes"] == 5
    assert body["count"] == len(body["data"]) >= 4
    assert body["fields"]["cpu_percent"]["unit"] == "%"
    row = body["data"][-1]
    assert {"timestamp", "cpu_percent", "memory_percent"} <= set(row)
    assert row["timestamp"] > time.time() - 300
    assert get(http, server, "/api/historical/system", duration=5).json()["minutes"] == 5
    assert get(http, server, "/api/historical/system").json()["minutes"] == 60
    small = get(http, server, "/api/historical/collector", points=2).json()
    assert small["points"] == 2 and small["count"] <= 2
    text = get(http, server, "/api/historical/system", minutes=5, format="csv")
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert rows and "cpu_percent" in rows[0]
    assert get(http, server, "/api/historical/network").json()["data"] == []  # no source: empty, not invented


def test_alerts_filters(http, server):
    body = get(http, server, "/api/alerts").json()
    assert set(body) == {"alerts", "active", "count"} and body["count"] == len(body["alerts"])
    since = time.time() + 3600
    assert get(http, server, "/api/alerts", since=since).json()["alerts"] == []
    for params in ({"level": "info"}, {"component": "system"}, {"active": "true"}, {"limit": 1}):
        response = get(http, server, "/api/alerts", **params)
        assert response.status_code == 200, response.text
    only_info = get(http, server, "/api/alerts", level="info").json()["alerts"]
    assert all(a["level"] == "info" for a in only_info)


def test_health_shape(http, server):
    response = get(http, server, "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in ("healthy", "degraded")
    assert {"cpu_ok", "memory_ok", "network_ok"} <= set(body)
    assert body["network_ok"] is None  # no network source
    collector = body["collector"]
    assert collector["running"] is True and collector["interval_seconds"] == INTERVAL
    assert 0 <= collector["last_tick_age_seconds"] < collector["stalled_after_seconds"]
    missed, later = collector["missed_ticks_total"], get(http, server, "/api/metrics").json()["collector"]
    assert missed == int(missed) and missed <= later["missed_ticks_total"]  # the collector's own counter, read after
    assert set(body["active_alerts"]) == {"info", "warning", "error", "critical"}
    assert get(http, server, "/health", strict="true").status_code in (200, 503)


def test_index_lists_endpoints(http, server):
    assert "GET /api/metrics" in get(http, server, "/api").json()["endpoints"]


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, params, parameter",
    [
        ("/api/historical/system", {"minutes": "abc"}, "minutes"),
        ("/api/historical/system", {"minutes": "-5"}, "minutes"),
        ("/api/historical/system", {"minutes": "0"}, "minutes"),
        ("/api/historical/system", {"minutes": "nan"}, "minutes"),
        ("/api/historical/system", {"minutes": "inf"}, "minutes"),
        ("/api/historical/system", {"minutes": "1e30"}, "minutes"),
        ("/api/historical/system", {"duration": "-1"}, "duration"),
        ("/api/historical/system", {"minutes": "5", "duration": "5"}, "duration"),
        ("/api/historical/system", {"points": "1"}, "points"),
        ("/api/historical/system", {"points": "2.5"}, "points"),
        ("/api/historical/system", {"points": "1e9"}, "points"),
        ("/api/historical/system", {"format": "xml"}, "format"),
        ("/api/historical/system", {"minute": "5"}, "minute"),
        ("/api/alerts", {"level": "panic"}, "level"),
        ("/api/alerts", {"component": "disk"}, "component"),
        ("/api/alerts", {"since": "yesterday"}, "since"),
        ("/api/alerts", {"since": "-1"}, "since"),
        ("/api/alerts", {"active": "maybe"}, "active"),
        ("/api/alerts", {"limit": "0"}, "limit"),
        ("/health", {"strict": "sometimes"}, "strict"),
    ],
)
def test_bad_parameters_are_400_json(http, server, path, params, parameter):
    body = assert_error(get(http, server, path, **params), 400, parameter)
    if parameter in params:
        assert body["value"] == params[parameter]


def test_unknown_component_is_404_json(http, server):
    body = assert_error(get(http, server, "/api/historical/disk"), 404, "component")
    assert body["value"] == "disk" and "system" in body["expected"]


@pytest.mark.parametrize("path", ["/api/nope", "/api/", "/api/metrics/extra", "/api/historical"])
def test_unknown_api_paths_are_404_json(http, server, path):
    body = assert_error(get(http, server, path), 404)
    assert "GET /api/metrics" in body["endpoints"]


def test_dashboard_paths_still_serve_the_page(http, server):
    response = get(http, server, "/")
    assert response.status_code == 200 and "<html" in response.text.lower()
    assert get(http, server, "/_stcore/health").text == "ok"


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NUMBERISH = st.one_of(
    TEXT,
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    endpoint=st.sampled_from(["/api/historical/system", "/api/alerts", "/health", "/api/metrics", "/metrics"]),
    params=st.dictionaries(
        st.sampled_from(["minutes", "points", "duration", "since", "level", "active", "format", "strict", "x"]),
        NUMBERISH,
        max_size=3,
    ),
)
def test_any_query_is_answered_without_500(http, server, endpoint, params):
    response = get(http, server, endpoint, **params)
    assert response.status_code in (200, 400), (params, response.text)
    if response.status_code == 400 or endpoint != "/metrics":
        body = response.json()  # always JSON, also for errors
        if response.status_code == 400:
            assert body["status"] == 400 and body["message"]


# -- Prometheus -------------------------------------------------------------------------------
def test_metrics_exposition_parses_and_has_the_documented_names(http, server):
    wait_until(lambda: "prsm_system_cpu_percent" in get(http, server, "/metrics").text)
    response = get(http, server, "/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    for name, kind in [
        ("prsm_system_cpu_percent", "gauge"),
        ("prsm_system_memory_percent", "gauge"),
        ("prsm_system_memory_used_bytes", "gauge"),
        ("prsm_system_memory_total_bytes", "gauge"),
        ("prsm_system_disk_percent", "gauge"),
        ("prsm_system_network_sent_bytes", "counter"),
        ("prsm_system_network_recv_bytes", "counter"),
        ("prsm_system_active_connections", "gauge"),
        ("prsm_system_cpu_core_percent", "gauge"),
        ("prsm_collector_tick_duration_seconds", "gauge"),
        ("prsm_collector_ticks", "counter"),
        ("prsm_collector_missed_ticks", "counter"),
        ("prsm_collector_up", "gauge"),
        ("prsm_active_alerts", "gauge"),
    ]:
        assert name in families, name
        assert families[name].type == kind and families[name].documentation
    for family in families.values():
        assert family.documentation, family.name
        for sample in family.samples:
            assert not math.isnan(sample.value)
    sent = families["prsm_system_network_sent_bytes"].samples[0]
    assert sent.name == "prsm_system_network_sent_bytes_total"
    since_boot = InterfaceCounters().read()[0]  # read after the tick: the counter only grows
    assert -1 <= since_boot - sent.value < 10 * 1024**2  # loopback (the test's own HTTP) not counted
    cores = {s.labels["core"] for s in families["prsm_system_cpu_core_percent"].samples}
    assert cores and all(c.isdigit() for c in cores)
    alerts = {(s.labels["level"], s.labels["component"]) for s in families["prsm_active_alerts"].samples}
    assert ("critical", "system") in alerts and ("warning", "ai") in alerts
    assert families["prsm_collector_up"].samples[0].value == 1


def test_metrics_speaks_openmetrics_when_asked(http, server):
    response = http.get(server.url + "/metrics", headers={"Accept": "application/openmetrics-text"}, timeout=10)
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


# -- settings and the event stream ------------------------------------------------------------
def post_settings(http, server, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return http.post(server.url + "/api/settings", data=data, headers={"Content-Type": content_type}, timeout=10)


def test_settings_read_and_reject_bad_bodies(http, server):
    body = get(http, server, "/api/settings").json()
    assert body["collection_interval"] == INTERVAL and body["thresholds"]["cpu"]["warning"] == 80
    assert_error(post_settings(http, server, {"thresholds": {"cpu": {"warning": 99, "critical": 90}}}), 400)
    assert_error(post_settings(http, server, {"thresholds": {"cpu": {"warning": 500}}}), 400)
    assert_error(post_settings(http, server, {"thresholds": {"gpu": [1, 2]}}), 400, "thresholds")
    assert_error(post_settings(http, server, {"thresholds": {"cpu": [1, 2, 3]}}), 400, "thresholds.cpu")
    assert_error(post_settings(http, server, {"thresholds": {"cpu": {"warning": "high"}}}), 400)
    assert_error(post_settings(http, server, {"collection_interval": 0}), 400, "collection_interval")
    assert_error(post_settings(http, server, {"collection_interval": True}), 400, "collection_interval")
    assert_error(post_settings(http, server, {"max_history": 10**12}), 400, "max_history")
    assert_error(post_settings(http, server, {"colour": "red"}), 400, "colour")
    assert_error(post_settings(http, server, [1, 2]), 400, "body")
    assert_error(post_settings(http, server, "{not json"), 400)
    assert_error(post_settings(http, server, '{"collection_interval": NaN}'), 400)
    assert_error(post_settings(http, server, '{"collection_interval": 1}', "text/plain"), 415)
    assert get(http, server, "/api/settings").json()["thresholds"]["cpu"]["warning"] == 80  # nothing changed


@pytest.mark.parametrize(
    "body, parameter",
    [
        ('{"collection_interval": 1e-320}', "collection_interval"),  # issue 9: the thread died
        ('{"collection_interval": 1e-310}', "collection_interval"),  # every tick failed
        ('{"collection_interval": 1e-6}', "collection_interval"),  # a busy loop
        ('{"thresholds": {"latency": {"critical": 1e999}}}', "thresholds.latency.critical"),  # every page broke
        ('{"thresholds": {"cpu": {"warning": 1' + "0" * 400 + "}}}", "thresholds.cpu.warning"),  # OverflowError
        ('{"max_history": 1000000}', "max_history"),  # 149 -> 690 MB
        ("[" * 30_000, None),  # RecursionError
    ],
)
def test_the_issues_settings_attacks_are_400s_and_change_nothing(http, server, body, parameter):
    before = get(http, server, "/health").json()["collector"]
    error = assert_error(post_settings(http, server, body), 400, parameter)
    assert "\n" not in error["message"]
    settings = get(http, server, "/api/settings").json()
    assert settings["collection_interval"] == INTERVAL and settings["thresholds"]["latency"]["critical"] == 500
    after = get(http, server, "/health").json()["collector"]
    assert after["created_at"] == before["created_at"] and after["ticks_total"] >= before["ticks_total"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/health", "/metrics", "/api", "/api/metrics", "/api/stream", "/api/historical/ai"])
def test_every_wrong_method_is_a_json_405(http, server, method, path):
    response = http.request(method, server.url + path, timeout=10)
    assert_error(response, 405)
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "target", ["/api/%2F", "/api/historical/%2F", "/api/..", "/api/%2e%2e/metrics", "/api/%00", "/metrics%00"]
)
def test_encoded_slashes_dots_and_nul_are_json_400s(server, target):
    host, port = server.url.removeprefix("http://").split(":")
    connection = httpclient.HTTPConnection(host, int(port), timeout=10)  # sends the target as given
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        assert response.status == 400 and response.getheader("content-type") == "application/json"
        assert json.loads(response.read())["error"] == "bad_path"
    finally:
        connection.close()


class Events:
    """SSE frames of one streaming response, parsed as they arrive."""

    def __init__(self, response):
        self.lines = response.iter_lines(decode_unicode=True)
        self.seen: list[dict] = []

    def read(self, until, timeout=10.0) -> list[dict]:
        """Read until ``until(events read by this call)`` holds; fail after ``timeout``."""
        events, current = [], {}
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if line == "":
                if "event" in current:
                    events.append({**current, "data": json.loads(current["data"])})
                    self.seen.append(events[-1])
                    if until(events):
                        return events
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(": ")
                current[key] = value
            if time.monotonic() > deadline:
                break
        raise AssertionError(f"stream ended or timed out with {[e['event'] for e in events]}")


def test_stream_sends_metrics_updates_each_tick(server):
    with requests.get(server.url + "/api/stream", stream=True, timeout=5) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        started = time.monotonic()
        events = Events(response).read(lambda ev: sum(e["event"] == "metrics_update" for e in ev) >= 3)
        # the first is the current snapshot; two more arrive within two ticks of each other
        updates = [e for e in events if e["event"] == "metrics_update"]
        assert {"system", "network", "ai", "alerts"} <= set(updates[-1]["data"])
        assert updates[-1]["data"]["system"]["timestamp"] > updates[1]["data"]["system"]["timestamp"]
        assert time.monotonic() - started < 10


def test_stream_sends_an_alert_after_a_threshold_is_lowered(http, server):
    defaults = default_thresholds()["memory"]
    with requests.get(server.url + "/api/stream", stream=True, timeout=5) as response:
        stream = Events(response)
        stream.read(lambda ev: len(ev) >= 1)  # connected
        try:
            changed = post_settings(http, server, {"thresholds": {"memory": {"warning": 0, "critical": 0.01}}})
            assert changed.status_code == 200, changed.text
            assert changed.json()["thresholds"]["memory"]["critical"] == 0.01
            events = stream.read(
                lambda ev: any(e["event"] == "alert" and e["data"]["kind"] == "fired" for e in ev),
            )
        finally:
            post_settings(http, server, {"thresholds": {"memory": [defaults.warning, defaults.critical]}})
    alerts = [e for e in events if e["event"] == "alert"]
    fired = next(e for e in alerts if e["data"]["kind"] == "fired")
    assert fired["data"]["level"] == "critical" and fired["data"]["component"] == "system"
    assert fired["data"]["details"]["rule"] == "memory"
    assert int(fired["id"]) == fired["data"]["id"]
    assert any(e["data"]["kind"] == "changed" for e in alerts)  # the settings change itself
    # the alert is also visible through /api/alerts, and resolves once the threshold is back
    assert get(http, server, "/api/alerts", level="critical", component="system").json()["count"] >= 1
    wait_until(lambda: get(http, server, "/api/alerts", active="true", level="critical").json()["alerts"] == [])


def test_stream_replays_missed_alerts_from_last_event_id(http, server):
    before = get(http, server, "/api/alerts").json()["alerts"]
    last_id = before[-1]["id"] if before else 0
    for pair in ([80, 96], [80, 95]):  # two settings changes: two events the client has not seen
        assert post_settings(http, server, {"thresholds": {"cpu": pair}}).status_code == 200
    headers = {"Last-Event-ID": str(last_id)}
    with requests.get(server.url + "/api/stream", stream=True, timeout=5, headers=headers) as response:
        events = Events(response).read(lambda ev: sum(e["event"] == "alert" for e in ev) >= 2)
    assert events[0]["event"] == "metrics_update"
    replayed = [e["data"] for e in events if e["event"] == "alert"]
    assert all(e["id"] > last_id for e in replayed) and replayed[0]["kind"] == "changed"
