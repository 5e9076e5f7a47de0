"""The issue's browser test of time travel: a screenshot while a node is stopped, then ?at= of that moment.

A real ``streamlit run`` with the demo network and its history on disk, driven by headless
Chromium. While node-0 is stopped, the Network page (its KPI cards and node table) and the
Alerts page (its active alerts) are read and screenshotted, and the time of the data they
show is taken from ``/api/metrics`` (a read that a collection tick interrupted is done again);
the fault is cleared; then both pages are opened at ``?at=`` that moment and must read the
same. The node table's Received/Sent counters are left out: cumulative counters are not a
series, they come from the snapshot taken up to 15 s before (docs/history.md)."""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect  # noqa: E402  (after test_browser's skip when Chromium is missing)

from .fixtures.server import ROOT, StreamlitServer
from .test_browser import CONNECTED, SCREENSHOTS, ZONE, browser, watched_page  # noqa: F401 - fixture

GRID_ROWS = """e => [...e.querySelectorAll('table[role=grid] tr')].map(r =>
  [...r.querySelectorAll('th, td')].map(c => c.textContent.trim()))"""
CARDS = (
    """() => [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => m.innerText.replace(/\\s+/g, ' '))"""
)
ACTIVE = """() => { const out = []; let on = false;  // the Active section: its heading and messages
  const main = '[data-testid="stMain"]';
  for (const e of document.querySelectorAll(`${main} h3, ${main} [data-testid="stText"]`)) {
    if (e.tagName === 'H3') { on = e.textContent.startsWith('Active ('); if (on) out.push(e.textContent); }
    else if (on) out.push(e.textContent); }
  return out; }"""
pytestmark = pytest.mark.timeout(240)  # a loaded CI runner draws a page in seconds; alone it takes about 40 s
SLOW = 60.0  # seconds between ticks while the pages are read
LEFT_OUT = ("Received", "Sent")  # cumulative counters: the snapshot's, not a series


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {
        "PRSM_DEMO": "true",
        "PRSM_DEMO_NODES": "4",
        "PRSM_METRICS_INTERVAL": "0.5",
        "PRSM_PERSIST": "true",
        "PRSM_DATA_DIR": str(tmp_path_factory.mktemp("history")),
    }
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env).wait(timeout=60)
    yield server.url
    server.stop()


def interval(server: str, seconds: float) -> None:
    """Set the collection interval (the API's settings write, as an operator would)."""
    answer = requests.post(f"{server}/api/settings", json={"collection_interval": seconds}, timeout=10)
    assert answer.status_code == 200, answer.text


def data_time(server: str) -> float:
    return requests.get(f"{server}/api/metrics", timeout=5).json()["network"]["timestamp"]


def node_table(page) -> list[list[str]]:
    grid = page.locator("[data-testid='stDataFrame']").first
    rows = grid.evaluate(GRID_ROWS)
    header = rows[0]
    keep = [i for i, name in enumerate(header) if name not in LEFT_OUT]
    return [[row[i] for i in keep if i < len(row)] for row in rows]


def read(page, server: str, what) -> tuple[float, object]:
    """``what(page)`` of a page drawn from one tick's data, and that tick's time: the page is
    drawn again until no tick came while it was drawn and read (a polling deadline, no sleep)."""
    deadline = time.monotonic() + 60
    while True:
        before = data_time(server)
        page.reload()
        page.wait_for_selector(CONNECTED, timeout=30_000)
        value = what(page)
        if data_time(server) == before and value:
            return before, value
        assert time.monotonic() < deadline, "every read was interrupted by a collection tick"


def fault(page, name: str) -> None:
    """Press a button of the sidebar's Demo faults (opening the expander first; a click on it
    while the page was still being drawn may have closed it again: opened until it shows)."""
    summary = page.locator("[data-testid='stSidebar']").get_by_text("Demo faults", exact=True)
    button = page.get_by_role("button", name=name)
    deadline = time.monotonic() + 60
    while not button.is_visible():
        assert time.monotonic() < deadline, f"no {name} button"
        summary.click()
        try:
            button.wait_for(state="visible", timeout=10_000)
        except PlaywrightTimeout:
            pass
    button.click()


def go(page, title: str) -> None:
    page.locator("[data-testid='stSidebar']").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=30_000)


def network_view(page):
    expect(page.locator("table[role=grid]").first).to_be_attached(timeout=30_000)
    expect(page.locator("[data-testid='stMetric']")).to_have_count(6, timeout=30_000)
    return page.evaluate(CARDS), node_table(page)


def alerts_view(page):
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)  # drawn below the list
    return sorted(page.evaluate(ACTIVE))


def at_url(server: str, path: str, at: float) -> str:
    moment = dt.datetime.fromtimestamp(at + 0.001, dt.UTC).isoformat()
    return f"{server}/{path}?at={urllib.parse.quote(moment)}"


def test_a_page_at_the_moment_of_a_screenshot_reads_as_the_screenshot_did(server, browser):  # noqa: F811
    started = time.monotonic()
    watched = watched_page(browser, 1440, 1400)
    page = watched.page
    try:
        page.goto(f"{server}/Network")
        page.wait_for_selector(CONNECTED, timeout=30_000)
        fault(page, "Stop node-0")
        expect(page.get_by_text("node-0 is down").first).to_be_visible(timeout=30_000)  # the node detail
        interval(server, SLOW)  # a loaded machine draws a page in seconds: no tick while it is read
        network_at, network_then = read(page, server, network_view)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "time_travel_live_network.png")
        go(page, "Alerts")
        alerts_at, alerts_then = read(page, server, alerts_view)
        assert "Node node-0 is down" in alerts_then
        cards, nodes = network_then
        assert any(c.startswith("Nodes up 3") for c in cards), cards
        assert any(row[:2] == ["node-0", "down"] for row in nodes), nodes
        interval(server, 0.5)
        fault(page, "Start node-0")
        page.wait_for_function(f"() => !({ACTIVE})().includes('Node node-0 is down')", timeout=60_000)

        page.goto(at_url(server, "Network", network_at))
        expect(page.get_by_text("not live").first).to_be_visible(timeout=30_000)
        assert network_view(page) == network_then
        page.screenshot(path=SCREENSHOTS / "time_travel_past_network.png")
        page.goto(at_url(server, "Alerts", alerts_at))
        expect(page.get_by_text("not live").first).to_be_visible(timeout=30_000)
        assert alerts_view(page) == alerts_then
        page.get_by_role("button", name="Back to live").click()
        expect(page.get_by_text("not live")).to_have_count(0, timeout=30_000)
        assert "at=" not in page.url
    finally:
        page.context.close()
    print(f"time travel browser test: {time.monotonic() - started:.1f} s")
