"""The delivery log: every notification the sender took, and what became of it.

A delivery is queued, then each attempt either sends it or fails with a reason; after its
last retry it is ``failed``. ``dropped`` means the queue was full. Bounded; thread-safe;
reads return copies, newest first.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field

QUEUED, RETRYING, SENT, FAILED, DROPPED = "queued", "retrying", "sent", "failed", "dropped"
STATUSES = (QUEUED, RETRYING, SENT, FAILED, DROPPED)


@dataclass
class Delivery:
    """One message to one target (an Apprise URL, Alertmanager)."""

    channel: str  # the route's name, or "alertmanager"
    target: str  # where to, passwords hidden
    kind: str  # firing, changed, repeat, resolved, escalation, alertmanager
    title: str
    incident: int | None  # the incident it is about (None: Alertmanager's per-alert push)
    alert_time: float  # when the newest alert it tells about fired (or ended, for resolved)
    created: float
    id: int = 0
    status: str = QUEUED
    attempts: int = 0
    error: str | None = None  # why the last attempt failed
    sent_at: float | None = None
    latency_s: float | None = None  # from alert_time to the receiver accepting it
    errors: list[str] = field(default_factory=list)  # each failed attempt's reason


class DeliveryLog:
    def __init__(self, keep: int = 500):
        self._items: deque[Delivery] = deque(maxlen=keep)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.revision = 0

    def add(self, delivery: Delivery) -> Delivery:
        with self._lock:
            delivery.id = next(self._ids)
            self._items.append(delivery)
            self.revision += 1
        return delivery

    def update(self, delivery: Delivery, **changes) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(delivery, name, value)
            if changes.get("error"):
                delivery.errors.append(changes["error"])
            self.revision += 1

    def entries(self, limit: int | None = None, status: str | None = None) -> list[dict]:
        """Deliveries as dicts, newest first."""
        with self._lock:
            chosen = (d for d in reversed(self._items) if status is None or d.status == status)
            return [asdict(d) for d in itertools.islice(chosen, limit or None)]  # asdict copies

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {s: sum(d.status == s for d in self._items) for s in STATUSES}
