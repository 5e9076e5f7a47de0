"""The collector's own health, as the ``collector`` component: how long ticks take, how many
ran and were missed, and what this process costs (CPU, resident memory)."""

from __future__ import annotations

import time

import psutil

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
