"""A silence created in a real browser (Chromium via Playwright, against `streamlit run`) mutes
a firing alert's toasts, and expires on time: the same alert is toasted again after its end."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from .fixtures.server import ROOT, StreamlitServer
from .test_browser import CHROMIUM, SCREENSHOTS, open_page, watched_page  # skips without Chromium

SILENCE_SECONDS = 12  # the custom duration typed into the form
TOAST = "[data-testid='stToast']"


@pytest.fixture(scope="module")
def server():
    env = {"PRSM_DEMO": "false", "PRSM_METRICS_INTERVAL": "0.5"}
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env).wait(timeout=60)
    yield server.url
    server.stop()


@pytest.fixture
def page(browser):
    watched = watched_page(browser, 1440)
    yield watched
    watched.page.context.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


def thresholds(url: str, **rules: float) -> None:
    """Set warning levels over the API (from this machine, which may write without a token)."""
    body = {"thresholds": {name: {"warning": warning, "critical": 100} for name, warning in rules.items()}}
    response = requests.post(url + "/api/settings", json=body, timeout=10)
    assert response.status_code == 200, response.text


def active(url: str) -> set[str]:
    return {a["key"] for a in requests.get(url + "/api/alerts?active=true", timeout=10).json()["active"]}


def refire(url: str, *rules: str) -> None:
    """Resolve the rules' alerts, then let them fire again: new `fired` events."""
    thresholds(url, **dict.fromkeys(rules, 100))
    deadline = time.monotonic() + 20
    while active(url) & {f"rule:{r}" for r in rules}:
        assert time.monotonic() < deadline, "the alerts did not resolve"
        time.sleep(0.1)  # polling the API for the next tick (0.5 s), with a deadline
    thresholds(url, **dict.fromkeys(rules, 0.01))


def test_a_silence_made_in_the_browser_mutes_toasts_and_expires_on_time(server, page):
    thresholds(server, memory=100, disk=100)
    open_page(page, server, "Alerts")
    browser_page = page.page
    thresholds(server, memory=0.01)  # memory is always above 0.01 %: fires on the next tick
    expect(browser_page.get_by_test_id("stText").filter(has_text="Memory usage").first).to_be_visible(timeout=30_000)

    # the row's Silence popover: custom duration, a comment
    browser_page.get_by_role("button", name="Silence").first.click()
    dialog = browser_page.get_by_test_id("stPopoverBody")
    expect(dialog.get_by_text("rule = memory")).to_be_visible()
    dialog.get_by_text("custom", exact=True).click()
    dialog.get_by_label("Custom duration").fill(f"{SILENCE_SECONDS}s")
    dialog.get_by_label("Comment").fill("resizing the swap")
    created_before = time.time()
    dialog.get_by_role("button", name="Silence").click()
    expect(browser_page.get_by_text("WARNING · SILENCED")).to_be_visible(timeout=30_000)
    [silence] = requests.get(server + "/api/silences", timeout=10).json()["silences"]
    assert (
        silence["matchers"] == {"component": "system", "rule": "memory"} and silence["comment"] == "resizing the swap"
    )
    assert created_before - 1 <= silence["ends_at"] - SILENCE_SECONDS <= time.time()
    assert silence["created_by"] == "a dashboard viewer (no operators configured)"
    expect(browser_page.get_by_text("resizing the swap")).to_be_visible()

    # while silenced: memory fires again, with disk (not silenced) as the witness that toasts arrive
    browser_page.evaluate("document.querySelectorAll(\"[data-testid='stToast']\").forEach(t => t.remove())")
    refire(server, "memory")
    thresholds(server, disk=0.01)
    toasts = browser_page.locator(TOAST)
    expect(toasts.filter(has_text="Disk usage")).to_have_count(1, timeout=30_000)
    expect(toasts.filter(has_text="Memory usage")).to_have_count(0)
    assert time.time() < silence["ends_at"], "the machine was too slow to check inside the silence"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=SCREENSHOTS / "silenced-alert.png")

    # on time: expired at its end, and the next firing is toasted again
    deadline = silence["ends_at"] + 5
    while requests.get(server + f"/api/silences/{silence['id']}", timeout=10).json()["status"] != "expired":
        assert time.time() < deadline, "the silence did not expire at its end"
        time.sleep(0.1)
    assert time.time() >= silence["ends_at"]
    refire(server, "memory")
    expect(toasts.filter(has_text="Memory usage")).to_have_count(1, timeout=30_000)
    expect(browser_page.get_by_text("WARNING · SILENCED")).to_have_count(0, timeout=30_000)
    expect(browser_page.get_by_text("EXPIRED", exact=True)).to_be_visible()
    assert page.problems == []
    thresholds(server, memory=85, disk=90)
