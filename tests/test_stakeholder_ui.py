"""Issue 21, items 7 to 9 in the app: controls that show the demo network's state read that
state after "Clear all faults"; export buttons say what they export; a change's log line has
one pair of parentheses at most."""

from __future__ import annotations

import pytest

from .test_app import collector, fresh_app, open_page


@pytest.fixture
def demo_app(monkeypatch):
    yield from fresh_app(monkeypatch, PRSM_DEMO="true", PRSM_DEMO_NODES="3")


def rate_slider(at):
    (slider,) = [s for s in at.sidebar.slider if s.label == "Request rate (× normal)"]
    return slider


def test_clear_all_faults_puts_the_request_rate_slider_back_to_1(demo_app):
    open_page(demo_app, "pages/2_Network.py")
    network = collector().demo_network
    rate_slider(demo_app).set_value(20)
    demo_app.run()  # a browser reruns when a slider moves, drawing the button with its value
    demo_app.sidebar.button(key="faults_rate_apply").click()
    demo_app.run()
    assert network.faults()["rate"] == pytest.approx(20 * network.faults()["base_rate"])
    assert rate_slider(demo_app).value == 20
    demo_app.sidebar.button(key="faults_partition").click()
    demo_app.run()
    demo_app.sidebar.button(key="faults_clear").click()
    demo_app.run()
    assert network.faults()["rate"] == network.faults()["base_rate"] and not network.faults()["partition"]
    assert rate_slider(demo_app).value == 1  # it read 20 while "Injected now" said nothing was
    changes = [e["message"] for e in collector().get_alerts(level="info") if e["message"].startswith("Demo fault")]
    assert changes and all(m.count("(") <= 1 for m in changes), changes  # not "(by a viewer (no operators))"


def test_export_buttons_name_component_and_format_one_per_row(demo_app):
    open_page(demo_app, "streamlit_app.py")
    (export,) = [e for e in demo_app.sidebar.expander if e.label == "Export"]
    assert len(export.columns) == 0  # side by side, two buttons in the sidebar cut "System CSV" to "Syste…"
    labels = [b.proto.label for b in export.get("download_button")]
    assert labels == [f"{n} {f}" for n in ("System", "Network", "AI", "Alerts") for f in ("CSV", "JSON")]
