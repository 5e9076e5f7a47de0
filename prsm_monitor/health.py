"""The monitor's own health: one policy shared by ``/health``, the Overview and the CLI.

``unhealthy`` (503) when the collector stopped, has not ticked for :func:`stall_seconds` or
its ticks fail; ``degraded`` (503) when it skips many of its scheduled ticks (they take
longer than the interval); ``starting`` before its first tick; ``degraded`` (200, 503 with
``strict``) while a critical alert fires; else ``healthy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .fields import LEVELS

if TYPE_CHECKING:
    from .core.collector import MetricsCollector

COLLECTOR_KEYS = (
    "running",
    "created_at",
    "stopped_by",
    "last_tick_age_seconds",
    "stalled_after_seconds",
    "interval_seconds",
    "ticks_total",
    "missed_ticks_total",
    "tick_duration_ms",
)
MISSED_WINDOW_SECONDS = 60.0  # missed ticks are judged over this much recent history
MISSED_SHARE = 0.2  # a problem when more than this share of the scheduled ticks was skipped...
MISSED_AT_LEAST = 5  # ...and at least this many


def stall_seconds(interval: float) -> float:
    """How long without a tick before the collector counts as stalled."""
    return 3 * interval + 1.0


def missed_recently(collector: MetricsCollector, record: dict | None) -> tuple[int, int, float]:
    """``(missed, scheduled, seconds)``: ticks skipped and ticks due over the last
    :data:`MISSED_WINDOW_SECONDS` of the collector's own history, up to ``record`` (its latest)."""
    if record is None:
        return 0, 0, 0.0
    rows = collector.store.query_columns("collector", record["timestamp"] - MISSED_WINDOW_SECONDS)
    if len(rows) < 2:
        return 0, 0, 0.0
    missed = int(rows["missed_ticks_total"][-1] - rows["missed_ticks_total"][0])
    ran = int(rows["ticks_total"][-1] - rows["ticks_total"][0])
    return missed, missed + ran, float(rows["timestamp"][-1] - rows["timestamp"][0])


def collector_problems(collector: MetricsCollector, record: dict | None, age: float | None) -> tuple[list, list]:
    """``(fatal, slow)``: what stops the monitoring, and what makes it fall behind, in words."""
    facts = version_facts(collector)
    return live_problems(collector, facts, age) + facts["failing"], list(facts["slow"])


def live_problems(collector: MetricsCollector, facts: dict, age: float | None) -> list[str]:
    """What the clock and the thread say now (not cached): stopped, or no tick for too long."""
    interval = facts["interval"]
    if not collector.running:
        why = collector.stopped_by
        return [f"the collector thread stopped ({why})" if why else "the collector is not running"]
    if age is not None and age > stall_seconds(interval):
        return [f"the collector has not ticked for {age:.1f} s (interval {interval:g} s)"]
    return []


def version_facts(collector: MetricsCollector) -> dict:
    """Everything ``/health`` reads that changes only with the collector's version (a tick,
    an alert event, a settings change): computed once per version by the API's cache."""
    record = collector.latest("collector")
    interval = collector.collection_interval
    active = collector.get_active_alerts()
    failing = [a["message"] for a in active if a.get("key") in ("collector:tick", "collector:loop")]
    missed, scheduled, seconds = missed_recently(collector, record)
    slow = []
    if missed >= MISSED_AT_LEAST and missed > MISSED_SHARE * scheduled:
        slow.append(
            f"the collector skipped {missed} of {scheduled} scheduled ticks in the last {seconds:.0f} s: "
            f"ticks take longer than the {interval:g} s interval"
        )
    counts = {level: 0 for level in LEVELS}
    for alert in active:
        counts[alert["level"]] = counts.get(alert["level"], 0) + 1
    latest = {c: collector.latest(c) for c in ("system", "network", "ai")}  # by reference: read only
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
    return {
        "record": record,
        "interval": interval,
        "failing": failing,
        "slow": slow,
        "counts": counts,
        "oks": {
            "cpu_ok": ok("system", "cpu"),
            "memory_ok": ok("system", "memory"),
            "disk_ok": ok("system", "disk"),
            "network_ok": network_ok,
            "ai_ok": ok("ai"),
        },
    }


def starting_report(now: float, strict: bool = False) -> tuple[int, dict]:
    """``/health`` while the process is still starting its collector (demo network, first
    tick): the port answers at once, ``starting`` with 200, nothing known yet."""
    body = {
        "status": "starting",
        "timestamp": now,
        **dict.fromkeys(("cpu_ok", "memory_ok", "disk_ok", "network_ok", "ai_ok")),
        "problems": [],
        "collector": dict.fromkeys(COLLECTOR_KEYS),
        "active_alerts": {level: 0 for level in LEVELS},
        "strict": strict,
    }
    return 200, body


def health_report(collector: MetricsCollector, now: float, strict: bool = False, facts: dict | None = None):
    """``(HTTP status, body)`` of ``/health``.

    ``status`` is ``unhealthy`` (503) when the collector stopped, stalled or fails its ticks;
    ``degraded`` (503) when it skips many scheduled ticks; ``starting`` before its first
    tick; ``degraded`` while a critical alert fires (503 only with ``strict``); else
    ``healthy``. ``problems`` says why in words. ``*_ok`` is None
    for a component without readings, False while its rule fires at critical level (or
    its source fails), True otherwise. ``facts`` is :func:`version_facts` for the
    collector's current version, when the caller caches it."""
    facts = facts if facts is not None else version_facts(collector)
    record = facts["record"]
    interval = facts["interval"]
    age = None if record is None else max(0.0, now - record["timestamp"])
    fatal = live_problems(collector, facts, age) + facts["failing"]
    slow = facts["slow"]
    counts = facts["counts"]
    if fatal:
        status, code = "unhealthy", 503
    elif slow:
        status, code = "degraded", 503
    elif record is None:
        status, code = "starting", 200
    elif counts["critical"]:
        status, code = "degraded", 503 if strict else 200
    else:
        status, code = "healthy", 200
    body = {
        "status": status,
        "timestamp": now,
        **facts["oks"],
        "problems": fatal + slow,
        "collector": {
            "running": collector.running,
            "created_at": collector.created_at,
            "stopped_by": collector.stopped_by,
            "last_tick_age_seconds": age,
            "stalled_after_seconds": stall_seconds(interval),
            "interval_seconds": interval,
            "ticks_total": record and record.get("ticks_total"),
            "missed_ticks_total": record and record.get("missed_ticks_total"),
            "tick_duration_ms": record and record.get("tick_duration_ms"),
        },
        "active_alerts": dict(counts),
        "strict": strict,
    }
    return code, body
