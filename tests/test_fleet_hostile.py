"""A watched instance cannot break a page (issue 22, item 5).

A real HTTP server plays an instance whose answers have the shape of prsm-monitor's API but
hostile values: numbers as strings, NaN, ±Infinity and 1e308, names of a million characters,
numbers where text belongs and lists where numbers belong, alerts of unknown levels. The
answers start from a real one (a demo collector's), so every key a page reads is there. The
Fleet page (whose first row is this instance itself) and every page with ``?instance=edge``
must render without an exception, and what reaches them must be checked values."""

from __future__ import annotations

import copy
import math
import time

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor import MetricsCollector
from prsm_monitor.core import shared
from prsm_monitor.fleet import Fleet, validate
from prsm_monitor.settings.model import Settings

from .conftest import wait_until
from .fixtures.answering import Answering
from .test_app import PAGES

pytestmark = pytest.mark.timeout(300)
LONG = "N" * 100_000  # dozens of them: the answer stays under the 8 MiB an instance may send


def corrupt(tree, how: str, key: str | None = None):
    """``tree`` with every value spoilt the way ``how`` says (``nulls``: all but the time stamps
    and windows, without which a record is not shown at all)."""
    if how == "nulls" and key in ("timestamp", "window_seconds", "started"):
        return tree
    if isinstance(tree, dict):
        return {k: corrupt(v, how, k) for k, v in tree.items()}
    if isinstance(tree, list):
        return [corrupt(v, how, key) for v in tree]
    if isinstance(tree, bool) or tree is None:
        return {"strings": "yes", "absurd": math.nan, "types": [tree], "nulls": None}[how]
    if isinstance(tree, (int, float)):
        return {
            "strings": f"{tree}",
            "absurd": (math.nan, math.inf, -math.inf, 1e308, -1e308)[len(key or "") % 5],
            "types": {"n": [tree]},
            "nulls": None,
        }[how]
    if isinstance(tree, str):
        named = key in ("name", "node", "model", "message")  # names of 100,000 characters, numbers for the rest
        return {"strings": tree, "absurd": 1e308, "types": LONG if named else 12345, "nulls": LONG if named else tree}[
            how
        ]
    return tree


@pytest.fixture(scope="module")
def real_answers():
    """A real /api/metrics, a history and an alert log, from a demo collector with an alert."""
    with MetricsCollector(settings=Settings(demo=True, interval=0.2)) as collector:
        collector.start()
        wait_until(lambda: (collector.latest("ai") or {}).get("models"), 60)
        collector.create_alert("warning", "network", "Node node-1 is slow", {"node": "node-1", "value": 3.0})
        metrics = copy.deepcopy(collector.get_latest_metrics())
        history = {
            c: collector.history(c, 5).tail(20).to_dict("records") for c in ("system", "network", "ai", "collector")
        }
        alerts = collector.get_alerts()
    return metrics, history, alerts


@pytest.fixture(scope="module")
def hostile(real_answers):
    """The instance: its answers are swapped by setting ``served``."""
    metrics, history, alerts = real_answers
    state = {"how": "strings"}

    def spoilt(value):
        return lambda: corrupt(value, state["how"])

    def metrics_now():
        answer = corrupt(metrics, state["how"])
        marker = {"id": 1, "level": "info", "component": "system", "message": f"variant {state['how']}", "started": 1}
        answer["active_alerts"] = [*answer["active_alerts"], marker]
        answer["alerts"] = [*answer["alerts"], {"id": 9, "level": "apocalyptic", "component": "system"}]
        return answer

    routes = {
        "/api/metrics": (200, metrics_now),
        "/api/settings": (200, spoilt({"thresholds": {"cpu": {"warning": 80.0, "critical": 95.0}}})),
        "/api/alerts": (200, spoilt({"alerts": alerts, "active": []})),
        **{
            f"/api/historical/{c}": (200, spoilt({"data": rows, "fields": {"cpu_percent": {"unit": "%"}}}))
            for c, rows in history.items()
        },
    }
    server = Answering(routes)
    try:
        yield server, state
    finally:
        server.close()


def edge_state(hub):
    fleet = next(s for s in hub.sources if isinstance(s, Fleet))
    return fleet.state("edge")


@pytest.fixture
def app_env(monkeypatch, hostile):
    server, state = hostile
    monkeypatch.setenv("PRSM_DEMO", "false")
    monkeypatch.setenv("PRSM_METRICS_INTERVAL", "0.2")
    monkeypatch.setenv("PRSM_INSTANCES", f"edge=http://127.0.0.1:{server.port}")
    st.cache_resource.clear()
    shared.release_collector()
    yield state
    st.cache_resource.clear()
    shared.release_collector()


def answered(state, how: str) -> bool:
    return state.status == "up" and any(a["message"] == f"variant {how}" for a in state.metrics["active_alerts"])


@pytest.mark.parametrize("how", ["strings", "absurd", "types", "nulls"])
def test_hostile_values_from_an_instance_break_no_page(app_env, how):
    app_env["how"] = how
    first = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    first.run()
    hub = shared.current_collector()
    state = wait_until(lambda: answered(s := edge_state(hub), how) and s, 30)

    checked = state.metrics  # what the pages read: every value checked
    if how == "nulls":  # nothing out of range: the records stay, without figures
        assert checked["system"]["cpu_percent"] is None and checked["network"]["nodes"]
    else:  # a record with a value that does not fit is not shown, and the reason is
        assert checked["system"] is None and checked["network"] is None and checked["ai"] is None
        assert (
            checked["errors"]["system"].startswith("the instance sent ") and "expected" in checked["errors"]["system"]
        )
    assert all(len(a["message"]) <= validate.MAX_MESSAGE for a in checked["alerts"])
    assert all(a["level"] in ("info", "warning", "error", "critical") for a in checked["alerts"])
    assert all(len(n.get("name") or "") <= validate.MAX_TEXT for n in (checked["network"] or {}).get("nodes") or [])

    fleet_page = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    fleet_page.switch_page("pages/5_Fleet.py")
    fleet_page.run()
    assert not fleet_page.exception, [e.value for e in fleet_page.exception]
    table = fleet_page.dataframe[0].value
    assert table["instance"].tolist() == ["This instance", "edge"]
    assert table["status"].tolist() == ["up", "up"] and pd.isna(
        table.loc[1, "cpu"]
    )  # shown as missing (None when no row has a figure yet)

    for path in PAGES:
        at = AppTest.from_file("../streamlit_app.py", default_timeout=60)
        at.query_params["instance"] = "edge"
        if path != "streamlit_app.py":
            at.switch_page(path)
        at.run()
        assert not at.exception, (path, [e.value for e in at.exception])
        assert not any("Traceback" in e.value or "ValueError" in e.value for e in at.error), path


def test_the_values_of_an_answer_are_checked_by_key(real_answers):
    """validate.metrics on the real answer keeps it; on spoilt ones keeps its shape with the
    spoilt values gone."""
    metrics, _, _ = real_answers
    kept = validate.metrics(metrics)
    assert kept["system"]["cpu_percent"] == metrics["system"]["cpu_percent"]
    assert kept["network"]["nodes"] == metrics["network"]["nodes"]  # a real answer passes whole
    assert kept["ai"]["models"] == metrics["ai"]["models"]
    now = time.time()
    clean = validate.metrics(
        {
            "system": {"timestamp": now, "cpu_percent": 250.5, "hostname": LONG},
            "network": {"timestamp": now, "window_seconds": 60, "nodes": [{"name": LONG, "latency_ms": None}]},
            "ai": "not a record",
            "collector": {"timestamp": now, "ticks_total": "7"},
            "alerts": [
                {"id": 1, "level": "warning", "component": "ai", "message": LONG, "timestamp": now},
                {"id": "2", "level": "error", "component": "ai", "timestamp": now},  # not an integer id
                {"id": 3, "level": "fatal", "component": "ai", "timestamp": now},  # not a level
                {"id": 4, "level": "error", "component": "ai"},  # no time
            ],
            "active_alerts": "many",
            "errors": {"system": LONG, "elsewhere": "x"},
        }
    )
    assert clean["system"] is None and clean["collector"] is None and clean["ai"] is None
    assert clean["errors"]["system"] == "the instance sent cpu_percent=250.5: expected a number from 0 to 100"
    [node] = clean["network"]["nodes"]  # a name is cut, a missing value stays missing
    assert len(node["name"]) == validate.MAX_TEXT and node["latency_ms"] is None
    [alert] = clean["alerts"]
    assert len(alert["message"]) == validate.MAX_MESSAGE and alert["details"] == {} and alert["started"] == now
    assert alert["acknowledged"] is False and clean["active_alerts"] == []
    assert "elsewhere" not in clean["errors"]
