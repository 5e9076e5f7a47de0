"""Issue 25: every demo fault, each on a real demo network of its own, makes an incident whose
timeline tells it in order: the fault first, its alerts in the order the log has them, the
resolution last, and a time to detect equal to the alert's firing time less the fault's.

The faults run once for the suite, all at once, each on a default demo network of its own,
each injected only until its alerts fire, then cleared until its incident ends
(``tests/fault_runs.py``, shared with the README's fault table test);
``bench/bench_incidents.py`` runs the two-minute version.

The API's two endpoints are checked here too, against the incidents these faults made.
"""

from __future__ import annotations

import re

import pytest
import requests

from prsm_monitor.alerts.incident_report import markdown
from prsm_monitor.alerts.log import OPENING
from prsm_monitor.api.wiring import build_app
from prsm_monitor.settings.model import Settings

from .fault_runs import FAULTS
from .fixtures.server import InProcessServer

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("fault_runs")]  # with the README fault test


def named(text: str) -> bool:
    """Does ``text`` name a demo node (``node-3``, not a token such as ``node-3fa2c41b09``)?"""
    return re.search(r"node-[0-9](?![0-9a-f])", text) is not None


@pytest.fixture(scope="module")
def stories(fault_runs):
    """Each fault's incident from the suite's one run of every fault (``tests/fault_runs.py``);
    a fault whose run failed is reported by its test."""
    return {
        name: run.error or AssertionError("no incident")
        if run.record is None
        else {"record": run.record, "injected": run.injected, "events": run.events, "collector": run.collector}
        for name, run in fault_runs.items()
    }


@pytest.mark.parametrize("name", list(FAULTS))
def test_the_timeline_has_the_fault_first_its_alerts_in_order_and_the_resolution_last(stories, name):
    story = stories[name]
    if isinstance(story, BaseException):
        pytest.fail(f"{name}: {story}")
    record, events = story["record"], story["events"]
    timeline = record["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert kinds[0] == "fault" and timeline[0]["time"] == story["injected"], kinds
    assert record["fault"]["start"] == story["injected"] and record["fault"]["end"] is not None
    assert kinds[-1] == "ended" and timeline[-1]["time"] == record["end"], kinds
    assert "fault_cleared" in kinds and kinds.index("fault_cleared") > kinds.index("fault")
    members = {a["alert_id"] for a in record["alerts"]}
    logged = [e for e in events if e.get("alert_id") in members and e["kind"] != "changed"]  # the log's order
    told = [e for e in timeline if "alert_id" in e and e["kind"] != "acknowledged"]
    assert [(e["kind"], e["time"]) for e in told] == [(e["kind"], e["timestamp"]) for e in logged]
    assert [e["time"] for e in timeline] == sorted(e["time"] for e in timeline)
    for alert_id in members:  # each alert fired before it was resolved, and was resolved before the end
        mine = [e["kind"] for e in told if e["alert_id"] == alert_id]
        assert mine[0] in OPENING and mine[-1] == "resolved", mine
    first_alert = min(e["timestamp"] for e in logged if e["kind"] in OPENING)
    assert record["detected_from"] == "fault"
    assert record["time_to_detect_s"] == pytest.approx(first_alert - story["injected"], abs=1e-6)
    abnormal = [e for e in timeline if e["kind"] == "first_abnormal"]
    fired_at = {a["alert_id"]: a["fired_at"] for a in record["alerts"]}
    assert all(story["injected"] <= e["time"] <= fired_at[e["of_alert"]] for e in abnormal), (abnormal, fired_at)
    assert record["duration_s"] == pytest.approx(record["end"] - record["start"])
    cleared = record["end"] - record["fault"]["end"]
    print(f"{name}: detected after {record['time_to_detect_s']:.1f} s, ended {cleared:.1f} s after clearing: {kinds}")


def test_a_stopped_node_names_its_node_and_models_and_reads_as_a_post_mortem(stories):
    story = stories["stop a node"]
    if isinstance(story, BaseException):
        pytest.fail(str(story))
    record = story["record"]
    assert record["nodes"] == ["node-0"] and record["models"]
    assert {"series": "node:node-0", "field": "up"} in [
        {k: s[k] for k in ("series", "field")} for s in record["signals"]
    ]
    text = markdown(record, csv_name="data.csv")
    for heading in ("## Summary", "## Impact", "## Timeline", "## What resolved it"):
        assert heading in text
    assert "Demo fault cleared: node node-0 started at" in text  # what resolved it
    assert "| Time to detect |" in text and "from the fault to the first alert" in text


@pytest.fixture(scope="module")
def api(stories):
    """The API over the collector of the stopped node's story (its incident and the others it saw)."""
    story = stories["stop a node"]
    if isinstance(story, BaseException):
        pytest.fail(f"stop a node: {story}")
    with InProcessServer(build_app(Settings(demo=False), story["collector"])) as server, requests.Session() as http:
        yield server.url, http


def test_the_api_lists_the_incidents_and_answers_one_with_its_timeline(api, stories):
    url, http = api
    listed = http.get(url + "/api/incidents", timeout=10)
    assert listed.status_code == 200, listed.text
    items = listed.json()["incidents"]
    done = [stories["stop a node"]["record"]]  # the incident of the collector the API serves
    assert {r["id"] for r in done} <= {i["id"] for i in items}
    assert [i["start"] for i in items] == sorted((i["start"] for i in items), reverse=True)
    first = done[0]
    item = next(i for i in items if i["id"] == first["id"])
    assert item["cause"] == first["cause"] and item["state"] == "resolved" and item["end"] == first["end"]
    assert item["counts"]["alerts"] == len(first["alerts"]) and item["counts"]["firing"] == 0
    one = http.get(f"{url}/api/incidents/{first['id']}", timeout=10)
    assert one.status_code == 200, one.text
    body = one.json()
    assert [(e["time"], e["kind"]) for e in body["timeline"]] == [(e["time"], e["kind"]) for e in first["timeline"]]
    assert body["time_to_detect_s"] == pytest.approx(first["time_to_detect_s"])


def test_the_api_answers_an_unknown_incident_404_and_a_bad_id_400(api):
    url, http = api
    unknown = http.get(url + "/api/incidents/999999", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["parameter"] == "id"
    for bad in ("abc", "0", "-1", "1.5", "²"):
        answer = http.get(f"{url}/api/incidents/{bad}", timeout=10)
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["parameter"] == "id" and "whole number" in answer.json()["expected"]
    assert http.get(url + "/api/incidents?anonymize=maybe", timeout=10).status_code == 400


def test_the_api_anonymizes_the_incident_when_asked(api, stories):
    url, http = api
    record = stories["stop a node"]
    if isinstance(record, BaseException):
        pytest.fail(str(record))
    plain = http.get(f"{url}/api/incidents/{record['record']['id']}", timeout=10).text
    hidden = http.get(f"{url}/api/incidents/{record['record']['id']}", params={"anonymize": "true"}, timeout=10)
    assert "node-0" in plain and hidden.status_code == 200
    assert not named(hidden.text) and re.search(r"node-[0-9a-f]{10}", hidden.text)  # node-<10 hex digits>
    listed = http.get(url + "/api/incidents", params={"anonymize": "true"}, timeout=10).text
    assert named(http.get(url + "/api/incidents", timeout=10).text) and not named(listed)
