"""Silences (prsm_monitor.alerts.silences) and their API, acknowledgement over the API, and who
made each change in the alert log."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from prsm_monitor.alerts import AlertLog
from prsm_monitor.alerts.silences import KEPT, MAX_LIVE, Silences, check_duration, labels
from prsm_monitor.api.wiring import build_app
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.values import ConfigError
from prsm_monitor.ui.views.silences import ends_at, until_tomorrow

from .fixtures.server import InProcessServer

T0 = 1_800_000_000.0
NODE_DOWN = {"level": "error", "component": "network", "key": "custom:network:error:Node n1 is down",
             "kind": "error", "details": {"node": "n1"}}  # fmt: skip
LATENCY = {"level": "warning", "component": "network", "kind": "fired", "details": {"rule": "latency"}}


def test_a_silence_matches_alerts_whose_labels_equal_every_matcher_while_it_is_active():
    book = Silences()
    silence = book.create({"component": "network", "node": "n1"}, T0 + 60, created_by="alice", now=T0)
    assert book.silenced(NODE_DOWN, T0 + 1)["id"] == silence["id"]
    assert book.silenced(LATENCY, T0 + 1) is None  # no node label: the node matcher fails
    assert book.silenced({**NODE_DOWN, "details": {"node": "n2"}}, T0 + 1) is None
    assert book.silenced(NODE_DOWN, T0 + 60) is None  # ends on time
    assert book.list(T0 + 60)[0]["status"] == "expired"


def test_a_pending_silence_starts_later_and_a_rule_alert_is_matched_by_its_rule():
    book = Silences()
    book.create({"rule": "latency", "level": "warning"}, T0 + 120, starts_at=T0 + 60, created_by="bob", now=T0)
    assert book.list(T0)[0]["status"] == "pending"
    assert book.silenced(LATENCY, T0 + 30) is None
    assert book.silenced(LATENCY, T0 + 61) is not None
    assert book.silenced({**LATENCY, "level": "critical"}, T0 + 61) is None
    # the resolution of a silenced alert (an info event) is silent too, whatever its level
    resolved = {"level": "info", "component": "network", "kind": "resolved", "details": {"rule": "latency"}}
    assert book.silenced(resolved, T0 + 61) is not None
    assert labels({"key": "rule:cpu", "level": "warning", "component": "system"})["rule"] == "cpu"


def test_expiring_early_ends_it_now_and_the_log_names_who_did_what():
    log = AlertLog()
    book = Silences(log)
    silence = book.create({"node": "n1"}, T0 + 3600, comment="reboot", created_by="alice", now=T0)
    expired = book.expire(silence["id"], by="bob", now=T0 + 10)
    assert expired["status"] == "expired" and expired["ends_at"] == T0 + 10 and expired["expired_by"] == "bob"
    assert book.silenced(NODE_DOWN, T0 + 11) is None
    assert book.expire("nope", by="bob", now=T0) is None
    created, ended = log.events()
    assert created["kind"] == "changed" and created["details"]["actor"] == "alice" and "alice" in created["message"]
    assert created["details"]["comment"] == "reboot"
    assert ended["details"]["actor"] == "bob" and "expired early by bob" in ended["message"]


@pytest.mark.parametrize(
    ("matchers", "end", "field"),
    [
        ({}, T0 + 60, "matchers"),
        ({"host": "x"}, T0 + 60, "matchers"),
        ({"level": "loud"}, T0 + 60, "matchers.level"),
        ({"component": "disk"}, T0 + 60, "matchers.component"),
        ({"node": ""}, T0 + 60, "matchers.node"),
        ({"node": "n1"}, T0 - 1, "ends_at"),
        ({"node": "n1"}, T0 + 400 * 86400, "ends_at"),
        ({"node": "n1"}, float("nan"), "ends_at"),
    ],
)
def test_a_bad_silence_names_the_field(matchers, end, field):
    with pytest.raises(ConfigError) as error:
        Silences().create(matchers, end, created_by="alice", now=T0)
    assert error.value.variable == field


def test_silences_are_bounded():
    book = Silences()
    for i in range(MAX_LIVE):
        book.create({"node": f"n{i}"}, T0 + 60, created_by="loop", now=T0)
    with pytest.raises(ConfigError, match="at most 1000 active or pending"):
        book.create({"node": "one more"}, T0 + 60, created_by="loop", now=T0)
    book.create({"node": "later"}, T0 + 120, created_by="loop", now=T0 + 60)  # the first ones have ended
    assert len(book.list(T0 + 60)) == KEPT  # the oldest expired ones are dropped beyond KEPT in all


def test_durations_and_until_tomorrow():
    assert check_duration("90s") == 90 and check_duration("4h") == 14400 and check_duration(30) == 30
    for bad in ("0s", "2y", "h", -5, True):
        with pytest.raises(ConfigError):
            check_duration(bad)
    zone = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 3, 28, 23, 30, tzinfo=zone).timestamp()  # the night clocks go forward
    assert dt.datetime.fromtimestamp(until_tomorrow(now, zone), zone) == dt.datetime(2026, 3, 29, 9, tzinfo=zone)
    assert ends_at("4 h", "", now, zone) == now + 14400
    assert ends_at("custom", " 20s ", now, zone) == now + 20
    with pytest.raises(ConfigError, match="custom duration"):
        ends_at("custom", "soon", now, zone)


def test_silences_survive_a_restart(tmp_path):
    settings = Settings(demo=False, data_dir=str(tmp_path))
    now = time.time()
    with MetricsCollector(settings=settings) as collector:
        kept = collector.silences.create({"node": "n1"}, now + 3600, comment="maintenance", created_by="alice", now=now)
    with MetricsCollector(settings=settings) as collector:
        [restored] = collector.silences.list(time.time())
    assert restored["id"] == kept["id"] and restored["comment"] == "maintenance" and restored["status"] == "active"


# -- the API -------------------------------------------------------------------------------------
TOKEN = "t" * 24


@pytest.fixture(scope="module")
def served():
    collector = MetricsCollector(settings=Settings(demo=False))  # ticked by hand
    collector.configure(thresholds={"memory": {"warning": 0.01, "critical": 99.99}})  # fires on the first tick
    collector.collect_once()
    with InProcessServer(build_app(Settings(demo=False), collector)) as server, requests.Session() as http:
        yield collector, server.url, http
    collector.close()


def test_create_list_get_and_expire_silences_over_the_api(served):
    collector, url, http = served
    body = {"matchers": {"rule": "memory"}, "duration": "30m", "comment": "resize", "created_by": "carol"}
    created = http.post(url + "/api/silences", json=body, timeout=10)
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["created_by"] == "carol (API, this machine)" and 1799 < silence["ends_at"] - time.time() < 1801
    [memory] = [a for a in collector.get_active_alerts() if a["key"] == "rule:memory"]
    assert collector.silences.silenced(memory, time.time())["id"] == silence["id"]
    [listed_alert] = http.get(url + "/api/alerts", params={"active": "true"}, timeout=10).json()["active"]
    assert listed_alert["silenced_by"] == silence["id"]  # still listed, with what mutes it
    listed = http.get(url + "/api/silences", params={"status": "active"}, timeout=10).json()
    assert silence["id"] in [s["id"] for s in listed["silences"]]
    assert http.get(url + f"/api/silences/{silence['id']}", timeout=10).json()["comment"] == "resize"
    expired = http.delete(url + f"/api/silences/{silence['id']}", timeout=10)
    assert expired.status_code == 200 and expired.json()["status"] == "expired"
    assert collector.silences.silenced(memory, time.time()) is None
    assert http.delete(url + "/api/silences", params={"id": silence["id"]}, timeout=10).status_code == 200
    assert http.delete(url + "/api/silences/unknown", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"matchers": {"rule": "memory"}}, "duration"),
        ({"matchers": {"rule": "memory"}, "duration": "1h", "ends_at": 1}, "duration"),
        ({"matchers": {"rule": "memory"}, "duration": "forever"}, "duration"),
        ({"matchers": {"colour": "red"}, "duration": "1h"}, "matchers"),
        ({"matchers": {"level": "loud"}, "duration": "1h"}, "matchers.level"),
        ({"matchers": {"rule": "memory"}, "ends_at": 5}, "ends_at"),
        ({"matchers": {"rule": "memory"}, "duration": "1h", "owner": "x"}, "owner"),
        ({"matchers": {"rule": "memory"}, "duration": "1h", "comment": "a\nb"}, "comment"),
        ({"matchers": {"rule": "memory"}, "duration": "1h", "created_by": ""}, "created_by"),
        ([1, 2], "body"),
    ],
)
def test_a_bad_silence_body_is_a_400_naming_the_field_value_and_expectation(served, body, parameter):
    _, url, http = served
    response = http.post(url + "/api/silences", json=body, timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["parameter"] == parameter and "expected" in error and "value" in error


def test_acknowledge_over_the_api(served):
    collector, url, http = served
    [memory] = [a for a in collector.get_active_alerts() if a["key"] == "rule:memory"]
    response = http.post(url + f"/api/alerts/{memory['id']}/ack", json={"by": "dave"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["alert"]["acknowledged_by"] == "dave (API, this machine)"
    logged = collector.get_alerts()[-1]
    assert logged["kind"] == "changed" and logged["details"]["actor"] == "dave (API, this machine)"
    assert http.post(url + "/api/alerts/999999/ack", timeout=10).status_code == 404
    assert http.post(url + "/api/alerts/abc/ack", timeout=10).json()["parameter"] == "id"
    assert http.get(url + f"/api/alerts/{memory['id']}/ack", timeout=10).status_code == 405


def test_with_operators_configured_api_writes_need_the_token():
    collector = MetricsCollector(settings=Settings(demo=False))
    body = {"matchers": {"node": "n1"}, "duration": "1h"}
    try:
        with InProcessServer(build_app(Settings(demo=False, operators=("ops@example.com",)), collector)) as server:
            refused = requests.post(server.url + "/api/silences", json=body, timeout=10)
            assert refused.status_code == 403 and "PRSM_API_TOKEN" in refused.json()["message"]
            settings = requests.post(server.url + "/api/settings", json={"collection_interval": 2}, timeout=10)
            assert settings.status_code == 403
            assert requests.get(server.url + "/api/silences", timeout=10).status_code == 200  # reading stays open
        configured = Settings(demo=False, operator_password="open sesame", api_token=TOKEN)
        with InProcessServer(build_app(configured, collector)) as server:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            allowed = requests.post(server.url + "/api/silences", json=body, headers=auth, timeout=10)
            assert allowed.status_code == 201 and allowed.json()["created_by"] == "API client (API, token)"
        assert collector.collection_interval == 1.0
    finally:
        collector.close()


def test_a_settings_change_over_the_api_names_who_made_it(served):
    collector, url, http = served
    response = http.post(url + "/api/settings", json={"thresholds": {"disk": {"warning": 91}}}, timeout=10)
    assert response.status_code == 200, response.text
    change = collector.get_alerts()[-1]
    assert change["details"]["actor"] == "API client (API, this machine)"
    assert change["message"].endswith(", by API client (API, this machine)")
