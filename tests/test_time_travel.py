"""Every page with ?at=: the banner, no live fragment, the figures of the store at that moment.

One demo app for the module, its history on disk: node-0 is stopped until its alert fires,
the moment is taken, then node-0 is started again and its alert resolved; every page is then
opened at that moment and compared with what the store (not the live state) holds."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor.core import shared
from prsm_monitor.history import PastCollector
from prsm_monitor.ui import shared_views

from .conftest import wait_until
from .test_app import collector, open_page

PAGES = ("streamlit_app.py", "pages/1_System.py", "pages/2_Network.py", "pages/3_AI_Models.py")
PAGES += ("pages/4_Alerts.py", "pages/5_Fleet.py")


def node_down(c) -> bool:
    return any(a["message"] == "Node node-0 is down" for a in c.get_active_alerts())


def stored_nodes(c) -> int:
    """How many node rows the store's newest snapshot holds (the pages' past reads them)."""
    snapshot = PastCollector(c, time.time()).snapshot
    return len(((snapshot.records if snapshot else {}).get("network") or {}).get("nodes") or ())


@pytest.fixture(scope="module")
def moment(tmp_path_factory):
    """``(collector, moment)``: the moment node-0 was down, after it came back."""
    env = {
        "PRSM_DEMO": "true",
        "PRSM_DEMO_NODES": "4",
        "PRSM_METRICS_INTERVAL": "0.25",
        "PRSM_PERSIST": "true",
        "PRSM_DATA_DIR": str(tmp_path_factory.mktemp("history")),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        st.cache_resource.clear()
        shared.release_collector()
        shared_views.clear()
        open_page(AppTest.from_file("../streamlit_app.py", default_timeout=30), "streamlit_app.py")
        c = collector()
        wait_until(lambda: len((c.get_latest_metrics()["network"] or {}).get("nodes") or ()) == 4, 30)
        wait_until(lambda: stored_nodes(c) == 4, 30)  # the node rows are in the store before the fault
        c.configure(fault={"action": "stop_node", "name": "node-0"})
        wait_until(lambda: node_down(c), 30)
        wait_until(lambda: c.get_latest_metrics()["network"]["active_nodes"] == 3, 30)
        at = time.time()
        c.configure(fault={"action": "start_node", "name": "node-0"})
        wait_until(lambda: not node_down(c) and c.get_latest_metrics()["network"]["active_nodes"] == 4, 60)
        yield c, at
        st.cache_resource.clear()
        shared.release_collector()


def opened(path: str, at: float | None) -> AppTest:
    app = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    if at is not None:
        app.query_params["at"] = dt.datetime.fromtimestamp(at, dt.UTC).isoformat()
    return open_page(app, path)


def fragments(monkeypatch) -> list:
    """The ``run_every`` of every fragment the pages make from now on."""
    made = []
    real = st.fragment

    def spy(*args, **kwargs):
        made.append(kwargs.get("run_every"))
        return real(*args, **kwargs)

    monkeypatch.setattr(st, "fragment", spy)
    return made


@pytest.mark.parametrize("path", PAGES)
def test_a_page_at_a_moment_says_so_runs_once_and_offers_the_way_back(moment, monkeypatch, path):
    _, at = moment
    made = fragments(monkeypatch)
    app = opened(path, at)
    banner = [m.value for m in app.markdown if "not live" in m.value]
    assert len(banner) == 1 and "Showing " in banner[0], banner
    assert made == []  # no live fragment
    assert any(b.label == "Back to live" for b in app.button)
    app.button(key="moment_back").click().run()
    assert "at" not in app.query_params
    assert not [m.value for m in app.markdown if "not live" in m.value]
    assert made and made[-1] is not None  # live again: the page refreshes


def stored_row(c, component: str, at: float) -> dict:
    frame = c.history(component, 2, end=at)
    return frame.iloc[-1].to_dict()


def test_the_network_page_at_the_moment_shows_the_stored_node_down_not_the_live_state(moment):
    c, at = moment
    app = opened("pages/2_Network.py", at)
    cards = {m.label: m.value for m in app.metric}
    assert cards["Nodes up"] == f"{stored_row(c, 'network', at)['active_nodes']:.0f}" == "3"
    assert c.get_latest_metrics()["network"]["active_nodes"] == 4  # live: all up again
    nodes = app.dataframe[0].value
    assert dict(zip(nodes["name"], nodes["status"], strict=True))["node-0"] == "down"
    assert dict(zip(nodes["name"], nodes["links"], strict=True))["node-0"] == "0/3"


def test_the_alerts_page_at_the_moment_lists_the_alerts_active_then(moment):
    c, at = moment
    assert not node_down(c)  # live: resolved
    app = opened("pages/4_Alerts.py", at)
    texts = [t.value for t in app.text]
    assert "Node node-0 is down" in texts
    assert any(s.value.startswith("Active (") and s.value != "Active (0)" for s in app.subheader)
    assert not [b for b in app.button if b.label.startswith("Acknowledge")]  # the past is read-only


def test_the_overview_and_ai_pages_take_their_cards_from_the_stored_row_at_the_moment(moment):
    c, at = moment
    ai = stored_row(c, "ai", at)
    app = opened("pages/3_AI_Models.py", at)
    cards = {m.label: m.value for m in app.metric}
    assert cards["Models up"] == f"{ai['active_models']:,.0f}"
    models = app.dataframe[0].value
    assert set(models[models["node"] == "node-0"]["status"]) == {"down"}
    overview = opened("streamlit_app.py", at)
    assert any("3/4 nodes up" in c_.value for c_ in overview.caption), [c_.value for c_ in overview.caption]


def test_a_bad_moment_is_named_and_the_page_stays_live(moment, monkeypatch):
    made = fragments(monkeypatch)
    app = AppTest.from_file("../streamlit_app.py", default_timeout=30)
    app.query_params["at"] = "last tuesday"
    app.run()
    assert any("at='last tuesday' is not a time" in e.value.replace("\\", "") for e in app.error)
    assert made and made[-1] is not None
