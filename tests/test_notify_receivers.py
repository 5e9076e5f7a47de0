"""Notifications end to end, against real receivers on loopback: an HTTP webhook (Apprise's
json://), an SMTP server in this process (aiosmtpd, mailto://), a dead port, an endpoint that
hangs for 10 s, Debian's Alertmanager, and the demo network losing a node.

Run with ``-s`` to see what each receiver got and the measured delivery latency."""

from __future__ import annotations

import json
import os

import pytest
import requests

from prsm_monitor import MetricsCollector, redact
from prsm_monitor.api import build_app
from prsm_monitor.notify import NotifySettings, Route
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.system import SystemSource

from .conftest import wait_until
from .fixtures.receivers import ALERTMANAGER, Alertmanager, Hanging, Smtp, Webhook, refused_url
from .fixtures.server import ROOT, InProcessServer, StreamlitServer
from .test_app import collector, fresh_app, open_page

FAST = {"timeout": 2.0, "retries": 2, "backoff": 0.05, "poll": 0.05}


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    server = Smtp()
    yield server
    server.close()


class Switch:
    """A custom rule that raises one alert while it is on (a real alert through the log)."""

    def __init__(self, collector, level, component, message, details):
        self.on = False
        self.args = (level, component, message, details)
        collector.add_alert_rule(lambda metrics: self.on and collector.create_alert(*self.args))


def collector_with(notify: NotifySettings, interval: float = 0.2) -> MetricsCollector:
    collector = MetricsCollector(
        settings=Settings(demo=False, interval=interval, notify=notify), sources=[SystemSource()]
    )
    collector.start()
    return collector


def fired_at(collector, message: str) -> float:
    return next(e["timestamp"] for e in collector.get_alerts() if e["kind"] == "fired" and e["message"] == message)


def test_webhook_and_email_get_the_incident_and_its_resolution(webhook, smtp):
    route = Route("ops", (webhook.url, smtp.url))
    notify = NotifySettings(routes=(route,), group_wait=0.2, group_interval=0.5, **FAST)
    collector = collector_with(notify)
    details = {
        "rule": "latency",
        "value": 612.0,
        "threshold": 500.0,
        "runbook_url": "https://runbooks.example.com/latency",
        "description": "Mean round trip over all links",
    }
    alert = Switch(collector, "critical", "network", "Average latency 612 ms is above 500 ms", details)
    try:
        alert.on = True
        wait_until(lambda: webhook.received and smtp.messages, timeout=20)
        started = fired_at(collector, "Average latency 612 ms is above 500 ms")
        arrived, path, body = webhook.received[0]
        print("\nwebhook body:", json.dumps(body, indent=2))
        assert path == "/hook" and body["type"] == "failure"
        assert body["title"] == "[FIRING:1] Average latency 612 ms is above 500 ms"
        for text in ("value now 612, threshold 500, for", "runbook: https://runbooks.example.com/latency"):
            assert text in body["message"]
        mail = smtp.parsed(0)
        print("e-mail as the SMTP server got it:\n" + smtp.messages[0][3].decode())
        assert smtp.messages[0][2] == ["oncall@example.com"] and mail["Subject"] == body["title"]
        assert "Mean round trip over all links" in mail.get_content()
        mailed = smtp.messages[0][0]
        print(f"latency from firing to receiver: webhook {arrived - started:.3f} s, e-mail {mailed - started:.3f} s")

        alert.on = False
        wait_until(lambda: len(webhook.received) == 2 and len(smtp.messages) == 2, timeout=20)
        assert webhook.received[1][2]["title"].startswith("[RESOLVED] ") and webhook.received[1][2]["type"] == "success"
        assert smtp.parsed(1)["Subject"].startswith("[RESOLVED] ")

        with InProcessServer(build_app(collector.settings, collector=collector)) as app:
            view = requests.get(f"{app.url}/api/notifications", timeout=5).json()
            bad = requests.get(f"{app.url}/api/notifications", params={"status": "lost"}, timeout=5)
        assert bad.status_code == 400 and bad.json()["parameter"] == "status"
        wait_until(lambda: collector.notifier.deliveries.counts()["sent"] == 4)
        deliveries = collector.notifier.deliveries.entries()
        assert {(d["kind"], d["status"]) for d in deliveries} == {("firing", "sent"), ("resolved", "sent")}
        assert all(d["latency_s"] is not None and d["latency_s"] >= 0 for d in deliveries)
        assert "oncall%40example.com" in " ".join(d["target"] for d in deliveries)
        (incident,) = view["incidents"]
        assert incident["notifications"] == 2 and not incident["open"] and view["routes"][0]["name"] == "ops"
    finally:
        collector.close()


def test_dead_and_slow_endpoints_fail_and_cost_the_collector_nothing(webhook):
    hanging = Hanging(10.0)
    dead, slow = refused_url(), hanging.url
    notify = NotifySettings(
        routes=(Route("broken", (dead, slow)), Route("ops", (webhook.url,))),
        group_wait=0.0,
        timeout=0.5,
        retries=2,
        backoff=0.05,
        poll=0.05,
    )
    collector = collector_with(notify, interval=0.25)
    alert = Switch(collector, "error", "ai", "Model m has no live host", {"model": "m"})
    try:
        ticks_before = wait_until(lambda: collector.latest("collector"))["ticks_total"]
        alert.on = True
        deliveries = collector.notifier.deliveries
        wait_until(lambda: deliveries.counts()["failed"] == 2, timeout=30)
        assert webhook.received, "a working route is not held up by the broken ones"
        by_target = {d["target"].split("?")[0]: d for d in deliveries.entries()}
        refused, silent = by_target[dead], by_target[slow]
        assert refused["status"] == silent["status"] == "failed"
        assert refused["attempts"] == 3 and "Connection error" in refused["error"]  # never reached: retried
        # the silent one took the notification and never answered: it may have it, so it is not sent again
        assert silent["attempts"] == 1 and hanging.connections == 1 and "not sent again" in silent["error"]
        print("\nrefused:", refused["errors"], "\nslow:", silent["errors"])
        stats = collector.latest("collector")
        assert stats["missed_ticks_total"] == 0, stats  # the tick never waited for a delivery
        assert stats["ticks_total"] > ticks_before
    finally:
        collector.close()
        hanging.close()


def test_critical_alert_not_acknowledged_is_escalated_once(webhook):
    pager = Webhook()
    notify = NotifySettings(
        routes=(Route("ops", (webhook.url,)), Route("pager", (pager.url,), "critical", escalation=True)),
        group_wait=0.0,
        escalate_after=1.0,
        **FAST,
    )
    collector = collector_with(notify)
    critical = Switch(collector, "critical", "ai", "Inference success rate 0.4", {"rule": "success_rate"})
    acknowledged = Switch(collector, "critical", "network", "Proposal rejection rate 0.9", {"rule": "x"})
    try:
        acknowledged.on = True
        wait_until(lambda: collector.get_active_alerts())
        collector.acknowledge(collector.get_active_alerts()[0]["id"])
        critical.on = True
        wait_until(lambda: pager.received, timeout=20)
        wait_until(lambda: len(webhook.received) >= 2)  # both alerts went to ops as usual
        title = pager.received[0][2]["title"]
        assert title == "[ESCALATED] Inference success rate 0.4"
        assert "Not acknowledged" in pager.received[0][2]["message"]
        wait_until(lambda: collector.notifier.deliveries.counts()["queued"] == 0)
        assert [d["kind"] for d in collector.notifier.deliveries.entries() if d["channel"] == "pager"] == ["escalation"]
    finally:
        collector.close()
        pager.close()


@pytest.fixture
def alertmanager(tmp_path):
    if ALERTMANAGER is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus-alertmanager is missing: test.sh installs it with apt-get")
        pytest.skip("Debian's prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
    server = Alertmanager(tmp_path)
    try:
        wait_until(server.ready, timeout=30, interval=0.1)
        yield server
    finally:
        server.close()


def test_alerts_pushed_to_a_real_alertmanager_resent_while_firing_and_resolved(alertmanager):
    notify = NotifySettings(  # a push may wait on a loaded runner: every one must be accepted here
        alertmanager_url=alertmanager.url, resend=1.0, instance="monitor:8501", **{**FAST, "timeout": 10.0}
    )
    collector = collector_with(notify)
    details = {"node": "node-3", "address": "127.0.0.1:4003", "runbook_url": "https://runbooks.example.com/node-down"}
    down = Switch(collector, "error", "network", "Node node-3 is down", details)
    try:
        down.on = True
        pushed = wait_until(
            lambda: [a for a in alertmanager.alerts() if a["labels"].get("node") == "node-3"], timeout=20
        )
        started = fired_at(collector, "Node node-3 is down")
        print("\nAlertmanager GET /api/v2/alerts:", json.dumps(pushed, indent=2))
        (alert,) = pushed
        assert alert["labels"] == {
            "alertname": "NodeIsDown",
            "severity": "error",
            "component": "network",
            "instance": "monitor:8501",
            "node": "node-3",
        }
        assert alert["annotations"]["summary"] == "Node node-3 is down"
        assert alert["annotations"]["runbook_url"] == "https://runbooks.example.com/node-down"
        assert alert["status"]["state"] == "active"
        # the oldest push Alertmanager accepted (entries are newest first; one may be queued, not yet sent)
        first = next(d for d in reversed(collector.notifier.deliveries.entries()) if d.get("sent_at") is not None)
        print(f"latency from firing to Alertmanager accepting it: {first['sent_at'] - started:.3f} s")
        ends = alert["endsAt"]
        # re-sent while firing: endsAt moves on with every re-send
        wait_until(lambda: [a for a in alertmanager.alerts() if a["endsAt"] != ends], timeout=20)
        assert sum(d["channel"] == "alertmanager" for d in collector.notifier.deliveries.entries()) >= 2

        down.on = False
        wait_until(lambda: not alertmanager.alerts(active="true"), timeout=20)
        # by the push with endsAt at its end (it would otherwise stay active until the last endsAt)
        assert any(d["title"] == "0 firing, 1 resolved" for d in collector.notifier.deliveries.entries())

        def settled():  # a re-send may still be on its way (queued) when the alert already reads resolved
            entries = collector.notifier.deliveries.entries()
            return entries if all(d["status"] != "queued" for d in entries) else None

        entries = wait_until(settled, timeout=20)
        assert all(d["status"] == "sent" for d in entries), [(d["status"], d.get("error")) for d in entries]
    finally:
        collector.close()


def test_a_demo_node_stop_is_one_incident_and_one_notification_and_its_end_one_more(webhook):
    notify = NotifySettings(routes=(Route("ops", (webhook.url,)),), group_wait=2.0, group_interval=1.0, **FAST)
    settings = Settings(demo=True, demo_nodes=3, demo_peers=2, demo_rate=2.0, interval=0.25, notify=notify)
    with MetricsCollector(settings=settings) as collector:
        collector.start()
        up = lambda: [n["name"] for n in (collector.latest("network") or {}).get("nodes", ()) if n["status"] == "up"]  # noqa: E731
        wait_until(lambda: len(up()) == 3, timeout=30)
        collector.configure(fault={"action": "stop_node", "name": "node-1"})
        wait_until(lambda: webhook.received, timeout=30)
        (_, _, body) = webhook.received[0]
        print("\nnode stop, webhook body:", json.dumps(body, indent=2))
        assert body["title"].startswith("[FIRING:") and "node-1 stopped" in body["title"]  # named by its cause
        assert "Node node-1 is down" in body["message"] and "is unavailable on node-1" in body["message"]
        incidents = collector.notifier.incidents()
        assert len(incidents) == 1 and len(incidents[0]["alerts"]) >= 2  # the node and its models
        collector.configure(fault={"action": "start_node", "name": "node-1"})
        wait_until(lambda: len(webhook.received) == 2, timeout=30)
        assert webhook.received[1][2]["title"].startswith("[RESOLVED] node-1 stopped")
        wait_until(lambda: collector.notifier.deliveries.counts()["sent"] == 2)
        (incident,) = collector.notifier.incidents()
        assert incident["notifications"] == 2 and not incident["open"]
        assert len(webhook.received) == 2


@pytest.fixture
def notify_app(monkeypatch, webhook):
    env = {"PRSM_DEMO": "false", "PRSM_NOTIFY_URLS": webhook.url, "PRSM_NOTIFY_GROUP_WAIT": "0s"}
    yield from fresh_app(monkeypatch, **env)


def test_the_alerts_page_shows_the_incident_and_the_delivery_log(notify_app, webhook):
    app = open_page(notify_app, "pages/4_Alerts.py")
    c = collector()
    c.add_alert_rule(lambda metrics: c.create_alert("error", "network", "Node *n0* is down", {"node": "*n0*"}))
    wait_until(lambda: c.notifier.deliveries.counts()["sent"] == 1)
    app.run()
    (incident,) = app.main.expander
    assert incident.label.startswith(":orange-badge[ERROR] node \\*n0\\*\\: Node \\*n0\\* is down · 1 firing")
    assert incident.label.endswith(" · 1 alert · notified 1×")  # Markdown in a node name is shown as typed
    members, log = (d.value for d in app.main.dataframe[:2])
    assert list(members["message"]) == ["Node *n0* is down"] and "value" not in members
    assert list(log["status"]) == ["sent"] and list(log["target"]) == [redact.url(webhook.url)]  # as it may be shown


def test_routes_from_secrets_toml_in_a_real_server(tmp_path, webhook):
    """``[notifications]`` in the secrets file of a ``streamlit run`` server: a disk warning
    (its threshold lowered to 0) reaches the webhook; a bad route closes the API naming it."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[notifications]\ngroup_wait = "0s"\n\n[[notifications.routes]]\nname = "from-secrets"\n'
        f'urls = ["{webhook.url}"]\ncomponents = ["system"]\n'
    )
    env = {"PRSM_DISK_THRESHOLD": "0", "PRSM_PERSIST": "false"}
    server = StreamlitServer(env=env, args=["--secrets.files", str(secrets)]).wait()
    try:
        view = requests.get(f"{server.url}/api/notifications", timeout=10).json()
        assert [r["name"] for r in view["routes"]] == ["from-secrets"]
        wait_until(lambda: webhook.received, timeout=30)
        assert webhook.received[0][2]["title"].startswith("[FIRING:1] Disk usage")
    finally:
        server.stop()
    secrets.write_text(
        '[notifications]\n[[notifications.routes]]\nname = "x"\nurls = ["json://h/p"]\nmin_level = "loud"\n'
    )
    server = StreamlitServer(ROOT / "streamlit_app.py", env=env, args=["--secrets.files", str(secrets)]).wait()
    try:
        answer = requests.get(f"{server.url}/api/notifications", timeout=10)
        assert answer.status_code == 503 and answer.json()["setting"] == "notifications.routes[0].min_level"
    finally:
        server.stop()


def test_the_notifier_adds_the_context_the_alert_row_has(webhook):
    """``context`` (what the Alerts page says about an alert: top processes, the node and its
    links) is asked at notification time, for the alerts told."""
    from prsm_monitor.alerts import AlertLog
    from prsm_monitor.notify import Notifier

    log = AlertLog()
    asked = []

    def context(alerts):
        asked.append([a["id"] for a in alerts])
        return {a["id"]: [f"Node {a['details']['node']}: 2 of 3 links down"] for a in alerts}

    notify = NotifySettings(routes=(Route("ops", (webhook.url,)),), group_wait=0.0, **FAST)
    notifier = Notifier(log, notify, context=context)
    try:
        log.record("custom:n0", "fired", "error", "network", "Node n0 is down", {"node": "n0"}, 1.0)
        wait_until(lambda: webhook.received)
        assert "  Node n0: 2 of 3 links down" in webhook.received[0][2]["message"] and asked == [[1]]
    finally:
        notifier.close()
