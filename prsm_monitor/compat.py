"""The guide's spellings of the collector's API, over the real one.

- ``await start_collection()`` starts the thread and returns once collection runs (the first
  tick is done and, when this machine is measured, its CPU reading exists); the collection
  it started stops when the event loop that awaited it ends (``asyncio.run`` returns) or
  the awaiting task is cancelled first. ``start_collection(instance)`` first makes the
  collector watch another prsm-monitor instance (:mod:`prsm_monitor.fleet.instance_source`).
  ``stop_collection()`` stops it.
- ``await _create_alert(...)`` and ``get_historical_data()`` (plain records).
- ``debug_mode = True``: one debug line per tick on the ``prsm_monitor.core.collector`` logger,
  and the tick's timings per source in the ``collector`` record (``debug``).
- A subclass's ``async def _collect_custom_metrics(self)`` runs each tick (on the collector
  thread's own event loop; a failure is one alert); the dicts it appends to
  ``self.custom_metrics`` become the ``custom`` component: latest record, history, API.
- ``MetricsCollector(baseline_metrics={...})``: :func:`with_baseline`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import re
import time
from collections.abc import Mapping

from .fields import GAUGE, TIMESTAMP, Field
from .settings.model import Settings
from .settings.thresholds import check_thresholds
from .settings.values import ConfigError

log = logging.getLogger("prsm_monitor.collector")

# the guide's "Custom Thresholds" keys -> the rules whose warning threshold they set
BASELINE_KEYS = {
    "cpu_threshold": "cpu",
    "memory_threshold": "memory",
    "disk_threshold": "disk",
    "network_latency_threshold": "latency",
    "inference_time_threshold": "inference_time",
    "confidence_threshold": "confidence",
}
CUSTOM = "custom"  # the component of _collect_custom_metrics' data
FIELD_NAME = re.compile(r"(?!timestamp$)[A-Za-z_][A-Za-z0-9_]{0,99}")
READY_SECONDS = 5.0  # start_collection waits this long (plus two intervals) for the first reading


def with_baseline(settings: Settings, baseline: Mapping | None) -> Settings:
    """``settings`` with the guide's ``baseline_metrics`` as the warning thresholds of the
    matching rules (:data:`BASELINE_KEYS`). An unknown key or a bad value is a
    :class:`~prsm_monitor.settings.values.ConfigError` naming ``baseline_metrics.<key>``."""
    if not baseline:
        return settings
    if not isinstance(baseline, Mapping):
        raise ConfigError("baseline_metrics", baseline, f"a mapping with keys among {', '.join(BASELINE_KEYS)}")
    changes = {}
    for key, value in baseline.items():
        if key not in BASELINE_KEYS:
            raise ConfigError(f"baseline_metrics.{key}", value, f"a key among {', '.join(BASELINE_KEYS)}")
        changes[BASELINE_KEYS[key]] = {"warning": value}
    try:
        thresholds = check_thresholds(changes, settings.thresholds)
    except ConfigError as error:
        rule = error.variable.split(".")[1]
        key = next(k for k, r in BASELINE_KEYS.items() if r == rule)
        raise ConfigError(f"baseline_metrics.{key}", error.value, error.expected) from None
    return dataclasses.replace(settings, thresholds={**settings.thresholds, **thresholds})


class CollectorCompat:
    """Mixed into :class:`~prsm_monitor.core.collector.MetricsCollector`, which calls
    :meth:`_init_compat` from its constructor."""

    def _init_compat(self) -> None:
        self.debug_mode = False
        self.custom_metrics: list[dict] = []
        self._custom_seen = 0  # entries of custom_metrics already stored
        self._custom_fields: tuple[str, ...] = ()
        self._loop_guard: asyncio.Task | None = None

    @property
    def ticks(self) -> int:
        """Ticks run since the collector was created."""
        return self._stats.ticks

    # -- asyncio spelling ---------------------------------------------------------------------
    async def start_collection(self, instance=None) -> None:
        """Start collecting (watching ``instance``, a base URL or an object with ``url``, if
        given) and return once collection runs; see the module doc for when it stops."""
        if instance is not None:
            await asyncio.to_thread(self.watch_instance, instance)
        started_here = not self.running
        ticks = self.ticks
        self.start()
        if started_here:
            self._stop_with_loop(asyncio.get_running_loop())
        try:
            await self.until_reading(ticks)
        except asyncio.CancelledError:
            if started_here:
                self.stop_collection()
            raise

    def stop_collection(self) -> None:
        """Stop the collection thread (what :meth:`start_collection` started)."""
        self.stop()
        guard, self._loop_guard = self._loop_guard, None
        if guard is not None and not guard.done():
            try:
                guard.get_loop().call_soon_threadsafe(guard.cancel)
            except RuntimeError:  # its loop has closed
                pass

    def _stop_with_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stop the collection when ``loop`` ends: ``asyncio.run`` cancels this task on its way out."""

        async def hold() -> None:
            try:
                await asyncio.Event().wait()
            finally:  # unless stop_collection() ran first (and a new run may have begun since)
                if self._loop_guard is asyncio.current_task():
                    self._loop_guard = None
                    self.stop()

        self._loop_guard = loop.create_task(hold(), name="prsm-collection")

    async def until_reading(self, ticks_before: int) -> None:
        """Wait (polling, with a deadline) for a tick after ``ticks_before`` whose ``system``
        record, if any, has its CPU reading (the first one after start-up may have none)."""
        deadline = time.monotonic() + READY_SECONDS + 2 * self.collection_interval
        while time.monotonic() < deadline and self.running:
            if self.ticks > ticks_before:
                system = self.latest("system")
                if system is None or system.get("cpu_percent") is not None:
                    return
            await asyncio.sleep(0.02)

    def watch_instance(self, instance) -> None:
        """Watch another prsm-monitor instance instead of the current sources: its ``system``,
        ``network`` and ``ai`` become this collector's (see :mod:`prsm_monitor.fleet.instance_source`)."""
        # imported on use: the fleet's poller is a cost only a collector that watches one pays
        from .fleet.instance_source import InstanceSource, as_instance

        source = InstanceSource(as_instance(instance), interval=self.collection_interval)
        self.replace_sources([source])

    def replace_sources(self, sources) -> None:
        """Close the current sources and collect from ``sources`` from the next tick."""
        for source in self.source_set.clear():
            close = getattr(source, "close", None)
            if close:
                close()
        for source in sources:
            self.add_source(source)

    async def _create_alert(self, level: str, component: str, message: str, details: dict | None = None):
        """``await collector._create_alert(...)``: the same as :meth:`create_alert`."""
        return self.create_alert(level, component, message, details)

    def get_historical_data(self, component: str, duration_minutes: float = 60) -> list[dict]:
        """Records of the last ``duration_minutes``, oldest first, NaN as None."""
        frame = self.history(component, duration_minutes)
        return [{k: (None if v != v else v) for k, v in row.items()} for row in frame.to_dict("records")]

    # -- custom metrics -----------------------------------------------------------------------
    async def _collect_custom_metrics(self) -> None:
        """Override in a subclass: append dicts to ``self.custom_metrics``; runs each tick."""

    def _custom_records(self, now: float) -> dict[str, dict]:
        """``{"custom": record}`` of what ``_collect_custom_metrics`` appended this tick (its
        dicts merged, newest last; numbers under names like ``queue_depth`` kept in history), or
        nothing. Runs on the tick."""
        if type(self)._collect_custom_metrics is CollectorCompat._collect_custom_metrics:
            return {}
        self.custom.isolated("custom-metrics", "custom metrics", self._collect_custom_metrics, now)
        entries = self.custom_metrics
        new = [e for e in entries[self._custom_seen :] if isinstance(e, Mapping)]
        del entries[: max(0, len(entries) - self.store.capacity)]  # the history is in the store
        self._custom_seen = len(entries)
        if not new:
            return {}
        record: dict = {}
        for entry in new:
            record.update(entry)
        record["timestamp"] = now
        numeric = tuple(  # kept in history and on /metrics: numbers under names Prometheus accepts
            k for k, v in record.items() if isinstance(k, str) and FIELD_NAME.fullmatch(k) and _is_number(v)
        )
        fields = tuple(dict.fromkeys((*self._custom_fields, *numeric)))
        if fields != self._custom_fields:  # a new field: declared before it is stored
            self._custom_fields = fields
            self.store.declare(CUSTOM, ["timestamp", *fields])
            with self._lock:
                self._latest.setdefault(CUSTOM, None)
        return {CUSTOM: record}

    @property
    def custom_fields(self) -> tuple[Field, ...]:
        """The ``custom`` component's fields, as declared from the data (empty until some)."""
        help_text = "Custom metric appended by _collect_custom_metrics"
        return (TIMESTAMP, *(Field(name, "1", GAUGE, help_text) for name in self._custom_fields))

    # -- debug mode ---------------------------------------------------------------------------
    def _debug_tick(self, record: dict, source_ms: dict[str, float], checks_ms: float) -> None:
        """With ``debug_mode``: the tick's timings in the ``collector`` record and one log line."""
        if not self.debug_mode:
            return
        record["debug"] = {"source_ms": source_ms, "checks_ms": checks_ms}
        sources = ", ".join(f"{name} {ms:.1f} ms" for name, ms in source_ms.items())
        log.debug(
            "tick %d: %.1f ms (%s; checks %.1f ms), %d alerts active",
            record["ticks_total"],
            record["tick_duration_ms"],
            sources or "no sources",
            checks_ms,
            len(self.log.active()),
        )


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
