"""The collector's own health, as the ``collector`` component: how long ticks take, how many
ran and were missed, and what this process costs (CPU, resident memory)."""

from __future__ import annotations

import time

import psutil

from .fields import COUNTER, GAUGE, TIMESTAMP, Field

COLLECTOR_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("tick_duration_ms", "ms", GAUGE, "Time the last tick took (sources, store, alerts)"),
    Field("interval_seconds", "s", GAUGE, "Configured collection interval"),
    Field("ticks_total", "1", COUNTER, "Ticks run since the collector was created"),
    Field("missed_ticks_total", "1", COUNTER, "Scheduled ticks skipped because a tick overran"),
    Field("process_cpu_percent", "%", GAUGE, "CPU used by this process since the previous tick (100 = one core)"),
    Field("process_rss_mb", "MB", GAUGE, "Resident memory of this process, MiB"),
    Field("store_disk_mb", "MB", GAUGE, "Disk used by the saved history (database and its log), MiB"),
)

_PROCESS = psutil.Process()


class TickStats:
    """Counts ticks and missed ticks and makes the ``collector`` record after each tick."""

    def __init__(self):
        self.ticks = 0
        self.missed = 0
        self._last_cpu: tuple[float, float] | None = None  # (process time, monotonic) at the last record

    def record(self, started: float, now: float, interval: float, running: bool, disk_mb: float | None = None) -> dict:
        """The record of a tick that began at ``started`` (``perf_counter``), stamped ``now``."""
        cpu_now = (time.process_time(), time.monotonic())
        cpu_percent = None
        if self._last_cpu is not None:
            wall = cpu_now[1] - self._last_cpu[1]
            cpu_percent = 100.0 * (cpu_now[0] - self._last_cpu[0]) / wall if wall > 0 else None
        self._last_cpu = cpu_now
        self.ticks += 1
        return {
            "timestamp": now,
            "tick_duration_ms": (time.perf_counter() - started) * 1000.0,
            "interval_seconds": interval,
            "ticks_total": self.ticks,
            "missed_ticks_total": self.missed,
            "process_cpu_percent": cpu_percent,
            "process_rss_mb": _PROCESS.memory_info().rss / (1024 * 1024),
            "store_disk_mb": disk_mb,  # None: memory only
            "running": running,
        }
