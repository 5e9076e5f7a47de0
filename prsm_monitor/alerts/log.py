"""The alert log: active alerts, a bounded history of events, acknowledgement.

The history is two bounded lists: alert events (fired, resolved, escalated, ...) and notices
(``changed``: settings, silences, acknowledgements). A flood of changes (thousands of settings
writes) therefore evicts older changes only, never the alerts' own history; each list keeps
``history`` events and readers see both merged in id order. Acknowledging an alert that is
already acknowledged changes nothing (:meth:`AlertLog.acknowledge` says so), so repeating it
logs nothing either.
"""

from __future__ import annotations

import copy
import heapq
import threading
from collections import deque
from enum import Enum

from ..fields import LEVELS

# Event kinds that open (or change the level of) an active alert, and those that close one.
# ``anomaly`` and ``forecast`` open the alerts of :mod:`prsm_monitor.insight` (a value outside
# its learnt band; a limit forecast within the horizon); they close with ``resolved``.
OPENING = frozenset({"fired", "escalated", "de-escalated", "error", "anomaly", "forecast"})
CLOSING = frozenset({"resolved", "recovered"})
NOTICE = frozenset({"changed"})  # history only: settings changes and the like
KINDS = OPENING | CLOSING | NOTICE


class Ack(Enum):
    """What :meth:`AlertLog.acknowledge` did."""

    DONE = "acknowledged"  # the alert was not acknowledged, now it is
    ALREADY = "already acknowledged"  # nothing changed
    UNKNOWN = "no such active alert"

    def __bool__(self) -> bool:  # truthy when the alert is (now) acknowledged
        return self is not Ack.UNKNOWN


class AlertLog:
    """Consumes alert events. Each event gets an increasing ``id``; readers that remember
    the last id they saw (``events(since_id=...)``) get each event exactly once.

    Thread-safe; every read returns copies.
    """

    def __init__(self, history: int = 1000):
        self._events: deque[dict] = deque(maxlen=history)  # alert events
        self._notices: deque[dict] = deque(maxlen=history)  # changes: never evict alert events
        self._active: dict[str, dict] = {}
        self._next_id = 1
        self.revision = 0  # grows with every event and acknowledgement: readers can cache per revision
        self._lock = threading.Lock()

    def record(
        self,
        key: str,
        kind: str,
        level: str,
        component: str,
        message: str,
        details: dict | None = None,
        timestamp: float = 0.0,
    ) -> dict:
        """Log one event. ``key`` names the alert (a rule, a source, a custom message)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        with self._lock:
            event_id = self._next_id
            self._next_id += 1
            active = self._active.get(key)
            if kind in OPENING:
                if active is None:
                    active = {"id": event_id, "key": key, "started": timestamp}
                    self._active[key] = active
                if kind in ("fired", "escalated", "error") or active.get("level") != level:
                    active.update(acknowledged=False, acknowledged_at=None, acknowledged_by=None)
                active.update(
                    level=level, component=component, message=message, details=dict(details or {}), updated=timestamp
                )
            elif kind in CLOSING and active is not None:
                del self._active[key]
            event = {
                "id": event_id,
                "alert_id": active["id"] if active else None,
                "kind": kind,
                "timestamp": timestamp,
                "level": level,
                "component": component,
                "message": message,
                "details": dict(details or {}),
            }
            (self._notices if kind in NOTICE else self._events).append(event)
            self.revision += 1
            return copy.deepcopy(event)

    def record_transitions(self, transitions, timestamp: float) -> None:
        """Log the evaluator's transitions (:class:`~.evaluator.Transition`), one event each."""
        for t in transitions:
            self.record(f"rule:{t.rule.name}", t.kind, t.level, t.rule.component, t.message, t.details, timestamp)

    def refresh(self, key: str, message: str, details: dict | None = None, *, merge: bool = False) -> bool:
        """Re-render an active alert in place (its message and details say what holds now), as
        Prometheus re-renders an active alert's annotations: no event is logged, and the
        history keeps what each event said when it happened. ``merge`` updates the details
        rather than replacing them. False when ``key`` is not active."""
        with self._lock:
            active = self._active.get(key)
            if active is None:
                return False
            new = {**active["details"], **(details or {})} if merge else dict(details or {})
            if (active["message"], active["details"]) != (message, new):
                active.update(message=message, details=new)
                self.revision += 1
            return True

    def refresh_rules(self, statuses) -> None:
        """Re-render the active alerts of firing rules (:class:`~.evaluator.Status`, from
        :func:`~.evaluator.firing`) with their current values."""
        for status in statuses:
            self.refresh(f"rule:{status.rule.name}", status.message, status.details, merge=True)

    def is_active(self, key: str) -> bool:
        with self._lock:
            return key in self._active

    def active_keys(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [k for k in self._active if k.startswith(prefix)]

    def active(self) -> list[dict]:
        """Active alerts, most severe first, then newest first."""
        with self._lock:
            alerts = copy.deepcopy(list(self._active.values()))
        return sorted(alerts, key=lambda a: (-LEVELS.index(a["level"]), -a["started"]))

    def acknowledge(self, alert_id: int, timestamp: float, by: str | None = None) -> Ack:
        """Mark an active alert as seen (``by``: who). :attr:`Ack.ALREADY` (nothing changed,
        the first acknowledgement's time and name stay) when it is acknowledged already;
        :attr:`Ack.UNKNOWN` (falsy) when no active alert has that id."""
        with self._lock:
            for alert in self._active.values():
                if alert["id"] == alert_id:
                    if alert.get("acknowledged"):
                        return Ack.ALREADY
                    alert.update(acknowledged=True, acknowledged_at=timestamp, acknowledged_by=by)
                    self.revision += 1
                    return Ack.DONE
        return Ack.UNKNOWN

    def events(
        self,
        *,
        since_id: int = 0,
        limit: int | None = None,
        level: str | None = None,
        component: str | None = None,
        since: float | None = None,
    ) -> list[dict]:
        """Logged events, oldest first, filtered; ``limit`` keeps the newest ones."""
        with self._lock:
            merged = heapq.merge(self._events, self._notices, key=lambda e: e["id"])
            return copy.deepcopy(select(merged, since_id, limit, level, component, since))

    def restore(self, events: list[dict], active: list[dict]) -> None:
        """Take over the events and active alerts an earlier run saved (no new events); ids
        continue after the highest one seen. An event saved twice (a journal written again
        into a new file) is taken once."""
        with self._lock:
            unique = {e["id"]: e for e in events}
            for event in sorted(unique.values(), key=lambda e: e["id"]):
                (self._notices if event.get("kind") in NOTICE else self._events).append(copy.deepcopy(event))
            self._active = {a["key"]: copy.deepcopy(a) for a in active if "key" in a}
            ids = [e["id"] for e in (*self._events, *self._notices)] + [a["id"] for a in self._active.values()]
            self._next_id = max([self._next_id - 1, *ids]) + 1
            self.revision += 1

    def resize(self, history: int) -> None:
        with self._lock:
            self._events = deque(self._events, maxlen=history)
            self._notices = deque(self._notices, maxlen=history)


def select(events, since_id=0, limit=None, level=None, component=None, since=None) -> list[dict]:
    """``events`` (oldest first) after ``since_id``, of ``level`` and ``component``, from
    ``since``; ``limit`` keeps the newest ones. The one filter of the live log and the past's."""
    selected = [
        e
        for e in events
        if e["id"] > since_id
        and (level is None or e["level"] == level)
        and (component is None or e["component"] == component)
        and (since is None or e["timestamp"] >= since)
    ]
    if limit is not None:
        selected = selected[-limit:] if limit > 0 else []
    return selected
