"""The notifier: the notification stages, composed in one place.

On its own thread, every ``poll`` seconds (a revision check of the alert log, then the new
events by id), :meth:`Notifier.poll` runs each item through the stages, never on the
collector's tick:

1. plan (:mod:`.plan`): which events are due as notifications, escalations, pushes;
2. group (:mod:`.grouping`, fed by the plan): alerts of one cause are one incident;
3. silence (:mod:`.silence`): silenced alerts are left out (an item all silenced stays due);
4. render (:mod:`.message`): the text people read, or the alerts' states for Alertmanager;
5. send (:mod:`.sender`): one thread, a bounded queue, retries with backoff, each attempt
   within ``PRSM_NOTIFY_TIMEOUT``; one that timed out after sending in full is not sent again.

Channels (:mod:`.channels`) are opened from the settings: one per route URL and one for
Alertmanager. With none configured, no thread runs, no channel module is imported, and the
incidents are grouped when read.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Callable

from ..alerts.context import context
from ..settings.notify import NotifySettings, Route
from ..sources.system import top_processes
from .channels import ALERTMANAGER, CHANNELS, Channel, Registry
from .delivery_log import Delivery, DeliveryLog
from .grouping import Grouper, Member, Timers
from .message import Message, render, render_alerts, render_escalation
from .plan import Escalate, Plan, Push, Tell, routes_for
from .sender import Sender
from .silence import Silence

log = logging.getLogger(__name__)


class Notifier:
    """Attached to a collector as ``collector.notifier``. ``log`` is its :class:`AlertLog`;
    ``silences`` returns the collector's silences (or None); ``context`` gives lines of
    context per alert id at notification time; ``clock`` the wall time; ``channels`` where
    each URL goes."""

    def __init__(
        self,
        alert_log,
        settings: NotifySettings,
        *,
        silences: Callable[[], object] = lambda: None,
        context: Callable[[list[dict]], dict] | None = None,
        instance: str = "",
        clock: Callable[[], float] = time.time,
        channels: Registry = CHANNELS,
    ):
        self.log = alert_log
        self.settings = settings
        self.instance = settings.instance or instance or socket.gethostname()
        self._context = context  # alert dicts -> {alert id: lines of context}
        self._clock = clock
        self.grouper = Grouper(
            Timers(settings.group_wait, settings.group_interval, settings.repeat_interval, settings.group_window)
        )
        self.deliveries = DeliveryLog()
        self.channels: dict[str, list[Channel]] = {r.name: [channels.open(u) for u in r.urls] for r in settings.routes}
        url = settings.alertmanager_url
        self.alertmanager: Channel | None = channels.open(url, ALERTMANAGER) if url else None
        self.plan = Plan(alert_log, self.grouper, settings, push=self.alertmanager is not None, now=clock())
        self.silence = Silence(silences)
        self._lock = threading.Lock()
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
                self.plan.read()
            items = [i.as_dict() for i in self.grouper.incidents.values()]
        items.sort(key=lambda i: (not i["open"], -i["started"]))
        return items[:limit] if limit else items

    def incident_counts(self) -> dict[str, int]:
        """How many incidents are remembered, and how many of them are open."""
        with self._lock:
            if self._thread is None:
                self.plan.read()
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

    # -- the pipeline ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.settings.poll):
            try:
                with self._lock:
                    self.poll()
            except Exception:  # noqa: BLE001 - one bad pass must not end notifications
                log.exception("notifier pass failed")

    def poll(self) -> None:
        """One pass through the stages, for everything the plan says is due. Called under
        ``_lock``."""
        now = self._clock()
        for item in self.plan.due(now):
            if isinstance(item, Tell):
                self._tell(item, now)
            elif isinstance(item, Escalate):
                self._escalate(item, now)
            elif isinstance(item, Push):
                self._push(item, now)

    def _tell(self, item: Tell, now: float) -> None:
        members = self.silence.members(item.members, now)
        if item.reason != "resolved" and not any(m.firing for m in members):
            return  # everything firing is silenced: nothing to tell (yet)
        incident = item.incident
        for route, wanted in routes_for(self.settings.routes, item.reason, members, incident.routes_told):
            message = render(
                incident, wanted, item.reason, now, self.instance, self._context_of(wanted), self.settings.public_url
            )
            self._send(route, message, item.reason, incident.id, item.alert_time, now)
            incident.routes_told.add(route.name)
        self.plan.told_incident(item, now)

    def _escalate(self, item: Escalate, now: float) -> None:
        member = item.member
        if self.silence.covers(member.alert(), now):
            return
        self.plan.told_escalation(item)
        lines = self._context_of([member]).get(member.alert_id)
        message = render_escalation(member, item.since, now, self.instance, lines)
        alert_time = item.since + self.settings.escalate_after
        for route in self.settings.routes:
            if route.escalation and route.wants(member.level, member.component):
                self._send(route, message, "escalation", item.incident, alert_time, now)

    def _push(self, item: Push, now: float) -> None:
        firing = self.silence.alerts(item.firing, now)
        states, newest = self.plan.told_alertmanager(Push(firing, item.closed), now)
        if states:
            message = render_alerts(states, now, self.instance)
            delivery = Delivery(
                ALERTMANAGER, self.alertmanager.target, ALERTMANAGER, message.title, None, newest or now, now
            )
            self.sender.submit(delivery, functools.partial(self.alertmanager.send, message))

    def _send(self, route: Route, message: Message, kind: str, incident: int | None, alert_time: float, now) -> None:
        for channel in self.channels[route.name]:
            delivery = Delivery(route.name, channel.target, kind, message.title, incident, alert_time, now)
            self.sender.submit(delivery, functools.partial(channel.send, message))

    def _context_of(self, members: list[Member]) -> dict:
        """Lines of context per alert id from the ``context`` function (none: the details')."""
        alerts = [m.alert() for m in members if m.firing]
        if self._context is None or not alerts:
            return {}
        try:
            return self._context(alerts)
        except Exception:  # noqa: BLE001 - a notification without context beats none
            log.exception("alert context failed")
            return {}


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
