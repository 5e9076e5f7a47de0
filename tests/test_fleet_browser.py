"""The Fleet page in Chromium: a hub and one real instance; opening the instance from the Fleet
page and keeping it while following the sidebar's links (both lost it once: a link's query
parameter loses to the selector's old value on a page change)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .fixtures.server import ROOT, StreamlitServer
from .test_browser import CONNECTED, browser, watched_page  # noqa: F401 - browser is a fixture; skips without Chromium


@pytest.fixture(scope="module")
def hub():
    instance = StreamlitServer(ROOT / "streamlit_app.py").wait(timeout=60)
    hub = StreamlitServer(ROOT / "streamlit_app.py", env={"PRSM_INSTANCES": f"edge={instance.url}"})
    try:
        yield hub.wait(timeout=60).url
    finally:
        hub.stop()
        instance.stop()


def test_the_fleet_page_opens_an_instance_and_every_page_keeps_it(hub, browser):  # noqa: F811
    watched = watched_page(browser, 1440, 1000)
    page = watched.page
    try:
        page.goto(hub)
        page.wait_for_selector(CONNECTED, timeout=30_000)
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_role("link", name="Fleet", exact=True).click()
        expect(page.get_by_role("heading", name="Fleet", exact=True)).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="edge").click()
        expect(page.get_by_role("heading", name="Overview · edge")).to_be_visible(timeout=30_000)
        assert "instance=edge" in page.url
        sidebar.get_by_role("link", name="System", exact=True).click()
        expect(page.get_by_role("heading", name="System · edge")).to_be_visible(timeout=30_000)
        assert "instance=edge" in page.url
        expect(page.get_by_text("Thresholds and demo faults are changed on each instance itself")).to_be_visible()
        assert page.locator("[data-testid='stException']").count() == 0
        assert watched.problems == []
    finally:
        page.context.close()
