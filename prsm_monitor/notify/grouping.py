"""Incidents: alerts caused by one thing, grouped, with Alertmanager's notification timers.

An alert joins an incident by its ``node`` / ``model`` labels (from its details):

- an alert with a node (or model) label joins the open incident of that node (model); with
  none, an open incident of the network or the AI models without labels that started within
  ``group_window`` (and the incident takes its label);
- a network or AI alert without labels joins the newest open labelled incident that started
  within ``group_window`` (a node going down also moves latency and model availability);
- anything else (the machine's own alerts, a source failing) is an incident of its own;
- an anomaly or a forecast (a value that moved, not a cause) joins its node's or model's open
  incident, else a network or AI one joins the newest open network or AI incident within
  ``group_window`` whatever its label; it never opens an incident labelled with its node.

A demo fault injected (the log's ``setting:fault:*`` event) is a known cause: while it is
injected, for ``group_window`` after it is cleared and while its incident is still open after
that (what it moved recovering), every alert that fires (anomalies and
forecasts included) joins the one incident of that cause, the one whose node it carries first,
else the newest; the incident's title names the cause (``node-0 memory leak: ...``), and an
alert firing again while the fault lasts reopens that same incident.

An incident is open while one of its alerts fires. :meth:`Grouper.due` says which incidents
to notify now, with ``group_wait`` (wait after the first alert, so the ones it causes come
along), ``group_interval`` (wait after a notification before telling a change) and
``repeat_interval`` (tell again while nothing changed). Pure bookkeeping, no I/O, no clock:
the caller passes ``now``; not thread-safe (the notifier holds a lock around it).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from ..demo.faults import Cause, fault_causes
from ..fields import LEVELS

OPENING = frozenset({"fired", "escalated", "de-escalated", "error", "anomaly", "forecast"})
CLOSING = frozenset({"resolved", "recovered"})
DERIVED = frozenset({"anomaly", "forecast"})  # a value that moved: it follows a cause, never names one
CORRELATED = frozenset({"network", "ai"})  # components a node or model going away moves
LABELS = ("node", "model")


def labels_of(details: dict) -> dict[str, str]:
    """The grouping labels an alert's details carry (``node``, ``model``), as text."""
    return {k: str(details[k]) for k in LABELS if details.get(k) not in (None, "")}


@dataclass
class Member:
    """One alert of an incident: what it said last, and when it fired and ended."""

    alert_id: int
    key: str | None
    level: str
    component: str
    message: str
    details: dict
    fired_at: float  # the event that opened it
    ended_at: float | None = None

    @classmethod
    def of_alert(cls, alert: dict, since: float) -> Member:
        """An active alert of the log (``id``, ``key``, ``level``, ...), firing since ``since``."""
        return cls(
            alert["id"], alert["key"], alert["level"], alert["component"], alert["message"], alert["details"], since
        )

    def alert(self) -> dict:
        """The alert in the log's shape, as the silences and the context read it."""
        return {
            "id": self.alert_id,
            "key": self.key,
            "level": self.level,
            "component": self.component,
            "message": self.message,
            "details": self.details,
        }

    @property
    def firing(self) -> bool:
        return self.ended_at is None

    def as_dict(self) -> dict:
        return {
            "alert_id": self.alert_id,
            "key": self.key,
            "level": self.level,
            "component": self.component,
            "message": self.message,
            "details": dict(self.details),
            "fired_at": self.fired_at,
            "ended_at": self.ended_at,
            "firing": self.firing,
        }


@dataclass
class Incident:
    id: int
    labels: dict[str, str]
    started: float
    members: dict[int, Member] = field(default_factory=dict)
    ended_at: float | None = None
    last_notified: float | None = None
    notified_state: frozenset = frozenset()  # (alert_id, level) that were firing when last told
    notified_firing: bool = False  # the last notification said it fires (not resolved)
    notifications: int = 0
    routes_told: set[str] = field(default_factory=set)
    cause: str | None = None  # the injected fault it follows from, when known ("node-0 memory leak")

    @property
    def open(self) -> bool:
        return any(m.firing for m in self.members.values())

    @property
    def state(self) -> frozenset:
        return frozenset((m.alert_id, m.level) for m in self.members.values() if m.firing)

    @property
    def level(self) -> str:
        """The most severe level among its firing alerts (all of them once it ended)."""
        members = [m for m in self.members.values() if m.firing] or list(self.members.values())
        return max((m.level for m in members), key=LEVELS.index)

    @property
    def component(self) -> str:
        return next(iter(self.members.values())).component

    @property
    def title(self) -> str:
        """What it is about: its cause when known, else its label (node or model), and its
        first alert's message."""
        first = next(iter(self.members.values()))
        about = self.cause or " ".join(f"{k} {v}" for k, v in self.labels.items())
        more = len(self.members) - 1
        return f"{about + ': ' if about else ''}{first.message}{f' (+{more} more)' if more else ''}"

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "labels": dict(self.labels),
            "level": self.level,
            "component": self.component,
            "title": self.title,
            "cause": self.cause,
            "started": self.started,
            "ended_at": self.ended_at,
            "open": self.open,
            "firing": sum(m.firing for m in self.members.values()),
            "notifications": self.notifications,
            "last_notified": self.last_notified,
            "alerts": [m.as_dict() for m in self.members.values()],
        }


@dataclass
class Known:
    """A cause injected now (or ended within ``group_window``) and its incident, once one fired."""

    cause: Cause
    started: float
    ended_at: float | None = None
    incident: Incident | None = None


@dataclass(frozen=True)
class Timers:
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    group_window: float = 60.0


class Grouper:
    """Feeds alert events into incidents and says when each is due for a notification."""

    def __init__(self, timers: Timers = Timers(), keep: int = 200):
        self.timers = timers
        self.keep = keep  # ended incidents remembered, newest
        self.incidents: OrderedDict[int, Incident] = OrderedDict()
        self._by_alert: dict[int, Incident] = {}
        self._next_id = 1
        self.causes: OrderedDict[tuple[str, ...], Known] = OrderedDict()  # oldest first

    # -- feeding ---------------------------------------------------------------------------
    def observe(self, event: dict, key: str | None = None) -> Incident | None:
        """Take one alert-log event (``fired``, ``resolved``, ...); returns its incident, or
        None for events that are not about an alert (settings changes)."""
        alert_id = event.get("alert_id")
        kind = event.get("kind")
        if kind == "changed" and (event.get("details") or {}).get("fault"):
            self._fault(event["details"], event["timestamp"])
            return None
        if alert_id is None or (kind not in OPENING and kind not in CLOSING):
            return None
        now = event["timestamp"]
        incident = self._by_alert.get(alert_id)
        if kind in CLOSING:
            if incident is None:
                return None
            member = incident.members[alert_id]
            member.ended_at = now
            del self._by_alert[alert_id]
            if not incident.open:
                incident.ended_at = now
            return incident
        details = dict(event.get("details") or {})
        if incident is not None:  # the same alert again: another level, message
            member = incident.members[alert_id]
            member.level, member.message, member.details = event["level"], event["message"], details
            return incident
        member = Member(alert_id, key, event["level"], event["component"], event["message"], details, now)
        incident = self._place_cause(member, now)
        if incident is None:
            incident = self._place_derived(member, now) if kind in DERIVED else self._place(member, now)
        incident.members[alert_id] = member
        incident.ended_at = None
        self._by_alert[alert_id] = incident
        self._forget_old()
        return incident

    def incident_of(self, alert_id: int) -> Incident | None:
        """The open incident an active alert belongs to."""
        return self._by_alert.get(alert_id)

    def refresh(self, active: list[dict]) -> None:
        """Take the active alerts' current messages and details (values now) into members."""
        for alert in active:
            incident = self._by_alert.get(alert["id"])
            if incident is not None:
                member = incident.members[alert["id"]]
                member.message, member.details = alert["message"], dict(alert.get("details") or {})
                member.key = alert.get("key", member.key)

    def _fault(self, details: dict, now: float) -> None:
        """A fault injected or cleared: a cause starts, or causes end (kept ``group_window``)."""
        started, ended = fault_causes(details)
        for prefix in ended:
            for cause_id, known in self.causes.items():
                if cause_id[: len(prefix)] == prefix and known.ended_at is None:
                    known.ended_at = now
        for cause in started:
            known = self.causes.pop(cause.id, None)
            if known is None or known.ended_at is not None:  # a new fault: a new incident
                known = Known(cause, now)
            self.causes[cause.id] = known  # the newest last
        for cause_id, known in list(self.causes.items()):
            if not self._live(known, now):
                del self.causes[cause_id]

    def _live(self, known: Known, now: float) -> bool:
        """A cause alerts still join: injected, cleared within ``group_window``, or its incident
        still open (a queue draining after an overload is still the overload)."""
        if known.ended_at is None or now - known.ended_at <= self.timers.group_window:
            return True
        return known.incident is not None and known.incident.open

    def _place_cause(self, member: Member, now: float) -> Incident | None:
        """The incident of the injected cause ``member`` follows from (see the module doc)."""
        live = [k for k in reversed(self.causes.values()) if self._live(k, now)]
        if not live:
            return None
        node = labels_of(member.details).get("node")
        known = next((k for k in live if node and k.cause.node == node), None)
        known = known or next((k for k in live if k.ended_at is None), live[0])
        if known.incident is None or known.incident.id not in self.incidents:
            labels = {"node": known.cause.node} if known.cause.node else {}
            known.incident = self._new(labels, now)
            known.incident.cause = known.cause.title
        return known.incident

    def _place(self, member: Member, now: float) -> Incident:
        labels = labels_of(member.details)
        window = self.timers.group_window
        open_ = [i for i in reversed(self.incidents.values()) if i.open]
        if labels:
            for incident in open_:
                if any(incident.labels.get(k) == v for k, v in labels.items()):
                    return incident
            if member.component in CORRELATED:
                for incident in open_:
                    if not incident.labels and incident.component in CORRELATED and now - incident.started <= window:
                        incident.labels.update(labels)
                        return incident
        elif member.component in CORRELATED:
            for incident in open_:
                if incident.labels and now - incident.started <= window:
                    return incident
        return self._new(labels, now)

    def _place_derived(self, member: Member, now: float) -> Incident:
        """An anomaly or forecast joins the open incident of its node or model, else (network
        or AI) the newest open network or AI incident within ``group_window``, whatever its
        label: when node-0 goes down, node-1's message rate falls with it. Otherwise it is an
        incident of its own, without a label, which the cause may still join."""
        labels = labels_of(member.details)
        open_ = [i for i in reversed(self.incidents.values()) if i.open]
        for incident in open_:
            if any(incident.labels.get(k) == v for k, v in labels.items()):
                return incident
        if member.component in CORRELATED:
            for incident in open_:
                if incident.component in CORRELATED and now - incident.started <= self.timers.group_window:
                    return incident
        return self._new({}, now)

    def _new(self, labels: dict[str, str], now: float) -> Incident:
        incident = Incident(self._next_id, labels, now)
        self._next_id += 1
        self.incidents[incident.id] = incident
        return incident

    def _forget_old(self) -> None:
        ended = [i for i in self.incidents.values() if not i.open]
        for incident in ended[: max(0, len(ended) - self.keep)]:
            del self.incidents[incident.id]

    # -- notifying -------------------------------------------------------------------------
    def due(self, now: float) -> list[tuple[Incident, str]]:
        """Incidents to notify now and why: ``firing`` (first, after group_wait), ``changed``
        (an alert joined, changed level or ended, after group_interval), ``repeat`` (nothing
        changed for repeat_interval) or ``resolved`` (all ended, after group_interval).
        An incident that ended before it was ever notified is never notified."""
        t = self.timers
        result = []
        for incident in self.incidents.values():
            if incident.last_notified is None:
                if incident.open and now - incident.started >= t.group_wait:
                    result.append((incident, "firing"))
                continue
            since = now - incident.last_notified
            if not incident.open:
                if incident.notified_firing and since >= t.group_interval:
                    result.append((incident, "resolved"))
            elif incident.state != incident.notified_state:
                if since >= t.group_interval:
                    result.append((incident, "changed"))
            elif since >= t.repeat_interval:
                result.append((incident, "repeat"))
        return result

    def mark_notified(self, incident: Incident, now: float) -> None:
        incident.last_notified = now
        incident.notified_state = incident.state
        incident.notified_firing = incident.open
        incident.notifications += 1
