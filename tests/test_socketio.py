"""Socket.IO at /socket.io/ with python-socketio's own client: events, the token, the Host."""

import json
from pathlib import Path

import pytest
import requests
import socketio
from starlette.applications import Starlette

from prsm_monitor.api import Api, FixedCollector, middleware, socketio_middleware
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings

from .conftest import wait_until
from .fixtures.server import InProcessServer
from .test_store_anonymize import SECRETS, NamedNetwork

TOKEN = "socket-io-test-token-0123456789"


class Served:
    """A collector and the API with Socket.IO, served by uvicorn on a free port."""

    def __init__(self, settings: Settings, sources=None):
        self.collector = MetricsCollector(settings=settings, sources=sources)
        self.api = Api(FixedCollector(self.collector))
        app = Starlette(
            routes=self.api.routes, middleware=[*middleware(settings), socketio_middleware(self.api, settings)]
        )
        self.server = InProcessServer(app).__enter__()
        self.url = self.server.url
        self.collector.start()

    def close(self):
        self.server.__exit__(None, None, None)
        self.collector.close()


@pytest.fixture(scope="module")
def open_server():
    served = Served(Settings(demo=False, interval=0.2))
    yield served
    served.close()


@pytest.fixture(scope="module")
def token_server():
    served = Served(Settings(demo=False, interval=0.2, api_token=TOKEN))
    yield served
    served.close()


class Listener:
    """A python-socketio client that keeps what it receives."""

    def __init__(self, served: Served):
        self.served = served
        self.client = socketio.Client(reconnection=False)
        self.metrics: list[dict] = []
        self.alerts: list[dict] = []
        self.client.on("metrics_update", lambda data: self.metrics.append(data))
        self.client.on("alert", lambda data: self.alerts.append(data))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.client.disconnect()


def lower_memory_thresholds(url, headers=None):
    body = {"thresholds": {"memory": {"warning": 0, "critical": 0}}}
    response = requests.post(url + "/api/settings", json=body, headers=headers, timeout=5)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_client_gets_metrics_each_tick_and_an_alert_after_a_threshold_change(open_server, transport):
    with Listener(open_server) as listener:
        listener.client.connect(open_server.url, transports=[transport])
        wait_until(lambda: len(listener.metrics) >= 2)
        update = listener.metrics[-1]
        assert {"system", "network", "ai", "alerts", "active_alerts"} <= set(update)
        assert update["system"]["memory_percent"] > 0
        lower_memory_thresholds(open_server.url)
        alert = wait_until(lambda: next((a for a in listener.alerts if a["level"] == "critical"), None))
        assert alert["component"] == "system" and alert["message"].startswith("Memory usage")
        assert {"id", "timestamp", "kind", "details"} <= set(alert)
    open_server.collector.configure(thresholds={"memory": (85, 95)})


def test_the_hub_feeds_socket_io_only_while_a_client_is_connected(open_server):
    hub = open_server.api.hub
    with Listener(open_server) as listener:
        listener.client.connect(open_server.url, transports=["websocket"])
        wait_until(lambda: listener.metrics)
        assert hub.attached is open_server.collector
    wait_until(lambda: hub.attached is None)
    assert open_server.api.socketio.clients == 0


def refusal(url, **options) -> dict:
    """What the server said when it refused a connection (the client's ``connect_error``)."""
    client = socketio.Client(reconnection=False)
    said = []
    client.on("connect_error", lambda data: said.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, wait_timeout=10, **options)
    client.disconnect()
    return said[0]["data"] if said else {}


def test_a_wrong_or_missing_token_is_refused_and_the_right_one_accepted(token_server):
    for auth in ({"token": "wrong-token-wrong-token"}, None):
        said = refusal(token_server.url, transports=["websocket"], auth=auth)
        assert said["error"] == "unauthorized" and "API token" in said["message"]
    with Listener(token_server) as listener:
        listener.client.connect(token_server.url, transports=["websocket"], auth={"token": TOKEN})
        wait_until(lambda: listener.metrics)
    with Listener(token_server) as listener:  # the header, as non-browser clients send it
        listener.client.connect(token_server.url, transports=["polling"], headers={"Authorization": f"Bearer {TOKEN}"})
        wait_until(lambda: listener.metrics)


def test_an_unknown_host_name_is_refused(open_server):
    said = refusal(open_server.url, transports=["polling"], headers={"Host": "rebound.example"})
    assert said["error"] == "bad_host" and "PRSM_ALLOWED_HOSTS" in said["message"]


def test_a_page_on_another_origin_is_refused_unless_listed(open_server):
    handshake = open_server.url + "/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": "https://evil.example"}, timeout=5).status_code == 400
    own = requests.get(handshake, headers={"Origin": open_server.url}, timeout=5)
    assert own.status_code == 200 and own.text.startswith("0{")


def test_the_client_script_is_served_where_a_page_of_the_dashboard_loads_it(open_server):
    vendored = (Path(__file__).resolve().parents[1] / "prsm_monitor/api/static/socket.io.min.js").read_bytes()
    script = requests.get(open_server.url + "/socket.io/socket.io.js", timeout=5)
    assert script.status_code == 200 and script.content == vendored
    assert script.content.startswith(b"/*!\n * Socket.IO v4.8.4\n") and b".io=" in script.content[:400]  # window.io
    assert script.headers["content-type"].startswith("application/javascript")
    assert "max-age=604800" in script.headers["cache-control"]
    again = requests.get(
        open_server.url + "/socket.io/socket.io.js", headers={"If-None-Match": script.headers["etag"]}, timeout=5
    )
    assert again.status_code == 304 and again.content == b""
    npm = Path(__file__).resolve().parent / "js/node_modules/socket.io-client/dist/socket.io.min.js"
    if npm.exists():  # after npm ci --prefix tests/js: the vendored file is the pinned package's, unchanged
        assert npm.read_bytes() == vendored


def test_with_prsm_anonymize_the_events_name_no_node_model_or_address():
    served = Served(Settings(demo=False, interval=0.2, anonymize=True), sources=[NamedNetwork()])
    try:
        with Listener(served) as listener:
            listener.client.connect(served.url, transports=["websocket"])
            wait_until(lambda: listener.metrics)
            text = json.dumps(listener.metrics[-1])  # its active_alerts: "Node edge-node-7 at 10.1.2.3 is slow"
        assert "Node node-" in text and not any(name in text for name in SECRETS)
    finally:
        served.close()
