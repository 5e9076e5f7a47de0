"""POST /api/settings: the API's one write, validated before collector.configure (in-process server)."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prsm_monitor.api import build_app
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings

from .fixtures.server import InProcessServer


@pytest.fixture(scope="module")
def served():
    collector = MetricsCollector(settings=Settings(demo=False))  # not started: configure() alone is tested
    with InProcessServer(build_app(Settings(), collector)) as server, requests.Session() as http:
        yield collector, server, http
    collector.close()


def post(served, body, content_type="application/json"):
    _, server, http = served
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return http.post(server.url + "/api/settings", data=data, headers={"Content-Type": content_type}, timeout=10)


def test_a_valid_change_applies_and_is_logged(served):
    collector = served[0]
    response = post(served, {"thresholds": {"cpu": {"critical": 97}}, "collection_interval": 2, "max_history": 500})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["thresholds"]["cpu"] == {**body["thresholds"]["cpu"], "warning": 80.0, "critical": 97.0}
    assert (body["collection_interval"], body["max_history"]) == (2, 500)
    assert (collector.rules["cpu"].critical, collector.collection_interval, collector.store.capacity) == (97, 2, 500)
    cpu = body["thresholds"]["cpu"]  # and how the rule judges: a 1-minute mean, breached for 5 minutes
    assert (cpu["smooth_seconds"], cpu["for_seconds"], cpu["clear_margin"]) == (60.0, 300.0, 5.0)
    kinds = {e["details"]["setting"] for e in collector.get_alerts() if e["kind"] == "changed"}
    assert {"thresholds.cpu", "collection_interval", "max_history"} <= kinds


def test_a_too_large_body_is_413(served):
    assert post(served, "[" + "1," * 40_000 + "1]").status_code == 413


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
NAMES = st.sampled_from(["thresholds", "collection_interval", "max_history", "other"])
RULES = st.sampled_from(["cpu", "memory", "latency", "confidence", "nope"])
THRESHOLDS = st.dictionaries(
    RULES, JSON | st.dictionaries(st.sampled_from(["warning", "critical", "x"]), JSON, max_size=2), max_size=2
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | st.dictionaries(NAMES, JSON | THRESHOLDS, max_size=3))
def test_any_json_body_is_answered_without_500(served, body):
    response = post(served, body)
    assert response.status_code in (200, 400), (body, response.text)
    answer = response.json()
    if response.status_code == 400:
        assert answer["status"] == 400 and answer["message"]
    else:
        assert set(answer) == {"collection_interval", "max_history", "thresholds"}


@pytest.mark.parametrize("key", ["\n", "", "a\rb", "\u2028"])
def test_an_unknown_key_that_is_not_printable_keeps_the_message_on_one_line(served, key):
    """Found by the fuzz suite: a body key "\\n" made a two-line message."""
    response = post(served, {key: None})
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == key and body["message"].isprintable() and repr(key) in body["message"]
