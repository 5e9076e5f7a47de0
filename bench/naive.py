"""The naive collector the product guide's original was: the baseline for bench_core.py.

Every tick calls psutil for CPU, memory, disk, network counters and the full list of
connections, builds a dataclass, and appends it to a bounded deque. History queries
filter the deque in Python and convert each point to a dict.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass

import psutil

GB = 1024**3
MB = 1024**2


@dataclass
class SystemMetrics:
    timestamp: float
    cpu_percent: float
    memory_percent: float
    memory_used_gb: float
    memory_total_gb: float
    disk_percent: float
    network_sent_mb: float
    network_recv_mb: float
    active_connections: int


class NaiveCollector:
    def __init__(self, max_history: int = 1000):
        self.history: deque[SystemMetrics] = deque(maxlen=max_history)

    def collect_once(self) -> SystemMetrics:
        cpu = psutil.cpu_percent()
        mem = psutil.virtual_memory()
        disk = psutil.disk_usage("/")
        net = psutil.net_io_counters()
        connections = len(psutil.net_connections())
        metrics = SystemMetrics(
            timestamp=time.time(),
            cpu_percent=cpu,
            memory_percent=mem.percent,
            memory_used_gb=mem.used / GB,
            memory_total_gb=mem.total / GB,
            disk_percent=disk.percent,
            network_sent_mb=net.bytes_sent / MB,
            network_recv_mb=net.bytes_recv / MB,
            active_connections=connections,
        )
        self.history.append(metrics)
        return metrics

    def get_historical_data(self, minutes: float = 60, now: float | None = None) -> list[dict]:
        """Points of the last ``minutes`` as dicts (``now`` defaults to the current time)."""
        cutoff = (time.time() if now is None else now) - minutes * 60
        return [asdict(m) for m in [m for m in self.history if m.timestamp >= cutoff]]
