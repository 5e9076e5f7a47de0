"""Legends are whole at 1024, 1280 and 1440 px (issue 21, item 8: the topology legend read
"500 ms and ove" at 1024 px and the heatmap's dropped it).

A legend's columns come from the chart's width and the longest label's estimated width
(:func:`chartkit.fitted_legend`). Vega draws on a canvas, whose text the page cannot measure as
an element, so Chromium measures each label in the chart's font on a canvas, and the test checks
the estimate holds it and the columns fit every chart width the pages draw."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from prsm_monitor.ui import charts, network_charts
from prsm_monitor.ui.chartkit import fitted_legend
from prsm_monitor.ui.views import ai, network, system

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (test.sh installs Debian's chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

SIDEBAR, MARGINS = 300, 2 * 48  # px of the open sidebar and the page's side padding (Streamlit's wide layout)
# Width widths a legend can get: a half-page chart (two side by side, minus a y axis of about 60 px)
# at each screen width; a full-page chart is wider.
HALF_CHART = {width: (width - SIDEBAR - MARGINS - 16) / 2 - 60 for width in (1024, 1280, 1440)}
FONTS = ("11px sans-serif", "12px sans-serif", "11px 'Source Sans Pro', sans-serif")


def legends() -> list[tuple[str, tuple[str, ...], float]]:
    """Every legend the pages draw: (where, labels, font size)."""
    found = []
    for bands in (network_charts.LatencyBands(100, 500), network_charts.LatencyBands(2.5, None)):
        found.append((f"link latency {bands}", bands.labels(), 11))
    for view in (system, network, ai):
        for row in view.CHARTS:
            for chart in row:
                labels = tuple(chart.series.values()) + ((chart.parts.legend,) if chart.parts else ())
                found.append((chart.heading, labels, 12))
    return found


@pytest.fixture(scope="module")
def measure():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()

        def width(text: str, font: str) -> float:
            script = "([t, f]) => { const c = document.createElement('canvas').getContext('2d');"
            script += " c.font = f; return c.measureText(t).width; }"
            return page.evaluate(script, [text, font])

        yield width
        browser.close()


@pytest.mark.parametrize(("where", "labels", "size"), legends(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_legend_label_fits_its_column_and_the_columns_fit_the_chart(measure, where, labels, size):
    legend = fitted_legend(labels, size).to_dict()
    assert legend["labelLimit"] == 0  # never cut: the column is made wide enough instead
    column = float(re.search(r"width / (\d+)", legend["columns"]["expr"]).group(1))
    for label in labels:
        widest = max(measure(label, font.replace("11px", f"{size}px").replace("12px", f"{size}px")) for font in FONTS)
        assert widest + 16 + 6 <= column, f"{where}: {label!r} is {widest:.0f} px, its column {column:.0f} px"
    for screen, room in HALF_CHART.items():
        assert column <= room, f"{where}: one column of {column:.0f} px does not fit {room:.0f} px at {screen} px"


def test_a_time_series_and_the_link_charts_use_the_fitted_legend():
    shape = charts.Shape(
        lines=(("s0", "Latency", "Latency", 1.8),),
        legend=("Latency",),
        colors=("#000",),
        unit="ms",
        axis_title=None,
        time_format="%H:%M",
        height=200,
        compact=False,
        rollup=False,
        thresholds=False,
        insight=(),
    )
    legend = charts.timeseries_spec(shape)["layer"][0]["encoding"]["color"]["legend"]
    assert "width /" in legend["columns"]["expr"]
    spec = network_charts.latency_matrix_spec(network_charts.LatencyBands(100, 500), ("a", "b"), 300)
    assert "width /" in spec["encoding"]["color"]["legend"]["columns"]["expr"]
