"""Tables are whole at 1024, 1280 and 1440 px with the sidebar open (issue 21, item 8: the Models
table cut Confidence and Input scale, the Nodes table its Models column, the Fleet table its
"CPU, 5 min", and all three scrolled sideways at 1024 px).

st.dataframe draws on a canvas (glide-data-grid): the page has no element per cell to measure.
The grid's scroller is an element, so "no sideways scroll" is its scrollWidth against its
clientWidth. The columns the grid drew (title, width in px), its fonts and the text of every
cell come from the grid component's own props (React's fiber of its canvas), and each header
and value is measured in the grid's font on a canvas: it is whole when it fits its column with
the grid's padding on both sides."""

from __future__ import annotations

import pyarrow as pa
import pytest
from playwright.sync_api import expect

from prsm_monitor.ui.views import ai, fleet, network
from prsm_monitor.ui.views.common import arrow_rows

from .fixtures.server import ROOT, StreamlitServer
from .test_browser import CONNECTED, SCREENSHOTS, browser, watched_page  # noqa: F401 - browser is a fixture; skips without Chromium

WIDTHS = (1024, 1280, 1440)
# Each page, and how many tables it draws (the Fleet page's expander holds two more).
PAGES = {"AI Models": 2, "Network": 2, "Fleet": 3}

GRIDS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')].map(frame => {
  const canvas = frame.querySelector('[data-testid="data-grid-canvas"]');
  const scroller = frame.querySelector('.dvn-scroller');
  if (!canvas || !scroller) return null;  // not drawn yet
  const fiber = canvas[Object.keys(canvas).find(k => k.startsWith('__reactFiber'))];
  let props = null;
  for (let f = fiber; f && !props; f = f.return) {
    const p = f.memoizedProps;
    if (p && p.columns && p.getCellContent && p.theme) props = p;
  }
  const theme = props.theme, pad = theme.cellHorizontalPadding;
  const context = document.createElement('canvas').getContext('2d');
  const width = (text, style) => {
    context.font = `${style} ${theme.fontFamily}`;
    return context.measureText(text).width;
  };
  const cut = [], needed = [];
  props.columns.forEach((column, i) => {
    const room = column.width - 2 * pad;
    let widest = width(column.title, theme.headerFontStyle);
    if (widest > room) cut.push(`header ${column.title}: ${Math.ceil(widest)} > ${room} px`);
    for (let row = 0; row < props.rows; row++) {
      const text = props.getCellContent([i, row]).displayData;
      if (typeof text !== 'string') continue;
      const wide = width(text, theme.baseFontStyle);
      widest = Math.max(widest, wide);
      if (wide > room) cut.push(`${column.title} ${JSON.stringify(text)}: ${Math.ceil(wide)} > ${room} px`);
    }
    needed.push(Math.ceil(widest) + 2 * pad);
  });
  return {
    columns: props.columns.map((c, i) => [c.title, c.width, needed[i]]), rows: props.rows, cut,
    content: scroller.scrollWidth, room: scroller.clientWidth,
  };
})"""


@pytest.fixture(scope="module")
def server():
    """The dashboard with the demo network (its default node and model names)."""
    server = StreamlitServer(ROOT / "streamlit_app.py", env={"PRSM_DEMO": "true", "PRSM_METRICS_INTERVAL": "0.5"})
    yield server.wait(timeout=60).url
    server.stop()


def grids(page, title: str) -> list[dict]:
    """The page's tables once each has its rows (the first ticks may find no model served yet)."""
    tables = page.locator("[data-testid='stMain'] [data-testid='stDataFrame']")
    expect(tables).to_have_count(PAGES[title], timeout=30_000)
    page.wait_for_function(f"({GRIDS})().every(g => g && g.rows > 0)", timeout=30_000)
    return page.evaluate(GRIDS)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_tables_fit_the_main_area_without_a_cut_header_or_value(server, browser, width):  # noqa: F811
    watched = watched_page(browser, width, 1000)
    page = watched.page
    found = {}
    try:
        page.goto(server)
        page.wait_for_selector(CONNECTED, timeout=30_000)
        sidebar = page.locator("[data-testid='stSidebar']")
        for title in PAGES:
            sidebar.get_by_role("link", name=title, exact=True).click()
            expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=30_000)
            expect(sidebar).to_have_attribute("data-collapsed", "false")
            if title == "Fleet":
                page.get_by_text("Addresses, nodes, models and alerts by level").click()
            found[title] = grids(page, title)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for i, grid in enumerate(page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").all()):
                grid.scroll_into_view_if_needed()
                grid.screenshot(path=SCREENSHOTS / f"table-{title.lower().replace(' ', '_')}-{i}-{width}.png")
        assert watched.problems == []
    finally:
        page.context.close()
    for title, tables in found.items():
        for grid in tables:  # printed: the figures behind the widths chosen (pytest -s)
            print(f"{width} px {title}: {grid['content']}/{grid['room']} px, (title, width, needed) {grid['columns']}")
            where = f"{title} at {width} px, columns {grid['columns']}"
            assert grid["content"] <= grid["room"], f"{where}: scrolls sideways, {grid['content']} > {grid['room']} px"
            assert grid["cut"] == [], where


def test_the_time_column_says_p50_and_p95_on_one_scale_with_the_unit_once():
    assert ai.time_pair(0.0798, 0.357) == "79.8 / 357 ms"
    assert ai.time_pair(0.95, 5.31) == "0.95 / 5.31 s"  # on the larger's scale
    assert ai.time_pair(None, 0.2) == "– / 200 ms"
    assert ai.time_pair(None, float("nan")) is None  # shown as the table's "–"


def test_the_fleet_alerts_column_counts_every_level_and_names_the_most_severe():
    assert fleet.alerts_text({"info": 2, "warning": 0, "error": 1, "critical": 0}) == "3 (error)"
    assert fleet.alerts_text({"info": 0, "warning": 0, "error": 0, "critical": 0}) == "none"
    assert fleet.alerts_text({}) is None


def test_the_nodes_table_built_straight_to_arrow_shows_what_the_frame_path_shows():
    """Built every tick without a DataFrame: the same values, in the same columns, as the frame
    path (None and NaN both empty); a value Arrow cannot type falls back to that path."""
    nodes = [
        {
            "name": "n1",
            "status": "up",
            "links_up": 2,
            "links_total": 3,
            "models": ["a", "b"],
            "latency_ms": 4.5,
            "message_rate": 9.25,
            "queue_length": 0,
        },
        {
            "name": "n2",
            "status": "down",
            "links_up": 0,
            "links_total": 3,
            "models": [],
            "latency_ms": None,
            "message_rate": float("nan"),
            "queue_length": None,
        },
    ]
    direct = network.node_table(nodes)
    framed = arrow_rows(network.node_rows(nodes), network.NODE_COLUMNS)
    assert isinstance(direct, pa.Table) and direct.column_names == list(network.NODE_COLUMNS)
    assert direct.to_pylist() == framed.to_pylist()
    assert direct.to_pylist()[1] == {
        "name": "n2",
        "status": "down",
        "links": "0/3",
        "latency_ms": None,
        "message_rate": None,
        "queue_length": None,
        "model_count": 0,
    }
    odd = [nodes[0], {**nodes[0], "name": "n3", "queue_length": "3 waiting"}]  # a string among numbers
    assert network.node_table(odd).equals(arrow_rows(network.node_rows(odd), network.NODE_COLUMNS))


def test_the_nodes_table_counts_models_and_node_detail_keeps_their_names():
    rows = network.node_rows([{"name": "n1", "status": "up", "links_up": 2, "links_total": 3, "models": ["a", "b"]}])
    assert rows.loc[0, "model_count"] == 2 and rows.loc[0, "models"] == ["a", "b"] and rows.loc[0, "links"] == "2/3"
