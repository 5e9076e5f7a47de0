"""The alerts as they were at a moment, replayed from the persisted alert and audit events.

The alert log (:mod:`prsm_monitor.alerts.log`) persists one event per transition (``fired``,
``escalated``, ``de-escalated``, ``error``, ``anomaly``, ``forecast``; ``resolved``,
``recovered``) and one ``changed`` event per acknowledgement (``details.setting ==
"acknowledge"``, with the alert's id and who) and per silence created or expired
(``details.setting == "silence"``, with its matchers, start and end as they were then).
Replaying the events up to a moment in id order gives the alerts active then, whether each
was acknowledged then, and the silences in force then: pure functions, no live state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..alerts.log import CLOSING, OPENING
from ..alerts.silences import matches
from ..fields import LEVELS
from ..notify.grouping import Grouper

RESET = ("fired", "escalated", "error")  # these ask for a new acknowledgement (as the log does)


def _until(events: Iterable[Mapping], at: float) -> list[Mapping]:
    return sorted((e for e in events if (e.get("timestamp") or 0.0) <= at), key=lambda e: e["id"])


def active_at(events: Iterable[Mapping], at: float) -> list[dict]:
    """The alerts active at ``at`` (epoch seconds), as :meth:`AlertLog.active` lists them
    (most severe first, then newest first): ``id``, ``started``, ``level``, ``component``,
    ``message`` and ``details`` of their last event up to then, ``acknowledged`` (with
    ``acknowledged_at`` and ``acknowledged_by``) as it stood then. An alert whose first event
    is older than the events given starts at its oldest event given."""
    active: dict[int, dict] = {}
    for event in _until(events, at):
        kind, ts = event.get("kind"), float(event.get("timestamp") or 0.0)
        alert_id = event.get("alert_id") or event["id"]
        if kind in OPENING:
            alert = active.get(alert_id)
            if alert is None:
                alert = active[alert_id] = {"id": alert_id, "key": None, "started": ts, "acknowledged": False}
                alert.update(acknowledged_at=None, acknowledged_by=None)
            if kind in RESET or alert.get("level") != event.get("level"):
                alert.update(acknowledged=False, acknowledged_at=None, acknowledged_by=None)
            alert.update(
                level=event.get("level"),
                component=event.get("component"),
                message=event.get("message", ""),
                details=dict(event.get("details") or {}),
                updated=ts,
            )
        elif kind in CLOSING:
            active.pop(alert_id, None)
        elif kind == "changed":
            details = event.get("details") or {}
            target = active.get(details.get("alert_id")) if details.get("setting") == "acknowledge" else None
            if target is not None and not target["acknowledged"]:
                target.update(acknowledged=True, acknowledged_at=ts, acknowledged_by=details.get("actor"))
    alerts = [a for a in active.values() if a.get("level") in LEVELS]
    return sorted(alerts, key=lambda a: (-LEVELS.index(a["level"]), -a["started"]))


def silences_at(events: Iterable[Mapping], at: float) -> list[dict]:
    """The silences in force at ``at``: each silence's last ``changed`` event up to then gives
    its matchers, start and end as they stood (an early expiry moves the end)."""
    latest: dict = {}
    for event in _until(events, at):
        details = event.get("details") or {}
        if event.get("kind") == "changed" and details.get("setting") == "silence":
            latest[details.get("silence_id")] = details
    return [
        {
            "id": sid,
            "matchers": dict(d.get("matchers") or {}),
            "starts_at": float(d.get("starts_at") or 0.0),
            "ends_at": float(d.get("ends_at") or 0.0),
            "comment": d.get("comment") or "",
            "created_by": d.get("actor"),
        }
        for sid, d in latest.items()
        if float(d.get("starts_at") or 0.0) <= at < float(d.get("ends_at") or 0.0)
    ]


class PastSilences:
    """The ``silenced(alert, now)`` read of :class:`~prsm_monitor.alerts.silences.Silences`,
    answered for the silences in force at the moment (``now`` is ignored: the moment is fixed)."""

    def __init__(self, silences: list[dict]):
        self.items = silences

    def silenced(self, alert: Mapping, now: float | None = None) -> dict | None:
        found = [s for s in self.items if matches(s["matchers"], alert)]
        if not found:
            return None
        return {**max(found, key=lambda s: s["ends_at"]), "status": "active"}


class PastIncidents:
    """The ``incidents()`` read of the notifier, for a moment: the events up to it replayed
    into a fresh :class:`~prsm_monitor.notify.grouping.Grouper` (pure bookkeeping, the same
    grouping as live), so the Alerts page folds an incident's alerts as it did then."""

    def __init__(self, events: list[Mapping], timers=None):
        self._events = events
        self._timers = timers
        self._items: list[dict] | None = None

    def incidents(self, limit: int | None = None) -> list[dict]:
        if self._items is None:
            grouper = Grouper(self._timers) if self._timers is not None else Grouper()
            for event in self._events:
                grouper.observe(dict(event))
            items = [i.as_dict() for i in grouper.incidents.values()]
            self._items = sorted(items, key=lambda i: (not i["open"], -i["started"]))
        return self._items[:limit] if limit else list(self._items)
