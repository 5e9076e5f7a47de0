"""Real-browser tests: Debian's Chromium, headless, driven by Playwright, against `streamlit run`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .fixtures.server import ROOT, StreamlitServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (test.sh installs Debian's chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

SCREENSHOTS = Path(os.environ.get("PRSM_SCREENSHOT_DIR", ROOT / "tests" / "screenshots"))
CONNECTED = "[data-testid='stApp'][data-test-connection-state='CONNECTED']"
PAGES = [
    ("", "Overview"),
    ("System", "System"),
    ("Network", "Network"),
    ("AI_Models", "AI Models"),
    ("Alerts", "Alerts"),
]


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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    page = context.new_page()
    yield page
    context.close()


def open_page(page, url: str, title: str):
    page.goto(url)
    page.wait_for_selector(CONNECTED, timeout=30_000)
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=30_000)


@pytest.mark.parametrize("path, title", PAGES)
def test_page_loads_without_exception_and_draws_its_charts(server, page, path, title):
    open_page(page, f"{server}/{path}", title)
    if title != "Alerts":  # the Alerts page draws its chart only once there are alert events
        chart = page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first
        expect(chart).to_be_visible(timeout=30_000)
        box = chart.bounding_box()
        assert box["width"] > 100 and box["height"] > 50
    assert page.locator("[data-testid='stException']").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{(path or 'overview').lower()}.png")


def set_memory_thresholds(page, warning: str, critical: str) -> None:
    page.get_by_label("Critical (%)").nth(1).fill(critical)  # the second rule: CPU, memory, disk
    page.get_by_label("Warning (%)").nth(1).fill(warning)
    page.get_by_label("Warning (%)").nth(1).press("Tab")
    page.get_by_role("button", name="Apply to all viewers").click()


def test_lowering_a_threshold_to_zero_raises_its_alert(server, page):
    # the memory rule fires on the first tick past its threshold (the CPU rule judges a 1-minute
    # average for minutes, too long to wait for here)
    open_page(page, f"{server}/Alerts", "Alerts")
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
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_page(page, f"{server}/Network", "Network")
    page.get_by_text("Demo faults").click()
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("combobox").first.click()
    page.get_by_role("option", name="<script>alert(1)</script>").click()  # the name, listed literally
    stop = page.get_by_role("button", name="Stop <script>alert(1)</script>")
    expect(stop).to_be_visible(timeout=30_000)  # the name, shown literally as a button label
    stop.click()
    down = page.get_by_text("Node <script>alert(1)</script> is down", exact=False).first
    expect(down).to_be_visible(timeout=30_000)  # as text in the toast
    assert page.locator("script:text('alert(1)')").count() == 0  # never became an element
    assert dialogs == []
    page.get_by_role("button", name="Start <script>alert(1)</script>").click()
