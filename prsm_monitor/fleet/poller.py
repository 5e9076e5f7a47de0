"""Watching other prsm-monitor instances (``PRSM_INSTANCES``) through their own API.

:class:`Fleet` polls each instance's ``GET /api/metrics`` (and ``/api/settings`` now and
then, for its thresholds) from one scheduler thread and a small pool of workers, so that a
slow or dead instance holds up neither the local collector nor a page nor the other
instances: each read has a timeout, a failing instance is retried with a growing back-off,
and the last good answer is kept, with its age, to be shown as stale.

It is also a source of the local collector (no fields of its own): on every local tick
:meth:`Fleet.conditions` asserts one ``error`` alert per instance that stopped answering
("Instance edge is unreachable") or refuses our token, through the collector's custom
alerts, so each is logged, toasted and resolved when the instance answers again.

Polling rather than ``/api/stream``: one short request per instance and interval costs the
instance a cached body (its ``/api/metrics`` is encoded once per tick), detects a dead
instance within a timeout, needs no long-lived connection per instance (20 instances, 20
open streams and a reader each), and back-off falls out of the schedule.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .. import redact
from ..sources.base import Source
from . import validate
from .client import BAD_ANSWER, UNAUTHORIZED, UNREACHABLE, InstanceClient, InstanceError
from .remote import RemoteCollector
from .tokens import instance_tokens

log = logging.getLogger(__name__)

WAITING = "waiting"  # no answer yet
UP = "up"
DOWN_AFTER = 2  # failed reads in a row before an instance counts as unreachable (a 401 counts at once)
SETTINGS_EVERY = 30.0  # seconds between reads of an instance's thresholds
SPARK_POINTS = 60  # CPU points kept per instance for the Fleet page's sparkline
SPARK_STEP = 5.0  # seconds between them: 60 points are 5 minutes
MIN_INTERVAL = 0.5  # seconds between polls of one instance, at least
MAX_WORKERS = 8


@dataclass(frozen=True)
class Instance:
    name: str
    url: str
    token: str | None = field(default=None, repr=False)


@dataclass
class InstanceState:
    """What is known of one instance. ``url`` is its address as it may be shown (password
    hidden); ``metrics`` its last good ``/api/metrics`` answer, checked value by value
    (:mod:`.validate`) and never changed once stored, ``received_at`` when that arrived
    (local wall time)."""

    name: str
    url: str
    status: str = WAITING  # waiting, up, unreachable, unauthorized, bad_answer
    metrics: dict | None = None
    received_at: float | None = None
    error: str | None = None
    failures: int = 0  # failed reads in a row
    failing_since: float | None = None
    version: int = 0  # grows with every new answer and every change of status
    settings: dict | None = None  # its last /api/settings answer
    settings_at: float = -math.inf
    cpu: tuple[tuple[float, float], ...] = ()  # (timestamp, cpu_percent), oldest first

    def age(self, now: float) -> float | None:
        """Seconds since the last good answer (None: never answered)."""
        return None if self.received_at is None else max(0.0, now - self.received_at)


def _is_metrics(value: Mapping) -> bool:
    """Whether an answer has the shape of ``/api/metrics`` (another program may answer 200 JSON too)."""
    return all(key in value for key in ("system", "network", "ai", "active_alerts")) and isinstance(
        value.get("active_alerts"), list
    )


class Fleet(Source):
    """Polls ``instances`` every ``interval`` seconds (at least :data:`MIN_INTERVAL`).

    ``timeout`` bounds each connect and read; a failing instance is next tried after
    ``interval`` × 2, × 4 ... up to ``max_backoff`` seconds. :meth:`start` starts the
    thread, :meth:`close` stops it. Reads (:meth:`state`, :meth:`states`) are thread-safe
    snapshots."""

    # a source without components or fields of its own: it only asserts alerts

    def __init__(
        self,
        instances: Iterable[Instance],
        *,
        interval: float = 1.0,
        timeout: float = 2.0,
        max_backoff: float = 15.0,
        clock=time.time,
    ):
        self.instances = tuple(instances)
        self.interval = max(MIN_INTERVAL, float(interval))
        self.timeout = timeout
        self.max_backoff = max(self.interval, max_backoff)
        self._clock = clock
        self._states = {i.name: InstanceState(i.name, redact.url(i.url)) for i in self.instances}
        self._cpu = {i.name: deque(maxlen=SPARK_POINTS) for i in self.instances}
        self._clients = {i.name: InstanceClient(i.name, i.url, i.token, timeout) for i in self.instances}
        self._next = dict.fromkeys(self._states, 0.0)  # monotonic time of each instance's next poll
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max(1, min(MAX_WORKERS, len(self.instances))), "prsm-fleet")
        self._thread: threading.Thread | None = None
        self._views: dict[str, object] = {}
        self.polls = 0  # reads made, for benchmarks

    @classmethod
    def from_settings(cls, settings, tokens: Mapping[str, str | None] | None = None) -> Fleet:
        """The fleet of ``settings.instances`` (tokens default to the secrets' ``[instances]``), started."""
        names = [name for name, _ in settings.instances]
        tokens = instance_tokens(names) if tokens is None else tokens
        fleet = cls(
            [Instance(name, url, tokens.get(name)) for name, url in settings.instances], interval=settings.interval
        )
        fleet.start()
        return fleet

    # -- the thread ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None and self.instances:
            self._thread = threading.Thread(target=self._run, name="prsm-fleet", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            with self._lock:
                due = [n for n, at in self._next.items() if n not in self._busy and at <= now]
                self._busy.update(due)
            for name in due:
                self._pool.submit(self._poll, name)
            with self._lock:
                waiting = [at for n, at in self._next.items() if n not in self._busy]
            wait = (min(waiting) - time.monotonic()) if waiting else self.interval
            self._wake.wait(min(self.interval, max(0.005, wait)))
            self._wake.clear()

    def _poll(self, name: str) -> None:
        started = time.monotonic()
        client = self._clients[name]
        try:
            answer = client.get_json("/api/metrics")
            if not _is_metrics(answer):
                raise InstanceError(BAD_ANSWER, f"Instance {name} answered /api/metrics without its metrics")
            metrics = validate.metrics(answer)  # nothing reaches a page unchecked
            settings = None
            if self._clock() - self._states[name].settings_at >= SETTINGS_EVERY:
                try:
                    settings = validate.mapping(client.get_json("/api/settings"))
                except (InstanceError, validate.Refused) as error:  # its thresholds are then the defaults
                    log.info("thresholds of %s not read: %s", name, error)
        except InstanceError as error:
            self._failed(name, error)
        except Exception as error:  # noqa: BLE001 - whatever happens, the instance stays scheduled
            log.exception("reading instance %s failed", name)
            self._failed(name, InstanceError(BAD_ANSWER, f"Instance {name}: {type(error).__name__} reading its answer"))
        else:
            self._received(name, metrics, settings, started)
        finally:
            with self._lock:
                self.polls += 1
                self._busy.discard(name)
            self._wake.set()

    def _received(self, name: str, metrics: dict, settings: dict | None, started: float) -> None:
        now = self._clock()
        system = metrics.get("system") or {}
        with self._lock:
            state = self._states[name]
            changed = state.status != UP or state.metrics is None or _stamp(state.metrics) != _stamp(metrics)
            state.status, state.error, state.failures, state.failing_since = UP, None, 0, None
            state.metrics, state.received_at = metrics, now
            if settings is not None:
                state.settings, state.settings_at = settings, now
            cpu, stamp = system.get("cpu_percent"), system.get("timestamp")
            spark = self._cpu[name]
            numbers = isinstance(cpu, (int, float)) and isinstance(stamp, (int, float))
            if numbers and (not spark or stamp - spark[-1][0] >= SPARK_STEP):
                spark.append((float(stamp), float(cpu)))
            if changed:
                state.version += 1
            self._next[name] = started + self.interval

    def _failed(self, name: str, error: InstanceError) -> None:
        now = self._clock()
        with self._lock:
            state = self._states[name]
            state.failures += 1
            state.error = str(error)
            if state.failing_since is None:
                state.failing_since = now
            counts = error.kind == UNAUTHORIZED or state.failures >= DOWN_AFTER
            if counts and state.status != error.kind:
                state.status = error.kind
                state.version += 1
            backoff = min(self.max_backoff, self.interval * 2 ** (state.failures - 1))
            self._next[name] = time.monotonic() + backoff

    # -- reads --------------------------------------------------------------------------------
    def state(self, name: str) -> InstanceState:
        """A snapshot of one instance (``KeyError`` for a name not in the fleet)."""
        with self._lock:
            return dataclasses.replace(self._states[name], cpu=tuple(self._cpu[name]))

    def states(self) -> list[InstanceState]:
        with self._lock:
            return [dataclasses.replace(s, cpu=tuple(self._cpu[n])) for n, s in self._states.items()]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.instances)

    def is_stale(self, state: InstanceState, now: float | None = None) -> bool:
        """Whether ``state``'s figures are not current: it is not answering, or its last answer
        is older than three polls (it answers slowly)."""
        now = self._clock() if now is None else now
        age = state.age(now)
        return state.status != UP or age is None or age > 3 * self.interval + self.timeout

    def view(self, name: str, hub) -> object:
        """The read-only collector view of instance ``name`` (one object per instance, so that
        caches keyed on it last); ``hub`` is the local collector."""
        with self._lock:
            if name not in self._views:
                instance = next(i for i in self.instances if i.name == name)
                self._views[name] = RemoteCollector(self, instance, hub)
            return self._views[name]

    # -- as a source of the local collector ---------------------------------------------------
    def collect(self) -> dict:
        return {}

    def conditions(self, records: Mapping) -> Sequence[tuple]:
        """One ``error`` alert per instance that stopped answering or refuses our token."""
        alerts = []
        for state in self.states():
            if state.status in (WAITING, UP):
                continue
            details = {"instance": state.name, "url": state.url, "error": state.error, "last_seen": state.received_at}
            if state.status == UNREACHABLE:
                message = f"Instance {state.name} is unreachable"
            elif state.status == UNAUTHORIZED:
                message = state.error or f"Instance {state.name} refused the token"
            else:
                message = f"Instance {state.name} does not answer as a prsm-monitor API"
            alerts.append(("error", "system", message, details))
        return alerts


def _stamp(metrics: Mapping) -> tuple:
    """What tells one answer from the next: the instance's tick count and its alert log."""
    collector = metrics.get("collector") or {}
    alerts = metrics.get("alerts") or []
    return (
        collector.get("ticks_total"),
        (metrics.get("system") or {}).get("timestamp"),
        alerts[-1].get("id") if alerts and isinstance(alerts[-1], dict) else None,
        len(metrics.get("active_alerts") or ()),
    )
