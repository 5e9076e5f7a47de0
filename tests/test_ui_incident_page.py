"""Issue 25: the incident page (AppTest) and its Markdown report; untrusted names stay text."""

from __future__ import annotations

import time

import pytest

from prsm_monitor.alerts.incident_link import incident_url
from prsm_monitor.alerts.incident_report import markdown
from prsm_monitor.alerts.incident_timeline import incident_record
from prsm_monitor.notify.delivery_log import Delivery, DeliveryLog
from prsm_monitor.notify.grouping import Incident, Member
from prsm_monitor.notify.message import render
from prsm_monitor.notify.view import notifications_view
from prsm_monitor.settings.notify import check_notifications
from prsm_monitor.settings.values import ConfigError

from .test_app import collector, fresh_app, open_page

HOSTILE = "node-[x](https://evil.example)<b>"


@pytest.fixture
def app(monkeypatch):
    yield from fresh_app(monkeypatch, PRSM_DEMO="false", PRSM_METRICS_INTERVAL="3600")


def raise_incident(c) -> int:
    """A node down and a model it hosted (one incident), acknowledged by a named operator."""

    def raise_them(metrics=None):
        c.create_alert("error", "network", f"Node {HOSTILE} is down", {"node": HOSTILE})
        c.create_alert("warning", "ai", f"Model m-1 is unavailable on {HOSTILE}", {"node": HOSTILE, "model": "m-1"})

    c.add_alert_rule(raise_them)
    raise_them()
    down = next(a for a in c.get_active_alerts() if a["component"] == "network")
    c.acknowledge(down["id"], "carol")
    now = time.time()
    c.silences.create({"node": HOSTILE}, now + 600, comment="maintenance", created_by="dave", now=now)
    [incident] = [i for i in c.notifier.incidents() if i["labels"].get("node") == HOSTILE]
    return incident["id"]


def test_the_incident_page_shows_the_timeline_times_and_export_buttons(app):
    open_page(app, "streamlit_app.py")
    c = collector()
    incident_id = raise_incident(c)
    app.query_params["incident"] = str(incident_id)
    open_page(app, "pages/6_Incident.py")
    assert [t.value for t in app.title] == ["Incident"]
    heading = app.subheader[0].value
    assert f"Incident {incident_id}:" in heading and "\\[x\\]\\(https" in heading  # escaped, not a link
    cards = {m.label: m.value for m in app.metric}
    assert cards["Alerts"] == "2" and cards["Time to acknowledge"] != "not yet"
    assert cards["Time to detect"] == "–"  # no fault, no stored value past a threshold: not known
    [table] = app.dataframe
    kinds = list(table.value["kind"])
    assert kinds == ["fired", "fired", "acknowledged", "silenced"], kinds
    assert list(table.value["who"])[2:] == ["carol", "dave"]
    assert HOSTILE in " ".join(table.value["text"])  # a table cell shows the name as typed
    labels = [b.proto.label for b in app.main.get("download_button")]
    assert labels == ["Report (Markdown)", "Charts' data (CSV)"]
    assert "incident" in app.query_params


def test_an_unknown_incident_in_the_url_says_so_and_the_picker_shows_the_newest(app):
    open_page(app, "streamlit_app.py")
    incident_id = raise_incident(collector())
    app.query_params["incident"] = "424242"
    open_page(app, "pages/6_Incident.py")
    assert "424242" in app.error[0].value
    assert app.selectbox[0].value == incident_id


def test_the_report_escapes_names_and_reads_as_a_post_mortem(app):
    open_page(app, "streamlit_app.py")
    c = collector()
    incident_id = raise_incident(c)
    record = incident_record(c, notifications_view(c.notifier), incident_id)
    text = markdown(record, source="host:8501", csv_name="x.csv")
    assert text.startswith(f"# Incident {incident_id}: ")
    assert "[x](" not in text and "<b>" not in text  # a hostile name is neither a link nor HTML
    assert "node-\\[x\\](https://evil.example)\\<b\\>" in text
    assert "| Time to acknowledge |" in text and "| acknowledged | Acknowledged by carol: Node" in text
    assert "Not resolved: the incident is still open." in text
    assert "Nodes affected: node-\\[x\\]" in text and "Models affected: m-1" in text


def test_a_notification_links_the_incident_page_when_public_url_is_set():
    incident = Incident(7, {"node": "node-0"}, 1000.0)
    incident.members[1] = Member(1, "k", "error", "network", "Node node-0 is down", {"node": "node-0"}, 1000.0)
    members = list(incident.members.values())
    assert "Incident page" not in render(incident, members, "firing", 1010.0, "h").body
    public = check_notifications({"PRSM_PUBLIC_URL": "https://monitor.example.org/"}).public_url
    body = render(incident, members, "firing", 1010.0, "h", public_url=public).body
    assert "Incident page: https://monitor.example.org/Incident?incident=7" in body.splitlines()
    assert incident_url(None, 7) is None


@pytest.mark.parametrize("value", ["ftp://x", "https://m.example.org/?a=1", "monitor.example.org"])
def test_a_bad_public_url_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigError) as caught:
        check_notifications({"PRSM_PUBLIC_URL": value})
    assert caught.value.variable == "PRSM_PUBLIC_URL" and "http(s) URL" in str(caught.value)


def test_each_notification_about_the_incident_is_in_its_timeline_with_its_route_and_outcome(app):
    open_page(app, "streamlit_app.py")
    c = collector()
    incident_id = raise_incident(c)
    log = DeliveryLog()
    now = time.time()
    sent = log.add(Delivery("ops", "json://hooks.example", "firing", "[FIRING:2] x", incident_id, now, now))
    log.update(sent, status="sent", sent_at=now + 0.5, attempts=1)
    failed = log.add(Delivery("pager", "json://pager.example", "firing", "[FIRING:2] x", incident_id, now, now))
    log.update(failed, status="failed", error="status 503", attempts=3)
    log.add(Delivery("ops", "json://hooks.example", "firing", "another", incident_id + 1, now, now))  # not its own
    view = {**notifications_view(c.notifier), "deliveries": log.entries()}
    told = [e for e in incident_record(c, view, incident_id)["timeline"] if e["kind"] == "notification"]
    assert [(e["route"], e["status"]) for e in sorted(told, key=lambda e: e["route"])] == [
        ("ops", "sent"),
        ("pager", "failed"),
    ]
    assert any("delivered" in e["text"] for e in told) and any("failed: status 503" in e["text"] for e in told)
