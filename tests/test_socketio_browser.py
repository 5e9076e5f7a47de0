"""The real Socket.IO JavaScript client (npm ``socket.io-client``, pinned in tests/js) in
Debian's Chromium, against ``streamlit run streamlit_app.py``: the guide's client unchanged."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from .fixtures.server import ROOT, StreamlitServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CLIENT = ROOT / "tests" / "js" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
if (CHROMIUM is None or not CLIENT.is_file()) and not os.environ.get("CI"):
    pytest.skip("needs Chromium and tests/js's socket.io-client (test.sh installs both)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

TOKEN = "browser-socket-io-token-42"
# The guide's client: io('http://host:port'), then metrics_update and alert handlers.
GUIDE_CLIENT = """([url, options]) => {
  window.seen = {metrics: 0, alerts: [], errors: []};
  const socket = io(url, options);
  socket.on('metrics_update', (data) => { window.seen.metrics += 1; window.seen.last = data; });
  socket.on('alert', (alert) => { window.seen.alerts.push(alert); });
  socket.on('connect_error', (error) => { window.seen.errors.push({message: error.message, data: error.data}); });
  window.socket = socket;
}"""


@pytest.fixture(scope="module")
def server():
    env = {"PRSM_DEMO": "false", "PRSM_METRICS_INTERVAL": "0.3", "PRSM_API_TOKEN": TOKEN}
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env).wait(timeout=60)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.goto(server + "/_stcore/health")  # any page of the dashboard's origin
        page.add_script_tag(content=CLIENT.read_text())
        yield page
        browser.close()


def test_the_javascript_client_gets_metrics_and_an_alert_after_a_threshold_change(server, page):
    page.evaluate(GUIDE_CLIENT, [server, {"auth": {"token": TOKEN}}])
    page.wait_for_function(
        "window.seen.metrics >= 2 && window.socket.io.engine.transport.name === 'websocket'", timeout=20_000
    )
    assert page.evaluate("window.seen.last.system.memory_percent") > 0
    assert page.evaluate("Object.keys(window.seen.last).sort()")[:3] == ["active_alerts", "ai", "alerts"]
    body = {"thresholds": {"memory": {"warning": 0, "critical": 0}}}
    response = requests.post(
        server + "/api/settings", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert response.status_code == 200, response.text
    page.wait_for_function("window.seen.alerts.some(a => a.level === 'critical')", timeout=20_000)
    alert = page.evaluate("window.seen.alerts.find(a => a.level === 'critical')")
    assert alert["component"] == "system" and alert["message"].startswith("Memory usage")
    page.evaluate("window.socket.disconnect()")


def test_the_javascript_client_is_refused_without_the_token(server, page):
    page.evaluate(GUIDE_CLIENT, [server, {"reconnection": False}])
    page.wait_for_function("window.seen.errors.length > 0", timeout=20_000)
    error = page.evaluate("window.seen.errors[0]")
    assert error["data"]["error"] == "unauthorized" and "API token" in error["message"]
    assert page.evaluate("window.seen.metrics") == 0
