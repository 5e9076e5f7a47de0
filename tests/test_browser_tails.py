"""A live chart's tail lies exactly on its body, in Chromium (issue 24: a tail without the body's
legend; issue 21: the line reaches now).

The tail (:func:`charts.tail`) is a chart of its own, placed before its body and drawn over it by
the page's style (:data:`timechart.LIVE_CSS`), with no legend and its axes laid out but not
drawn. Its line lands on the body's only if its plot is where the body's plot is, to the pixel:
the test compares the plot rectangles Vega draws (the frame's background) of every tail and the
chart under it, at 1024 px on System and 1440 px on AI Models (between them per-core parts, two
lines, a note above the plot, thresholds near the top). Before, a threshold's label above a
rule near the top moved the body's plot down by up to 7 px and the tail's not."""

from __future__ import annotations

import pytest

from .fixtures.server import ROOT, StreamlitServer
from .test_browser import browser, open_page, watched_page  # noqa: F401 - browser is a fixture; skips without Chromium

# Every tail's plot and the plot of the chart after it: [tail rect, body rect] in page px.
PAIRS = """() => [...document.querySelectorAll('[aria-label="Newest values"]')].map(tail => {
  const holder = tail.closest('[data-testid="stElementContainer"]');
  const next = holder.nextElementSibling;
  const body = next && next.querySelector('[data-testid="stVegaLiteChart"] svg');
  const plot = svg => {
    const frame = svg && svg.querySelector('.role-frame path.background');
    if (!frame) return null;
    const r = frame.getBoundingClientRect();
    return [r.left, r.top, r.width, r.height];
  };
  return [plot(tail.querySelector('svg')), plot(body), holder.getBoundingClientRect().height];
})"""
# All drawn, at least ``least`` of them, each tail's plot on its body's (half a pixel) and taking no room.
ALIGNED = f"""least => {{
  const pairs = ({PAIRS})();
  const on = (t, b) => t.every((v, i) => Math.abs(v - b[i]) <= 0.5);
  return pairs.length >= least && pairs.every(([t, b, h]) => t && b && h === 0 && on(t, b));
}}"""
PAGES = {"System": 5, "AI Models": 6}  # at least this many live charts with a tail


@pytest.fixture(scope="module")
def server():
    server = StreamlitServer(ROOT / "streamlit_app.py", env={"PRSM_DEMO": "true", "PRSM_METRICS_INTERVAL": "0.5"})
    yield server.wait(timeout=60).url
    server.stop()


@pytest.mark.parametrize(("title", "width"), (("System", 1024), ("AI Models", 1440)))  # both widths, both pages
def test_every_tail_s_plot_lies_exactly_on_its_chart_s_plot(server, browser, title, width):  # noqa: F811
    watched = watched_page(browser, width, 1400)
    try:
        open_page(watched, server, title)
        try:
            # Polled: a body and its tail are separate messages, so for a moment after a new body
            # they can disagree; they must agree once both have arrived.
            watched.page.wait_for_function(ALIGNED, arg=PAGES[title], timeout=60_000)
        except Exception:
            pytest.fail(f"{title} at {width} px, tails and their charts' plots: {watched.page.evaluate(PAIRS)}")
        assert not watched.problems
    finally:
        watched.page.context.close()
