"""The notifier: reads the alert log on its own thread, groups alerts into incidents and
hands due notifications, escalations and Alertmanager pushes to the sender.

Nothing here runs on the collector's tick: the planning thread polls the log (a revision
check, then the new events by id) every ``poll`` seconds, and every delivery goes through
the :class:`~.sender.Sender`'s bounded queue. Silences (``collector.silences``, when
present) keep an alert out of every notification and push.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from ..alerts.context import context
from ..settings.notify import NotifySettings, Route
from ..sources.system import top_processes
from .alertmanager import AlertmanagerChannel, payload
from .apprise_channel import AppriseChannel
from .delivery_log import Delivery, DeliveryLog
from .grouping import CLOSING, OPENING, Grouper, Incident, Member, Timers
from .message import Message, alert_lines, duration, render, utc
from .sender import Sender

log = logging.getLogger(__name__)


class Notifier:
    """Attached to a collector as ``collector.notifier``. ``log`` is its :class:`AlertLog`;
    ``silences`` returns the collector's silences (or None); ``clock`` the wall time."""

    def __init__(
        self,
        alert_log,
        settings: NotifySettings,
        *,
        silences: Callable[[], object] = lambda: None,
        context: Callable[[list[dict]], dict] | None = None,
        instance: str = "",
        clock: Callable[[], float] = time.time,
    ):
        self.log = alert_log
        self.settings = settings
        self.instance = settings.instance or instance or socket.gethostname()
        self._silences = silences
        self._context = context  # alert dicts -> {alert id: lines of context}, at notification time
        self._clock = clock
        self.grouper = Grouper(
            Timers(settings.group_wait, settings.group_interval, settings.repeat_interval, settings.group_window)
        )
        self.deliveries = DeliveryLog()
        self.channels: dict[str, list[AppriseChannel]] = {
            r.name: [AppriseChannel(u) for u in r.urls] for r in settings.routes
        }
        self.alertmanager = AlertmanagerChannel(settings.alertmanager_url) if settings.alertmanager_url else None
        self._lock = threading.Lock()
        self._revision = -1
        self._last_id = 0
        self._escalated: set[tuple[int, float]] = set()  # (alert id, critical since) already escalated
        self._am_sent: dict[int, dict] = {}  # alert id -> the alert as last pushed firing
        self._am_resent = 0.0
        self._adopt_active()
        self.sender: Sender | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if settings.enabled:
            self.sender = Sender(
                self.deliveries,
                timeout=settings.timeout,
                retries=settings.retries,
                backoff=settings.backoff,
                queue_size=settings.queue_size,
                clock=clock,
            )
            self._thread = threading.Thread(target=self._run, name="prsm-notifier", daemon=True)
            self._thread.start()

    # -- reads (thread-safe) ---------------------------------------------------------------
    def incidents(self, limit: int | None = None) -> list[dict]:
        """Incidents, open ones first, newest first within each."""
        with self._lock:
            if self._thread is None:  # nothing to send: group on read
                self._read_log(send=False)
            items = [i.as_dict() for i in self.grouper.incidents.values()]
        items.sort(key=lambda i: (not i["open"], -i["started"]))
        return items[:limit] if limit else items

    def incident_counts(self) -> dict[str, int]:
        """How many incidents are remembered, and how many of them are open."""
        with self._lock:
            if self._thread is None:
                self._read_log(send=False)
            incidents = list(self.grouper.incidents.values())
            return {"total": len(incidents), "open": sum(i.open for i in incidents)}

    def routes_view(self) -> list[dict]:
        result = [
            {
                "name": r.name,
                "targets": [c.target for c in self.channels[r.name]],
                "min_level": r.min_level,
                "components": list(r.components),
                "send_resolved": r.send_resolved,
                "escalation": r.escalation,
            }
            for r in self.settings.routes
        ]
        if self.alertmanager:
            result.append(
                {"name": "alertmanager", "targets": [self.alertmanager.target], "resend_s": self.settings.resend}
            )
        return result

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.sender is not None:
            self.sender.close()

    # -- the planning thread ---------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.settings.poll):
            try:
                with self._lock:
                    self.poll()
            except Exception:  # noqa: BLE001 - one bad pass must not end notifications
                log.exception("notifier pass failed")

    def poll(self) -> None:
        """One pass: new events into incidents (and Alertmanager), due notifications,
        escalations, Alertmanager's re-send. Called under ``_lock``."""
        now = self._clock()
        active = self._read_log(send=True)
        for incident, reason in self.grouper.due(now):
            self._notify(incident, reason, now)
        if active is None:
            active = self.log.active()
        self._escalate(active, now)
        if self.alertmanager and now - self._am_resent >= self.settings.resend:
            self._am_resent = now  # re-send what fires, as Prometheus does every resend_delay
            self._push([a for a in active if not self._silenced(a, now)], [], now)

    def _read_log(self, send: bool) -> list[dict] | None:
        """Feed the events logged since the last look; returns the active alerts when the
        log changed (None when it did not)."""
        if self.log.revision == self._revision:
            return None
        self._revision = self.log.revision
        events = self.log.events(since_id=self._last_id)
        active = self.log.active()
        keys = {a["id"]: a["key"] for a in active}
        opened, closed = [], []
        for event in events:
            self._last_id = max(self._last_id, event["id"])
            self.grouper.observe(event, keys.get(event.get("alert_id")))
            if event["kind"] in OPENING:
                opened.append(event["alert_id"])
            elif event["kind"] in CLOSING and event.get("alert_id") is not None:
                closed.append(event)
        self.grouper.refresh(active)
        if send and self.alertmanager and (opened or closed):
            now = self._clock()
            fresh = [a for a in active if a["id"] in opened and not self._silenced(a, now)]
            self._push(fresh, closed, now)
        return active

    def _adopt_active(self) -> None:
        """Alerts already active when the notifier starts (restored from disk): grouped, and
        counted as told, so a restart does not notify them again; their end is notified."""
        events = self.log.events()
        self._last_id = max((e["id"] for e in events), default=0)
        for alert in self.log.active():
            event = {**alert, "kind": "fired", "alert_id": alert["id"], "timestamp": alert["started"]}
            incident = self.grouper.observe(event, alert["key"])
            if incident is not None:
                self.grouper.mark_notified(incident, self._clock())
        self._revision = self.log.revision

    def _context_of(self, members: list[Member]) -> dict:
        """Lines of context per alert id from the ``context`` function (none: the details')."""
        if self._context is None or not members:
            return {}
        alerts = [
            {"id": m.alert_id, "key": m.key, "level": m.level, "component": m.component, "details": m.details}
            for m in members
            if m.firing
        ]
        try:
            return self._context(alerts) if alerts else {}
        except Exception:  # noqa: BLE001 - a notification without context beats none
            log.exception("alert context failed")
            return {}

    # -- silences --------------------------------------------------------------------------
    def _silenced(self, alert: dict, now: float) -> bool:
        silences = self._silences()
        if silences is None:
            return False
        try:
            return bool(silences.silenced(alert, now))
        except Exception:  # noqa: BLE001 - a broken silence must not stop notifications
            log.exception("silence check failed")
            return False

    def _member_silenced(self, member: Member, now: float) -> bool:
        alert = {
            "id": member.alert_id,
            "key": member.key,
            "level": member.level,
            "component": member.component,
            "message": member.message,
            "details": member.details,
        }
        return self._silenced(alert, now)

    # -- incident notifications ------------------------------------------------------------
    def _notify(self, incident: Incident, reason: str, now: float) -> None:
        members = [m for m in incident.members.values() if not self._member_silenced(m, now)]
        if reason != "resolved" and not any(m.firing for m in members):
            return  # everything firing is silenced: nothing to tell (yet)
        alert_time = {
            "firing": incident.started,
            "resolved": incident.ended_at or now,
            "repeat": now,
        }.get(reason, max(m.ended_at or m.fired_at for m in incident.members.values()))
        for route in self.settings.routes:
            if route.escalation:
                continue
            told = route.name in incident.routes_told
            if reason == "resolved" and not (route.send_resolved and told):
                continue
            wanted = [m for m in members if route.wants(m.level, m.component)]
            if not wanted or (reason != "resolved" and not any(m.firing for m in wanted)):
                continue
            message = render(incident, wanted, reason, now, self.instance, self._context_of(wanted))
            self._submit(route, message, reason, incident.id, alert_time, now)
            incident.routes_told.add(route.name)
        self.grouper.mark_notified(incident, now)

    def _submit(self, route: Route, message: Message, kind: str, incident: int | None, alert_time: float, now) -> None:
        for channel in self.channels[route.name]:
            delivery = Delivery(route.name, channel.target, kind, message.title, incident, alert_time, now)
            self.sender.submit(delivery, lambda timeout, c=channel, m=message: c.send(m, timeout))

    # -- escalation ------------------------------------------------------------------------
    def _escalate(self, active: list[dict], now: float) -> None:
        """A critical alert nobody acknowledged within ``escalate_after`` of becoming critical
        goes to the escalation routes, once."""
        routes = [r for r in self.settings.routes if r.escalation]
        if not routes:
            return
        for alert in active:
            since = alert.get("updated", alert["started"])
            if alert["level"] != "critical" or alert.get("acknowledged") or now - since < self.settings.escalate_after:
                continue
            if (alert["id"], since) in self._escalated or self._silenced(alert, now):
                continue
            self._escalated.add((alert["id"], since))
            member = Member(
                alert["id"], alert["key"], alert["level"], alert["component"], alert["message"], alert["details"], since
            )
            body = "\n".join(
                [
                    f"Not acknowledged {duration(now - since)} after it became critical "
                    f"({utc(since)}), on {self.instance}:",
                    *alert_lines(member, now, self._context_of([member]).get(member.alert_id)),
                ]
            )
            message = Message(f"[ESCALATED] {alert['message']}", body, "critical")
            incident = self.grouper.incident_of(alert["id"])
            for route in routes:
                if route.wants(alert["level"], alert["component"]):
                    self._submit(
                        route,
                        message,
                        "escalation",
                        incident.id if incident else None,
                        since + self.settings.escalate_after,
                        now,
                    )

    # -- Alertmanager ----------------------------------------------------------------------
    def _push(self, firing: list[dict], closed: list[dict], now: float) -> None:
        """Post ``firing`` (active alert dicts) and the alerts the ``closed`` events ended."""
        instance = self.instance
        ends = now + 4 * self.settings.resend
        alerts, newest = [], 0.0
        for alert in firing:
            before = self._am_sent.get(alert["id"])
            if before is not None and before["level"] != alert["level"]:  # another severity: end the old one
                alerts.append(payload(before, instance, now, now))
            self._am_sent[alert["id"]] = alert
            alerts.append(payload(alert, instance, now, ends))
            newest = max(newest, alert.get("updated", alert["started"]))
        for event in closed:
            before = self._am_sent.pop(event["alert_id"], None)
            if before is not None:
                alerts.append(payload(before, instance, now, event["timestamp"]))
                newest = max(newest, event["timestamp"])
        if not alerts:
            return
        kind = "alertmanager"
        title = f"{len(firing)} firing, {len(alerts) - len(firing)} resolved"
        delivery = Delivery("alertmanager", self.alertmanager.target, kind, title, None, newest or now, now)
        self.sender.submit(delivery, lambda timeout, body=alerts: self.alertmanager.post(body, timeout))


def _served_port(settings) -> int:
    """The port the dashboard is served on: Streamlit's ``server.port`` inside ``streamlit run``
    (``--server.port``), else ``PRSM_DASHBOARD_PORT``; for the ``instance`` label."""
    try:
        from streamlit import config

        if config.is_manually_set("server.port"):
            return int(config.get_option("server.port"))
    except Exception:  # noqa: BLE001 - no Streamlit here: the setting says
        pass
    return getattr(settings, "port", 8501)


def alert_context(collector) -> Callable[[list[dict]], dict]:
    """Context lines per alert as the Alerts page says them (:mod:`..alerts.context`: the top
    processes for CPU and memory, the node and its links, the model and its hosts)."""

    def lines(alerts: list[dict]) -> dict:
        latest = collector.get_latest_metrics()
        processes = []
        if any(a["details"].get("field") in ("cpu_percent", "memory_percent") for a in alerts):
            processes = top_processes(10)
        return {a["id"]: context(a, latest, processes) for a in alerts}

    return lines


def attach_notifier(collector) -> Notifier:
    """The notifier for ``collector``, from its settings' ``notify`` (none: group only)."""
    settings = getattr(collector.settings, "notify", None) or NotifySettings()
    port = _served_port(collector.settings)
    return Notifier(
        collector.log,
        settings,
        context=alert_context(collector),
        silences=lambda: collector.silences,
        instance=f"{socket.gethostname()}:{port}",
        clock=collector._clock,
    )
