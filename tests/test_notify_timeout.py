"""Notifications honour their timeout and are never sent twice (issue 22, item 10), against real
slow HTTP receivers that count what they received: an endpoint answering after 4.5 s with a
6 s timeout is one delivery, sent (Apprise's own 4 s limit once cut it and the retries sent it
4 times); one answering after 10 s is cut at the timeout and not sent again (it has the
notification already); a refused connection is still retried."""

from __future__ import annotations

from prsm_monitor import MetricsCollector
from prsm_monitor.notify import NotifySettings, Route
from prsm_monitor.settings.model import Settings

from .conftest import wait_until
from .fixtures.receivers import SlowWebhook, refused_url

TIMEOUT = 6.0


def notifying(*urls: str) -> MetricsCollector:
    notify = NotifySettings(
        routes=(Route("ops", urls),), group_wait=0.0, timeout=TIMEOUT, retries=3, backoff=0.05, poll=0.05
    )
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.2, notify=notify), sources=[])
    collector.add_alert_rule(lambda metrics: collector.create_alert("critical", "system", "Disk on fire", {}))
    collector.start()
    return collector


def test_the_configured_timeout_is_used_and_nothing_is_sent_twice():
    patient, late, dead = SlowWebhook(4.5), SlowWebhook(10.0), refused_url()
    collector = notifying(patient.url, late.url, dead)
    try:
        deliveries = collector.notifier.deliveries
        wait_until(lambda: deliveries.counts()["sent"] == 1 and deliveries.counts()["failed"] == 2, timeout=40)
        by_target = {d["target"].split("?")[0]: d for d in deliveries.entries()}
        slow, cut, refused = by_target[patient.url], by_target[late.url], by_target[dead]
        assert slow["status"] == "sent" and slow["attempts"] == 1 and len(patient.delivered) == 1
        assert cut["status"] == "failed" and cut["attempts"] == 1 and len(late.delivered) == 1
        assert "not sent again" in cut["error"]
        elapsed = float(cut["error"].split("(after ")[1].split(" s)")[0])
        assert TIMEOUT <= elapsed < TIMEOUT + 1.0  # cut at the configured time, not Apprise's 4 s
        assert refused["status"] == "failed" and refused["attempts"] == 4  # never reached: retried
        print(
            f"\nanswer after 4.5 s: {slow['status']}, received {len(patient.delivered)}x; "
            f"after 10 s: cut at {elapsed:.2f} s, received {len(late.delivered)}x"
        )
    finally:
        collector.close()
        patient.close()
        late.close()
