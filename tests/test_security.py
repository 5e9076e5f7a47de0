"""Who may change what (issue 9): writes, Host names, origins and unsafe paths.

The ASGI app is driven directly where the test must pose as a client on another machine
(a loopback test cannot), and through real ``streamlit run`` servers otherwise.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import requests
from streamlit.testing.v1 import AppTest

from prsm_monitor.api import build_app
from prsm_monitor.api.guard import HostPolicy, host_name, is_loopback, path_problem
from prsm_monitor.core import shared
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import Field
from prsm_monitor.settings.model import Settings
from prsm_monitor.ui.text import escape_markdown

from .conftest import wait_until
from .fixtures.server import StreamlitServer

TOKEN = "security-token-0123456789abcdef"
REMOTE = ("203.0.113.7", 40000)  # a documentation address: a client on another machine
LOCAL = ("127.0.0.1", 40000)
CHANGE = {"thresholds": {"cpu": {"warning": 70}}}


def call(app, method, path, headers=None, body=b"", client=LOCAL):
    """One request straight into the ASGI app: (status, headers, JSON or text body)."""
    headers = {"host": "127.0.0.1:8501", **{k.lower(): v for k, v in (headers or {}).items()}}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": client,
        "server": ("127.0.0.1", 8501),
    }
    sent, messages = [], [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    data = b"".join(m.get("body", b"") for m in sent[1:])
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    content = json.loads(data) if response_headers.get("content-type", "").startswith("application/json") else data
    return start["status"], response_headers, content


def post(app, body=CHANGE, **kwargs):
    headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
    return call(app, "POST", "/api/settings", headers, json.dumps(body).encode(), **kwargs)


@pytest.fixture(scope="module")
def collector():
    collector = MetricsCollector(settings=Settings(demo=False))
    collector.collect_once()
    yield collector
    collector.close()


def test_without_a_token_only_this_machine_may_write_and_anyone_may_read(collector):
    app = build_app(Settings(), collector)
    status, _, body = post(app, client=REMOTE)
    assert status == 403 and body["error"] == "forbidden" and "PRSM_API_TOKEN" in body["message"]
    assert collector.rules["cpu"].warning == 80  # issue 9: the write API was open to the LAN
    assert call(app, "GET", "/api/settings", client=REMOTE)[0] == 200
    assert call(app, "GET", "/api/metrics", client=REMOTE)[0] == 200
    status, _, body = post(app, client=("::ffff:127.0.0.1", 1))
    assert status == 200 and body["thresholds"]["cpu"]["warning"] == 70
    assert post(app, {"thresholds": {"cpu": {"warning": 80}}})[0] == 200


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_a_write_a_proxy_forwarded_is_not_local(collector, header):
    status, _, body = post(build_app(Settings(), collector), headers={header: "198.51.100.4"})
    assert status == 403 and "forwarded" in body["message"]


def test_with_a_token_writes_need_it_from_anywhere(collector):
    app = build_app(Settings(api_token=TOKEN), collector)
    assert post(app)[0] == 401  # loopback too
    assert post(app, client=REMOTE)[0] == 401
    status, _, body = post(app, headers={"authorization": f"Bearer {TOKEN}"}, client=REMOTE)
    assert status == 200 and body["thresholds"]["cpu"]["warning"] == 70
    post(app, {"thresholds": {"cpu": {"warning": 80}}}, headers={"authorization": f"Bearer {TOKEN}"})


def test_the_dashboard_password_alone_does_not_guard_the_api(collector):
    """What the README's Security section says: the password gates the pages, not the API."""
    app = build_app(Settings(dashboard_password="hunter2-password"), collector)
    assert call(app, "GET", "/api/settings", client=REMOTE)[0] == 200  # reads stay open
    assert post(app, client=REMOTE)[0] == 403  # writes are local-only, as without a password


@pytest.mark.parametrize(
    "origins, origin, allowed",
    [
        ((), "http://127.0.0.1:8501", True),  # the dashboard's own origin
        ((), "https://evil.example", False),
        ((), "null", False),
        (("*",), "https://evil.example", False),  # issue 9: a page on any origin changed thresholds
        (("*", "https://grafana.example"), "https://grafana.example", False),
        (("https://grafana.example",), "https://grafana.example", True),
        (("https://grafana.example",), "https://grafana.example:8443", False),
    ],
)
def test_cross_origin_writes(collector, origins, origin, allowed):
    app = build_app(Settings(cors_origins=origins), collector)
    status, _, body = post(app, headers={"origin": origin})
    assert status == (200 if allowed else 403), body
    if not allowed:
        assert "origin" in body["message"]


def test_cors_star_preflight_never_allows_a_post(collector):
    app = build_app(Settings(cors_origins=("*",)), collector)
    headers = {"origin": "https://evil.example", "access-control-request-method": "POST"}
    status, response_headers, body = call(app, "OPTIONS", "/api/settings", headers)
    assert status == 400 and "POST" not in response_headers.get("access-control-allow-methods", "")
    assert body["error"] == "cors_refused" and "method" in body["message"]
    headers["access-control-request-method"] = "GET"
    status, response_headers, _ = call(app, "OPTIONS", "/api/settings", headers)
    assert status == 200 and response_headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "host, allowed",
    [
        ("127.0.0.1:8501", True),
        ("[::1]:8501", True),
        ("192.168.1.20", True),  # an address: DNS rebinding needs a name
        ("localhost:8501", True),
        ("app.localhost", True),
        ("monitor.example.com:8501", True),  # PRSM_DASHBOARD_HOST
        ("grafana.internal", True),  # PRSM_ALLOWED_HOSTS, a suffix pattern
        ("a.grafana.internal.", True),
        ("attacker.example:8501", False),  # issue 9: any Host was accepted
        ("evilgrafana.internal", False),
        ("monitor.example.com.attacker.example", False),
    ],
)
def test_host_names_are_checked_on_every_api_path(collector, host, allowed):
    settings = Settings(host="monitor.example.com", allowed_hosts=(".grafana.internal",))
    app = build_app(settings, collector)
    for method, path in (("GET", "/api/metrics"), ("GET", "/health"), ("GET", "/metrics"), ("POST", "/api/settings")):
        status, _, body = call(app, method, path, {"host": host})
        if allowed:
            assert status != 400, (path, body)
        else:
            assert status == 400 and body["error"] == "bad_host" and body["parameter"] == "Host", (path, body)


def test_a_star_in_allowed_hosts_accepts_any_name():
    assert HostPolicy((), ("*",)).allows("anything.example")
    assert not HostPolicy((), ()).allows("anything.example")
    assert host_name("[::1]:80") == "::1" and host_name("Example.COM.:8080") == "example.com"


@pytest.mark.parametrize(
    "path",
    ["/api/x\x00y", "/api/..", "/api/../metrics", "/health/..", "/metrics/./x", "/api//", "/metrics\x00", "/a\\b"],
)
def test_unsafe_paths_are_json_400s_and_other_paths_json_404s(collector, path):
    app = build_app(Settings(), collector)
    status, headers, body = call(app, "GET", path)
    if path.startswith(("/api", "/health", "/metrics")):
        assert status == 400 and body["error"] == "bad_path" and headers["content-type"] == "application/json"
    assert path_problem(path)


def test_paths_under_health_and_metrics_are_json_404s(collector):
    app = build_app(Settings(), collector)
    for path in ("/health/x", "/metrics/x", "/api/nope"):
        status, _, body = call(app, "GET", path)
        assert status == 404 and body["error"] == "not_found"


def test_loopback_addresses():
    assert is_loopback(("127.0.0.1", 1)) and is_loopback(("127.8.8.8", 1)) and is_loopback(("::1", 1))
    assert is_loopback(("::ffff:127.0.0.1", 1)) and is_loopback(None)
    assert not is_loopback(("10.0.0.1", 1)) and not is_loopback(("testclient", 1))


# -- a real server ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def star_server():
    server = StreamlitServer(env={"PRSM_CORS_ORIGINS": "*", "PRSM_ALLOWED_HOSTS": "monitor.example"}).wait()
    yield server
    server.stop()


def test_on_a_real_server_writes_hosts_and_cors_star(star_server):
    url = star_server.url + "/api/settings"
    json_headers = {"Content-Type": "application/json"}
    ok = requests.post(url, json={"thresholds": {"disk": {"warning": 91}}}, timeout=10)
    assert ok.status_code == 200 and ok.json()["thresholds"]["disk"]["warning"] == 91
    cross = requests.post(url, data=json.dumps(CHANGE), headers={**json_headers, "Origin": "https://x.example"})
    assert cross.status_code == 403 and cross.json()["error"] == "forbidden"
    rebound = requests.get(star_server.url + "/api/metrics", headers={"Host": "attacker.example"}, timeout=10)
    assert rebound.status_code == 400 and rebound.json()["error"] == "bad_host"
    named = requests.get(star_server.url + "/api/metrics", headers={"Host": "monitor.example:8501"}, timeout=10)
    assert named.status_code == 200
    forwarded = requests.post(url, json=CHANGE, headers={"X-Forwarded-For": "198.51.100.4"}, timeout=10)
    assert forwarded.status_code == 403
    assert requests.get(url, timeout=10).json()["thresholds"]["cpu"]["warning"] == 80  # no write got through


@pytest.mark.parametrize(
    "text",
    ["**bold**", "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", ":red[x] :material/home:", "$x$", "a\nb"],
)
def test_escaped_text_has_no_markdown_left(text):
    escaped = escape_markdown(text)
    assert "\n" not in escaped
    unescaped = []
    i = 0
    while i < len(escaped):  # every punctuation character is preceded by a backslash
        if escaped[i] == "\\":
            unescaped.append(escaped[i + 1])
            i += 2
            continue
        assert escaped[i].isalnum() or escaped[i] == " ", (text, escaped, i)
        unescaped.append(escaped[i])
        i += 1
    assert "".join(unescaped) == text.replace("\n", " ")


HOSTILE = ["**bold**", "[x](javascript:alert(1))", ":red[red] $x$"]


@pytest.fixture
def hostile_app(monkeypatch):
    for name, value in {
        "PRSM_DEMO": "true",
        "PRSM_DEMO_NODE_NAMES": ",".join(HOSTILE),
        "PRSM_METRICS_INTERVAL": "0.2",
    }.items():
        monkeypatch.setenv(name, value)
    shared.release_collector()
    yield AppTest.from_file("../streamlit_app.py", default_timeout=30)
    shared.release_collector()


def test_node_names_reach_markdown_only_escaped(hostile_app):
    """Issue 9 item 7: in the fault buttons' labels, the "Injected now" caption and the
    Network page's "<name> is down", **bold** was bold and [x](javascript:...) a link."""
    at = hostile_app
    at.switch_page("pages/2_Network.py")
    at.run()
    node = at.sidebar.selectbox(key="faults_node").value
    assert node in HOSTILE
    assert at.sidebar.button(key="faults_stop").label == f"Stop {escape_markdown(node)}"
    assert at.sidebar.button(key="faults_delay_apply").label == f"Set delay on {escape_markdown(node)}"
    at.sidebar.button(key="faults_stop").click()
    at.run()
    assert at.sidebar.button(key="faults_start").label == f"Start {escape_markdown(node)}"
    assert f"Injected now: {escape_markdown(node + ' stopped')}" in [c.value for c in at.sidebar.caption]
    at.selectbox(key="network_node").set_value(node)
    wait_until(lambda: at.run() and any(e.value.startswith(f"{escape_markdown(node)} is down") for e in at.error))
    assert not at.exception


class HostileFailure:
    """A source whose error message is Markdown: a failing source's text comes from outside."""

    components = ("network",)
    fields = {"network": (Field("timestamp", "s", "gauge", "time of the reading"),)}

    def collect(self):
        raise RuntimeError(HOSTILE[1] + " " + HOSTILE[0])


def test_a_source_error_reaches_markdown_only_escaped(monkeypatch):
    """The "source failed" box showed the exception text as Markdown: a node or peer that
    controls the text of an error could draw a link in the dashboard."""
    monkeypatch.setenv("PRSM_DEMO", "false")
    monkeypatch.setenv("PRSM_METRICS_INTERVAL", "0.2")
    shared.release_collector()
    at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    at.switch_page("pages/2_Network.py")
    at.run()
    shared.current_collector().add_source(HostileFailure())
    message = f"HostileFailure failed: RuntimeError: {HOSTILE[1]} {HOSTILE[0]}"
    expected = f"The network source failed on the last tick: {escape_markdown(message)}"
    try:
        wait_until(lambda: at.run() and any(e.value.startswith(expected) for e in at.error))
        assert not at.exception
    finally:
        shared.release_collector()
