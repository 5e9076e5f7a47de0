"""Pages with the demo network: drill-down charts draw data, tables say "–", exports are labelled."""

import json

import pyarrow as pa
import pytest

from prsm_monitor.ui import charts

from .conftest import wait_until
from .test_app import collector, fresh_app, open_page


@pytest.fixture
def demo_app(monkeypatch):
    yield from fresh_app(monkeypatch, PRSM_DEMO="true", PRSM_DEMO_NODES="4")


def charts_of(at) -> list[tuple[dict, pa.Table | None]]:
    """Every Vega-Lite chart of the page: (spec, its measured rows); not the tails drawn over
    the time series (their few newest rows are inline, no dataset)."""
    found = []
    for element in at.get("vega_lite_chart"):
        if not element.proto.datasets and f'"description": "{charts.TAIL_LABEL}"' in element.proto.spec:
            continue
        data = next((d.data.data for d in element.proto.datasets if d.name == "rows"), None)
        found.append((json.loads(element.proto.spec), pa.ipc.open_stream(data).read_all() if data else None))
    return found


def legend_labels(spec: dict) -> list[str]:
    """The series a time-series chart names, from its line layers."""
    groups = [layer for layer in spec.get("layer", []) if "layer" in layer]  # the lines' group
    lines = groups[0]["layer"] if groups else []
    return [line["encoding"]["color"]["datum"] for line in lines if "datum" in line["encoding"].get("color", {})]


def test_the_model_detail_draws_every_chart_with_data_for_a_regressor(demo_app):
    open_page(demo_app, "streamlit_app.py")
    c = collector()
    summary = lambda: (c.get_latest_metrics()["ai"] or {}).get("model_summary") or []  # noqa: E731
    regressor = wait_until(lambda: next((m["model"] for m in summary() if m["type"] == "regressor"), None), 20)
    wait_until(
        lambda: (
            c.store.count(f"model:{regressor}") >= 3
            and c.history(f"model:{regressor}", 5)["mean_absolute_error"].notna().any()
        ),
        30,
    )
    open_page(demo_app, "pages/3_AI_Models.py")
    demo_app.selectbox(key="ai_model").set_value(regressor)
    demo_app.run()
    drawn = {tuple(legend_labels(spec)): table for spec, table in charts_of(demo_app)}
    error = drawn[("Mean abs. error",)]  # was always empty: "." made it a nested field path
    assert error is not None and error.column("s0").null_count < error.num_rows
    for labels in (("Inference time",),):
        assert drawn[labels] is not None and drawn[labels].num_rows > 0, labels


def test_tables_show_a_dash_for_a_missing_value_and_no_raw_column_name(demo_app):
    open_page(demo_app, "streamlit_app.py")
    c = collector()
    wait_until(lambda: (c.get_latest_metrics()["network"] or {}).get("consensus_history"), 30)
    for path in ("pages/2_Network.py", "pages/3_AI_Models.py", "pages/1_System.py"):
        open_page(demo_app, path)
        for frame in demo_app.dataframe:
            config = json.loads(frame.proto.columns)
            assert frame.proto.placeholder == "–", path
            for column in frame.value.columns:
                label = config.get(f"col:{column}", config.get(column, {})).get("label")
                assert label and "_" not in label, (path, column)  # e.g. "live_nodes", "proposer"


def test_export_buttons_are_labelled_with_proper_names(demo_app):
    open_page(demo_app, "streamlit_app.py")
    labels = [b.label for b in demo_app.sidebar.get("download_button")]
    assert labels == [f"{n} {f}" for n in ("System", "Network", "AI", "Alerts") for f in ("CSV", "JSON")]
