"""What the Fleet page and ``GET /api/fleet`` say of each instance: its status, the age of
its last answer, its headline figures and its active alerts by level.

Statuses: ``up``, ``stale`` (up, but its last answer is older than three polls), ``waiting``
(no answer yet), ``unreachable``, ``unauthorized`` (its token was refused or is missing),
``bad_answer`` (not a prsm-monitor API); this instance ``up`` or ``stopped``; an instance
Prometheus scrapes ``up``, ``stale`` or ``down`` (its last scrape failed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ..fields import LEVELS
from ..settings.env_services import LOCAL_INSTANCE
from .poller import UP, Fleet, InstanceState
from .prometheus import PrometheusFleet, ScrapedInstance


def figures(metrics: Mapping | None) -> dict:
    """The headline figures of an ``/api/metrics`` answer (None where it has none)."""
    metrics = metrics or {}
    system, network, ai = (metrics.get(c) or {} for c in ("system", "network", "ai"))
    levels = Counter(a.get("level") for a in metrics.get("active_alerts") or [] if isinstance(a, dict))
    return {
        "cpu_percent": system.get("cpu_percent"),
        "memory_percent": system.get("memory_percent"),
        "active_nodes": network.get("active_nodes"),
        "total_nodes": network.get("total_nodes"),
        "active_models": ai.get("active_models"),
        "total_models": ai.get("total_models"),
        "active_alerts": {level: levels.get(level, 0) for level in LEVELS},
    }


def local_instance(collector, now: float) -> dict:
    metrics = collector.get_latest_metrics()
    stamp = (metrics.get("system") or {}).get("timestamp")
    return {
        "name": LOCAL_INSTANCE,
        "url": None,
        "status": "up" if collector.running else "stopped",
        "error": None,
        "age_seconds": None if stamp is None else max(0.0, now - stamp),
        **figures(metrics),
    }


def remote_instance(state: InstanceState, stale: bool, now: float) -> dict:
    """An instance read through its API: its last good answer's figures, even when stale."""
    return {
        "name": state.name,
        "url": state.url,
        "status": "stale" if stale and state.status == UP else state.status,
        "error": state.error,
        "age_seconds": state.age(now),
        **figures(state.metrics),
    }


def scraped_instance(scraped: ScrapedInstance, stale: bool, now: float) -> dict:
    """An instance Prometheus scrapes (by its ``instance`` label): its last samples there."""
    values = scraped.figures
    return {
        "name": scraped.instance,
        "url": None,
        "status": "down" if scraped.up is False else ("stale" if stale else "up"),
        "error": None,
        "age_seconds": None if scraped.last_sample is None else max(0.0, now - scraped.last_sample),
        "cpu_percent": values.get("cpu"),
        "memory_percent": values.get("memory"),
        **{key: values.get(key) for key in ("active_nodes", "total_nodes", "active_models", "total_models")},
        "active_alerts": {level: scraped.alerts.get(level, 0) for level in LEVELS},
    }


def fleet_summary(collector, fleet: Fleet | None, scraped: PrometheusFleet | None, now: float) -> dict:
    """``GET /api/fleet``: this instance and every one it polls, then (with a Prometheus) every
    one Prometheus scrapes, with when that was read and why it failed."""
    instances = [local_instance(collector, now)]
    if fleet is not None:
        instances += [remote_instance(s, fleet.is_stale(s, now), now) for s in fleet.states()]
    answer: dict = {"instances": instances, "poll_interval": None if fleet is None else fleet.interval}
    if scraped is not None:
        rows, read_at, error = scraped.snapshot()
        answer["scraped"] = {
            "prometheus": scraped.reader.url,
            "read_at": read_at,
            "error": error,
            "instances": [scraped_instance(r, scraped.is_stale(r, now), now) for r in rows],
        }
    return answer
