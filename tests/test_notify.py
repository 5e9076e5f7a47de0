"""Notifications without receivers: settings, grouping and its timers, the sender's retries,
Alertmanager's payload, the message text, silences."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

import pytest

from prsm_monitor.alerts import AlertLog
from prsm_monitor.insight.watch import alert_labels
from prsm_monitor.notify.alertmanager import alertname, labels, payload
from prsm_monitor.notify.delivery_log import DROPPED, FAILED, SENT, Delivery, DeliveryLog
from prsm_monitor.notify.grouping import Grouper, Member, Timers
from prsm_monitor.notify.message import alert_lines, render
from prsm_monitor.notify.notifier import Notifier
from prsm_monitor.notify.sender import DeliveryFailed, Sender
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.notify import NotifySettings, Route, check_notifications
from prsm_monitor.settings.values import ConfigError

from .conftest import wait_until


# -- settings ---------------------------------------------------------------------------------
def test_env_routes_durations_and_alertmanager():
    env = {
        "PRSM_NOTIFY_URLS": "json://localhost/a, mailto://u:p@localhost?to=a@example.com,b@example.com",
        "PRSM_NOTIFY_MIN_LEVEL": "error",
        "PRSM_NOTIFY_COMPONENTS": "network,ai",
        "PRSM_NOTIFY_SEND_RESOLVED": "no",
        "PRSM_ESCALATE_URLS": "json://localhost/pager",
        "PRSM_ESCALATE_AFTER": "20m",
        "PRSM_NOTIFY_GROUP_WAIT": "500ms",
        "PRSM_ALERTMANAGER_URL": "http://am:9093/",
    }
    notify = Settings.from_env(env).notify
    default, escalation = notify.routes
    assert default.urls == ("json://localhost/a", "mailto://u:p@localhost?to=a@example.com,b@example.com")
    assert (default.min_level, default.components, default.send_resolved) == ("error", ("network", "ai"), False)
    assert escalation.escalation and escalation.urls == ("json://localhost/pager",)
    assert (notify.escalate_after, notify.group_wait, notify.group_interval) == (1200.0, 0.5, 300.0)
    assert notify.alertmanager_url == "http://am:9093" and notify.enabled
    assert not Settings.from_env({}).notify.enabled


@pytest.mark.parametrize(
    ("env", "variable", "value"),
    [
        ({"PRSM_NOTIFY_URLS": "json://x", "PRSM_NOTIFY_MIN_LEVEL": "loud"}, "PRSM_NOTIFY_MIN_LEVEL", "loud"),
        ({"PRSM_NOTIFY_URLS": "json://x", "PRSM_NOTIFY_COMPONENTS": "disk"}, "PRSM_NOTIFY_COMPONENTS", "disk"),
        ({"PRSM_NOTIFY_URLS": "nosuchscheme://host/x"}, "PRSM_NOTIFY_URLS", "nosuchscheme://host/****"),
        ({"PRSM_NOTIFY_URLS": "nosuchscheme://user:secret@host"}, "PRSM_NOTIFY_URLS", "nosuchscheme://…"),
        ({"PRSM_NOTIFY_URLS": "just-text"}, "PRSM_NOTIFY_URLS", "just-text"),
        ({"PRSM_ESCALATE_AFTER": "soon"}, "PRSM_ESCALATE_AFTER", "soon"),
        ({"PRSM_NOTIFY_GROUP_INTERVAL": "0s"}, "PRSM_NOTIFY_GROUP_INTERVAL", "0s"),
        ({"PRSM_NOTIFY_RETRIES": "-1"}, "PRSM_NOTIFY_RETRIES", "-1"),
        ({"PRSM_ALERTMANAGER_URL": "am:9093"}, "PRSM_ALERTMANAGER_URL", "am:9093"),
    ],
)
def test_a_bad_setting_names_variable_value_and_expectation(env, variable, value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert (caught.value.variable, caught.value.value) == (variable, value)
    assert "secret" not in str(caught.value) and caught.value.expected


def test_secrets_routes_and_their_errors():
    secrets = {
        "group_wait": "5s",
        "routes": [
            {"name": "ops", "urls": ["json://localhost/a"], "min_level": "critical", "components": ["ai"]},
            {"name": "pager", "urls": "json://localhost/p", "escalation": True},
        ],
    }
    notify = check_notifications({"PRSM_NOTIFY_GROUP_WAIT": "1s"}, secrets)  # the environment wins
    assert notify.group_wait == 1.0
    ops, pager = notify.routes
    assert (ops.min_level, ops.components, pager.escalation) == ("critical", ("ai",), True)
    bad = {"routes": [{"name": "ops", "urls": ["json://x"], "colour": "red"}]}
    with pytest.raises(ConfigError) as caught:
        check_notifications({}, bad)
    assert caught.value.variable == "notifications.routes[0].colour"
    with pytest.raises(ConfigError) as caught:
        check_notifications({}, {"routes": [{"name": "a", "urls": []}]})
    assert caught.value.variable == "notifications.routes[0].urls"


def test_the_cli_stops_on_a_bad_notification_setting():
    env = {**os.environ, "PRSM_NOTIFY_URLS": "json://x", "PRSM_NOTIFY_MIN_LEVEL": "loud"}
    done = subprocess.run(
        [sys.executable, "-m", "prsm_monitor", "collect", "--once", "--no-demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "prsm_monitor: PRSM_NOTIFY_MIN_LEVEL='loud' is invalid: expected one of warning, error, critical"
    ]


# -- grouping ---------------------------------------------------------------------------------
def event(alert_id, kind, t, level="error", component="network", message="m", **details):
    return {
        "id": alert_id * 100 + int(t),
        "alert_id": alert_id,
        "kind": kind,
        "timestamp": t,
        "level": level,
        "component": component,
        "message": message,
        "details": details,
    }


def test_a_node_going_down_is_one_incident_with_what_it_causes():
    g = Grouper(Timers(group_window=60))
    down = g.observe(event(1, "fired", 0, message="Node n0 is down", node="n0"))
    model = g.observe(event(2, "fired", 0, "warning", "ai", "Model m is unavailable on n0", node="n0", model="m"))
    latency = g.observe(event(3, "fired", 5, "warning", message="Average latency 130 ms", rule="latency"))
    cpu = g.observe(event(4, "fired", 6, "warning", "system", "CPU usage"))
    late = g.observe(event(5, "fired", 100, "warning", "ai", "Inference success rate", rule="success_rate"))
    assert down is model is latency and down.labels == {"node": "n0"} and len(down.members) == 3
    assert cpu is not down and late is not down  # another component; after the window
    other = g.observe(event(6, "fired", 101, message="Node n1 is down", node="n1"))
    assert other is not down
    for alert_id in (1, 2, 3):
        g.observe(event(alert_id, "resolved", 120, "info"))
    assert not down.open and down.ended_at == 120
    again = g.observe(event(7, "fired", 130, message="Node n0 is down", node="n0"))
    assert again is not down  # a new outage of the same node is a new incident


def test_unlabelled_alert_first_then_the_node_joins_it():
    g = Grouper(Timers(group_window=60))
    latency = g.observe(event(1, "fired", 0, "warning", message="Average latency"))
    down = g.observe(event(2, "fired", 2, message="Node n0 is down", node="n0"))
    assert down is latency and latency.labels == {"node": "n0"}


def test_anomalies_and_forecasts_are_grouped_like_other_alerts():
    g = Grouper(Timers(group_window=60))
    down = g.observe(event(1, "fired", 0, message="Node n0 is down", node="n0"))
    labels = alert_labels("network", "anomaly", "average_latency")
    latency = g.observe(event(2, "anomaly", 4, "warning", message="Unusual average_latency: 43 ms", **labels))
    labels = alert_labels("node:n0", "anomaly", "message_rate")
    rate = g.observe(event(3, "anomaly", 5, "warning", message="Unusual n0 message_rate: 0", **labels))
    labels = alert_labels("node:n1", "anomaly", "message_rate")  # another node's rate falls with n0
    neighbour = g.observe(event(4, "anomaly", 6, "warning", message="Unusual n1 message_rate: 3", **labels))
    labels = alert_labels("system", "forecast", "disk_percent")
    disk = g.observe(event(5, "forecast", 6, "warning", "system", "Forecast: disk full in 3 h", **labels))
    assert down is latency is rate is neighbour and len(down.members) == 4  # what the node's fall moved
    assert down.labels == {"node": "n0"}
    assert disk is not None and disk is not down  # the machine's own: an incident of its own
    g.observe(event(2, "resolved", 30, "info"))
    assert [down.members[i].firing for i in (1, 2, 3, 4)] == [True, False, True, True]


def test_an_anomaly_seen_first_is_joined_by_its_cause_and_never_claims_a_node():
    g = Grouper(Timers(group_window=60))
    labels = alert_labels("node:n1", "anomaly", "message_rate")
    first = g.observe(event(1, "anomaly", 0, "warning", message="Unusual n1 message_rate: 3", **labels))
    assert first.labels == {}
    down = g.observe(event(2, "fired", 3, message="Node n0 is down", node="n0"))
    assert down is first and down.labels == {"node": "n0"}
    later = g.observe(event(3, "fired", 100, message="Node n1 is down", node="n1"))
    assert later is not first  # n1 going down is its own incident: the anomaly did not claim n1


def test_an_anomaly_is_told_by_its_message_and_value_without_its_bookkeeping():
    details = {"series": "system", "field": "process_count", "value": 78.0, "low": 62.7, "high": 69.3}
    message = "Unusual process_count: 78, above its normal 62.7 to 69.3"
    member = Member(1, "anomaly:system:process_count", "warning", "system", message, details, fired_at=0.0)
    member.details.update(alert_labels("system", "anomaly", "process_count"))
    lines = alert_lines(member, now=20.0)
    assert lines[0] == f"- WARNING system: {message}"
    assert lines[1].startswith("  value now 78, for 20 s") and len(lines) == 2  # no "context: series: system, ..."


def test_two_anomalies_of_one_component_are_two_alerts_for_alertmanager():
    def anomaly(series, field):
        details = {"series": series, "field": field, "value": 1.0, **alert_labels(series, "anomaly", field)}
        key = f"anomaly:{series}:{field}"
        return {"key": key, "level": "warning", "component": "network", "message": "Unusual", "details": details}

    latency, rate, node = (
        anomaly("network", "average_latency"),
        anomaly("network", "message_rate"),
        anomaly("node:n0", "message_rate"),
    )
    assert labels(latency, "m:1")["alertname"] == "anomaly_average_latency"
    assert labels(latency, "m:1") != labels(rate, "m:1")  # Alertmanager tells alerts apart by their labels
    assert labels(node, "m:1") == {**labels(rate, "m:1"), "node": "n0"}


def test_group_wait_group_interval_repeat_and_resolution():
    g = Grouper(Timers(group_wait=30, group_interval=300, repeat_interval=3600, group_window=60))
    incident = g.observe(event(1, "fired", 0, node="n0"))
    assert g.due(29.9) == []
    g.observe(event(2, "fired", 10, "warning", "ai", model="m", node="n0"))  # comes along in group_wait
    assert g.due(30) == [(incident, "firing")]
    g.mark_notified(incident, 30)
    assert g.due(31) == []
    g.observe(event(3, "fired", 40, "warning"))  # a change: told group_interval after the last one
    assert g.due(329) == [] and g.due(330) == [(incident, "changed")]
    g.mark_notified(incident, 330)
    assert g.due(330 + 3599) == [] and g.due(330 + 3600) == [(incident, "repeat")]
    g.mark_notified(incident, 3930)
    for alert_id in (1, 2, 3):
        g.observe(event(alert_id, "resolved", 4000, "info"))
    assert g.due(4229) == [] and g.due(4230) == [(incident, "resolved")]
    g.mark_notified(incident, 4230)
    assert g.due(10**6) == [] and incident.notifications == 4


def test_an_incident_over_before_group_wait_is_never_notified():
    g = Grouper(Timers(group_wait=30))
    g.observe(event(1, "fired", 0))
    g.observe(event(1, "resolved", 5, "info"))
    assert g.due(100) == []


# -- sender -----------------------------------------------------------------------------------
def delivery(title="t"):
    return Delivery("ops", "json://x", "firing", title, 1, 0.0, 0.0)


def test_retries_with_backoff_then_failed_with_each_reason():
    log = DeliveryLog()
    sender = Sender(log, timeout=1, retries=2, backoff=0.01)
    calls = []

    def refuse(timeout):
        calls.append(timeout)
        raise DeliveryFailed(f"refused #{len(calls)}")

    flaky = iter([DeliveryFailed("busy"), None])

    def once_then_ok(timeout):
        error = next(flaky)
        if error:
            raise error

    try:
        failed = sender.submit(delivery("dead"), refuse)
        sent = sender.submit(delivery("flaky"), once_then_ok)
        wait_until(lambda: failed.status == FAILED and sent.status == SENT, timeout=10)
    finally:
        sender.close()
    assert calls == [1, 1, 1] and failed.attempts == 3
    assert failed.errors == ["refused #1", "refused #2", "refused #3"]
    assert sent.attempts == 2 and sent.errors == ["busy"] and sent.latency_s is not None


def test_a_full_queue_drops_instead_of_blocking():
    log = DeliveryLog()
    sender = Sender(log, timeout=1, retries=0, queue_size=1)
    busy, release = threading.Event(), threading.Event()

    def hold(timeout):
        busy.set()
        release.wait(10)

    try:
        first = sender.submit(delivery("first"), hold)
        assert busy.wait(10)  # the thread holds the first one
        second = sender.submit(delivery("second"), lambda timeout: None)
        third = sender.submit(delivery("third"), lambda timeout: None)
        assert third.status == DROPPED and third.error == "the send queue is full"
        release.set()
        wait_until(lambda: first.status == SENT and second.status == SENT)
    finally:
        release.set()
        sender.close()
    assert log.counts()["dropped"] == 1


# -- content ----------------------------------------------------------------------------------
def test_alertmanager_payload_labels_and_annotations():
    down = {
        "key": "custom:network:error:Node n0 is down",
        "level": "error",
        "component": "network",
        "message": "Node n0 is down",
        "details": {"node": "n0", "address": "127.0.0.1:1"},
        "started": 1000.0,
    }
    body = payload(down, "monitor:8501", now=1065.0, ends_at=1300.0)
    assert body["labels"] == {
        "alertname": "NodeIsDown",
        "severity": "error",
        "component": "network",
        "instance": "monitor:8501",
        "node": "n0",
    }
    assert body["startsAt"] == "1970-01-01T00:16:40.000Z" and body["endsAt"] == "1970-01-01T00:21:40.000Z"
    assert body["annotations"] == {"summary": "Node n0 is down", "description": "firing for 65 s"}
    rule = {
        "key": "rule:latency",
        "level": "warning",
        "component": "network",
        "message": "Average latency 130 ms is above the warning threshold 100 ms",
        "details": {"rule": "latency", "value": 130.0, "threshold": 100.0, "unit": "ms", "runbook_url": "https://r/l"},
        "started": 1000.0,
    }
    body = payload(rule, "m:1", 1010.0, 1300.0)
    assert alertname(rule) == "latency" and body["annotations"]["runbook_url"] == "https://r/l"
    assert body["annotations"]["description"] == "value now 130 ms, threshold 100 ms, firing for 10 s"


def test_the_message_says_value_threshold_for_how_long_and_context():
    g = Grouper(Timers())
    details = {
        "rule": "latency",
        "value": 131.5,
        "threshold": 100.0,
        "description": "Mean round trip over all links",
        "runbook_url": "https://runbooks/latency",
    }
    incident = g.observe(event(1, "fired", 0.0, "warning", message="Average latency 131.5 ms", **details))
    g.observe(event(2, "fired", 1.0, message="Node n0 is down", node="n0", address="127.0.0.1:9"))
    text = render(incident, list(incident.members.values()), "firing", 125.0, "monitor:8501")
    assert text.title == "[FIRING:2] node n0: Average latency 131.5 ms (+1 more)"
    body = text.body
    assert "Incident #1 on monitor:8501: firing since 1970-01-01 00:00:00 UTC (for 2 min)." in body
    assert "value now 132, threshold 100, for 2 min" in body
    assert "Mean round trip over all links" in body and "runbook: https://runbooks/latency" in body
    assert "context: node: n0, address: 127.0.0.1:9" in body
    cpu = g.observe(event(3, "fired", 0.0, "warning", "system", "CPU usage 97%", value=97.0, threshold=80.0, unit="%"))
    lines = {3: ["Top CPU: stress (pid 7) 99%"]}
    body = render(cpu, list(cpu.members.values()), "firing", 60.0, "m:1", lines).body
    assert "value now 97%, threshold 80%, for 60 s (since" in body and "  Top CPU: stress (pid 7) 99%" in body
    assert "context: unit" not in body  # given context lines replace the details' own
    memory = g.observe(event(4, "fired", 1.0, "warning", "system", "Memory 91%", value=91.0, threshold=85.0, unit="%"))
    both = [*cpu.members.values(), *memory.members.values()]
    body = render(cpu, both, "firing", 60.0, "m:1", {3: ["Host h"], 4: ["Host h"]}).body
    assert body.count("Host h") == 1 and "  (context as above)" in body  # said once per message


# -- silences (the contract with collector.silences) ------------------------------------------
class NodeSilence:
    """A silence in the shape collector.silences has: silenced(alert, now) -> dict | None."""

    def __init__(self, node):
        self.node = node

    def silenced(self, alert, now):
        return {"id": 1} if alert["details"].get("node") == self.node else None


def test_a_silenced_alert_is_not_notified():
    log = AlertLog()
    clock = [1000.0]
    settings = NotifySettings(routes=(Route("ops", ("json://127.0.0.1:9/x",)),), group_wait=0, poll=60)
    silence = NodeSilence("n0")
    notifier = Notifier(log, settings, silences=lambda: silence, clock=lambda: clock[0])
    try:
        log.record("custom:a", "fired", "error", "network", "Node n0 is down", {"node": "n0"}, 1000.0)
        with notifier._lock:
            notifier.poll()
        assert notifier.deliveries.entries() == []  # silenced: nothing sent, and it stays due
        silence.node = "other"  # the silence ends
        clock[0] = 1001.0
        with notifier._lock:
            notifier.poll()
        assert [d["title"] for d in notifier.deliveries.entries()] == ["[FIRING:1] node n0: Node n0 is down"]
    finally:
        notifier.close()


def test_alertmanager_credentials_are_sent_as_basic_auth_and_never_shown():
    from prsm_monitor.notify.alertmanager import AlertmanagerChannel

    channel = AlertmanagerChannel("https://ops:s3cret@am.example.com:9093/prefix/")
    assert channel.target == "https://am.example.com:9093/prefix/api/v2/alerts"
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        AlertmanagerChannel(f"http://ops:s3cret@127.0.0.1:{server.server_address[1]}/prefix/").post([], 5.0)
        server.shutdown()
    assert seen == [("/prefix/api/v2/alerts", "Basic b3BzOnMzY3JldA==")]  # ops:s3cret
    settings = Settings.from_env({"PRSM_ALERTMANAGER_URL": "https://ops:s3cret@am.example.com:9093"})
    assert "s3cret" not in repr(settings)
