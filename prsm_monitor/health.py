"""The monitor's own health: one policy shared by ``/health``, the Overview and the CLI.

``unhealthy`` when the collector stopped or has not ticked for :func:`stall_seconds`;
``starting`` before its first tick; ``degraded`` while a critical alert fires; else
``healthy``.
"""

from __future__ import annotations

from .collector import MetricsCollector
from .fields import LEVELS


def stall_seconds(interval: float) -> float:
    """How long without a tick before the collector counts as stalled."""
    return 3 * interval + 1.0


def health_report(collector: MetricsCollector, now: float, strict: bool = False) -> tuple[int, dict]:
    """``(HTTP status, body)`` of ``/health``.

    ``status`` is ``unhealthy`` (503) when the collector stopped or has not ticked for
    :func:`stall_seconds`; ``starting`` before its first tick; ``degraded`` while a
    critical alert fires (503 only with ``strict``); else ``healthy``. ``*_ok`` is None
    for a component without readings, False while its rule fires at critical level (or
    its source fails), True otherwise."""
    latest = {c: collector.latest(c) for c in ("system", "network", "ai")}  # by reference: read only
    record = collector.latest("collector")
    interval = collector.collection_interval
    running = collector.running
    age = None if record is None else max(0.0, now - record["timestamp"])
    problems = []
    if not running:
        problems.append("the collector is not running")
    elif age is not None and age > stall_seconds(interval):
        problems.append(f"the collector has not ticked for {age:.1f} s (interval {interval:g} s)")
    active = collector.get_active_alerts()
    counts = {level: 0 for level in LEVELS}
    for alert in active:
        counts[alert["level"]] = counts.get(alert["level"], 0) + 1
    errors = dict(collector.custom.errors)

    def ok(component: str, rule: str | None = None) -> bool | None:
        if latest.get(component) is None:
            return None
        if component in errors:
            return False
        return not any(
            a["level"] == "critical" and (a.get("key") == f"rule:{rule}" if rule else a["component"] == component)
            for a in active
        )

    network = latest.get("network")
    network_ok = ok("network")
    if network_ok and network.get("active_nodes") is not None:
        network_ok = network["active_nodes"] > 0
    if problems:
        status, code = "unhealthy", 503
    elif record is None:
        status, code = "starting", 200
    elif counts["critical"]:
        status, code = "degraded", 503 if strict else 200
    else:
        status, code = "healthy", 200
    body = {
        "status": status,
        "timestamp": now,
        "cpu_ok": ok("system", "cpu"),
        "memory_ok": ok("system", "memory"),
        "disk_ok": ok("system", "disk"),
        "network_ok": network_ok,
        "ai_ok": ok("ai"),
        "problems": problems,
        "collector": {
            "running": running,
            "last_tick_age_seconds": age,
            "stalled_after_seconds": stall_seconds(interval),
            "interval_seconds": interval,
            "ticks_total": record and record.get("ticks_total"),
            "missed_ticks_total": record and record.get("missed_ticks_total"),
            "tick_duration_ms": record and record.get("tick_duration_ms"),
        },
        "active_alerts": counts,
        "strict": strict,
    }
    return code, body
