"""Real-browser tests: Debian's Chromium, headless, driven by Playwright, against `streamlit run`."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from prsm_monitor.ui.clock import zone_note

from .conftest import wait_until
from .fixtures.server import ROOT, StreamlitServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (test.sh installs Debian's chromium)", allow_module_level=True)

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

SCREENSHOTS = Path(os.environ.get("PRSM_SCREENSHOT_DIR", ROOT / "tests" / "screenshots"))
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
PAGES = ["Overview", "System", "Network", "AI Models", "Alerts"]
ZONE = "America/New_York"
# A card's label, value or delta that does not fit shows an ellipsis: its text is wider than its box.
CUT_CARDS = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"], [data-testid="stMetricValue"], [data-testid="stMetricDelta"]')]
  .flatMap(e => [e, ...e.querySelectorAll('*')])
  .filter(e => e.scrollWidth > e.clientWidth)
  .map(e => `${e.closest('[data-testid]').dataset.testid}: ${e.textContent} ${e.scrollWidth} > ${e.clientWidth} px`)"""

NODE_NAMES = "eu-west,us-east,<script>alert(1)</script>,ap-south"


@pytest.fixture(scope="module")
def server():
    """The dashboard with a small demo network, one of whose nodes has a hostile name."""
    env = {"PRSM_DEMO": "true", "PRSM_DEMO_NODE_NAMES": NODE_NAMES, "PRSM_METRICS_INTERVAL": "0.5"}
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env).wait(timeout=60)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Watched:
    """A page with its console problems and the script runs it received (each refresh tick is one)."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.runs = 0
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _console(self, message) -> None:
        # errors, and Vega's warnings (an "Infinite extent" on every refresh was one)
        if message.type == "error" or (message.type == "warning" and message.text.startswith("WARN")):
            self.problems.append(f"{message.type}: {message.text} at {message.location.get('url')}")

    def _frame(self, payload) -> None:
        message = ForwardMsg()
        message.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
        if message.WhichOneof("type") == "script_finished":
            self.runs += 1

    def wait_for_runs(self, count: int, timeout: float = 30.0) -> None:
        """Wait until ``count`` more script runs (refresh ticks) have arrived."""
        target = self.runs + count
        deadline = time.monotonic() + timeout
        while self.runs < target:
            assert time.monotonic() < deadline, f"only {self.runs - target + count} of {count} refreshes arrived"
            self.page.wait_for_timeout(50)  # lets Playwright deliver events; the loop is the deadline


def watched_page(browser, width: int, height: int = 1800) -> Watched:
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=ZONE)
    return Watched(context.new_page())


@pytest.fixture
def page(browser):
    watched = watched_page(browser, 1440)
    yield watched
    watched.page.context.close()


def open_page(watched: Watched, server: str, title: str) -> None:
    """Load the Overview, then follow the sidebar's link, as a viewer does. (A page's own URL
    loaded directly makes Streamlit probe ``<page>/_stcore/health`` first, and the browser logs
    that probe's 404 as an error.)"""
    page = watched.page
    fresh = not page.url.startswith(server)
    if fresh:
        page.goto(server)
        page.wait_for_selector(CONNECTED, timeout=30_000)
    if not (fresh and title == "Overview"):
        page.locator("[data-testid='stSidebar']").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=30_000)
    page.wait_for_selector(CONNECTED, timeout=30_000)


@pytest.mark.parametrize("title", PAGES)
def test_page_draws_its_charts_without_console_errors(server, page, title):
    open_page(page, server, title)
    if title != "Alerts":  # the Alerts page draws its chart only once there are alert events
        expect(page.page.locator(CHART).first).to_be_visible(timeout=30_000)
        chart = page.page.locator("[data-testid='stVegaLiteChart']").first
        # the chart may be replaced between finding it and measuring it (a new body): measured again
        box = wait_until(lambda: chart.bounding_box(), timeout=30)
        assert box["width"] > 100 and box["height"] > 50
    page.wait_for_runs(2)  # two refresh ticks redraw every chart
    assert page.page.locator("[data-testid='stException']").count() == 0
    assert page.problems == []
    # the viewer's time zone, named once on the page
    note = zone_note(ZoneInfo(ZONE), time.time())
    expect(page.page.get_by_text(note)).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=SCREENSHOTS / f"{title.lower().replace(' ', '_')}.png")


def test_no_card_is_cut_at_1024_px_with_the_sidebar_open(server, browser):
    watched = watched_page(browser, 1024, 900)
    try:
        page = watched.page
        for title in PAGES:
            open_page(watched, server, title)
            expect(page.locator("[data-testid='stSidebar']")).to_have_attribute("data-collapsed", "false")
            if title != "Alerts":
                expect(page.locator("[data-testid='stMetricValue']").first).to_be_visible(timeout=30_000)
            watched.wait_for_runs(1)
            assert page.evaluate(CUT_CARDS) == [], title
        assert watched.problems == []
    finally:
        watched.page.context.close()


def test_an_export_file_is_named_at_the_click(server, page):
    open_page(page, server, "Overview")
    page.page.get_by_text("Export").click()
    button = page.page.get_by_role("button", name="AI CSV")
    expect(button).to_be_visible(timeout=30_000)  # a loaded machine draws the opened expander late
    page.wait_for_runs(2)  # the page was drawn a few seconds before the click
    clicked = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with page.page.expect_download() as download:
        button.click()
    name = download.value.suggested_filename
    match = re.fullmatch(r"prsm-ai-(\d{8}-\d{6})\.csv", name)
    assert match, name
    stamp = dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
    assert clicked <= stamp <= dt.datetime.now(dt.UTC)
    assert download.value.path().read_text().startswith("timestamp,time,")


def set_memory_thresholds(page, warning: str, critical: str) -> None:
    page.get_by_label("Critical (%)").nth(1).fill(critical)  # the second rule: CPU, memory, disk
    page.get_by_label("Warning (%)").nth(1).fill(warning)
    page.get_by_label("Warning (%)").nth(1).press("Tab")
    page.get_by_role("button", name="Apply to all viewers").click()


def test_lowering_a_threshold_to_zero_raises_its_alert(server, page):
    # the memory rule fires on the first tick past its threshold (the CPU rule judges a 1-minute
    # average for minutes, too long to wait for here)
    open_page(page, server, "Alerts")
    page = page.page
    page.get_by_text("Alert thresholds").click()
    active = page.get_by_test_id("stText").filter(has_text="Memory usage")  # messages of active alerts
    # out of reach first, so that a busy test machine has no memory alert firing already
    set_memory_thresholds(page, "100", "100")
    # the rerun after Apply redraws the inputs under new keys: wait for it before typing again
    expect(page.get_by_text("Memory usage (alert when above) · changed")).to_be_visible(timeout=30_000)
    expect(active).to_have_count(0, timeout=30_000)
    set_memory_thresholds(page, "0", "100")
    try:  # the collector ticks every 0.5 s here
        expect(active.filter(has_text="is above the warning threshold 0%").first).to_be_visible(timeout=30_000)
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "threshold-alert.png")
    page.get_by_role("button", name="Reset to defaults").click()


def test_a_node_name_with_a_script_tag_is_shown_as_text(server, page):
    dialogs = []
    page.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_page(page, server, "Network")
    page = page.page
    page.get_by_text("Demo faults").click()
    sidebar = page.locator("[data-testid='stSidebar']")
    deadline = time.monotonic() + 60
    while True:  # a refresh that lands between opening the list and the click closes it: open it again
        sidebar.get_by_role("combobox").first.click()
        try:
            page.get_by_role("option", name="<script>alert(1)</script>").click(timeout=5_000)  # listed literally
            break
        except PlaywrightTimeout:
            assert time.monotonic() < deadline, "the node list never offered the name"
    stop = page.get_by_role("button", name="Stop <script>alert(1)</script>")
    expect(stop).to_be_visible(timeout=30_000)  # the name, shown literally as a button label
    stop.click()
    down = page.get_by_text("Node <script>alert(1)</script> is down", exact=False).first
    expect(down).to_be_visible(timeout=30_000)  # as text in the toast
    assert page.locator("script:text('alert(1)')").count() == 0  # never became an element
    assert dialogs == []
    page.get_by_role("button", name="Start <script>alert(1)</script>").click()
