"""The machine the monitor runs on, measured with psutil."""

from __future__ import annotations

import os
import sys
import threading
import time

import psutil

from ..fields import COUNTER, GAUGE, TIMESTAMP, Field
from .base import Source

GB = 1024**3
MIN_CPU_SPAN = 0.1  # seconds: CPU use over a shorter span than this is reported as None
MB = 1024**2

SYSTEM_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("cpu_percent", "%", GAUGE, "CPU use over all cores since the previous reading"),
    Field("memory_percent", "%", GAUGE, "Memory in use, as psutil's virtual_memory().percent"),
    Field("memory_used_gb", "GB", GAUGE, "Memory in use (total minus available), GiB"),
    Field("memory_total_gb", "GB", GAUGE, "Physical memory, GiB"),
    Field("disk_percent", "%", GAUGE, "Space used on the monitored file system, read every 5 s"),
    Field("network_sent_mb", "MB", COUNTER, "Bytes sent on the network interfaces (not loopback) since boot, MiB"),
    Field("network_recv_mb", "MB", COUNTER, "Bytes received on the network interfaces (not loopback) since boot, MiB"),
    Field(
        "active_connections",
        "1",
        GAUGE,
        (
            "Open inet (TCP and UDP, IPv4 and IPv6) sockets of this machine, counted every 5 s from the kernel's "
            "own counters (/proc/net/sockstat on Linux)"
        ),
    ),
    Field("network_sent_bytes_per_s", "B/s", GAUGE, "Send rate on the network interfaces (not loopback)"),
    Field("network_recv_bytes_per_s", "B/s", GAUGE, "Receive rate on the network interfaces (not loopback)"),
    Field("disk_read_bytes_per_s", "B/s", GAUGE, "Read rate of all disks, over the last 5 s"),
    Field("disk_write_bytes_per_s", "B/s", GAUGE, "Write rate of all disks, over the last 5 s"),
    Field("swap_percent", "%", GAUGE, "Swap in use, read every 5 s (absent where the machine has no swap)"),
    Field("swap_used_gb", "GB", GAUGE, "Swap in use, GiB"),
    Field("load_1m", "1", GAUGE, "Load average over 1 minute, read every 5 s (absent where the platform has none)"),
    Field("load_5m", "1", GAUGE, "Load average over 5 minutes"),
    Field("load_15m", "1", GAUGE, "Load average over 15 minutes"),
    Field("process_count", "1", GAUGE, "Number of processes, counted every 5 s"),
)


def _sockstat_inuse(paths=("/proc/net/sockstat", "/proc/net/sockstat6")) -> int:
    """Sum the kernel's ``inuse`` counts of TCP and UDP sockets (Linux only)."""
    total = 0
    for path in paths:
        with open(path, encoding="ascii") as f:
            for line in f:
                proto, _, rest = line.partition(":")
                if proto in ("TCP", "UDP", "TCP6", "UDP6"):
                    parts = rest.split()
                    total += int(parts[parts.index("inuse") + 1])
    return total


def count_inet_sockets() -> int:
    """Open inet sockets of this machine (its network namespace): ``active_connections``.

    On Linux this reads the kernel's own counters in ``/proc/net/sockstat`` and
    ``sockstat6`` (about 50 µs), instead of listing every connection with
    ``psutil.net_connections()`` (5 to 11 ms measured here). Elsewhere it falls back to
    ``len(psutil.net_connections())``; :class:`SystemSource` only calls it on its slow
    cadence either way.
    """
    if sys.platform.startswith("linux") and os.path.exists("/proc/net/sockstat"):
        return _sockstat_inuse()
    return len(psutil.net_connections(kind="inet"))


def _busy_percent(before, after) -> float:
    """CPU busy percent between two ``psutil.cpu_times()`` readings (psutil's own formula:
    guest time is already counted in user time, and idle and iowait are not busy)."""

    def total(t):
        return sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)

    def busy(t):
        return total(t) - t.idle - getattr(t, "iowait", 0.0)

    busy_delta, total_delta = busy(after) - busy(before), total(after) - total(before)
    if busy_delta <= 0 or total_delta <= 0:
        return 0.0
    return round(min(100.0, 100.0 * busy_delta / total_delta), 1)


def _is_loopback(name: str, stats) -> bool:
    flags = getattr(stats, "flags", "")  # psutil >= 5.9.3 on UNIX: "up,loopback,running"
    return "loopback" in flags.split(",") or name in ("lo", "lo0") or name.lower().startswith("loopback")


class InterfaceCounters:
    """Bytes sent and received since boot over this machine's network interfaces, loopback
    left out, as Netdata's aggregated bandwidth and Glances (which hides ``lo``) count them:
    what processes of this host send each other (the demo network, a browser on the same
    machine, a local load test) never leaves it and is not network I/O. Which interfaces
    are loopback is read once per interface name (``psutil.net_if_stats``)."""

    def __init__(self):
        self._loopback: dict[str, bool] = {}

    def read(self) -> tuple[int, int]:
        counters = psutil.net_io_counters(pernic=True, nowrap=False)
        if any(name not in self._loopback for name in counters):
            stats = psutil.net_if_stats()
            self._loopback = {name: _is_loopback(name, stats.get(name)) for name in counters}
        sent = recv = 0
        for name, io in counters.items():
            if not self._loopback[name]:
                sent += io.bytes_sent
                recv += io.bytes_recv
        return sent, recv


def _rate(now_value: float, then_value: float | None, seconds: float) -> float | None:
    if then_value is None or seconds <= 0 or now_value < then_value:
        return None  # first reading, or a counter reset: no honest rate
    return (now_value - then_value) / seconds


class SystemSource(Source):
    """CPU, memory, disk, network, load and processes of this machine.

    Per tick it reads CPU (per core; the total is their mean), memory and network
    counters: about 0.2 ms. Values that change slowly or cost more to read (swap, disk
    space, disk I/O counters, process count, open sockets) are re-read on a slower
    cadence, every ``slow_seconds`` (default 5 s), and repeated in between; the disk
    I/O rates are then averages over that period. psutil's first, meaningless
    ``cpu_percent`` reading is avoided: CPU use is computed from ``psutil.cpu_times()``
    deltas over at least 0.1 s (a quicker reading is ``None``, not a noisy number).
    """

    components = ("system",)
    fields = {"system": SYSTEM_FIELDS}  # and one per CPU core, on the instance

    def __init__(self, disk_path: str | None = None, slow_seconds: float = 5.0, clock=time.monotonic):
        self.disk_path = disk_path or os.path.abspath(os.sep)
        self._clock = clock  # monotonic seconds: spans of rates and the slow cadence (tests pass a fake one)
        self.slow_seconds = slow_seconds
        self.cores = psutil.cpu_count() or 1
        self.fields = {
            "system": SYSTEM_FIELDS
            + tuple(Field(f"cpu_core_{i}_percent", "%", GAUGE, f"CPU use of core {i}") for i in range(self.cores))
        }
        self._cpu_ref = (clock(), psutil.cpu_times(percpu=True))  # what the first reading compares to
        self._interfaces = InterfaceCounters()
        self._net: tuple[float, int, int] | None = None
        self._disk_io: tuple[float, int, int] | None = None
        self._slow_at = -float("inf")
        self._slow: dict[str, float | None] = {}

    def collect(self) -> dict[str, dict]:
        now = time.time()
        mono = self._clock()
        cores = self._cpu_cores(mono)
        mem = psutil.virtual_memory()
        sent_bytes, recv_bytes = self._interfaces.read()
        record: dict[str, object] = {
            "timestamp": now,
            "cpu_percent": None if cores[0] is None else round(sum(cores) / len(cores), 2),
            "memory_percent": mem.percent,
            "memory_used_gb": (mem.total - mem.available) / GB,
            "memory_total_gb": mem.total / GB,
            "network_sent_mb": sent_bytes / MB,
            "network_recv_mb": recv_bytes / MB,
            "network_sent_bytes_per_s": None,
            "network_recv_bytes_per_s": None,
            "cpu_per_core": list(cores),
        }
        for i, value in enumerate(cores):
            record[f"cpu_core_{i}_percent"] = value
        if self._net is not None:
            then, sent, recv = self._net
            record["network_sent_bytes_per_s"] = _rate(sent_bytes, sent, mono - then)
            record["network_recv_bytes_per_s"] = _rate(recv_bytes, recv, mono - then)
        self._net = (mono, sent_bytes, recv_bytes)
        if mono - self._slow_at >= self.slow_seconds:
            self._slow = self._read_slow(mono)
            self._slow_at = mono
        record.update(self._slow)
        return {"system": record}

    def _cpu_cores(self, mono: float) -> list[float | None]:
        """Busy percent of each core since the reference reading, as psutil.cpu_percent computes
        it. A span under 0.1 s gives None and keeps the reference, so that readings taken in
        quick succession wait for a meaningful span instead of each reporting noise."""
        then, before = self._cpu_ref
        if mono - then < MIN_CPU_SPAN:
            return [None] * len(before)
        now = psutil.cpu_times(percpu=True)
        self._cpu_ref = (mono, now)
        return [_busy_percent(a, b) for a, b in zip(before, now, strict=True)]

    def _read_slow(self, mono: float) -> dict[str, float | None]:
        slow: dict[str, float | None] = {
            "disk_percent": psutil.disk_usage(self.disk_path).percent,
            "active_connections": count_inet_sockets(),
            "process_count": len(psutil.pids()),
            "disk_read_bytes_per_s": None,
            "disk_write_bytes_per_s": None,
        }
        swap = psutil.swap_memory()
        slow["swap_percent"] = swap.percent if swap.total else None
        slow["swap_used_gb"] = swap.used / GB if swap.total else None
        try:
            load = os.getloadavg()
        except (AttributeError, OSError):
            load = (None, None, None)
        slow["load_1m"], slow["load_5m"], slow["load_15m"] = load
        disk = psutil.disk_io_counters(nowrap=False)
        if disk is None:  # no disks visible (some containers, some platforms)
            self._disk_io = None
        else:
            if self._disk_io is not None:
                then, read, written = self._disk_io
                slow["disk_read_bytes_per_s"] = _rate(disk.read_bytes, read, mono - then)
                slow["disk_write_bytes_per_s"] = _rate(disk.write_bytes, written, mono - then)
            self._disk_io = (mono, disk.read_bytes, disk.write_bytes)
        return slow


_process_cache: dict[int, psutil.Process] = {}
_process_lock = threading.Lock()


def top_processes(limit: int = 10) -> list[dict]:
    """The processes using the most CPU since the previous call, then memory.

    Costs 10-25 ms on this machine (one /proc walk), so it is not part of the tick: the
    System page calls it at most every few seconds. ``Process`` objects are kept between
    calls so that ``cpu_percent`` measures the time since the last call (the first call
    reports 0.0 for every process, as psutil does)."""
    with _process_lock:
        return _top_processes(limit)


def _top_processes(limit: int) -> list[dict]:
    rows = []
    alive = set()
    for proc in psutil.process_iter(["pid", "name", "memory_info", "num_threads"]):
        cached = _process_cache.setdefault(proc.pid, proc)
        alive.add(proc.pid)
        try:
            cpu = cached.cpu_percent()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        info = proc.info
        rss = info["memory_info"].rss if info["memory_info"] else None
        rows.append(
            {
                "pid": proc.pid,
                "name": info["name"] or "",
                "cpu_percent": cpu,
                "memory_mb": None if rss is None else rss / MB,
                "threads": info["num_threads"],
            }
        )
    for pid in set(_process_cache) - alive:
        del _process_cache[pid]
    rows.sort(key=lambda r: (r["cpu_percent"], r["memory_mb"] or 0), reverse=True)
    return rows[:limit]
