"""The dashboard's own socket, its pages' errors and the API's audit log (issue 22, items 4, 7, 11).

- A websocket to ``/_stcore/stream`` whose Host is a name the monitor does not answer to
  (DNS rebinding) is refused, as the API refuses it; the same server's own names pass.
- An uncaught page error shows viewers its type only, never the message or traceback.
- Acknowledging again changes and logs nothing; a flood of changes never evicts the alert
  events; the log names a token only when one was verified.
- Every method the API does not know (TRACE, lower-case ones) gets a JSON 405.
"""

from __future__ import annotations

import http.client as httpclient
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import websocket
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from prsm_monitor.api import build_app
from prsm_monitor.api.guard import HostPolicy
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings

from .fixtures.server import InProcessServer, StreamlitServer

ROOT = Path(__file__).resolve().parents[1]
REBIND = "rebind.attacker.example"
TOKEN = "hardening-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server():
    srv = StreamlitServer(env={"PRSM_ALLOWED_HOSTS": ".corp.example"}).wait()
    yield srv
    srv.stop()


def open_socket(server, host: str, origin: str | None = None):
    """A websocket to the dashboard's own stream with this Host (and Origin); closed at once."""
    parts = urlsplit(server.url)
    ws = websocket.create_connection(
        f"ws://{parts.netloc}/_stcore/stream",
        host=host,
        origin=origin or f"http://{host}",
        timeout=10,
    )
    ws.close()


# -- item 4: DNS rebinding on the dashboard's socket ------------------------------------------
def test_a_socket_with_a_foreign_host_is_refused(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_socket(server, REBIND)
    assert refused.value.status_code == 403
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_socket(server, f"{REBIND}:{urlsplit(server.url).port}", origin="http://localhost")
    assert any("disallowed Origin or Host" in line and REBIND in line for line in server.lines)
    api = requests.get(server.url + "/api/settings", headers={"Host": REBIND}, timeout=10)
    assert api.status_code == 400 and api.json()["error"] == "bad_host"  # the API, the same answer


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "dash.corp.example", "corp.example"])
def test_the_monitors_own_names_open_the_socket(server, host):
    port = urlsplit(server.url).port
    open_socket(server, f"{host}:{port}")  # no exception: accepted


def test_streamlit_hosts_follow_the_api_policy():
    policy = HostPolicy(["monitor.lan", "0.0.0.0"], [".corp.example", "edge.example"])
    hosts = policy.streamlit_hosts(["127.0.0.1", "192.0.2.10"])
    assert set(hosts) == {
        "localhost",
        "*.localhost",
        "monitor.lan",
        "corp.example",
        "*.corp.example",
        "edge.example",
        "127.0.0.1",
        "192.0.2.10",
    }
    assert HostPolicy([], ["*"]).streamlit_hosts(["127.0.0.1"]) == ["*"]


# -- item 11: an uncaught page error -----------------------------------------------------------
def test_an_uncaught_page_error_shows_no_message_nor_traceback():
    configured = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]["showErrorDetails"]
    before = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", configured)
    try:
        at = AppTest.from_string('raise ValueError("secret at /srv/prsm/app.py: Unknown format code")').run()
    finally:
        st_config.set_option("client.showErrorDetails", before)
    (shown,) = at.exception
    assert "/srv/prsm" not in shown.message and "Unknown format" not in shown.message
    assert not shown.stack_trace


# -- item 11: JSON for every method ------------------------------------------------------------
@pytest.mark.parametrize("method", ["TRACE", "get", "post", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("path", ["/api/metrics", "/health", "/metrics", "/api/alerts/7/ack", "/api/nowhere"])
def test_any_unknown_method_is_a_json_405(server, method, path):
    parts = urlsplit(server.url)
    connection = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, headers={"Content-Length": "0"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 405, body
    assert response.getheader("content-type").startswith("application/json")
    assert b'"error":"method_not_allowed"' in body and "GET" in response.getheader("allow")


# -- item 7: the audit log ---------------------------------------------------------------------
@pytest.fixture
def alerting():
    """A collector with one active critical alert, its log kept short so a flood shows."""
    collector = MetricsCollector(settings=Settings(demo=False), sources=[])
    collector.add_alert_rule(lambda metrics: collector.create_alert("critical", "system", "Disk on fire", {}))
    collector.collect_once()
    collector.log.resize(100)
    yield collector
    collector.close()


def alert_events(collector):
    return [e for e in collector.get_alerts() if e["kind"] != "changed"]


def test_repeated_acknowledgements_log_one_event(alerting):
    (alert,) = alerting.get_active_alerts()
    with InProcessServer(build_app(Settings(demo=False), alerting)) as srv, requests.Session() as http:
        answers = [
            http.post(f"{srv.url}/api/alerts/{alert['id']}/ack", json={"by": "dave"}, timeout=10) for _ in range(300)
        ]
    assert [a.status_code for a in answers] == [200] * 300
    assert answers[0].json()["already_acknowledged"] is False
    assert all(a.json()["already_acknowledged"] and a.json()["message"] == "already acknowledged" for a in answers[1:])
    acks = [e for e in alerting.get_alerts() if e["details"].get("setting") == "acknowledge"]
    assert len(acks) == 1 and acks[0]["details"]["actor"] == "dave (API, this machine)"
    (still,) = alerting.get_active_alerts()
    assert still["acknowledged_at"] == answers[0].json()["alert"]["acknowledged_at"]  # the first one stays
    assert [e["kind"] for e in alert_events(alerting)] == ["fired"]


def test_a_flood_of_changes_never_evicts_the_fired_event(alerting):
    fired = alert_events(alerting)
    with InProcessServer(build_app(Settings(demo=False), alerting)) as srv, requests.Session() as http:
        for i in range(250):  # 2.5 times the log's length
            body = {"thresholds": {"cpu": {"warning": 60 + i % 20, "critical": 95}}}
            assert http.post(f"{srv.url}/api/settings", json=body, timeout=10).status_code == 200
        listed = http.get(f"{srv.url}/api/alerts", timeout=10).json()["alerts"]
    assert alert_events(alerting) == fired
    assert fired[0]["id"] in [e["id"] for e in listed]
    assert sum(e["kind"] == "changed" for e in alerting.get_alerts()) == 100  # changes evict changes only


def test_the_log_names_a_token_only_when_one_was_verified(alerting):
    (alert,) = alerting.get_active_alerts()
    made_up = {"Authorization": "Bearer made-up-token"}
    with InProcessServer(build_app(Settings(demo=False), alerting)) as srv:  # no token configured
        answer = requests.post(f"{srv.url}/api/alerts/{alert['id']}/ack", headers=made_up, timeout=10)
        assert answer.json()["alert"]["acknowledged_by"] == "API client (API, this machine)"
        body = {"thresholds": {"cpu": {"warning": 61}}}
        requests.post(f"{srv.url}/api/settings", json=body, headers=made_up, timeout=10).raise_for_status()
    assert "(API, token)" not in str(alerting.get_alerts())
    with InProcessServer(build_app(Settings(demo=False, api_token=TOKEN), alerting)) as srv:
        good = {"Authorization": f"Bearer {TOKEN}"}
        requests.post(
            f"{srv.url}/api/settings", json={"thresholds": {"cpu": {"warning": 62}}}, headers=good, timeout=10
        )
    assert alerting.get_alerts()[-1]["details"]["actor"] == "API client (API, token)"
