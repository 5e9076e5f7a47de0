"""The plan stage: which alert-log events become notifications, and what was told already.

:meth:`Plan.read` feeds the events logged since the last look into the incidents (the group
stage, :mod:`.grouping`); :meth:`Plan.due` says what is due now, as typed items:

- :class:`Tell`: an incident to notify (first, changed, repeat, resolved: the grouping's timers);
- :class:`Escalate`: a critical alert nobody acknowledged within ``escalate_after`` of
  becoming critical (once per time it became critical);
- :class:`Push`: alerts for Alertmanager: those that just fired or ended, and every
  ``resend`` seconds all that fire (as Prometheus re-sends).

The caller silences (:mod:`.silence`), renders and sends each item, then says what went out
(:meth:`told_incident`, :meth:`told_escalation`, :meth:`told_alertmanager`), so a silenced
item stays due. Alerts already active when the plan starts (restored from disk) count as
told: a restart does not notify them again. Not thread-safe (the notifier holds a lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..settings.notify import NotifySettings, Route
from .grouping import CLOSING, OPENING, Grouper, Incident, Member
from .message import AlertState


@dataclass
class Tell:
    incident: Incident
    reason: str  # firing, changed, repeat, resolved
    alert_time: float  # when the newest alert it tells about fired (or ended)

    @property
    def members(self) -> list[Member]:
        return list(self.incident.members.values())


@dataclass
class Escalate:
    member: Member  # the critical alert, firing since it became critical
    since: float
    incident: int | None


@dataclass
class Push:
    firing: list[dict]  # active alerts, as the log has them
    closed: list[dict] = field(default_factory=list)  # the events that ended alerts


@dataclass
class Read:
    """What one look at the log found."""

    active: list[dict]
    opened: set[int]  # alert ids that fired (or changed level) since the last look
    closed: list[dict]  # the events that ended an alert


def alert_time(incident: Incident, reason: str, now: float) -> float:
    if reason == "firing":
        return incident.started
    if reason == "resolved":
        return incident.ended_at or now
    if reason == "repeat":
        return now
    return max(m.ended_at or m.fired_at for m in incident.members.values())


def routes_for(routes: tuple[Route, ...], reason: str, members: list[Member], told: set[str]):
    """(route, the members it wants) for an incident notification: not the escalation routes;
    a resolution only to routes that want one and were told it fired; nothing that would
    carry no firing alert (unless it says resolved)."""
    for route in routes:
        if route.escalation:
            continue
        if reason == "resolved" and not (route.send_resolved and route.name in told):
            continue
        wanted = [m for m in members if route.wants(m.level, m.component)]
        if wanted and (reason == "resolved" or any(m.firing for m in wanted)):
            yield route, wanted


class Plan:
    def __init__(self, alert_log, grouper: Grouper, settings: NotifySettings, *, push: bool, now: float):
        self.log = alert_log
        self.grouper = grouper
        self.settings = settings
        self.push = push  # Alertmanager is configured
        self._revision = -1
        self._last_id = 0
        self._escalated: set[tuple[int, float]] = set()  # (alert id, critical since) already escalated
        self._pushed: dict[int, dict] = {}  # alert id -> the alert as last pushed firing
        self._resent = 0.0
        self._adopt_active(now)

    def read(self) -> Read | None:
        """Feed the events logged since the last look into the incidents; None when the log
        did not change."""
        if self.log.revision == self._revision:
            return None
        self._revision = self.log.revision
        events = self.log.events(since_id=self._last_id)
        active = self.log.active()
        keys = {a["id"]: a["key"] for a in active}
        found = Read(active, set(), [])
        for event in events:
            self._last_id = max(self._last_id, event["id"])
            self.grouper.observe(event, keys.get(event.get("alert_id")))
            if event["kind"] in OPENING:
                found.opened.add(event["alert_id"])
            elif event["kind"] in CLOSING and event.get("alert_id") is not None:
                found.closed.append(event)
        self.grouper.refresh(active)
        return found

    def due(self, now: float) -> list[Tell | Escalate | Push]:
        """Everything due now, in the order to send it."""
        items: list[Tell | Escalate | Push] = []
        found = self.read()
        if found is not None and self.push and (found.opened or found.closed):
            items.append(Push([a for a in found.active if a["id"] in found.opened], found.closed))
        items.extend(Tell(i, reason, alert_time(i, reason, now)) for i, reason in self.grouper.due(now))
        active = found.active if found is not None else self.log.active()
        items.extend(self._escalations(active, now))
        if self.push and now - self._resent >= self.settings.resend:
            self._resent = now
            items.append(Push(active))
        return items

    def _escalations(self, active: list[dict], now: float) -> list[Escalate]:
        if not any(r.escalation for r in self.settings.routes):
            return []
        items = []
        for alert in active:
            since = alert.get("updated", alert["started"])
            if alert["level"] != "critical" or alert.get("acknowledged"):
                continue
            if now - since < self.settings.escalate_after or (alert["id"], since) in self._escalated:
                continue
            incident = self.grouper.incident_of(alert["id"])
            items.append(Escalate(Member.of_alert(alert, since), since, incident.id if incident else None))
        return items

    # -- what went out ---------------------------------------------------------------------
    def told_incident(self, item: Tell, now: float) -> None:
        self.grouper.mark_notified(item.incident, now)

    def told_escalation(self, item: Escalate) -> None:
        self._escalated.add((item.member.alert_id, item.since))

    def told_alertmanager(self, item: Push, now: float) -> tuple[list[AlertState], float]:
        """The states to push for ``item`` (its firing alerts not silenced) and the time of the
        newest change among them (0: none): a firing alert until four re-sends ahead (so
        Alertmanager resolves it should this monitor die), one that changed severity ended
        at its old one, an ended one at its end."""
        ends = now + 4 * self.settings.resend
        states, newest = [], 0.0
        for alert in item.firing:
            before = self._pushed.get(alert["id"])
            if before is not None and before["level"] != alert["level"]:
                states.append(AlertState(before, now, firing=False))
            self._pushed[alert["id"]] = alert
            states.append(AlertState(alert, ends, firing=True))
            newest = max(newest, alert.get("updated", alert["started"]))
        for event in item.closed:
            before = self._pushed.pop(event["alert_id"], None)
            if before is not None:
                states.append(AlertState(before, event["timestamp"], firing=False))
                newest = max(newest, event["timestamp"])
        return states, newest

    def _adopt_active(self, now: float) -> None:
        """Alerts already active: grouped, and counted as told; their end is notified."""
        events = self.log.events()
        self._last_id = max((e["id"] for e in events), default=0)
        for alert in self.log.active():
            event = {**alert, "kind": "fired", "alert_id": alert["id"], "timestamp": alert["started"]}
            incident = self.grouper.observe(event, alert["key"])
            if incident is not None:
                self.grouper.mark_notified(incident, now)
        self._revision = self.log.revision
