"""AppTest for every page: renders, key elements, shared thresholds, acknowledgement, export, toasts."""

import io
import json

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor.core import shared
from prsm_monitor.ui import export

from .conftest import wait_until

PAGES = {
    "streamlit_app.py": ("Overview", ["Critical", "Error", "Warning", "Info", "Tick time", "Missed ticks"]),
    "pages/1_System.py": ("System", ["CPU", "Memory", "Disk", "Swap", "Load 1 min", "Sockets"]),
    "pages/2_Network.py": ("Network", []),
    "pages/3_AI_Models.py": ("AI Models", []),
    "pages/4_Alerts.py": ("Alerts", []),
    "pages/5_Fleet.py": ("Fleet", []),
}


def fresh_app(monkeypatch, **env):
    """A fresh AppTest of the dashboard with a fast collector, and the shared collector released after."""
    for name, value in {"PRSM_METRICS_INTERVAL": "0.2", **env}.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()
    shared.release_collector()
    yield AppTest.from_file("../streamlit_app.py", default_timeout=30)
    st.cache_resource.clear()
    shared.release_collector()


@pytest.fixture
def app(monkeypatch):
    """The dashboard with no demo network."""
    yield from fresh_app(monkeypatch, PRSM_DEMO="false")


def open_page(at, path):
    if path != "streamlit_app.py":
        at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def collector():
    current = shared.current_collector()
    assert current is not None and current.running
    return current


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_its_key_elements(app, path):
    title, metrics = PAGES[path]
    open_page(app, path)
    assert [t.value for t in app.title] == [title]
    labels = [m.label for m in app.metric]
    assert all(label in labels for label in metrics), labels
    sidebar_links = [link.label for link in app.sidebar.get("page_link")]
    assert sidebar_links == ["Overview", "System", "Network", "AI Models", "Alerts", "Fleet", "Incident"]
    assert len(app.sidebar.number_input) == 16  # warning and critical of 8 rules


def test_network_and_ai_pages_say_plainly_that_no_network_source_runs(app):
    for path in ("pages/2_Network.py", "pages/3_AI_Models.py"):
        open_page(app, path)
        assert any("No PRSM network source is running" in i.value for i in app.info)


def test_one_collector_is_shared_by_sessions_and_survives_reruns(app):
    open_page(app, "streamlit_app.py")
    first = collector()
    other = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    other.run()
    app.run()
    assert collector() is first
    st.cache_resource.clear()  # Streamlit's "Clear cache" must not throw the history away
    app.run()
    assert collector() is first
    first.stop()  # issue 9: a stopped collector is never silently replaced by a fresh one
    app.run()
    assert shared.current_collector() is first and not first.running
    assert any("Monitoring has stopped: the collector is not running" in e.value for e in app.error)


def test_sidebar_threshold_change_reaches_the_shared_collector(app):
    open_page(app, "pages/1_System.py")
    cpu_warning = app.sidebar.number_input[0]
    assert cpu_warning.label == "Warning (%)" and cpu_warning.value == 80.0
    cpu_warning.set_value(10.0)
    app.sidebar.button[0].click()  # "Apply to all viewers"
    app.run()
    assert collector().rules["cpu"].warning == 10.0
    changes = collector().get_alerts(level="info")
    assert any("CPU usage thresholds changed to warning 10" in e["message"] for e in changes)
    assert any("changed" in c.value for c in app.sidebar.caption)  # marked as differing from the default
    reset = next(b for b in app.sidebar.button if b.label == "Reset to defaults")
    reset.click()
    app.run()
    assert collector().rules["cpu"].warning == 80.0


def test_a_warning_beyond_critical_is_refused_with_a_clear_error(app):
    open_page(app, "streamlit_app.py")
    app.sidebar.number_input[0].set_value(99.0)  # CPU warning above its critical 95
    app.sidebar.button[0].click()
    app.run()
    assert any("CPU usage warning" in e.value and "99" in e.value for e in app.sidebar.error)
    assert collector().rules["cpu"].warning == 80.0


def test_acknowledging_an_alert_on_the_alerts_page(app):
    open_page(app, "pages/4_Alerts.py")
    c = collector()
    c.add_alert_rule(lambda metrics: c.create_alert("critical", "system", "Disk <b>on fire</b>", {}))
    wait_until(lambda: c.get_active_alerts())
    app.run()
    assert any(t.value == "Disk <b>on fire</b>" for t in app.text)  # shown as text, not HTML
    ack = next(b for b in app.button if b.label == "Acknowledge")
    ack.click()
    app.run()
    assert c.get_active_alerts()[0]["acknowledged"]
    assert not any(b.label == "Acknowledge" for b in app.button)


def test_a_new_alert_is_toasted_once_per_session(app):
    open_page(app, "streamlit_app.py")
    c = collector()
    c.create_alert("error", "system", "Fan *stopped*", {})
    app.run()
    toasts = [t.value for t in app.toast]
    assert len(toasts) == 1 and "Fan \\*stopped\\*" in toasts[0]
    app.run()
    assert [t.value for t in app.toast] == []  # not again


def test_a_bad_setting_shows_one_error_instead_of_the_page(app, monkeypatch):
    monkeypatch.setenv("PRSM_CPU_THRESHOLD", "abc")
    app.run()
    assert not app.exception
    assert [e.value for e in app.error] == [
        "Configuration error: PRSM_CPU_THRESHOLD='abc' is invalid: expected a number at least 0 and at most 100"
    ]
    assert shared.current_collector() is None


def test_export_buttons_and_their_files(app):
    open_page(app, "streamlit_app.py")
    keys = {b.key for b in app.sidebar.get("download_button")}
    assert keys == {f"export_{n}_{f}" for n in ("system", "network", "ai", "alerts") for f in ("csv", "json")}
    c = collector()
    wait_until(lambda: len(c.history("system", 5)) >= 2)
    c.create_alert("warning", "ai", "Confidence, dropping", {"model": "m1"})
    system = export.history_frame(c, "system", 5)
    csv = pd.read_csv(io.BytesIO(export.to_csv(system)))
    assert {"timestamp", "time", "cpu_percent", "memory_percent", "network_sent_mb"} <= set(csv.columns)
    assert len(csv) == len(system) >= 2
    records = json.loads(export.to_json(system))
    assert records[0]["memory_percent"] == pytest.approx(system["memory_percent"].iloc[0])
    alerts = pd.read_csv(io.BytesIO(export.to_csv(export.alerts_frame(c, 5))))
    assert list(alerts.columns) == ["id", "timestamp", "time", "level", "component", "kind", "message", "details"]
    assert "Confidence, dropping" in set(alerts["message"])
    assert json.loads(export.to_json(export.alerts_frame(c, 5)))[-1]["details"] == {"model": "m1"}  # an object
    assert '"{""model"": ""m1""}"' in export.to_csv(export.alerts_frame(c, 5)).decode()  # JSON text in a CSV cell
    network = json.loads(export.to_json(export.history_frame(c, "network", 5)))
    assert network == []  # no source: an empty file, not invented rows


@pytest.fixture
def demo_app(monkeypatch):
    """The dashboard with a small demo network running."""
    yield from fresh_app(monkeypatch, PRSM_DEMO="true", PRSM_DEMO_NODES="4")


def test_network_and_ai_pages_show_the_demo_network(demo_app):
    open_page(demo_app, "streamlit_app.py")
    c = collector()
    wait_until(lambda: (c.get_latest_metrics()["network"] or {}).get("active_nodes") == 4, timeout=20)
    open_page(demo_app, "pages/2_Network.py")
    labels = [m.label for m in demo_app.metric]
    assert {"Nodes up", "Live links", "Latency", "Messages/s"} <= set(labels)
    nodes = demo_app.dataframe[0].value
    assert sorted(nodes["name"]) == sorted(c.demo_network.names) and set(nodes["status"]) == {"up"}
    assert demo_app.selectbox(key="network_node").options == sorted(c.demo_network.names)
    open_page(demo_app, "pages/3_AI_Models.py")
    assert {"Models up", "Inferences/s", "Success rate", "Confidence"} <= {m.label for m in demo_app.metric}
    models = demo_app.dataframe[0].value
    assert {"node", "model", "status", "success_rate", "time_p50_p95", "mean_confidence"} <= set(models)
    assert len(models) == c.get_latest_metrics()["ai"]["total_models"]


def test_sidebar_fault_control_stops_a_node_for_every_viewer(demo_app):
    open_page(demo_app, "pages/2_Network.py")
    network = collector().demo_network
    node = demo_app.sidebar.selectbox(key="faults_node").value
    demo_app.sidebar.button(key="faults_stop").click()
    demo_app.run()
    assert network.faults()["stopped"] == [node]
    assert any(f"node {node} stopped" in e["message"] for e in collector().get_alerts(level="info"))
    demo_app.sidebar.button(key="faults_start").click()
    demo_app.run()
    assert network.faults()["stopped"] == []
