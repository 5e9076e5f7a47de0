"""What another instance answered, checked before any of it reaches a page.

A watched instance is outside this process: whatever it sends (strings where numbers belong,
``NaN`` or ``1e308``, a name of a million characters, a list of a million alerts, an alert of
an unknown level) must not break a page nor fill memory. :func:`metrics` turns an
``/api/metrics`` answer into one with the same shape where every value has the type and range
its field allows; what does not is dropped (``None``), never shown as it came.

The rules, by key, wherever the key appears in the tree:

- a numeric field (every declared field of every source, and the few numbers the records carry
  besides: ``parameters``, ``hosts``, ``started``...) holds a finite number within
  :data:`LIMIT` (a percentage within 0..:data:`MAX_PERCENT`, a time stamp within 0..year 5138),
  or a list of such numbers, or ``None``;
- a flag (``up``, ``running``, ``acknowledged``) holds a bool or ``None``;
- any other number must be finite and within :data:`LIMIT`; text is cut to :data:`MAX_TEXT`
  characters (:data:`MAX_MESSAGE` for an alert's message); lists and mappings to
  :data:`MAX_ITEMS` entries, nesting to :data:`MAX_DEPTH` levels;
- an alert (in ``alerts`` and ``active_alerts``) is a mapping of a known level and component
  with an integer id, else it is left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..fields import COMPONENTS, LEVELS, TIMESTAMP
from ..sources.prsm.fields import AI_FIELDS, NETWORK_FIELDS, ROWS
from ..sources.system import SYSTEM_FIELDS
from ..tickstats import COLLECTOR_FIELDS

LIMIT = 1e15  # no figure the monitor shows comes near this: a larger one is a broken or hostile instance
MAX_PERCENT = 10_000.0  # a process's CPU may pass 100 % (one per core); 10,000 % is a hundred cores
MAX_STAMP = 1e11  # seconds since the epoch: the year 5138
MAX_TEXT = 200  # characters of a name, a status, a key
MAX_MESSAGE = 2000  # characters of an alert's message
MAX_ITEMS = 2000  # entries of one list or mapping (nodes, models, alerts...)
MAX_DEPTH = 8
MAX_ROWS = 50_000  # rows of one history answer

_EXTRA_NUMBERS = {
    "active_connections",
    "alert_id",
    "base_rate",
    "consensus_rejection_rate",
    "cpu_per_core",
    "drift",
    "hosts",
    "incarnation",
    "input_drift",
    "last_ms",
    "live_nodes",
    "memory_mb",
    "parameters",
    "quorum",
    "queue_limit",
    "rate",
    "registry_version",
    "requests_window",
    "service_time_s",
    "threshold",
    "time_to_commit_ms",
    "uptime_s",
    "votes",
    "age_seconds",
}
STAMPS = frozenset({"timestamp", "started", "updated", "acknowledged_at", "last_seen", "ended"})
FLAGS = frozenset({"up", "running", "acknowledged"})
NUMBERS = (
    frozenset(
        {f.name for f in (*SYSTEM_FIELDS, *NETWORK_FIELDS, *AI_FIELDS, *COLLECTOR_FIELDS, TIMESTAMP)}
        | {f.name for rows in ROWS for f in rows.fields}
        | _EXTRA_NUMBERS
        | STAMPS
    )
    - FLAGS
)
ALERT_LISTS = ("alerts", "active_alerts")


def number(value, key: str | None = None) -> float | int | None:
    """``value`` when it is a finite real number in the range of ``key``, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and abs(value) > LIMIT:
        return None
    if not math.isfinite(value) or abs(value) > LIMIT:
        return None
    if key in STAMPS and not 0 <= value <= MAX_STAMP:
        return None
    if key is not None and key.endswith("_percent") and not 0 <= value <= MAX_PERCENT:
        return None
    return value


def text(value, limit: int = MAX_TEXT) -> str | None:
    """``value`` as text of at most ``limit`` characters (a number becomes its digits); None otherwise."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return text(str(number(value)) if number(value) is not None else None, limit)
    return None


def value(item, key: str | None = None, depth: int = 0):
    """One value of the tree under ``key`` (see the module doc)."""
    if key in NUMBERS:
        if isinstance(item, list):
            return [number(v, key) for v in item[:MAX_ITEMS]]
        return number(item, key)
    if key in FLAGS:
        return item if isinstance(item, bool) else None
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, (int, float)):
        return number(item)
    if isinstance(item, str):
        return text(item, MAX_MESSAGE if key == "message" else MAX_TEXT)
    if depth >= MAX_DEPTH:
        return None
    if isinstance(item, Mapping):
        return mapping(item, depth + 1)
    if isinstance(item, list):
        return [value(v, key, depth + 1) for v in item[:MAX_ITEMS]]
    return None


def mapping(item: Mapping, depth: int = 0) -> dict:
    out = {}
    for key, entry in list(item.items())[:MAX_ITEMS]:
        name = text(key)
        if name is not None:
            out[name] = value(entry, name, depth)
    return out


def alert(item) -> dict | None:
    """One alert or alert event, or None when it is not one."""
    if not isinstance(item, Mapping):
        return None
    clean = mapping(item, 1)
    ok = (
        clean.get("level") in LEVELS
        and isinstance(clean.get("component"), str)
        and isinstance(item.get("id"), int)
        and not isinstance(item.get("id"), bool)
    )
    if not ok:
        return None
    clean["id"] = item["id"]
    clean["message"] = clean.get("message") or ""
    clean["details"] = clean.get("details") if isinstance(clean.get("details"), dict) else {}
    return clean


def alerts(items) -> list[dict]:
    """The alerts of ``items`` that are alerts, at most :data:`MAX_ITEMS` (the newest)."""
    if not isinstance(items, list):
        return []
    return [a for a in (alert(i) for i in items[-MAX_ITEMS:]) if a is not None]


def metrics(answer: Mapping) -> dict:
    """An ``/api/metrics`` answer with every value checked: each component's record a mapping
    (or None), alerts that are alerts, ``errors`` text by component."""
    clean: dict = {}
    for component in (*COMPONENTS, "collector"):
        record = answer.get(component)
        clean[component] = mapping(record, 1) if isinstance(record, Mapping) else None
    for key in ALERT_LISTS:
        clean[key] = alerts(answer.get(key))
    errors = answer.get("errors")
    clean["errors"] = (
        {c: text(e, MAX_MESSAGE) or "" for c, e in errors.items() if c in COMPONENTS}
        if isinstance(errors, Mapping)
        else {}
    )
    return clean
