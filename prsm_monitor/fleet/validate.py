"""What another instance answered, checked before any of it reaches a page.

A watched instance is outside this process: whatever it sends (strings where numbers belong,
``NaN`` or ``1e308``, a name of a million characters, a list of a million alerts, an alert of
an unknown level) must not break a page nor fill memory. :func:`metrics` turns an
``/api/metrics`` answer into one with the same shape where every value has the type and range
its field allows; what does not fit is refused, never shown as it came.

The rules, by key, wherever the key appears in the tree (a component's record with one value
that breaks them is refused whole: the page shows no figures for it, and why):

- a numeric field (every declared field of every source, and the few numbers the records carry
  besides: ``parameters``, ``hosts``, ``started``...) holds a finite number within
  :data:`LIMIT` (a percentage within 0..100, a process's up to :data:`MAX_PROCESS_PERCENT`,
  a time stamp within 0..year 5138),
  or a list or a mapping of such numbers, or ``None``;
- a flag (``up``, ``running``, ``acknowledged``) holds a bool or ``None``, a name or a status
  (:data:`TEXTS`) text or ``None``, a distribution (:data:`COUNTS`) names to counts;
- any other number must be finite and within :data:`LIMIT`; text (names included) is cut to :data:`MAX_TEXT`
  characters (:data:`MAX_MESSAGE` for an alert's message); lists and mappings to
  :data:`MAX_ITEMS` entries, nesting to :data:`MAX_DEPTH` levels;
- an alert (in ``alerts`` and ``active_alerts``) is a mapping of a known level and component
  with an integer id and a time (``started`` or ``timestamp``), else it is left out; the keys
  a page reads that it lacks get the local log's defaults (not acknowledged, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..fields import COLLECTOR_FIELDS, COMPONENTS, LEVELS, TIMESTAMP
from ..sources.prsm.fields import AI_FIELDS, DISTRIBUTIONS, NETWORK_FIELDS, ROWS
from ..sources.system import SYSTEM_FIELDS

LIMIT = 1e15  # no figure the monitor shows comes near this: a larger one is a broken or hostile instance
MAX_PERCENT = 100.0
MAX_PROCESS_PERCENT = 10_000.0  # a process's CPU passes 100 % (one per core): 10,000 % is a hundred cores
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
    "value",
}
STAMPS = frozenset({"timestamp", "started", "updated", "acknowledged_at", "last_seen", "ended"})
FLAGS = frozenset({"up", "running", "acknowledged"})
TEXTS = frozenset(
    {"name", "node", "model", "message", "status", "level", "component", "key", "kind", "type"}
    | {"architecture", "framework", "address", "source", "outcome", "proposer", "target", "latency_kind"}
)
NUMBERS = (
    frozenset(
        {f.name for f in (*SYSTEM_FIELDS, *NETWORK_FIELDS, *AI_FIELDS, *COLLECTOR_FIELDS, TIMESTAMP)}
        | {f.name for rows in ROWS for f in rows.fields}
        | _EXTRA_NUMBERS
        | STAMPS
    )
    - FLAGS
)
COUNTS = frozenset(d.key for d in DISTRIBUTIONS)  # {name: count} mappings: a count each, never None
ALERT_LISTS = ("alerts", "active_alerts")
# the keys without which a record is not shown the pages cannot show it (the local sources always set these)
REQUIRED = {
    "system": ("timestamp",),
    "network": ("timestamp", "window_seconds"),
    "ai": ("timestamp", "window_seconds"),
    "collector": ("timestamp",),
}


class Refused(ValueError):
    """A value that does not fit its key: the record holding it is not shown."""

    def __init__(self, key: str | None, value, expected: str):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        super().__init__(f"{key or 'a value'}={shown}: expected {expected}")


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
    if key is not None and key.endswith("_percent") and not 0 <= value <= _percent_max(key):
        return None
    return value


def _percent_max(key: str) -> float:
    return MAX_PROCESS_PERCENT if key.startswith("process_") else MAX_PERCENT


def _expected(key: str | None) -> str:
    if key in STAMPS:
        return f"a time in seconds since the epoch, 0 to {MAX_STAMP:g}"
    if key is not None and key.endswith("_percent"):
        return f"a number from 0 to {_percent_max(key):g}"
    return f"a finite number within ±{LIMIT:g}"


def _checked(item, key: str | None):
    """A number for ``key`` (None stays None); :class:`Refused` for anything else."""
    if item is None:
        return None
    checked = number(item, key)
    if checked is None:
        raise Refused(key, item, _expected(key))
    return checked


def text(value, limit: int = MAX_TEXT) -> str | None:
    """``value`` as text of at most ``limit`` characters; None when it is not text."""
    if not isinstance(value, str):
        return None
    return value if len(value) <= limit else value[: limit - 1] + "…"


def value(item, key: str | None = None, depth: int = 0):
    """One value of the tree under ``key`` (see the module doc); :class:`Refused` when it does not fit."""
    if key in NUMBERS:  # a number, or a list of numbers, or numbers by name (a demo fault's delay_ms per node)
        if isinstance(item, list):
            return [_checked(v, key) for v in item[:MAX_ITEMS]]
        if isinstance(item, Mapping):
            return {text(k): _checked(v, key) for k, v in list(item.items())[:MAX_ITEMS] if isinstance(k, str)}
        return _checked(item, key)
    if key in COUNTS:
        if not isinstance(item, Mapping):
            raise Refused(key, item, "a mapping of names to counts")
        counts = {text(k): _checked(v, key) for k, v in list(item.items())[:MAX_ITEMS] if isinstance(k, str)}
        if any(v is None or v < 0 for v in counts.values()):
            raise Refused(key, item, "a mapping of names to counts")
        return counts
    if key in FLAGS:
        if item is not None and not isinstance(item, bool):
            raise Refused(key, item, "true or false")
        return item
    if key in TEXTS and item is not None and not isinstance(item, str):
        raise Refused(key, item, "text")
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, (int, float)):
        return _checked(item, key)
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
    """A mapping with every value checked (:class:`Refused` when one does not fit)."""
    out = {}
    for key, entry in list(item.items())[:MAX_ITEMS]:
        if isinstance(key, str):
            out[text(key)] = value(entry, key, depth)
    return out


def alert(item) -> dict | None:
    """One alert or alert event, or None when it is not one (or a value of it does not fit)."""
    if not isinstance(item, Mapping):
        return None
    try:
        clean = mapping(item, 1)
    except Refused:
        return None
    ok = (
        clean.get("level") in LEVELS
        and isinstance(clean.get("component"), str)
        and isinstance(item.get("id"), int)
        and not isinstance(item.get("id"), bool)
    )
    stamp = clean.get("started") if clean.get("started") is not None else clean.get("timestamp")
    if not ok or stamp is None:
        return None
    # every key a page reads of an active alert or an alert event (the local log's shapes)
    return {
        "key": f"remote:{item['id']}",
        "alert_id": item["id"],
        "kind": clean.get("level"),
        "acknowledged": False,
        "acknowledged_at": None,
        "acknowledged_by": None,
        **{k: v for k, v in clean.items() if v is not None},
        "id": item["id"],
        "started": stamp,
        "timestamp": clean.get("timestamp") if clean.get("timestamp") is not None else stamp,
        "updated": clean.get("updated") if clean.get("updated") is not None else stamp,
        "message": clean.get("message") or "",
        "details": clean.get("details") if isinstance(clean.get("details"), dict) else {},
    }


def alerts(items) -> list[dict]:
    """The alerts of ``items`` that are alerts, at most :data:`MAX_ITEMS` (the newest)."""
    if not isinstance(items, list):
        return []
    return [a for a in (alert(i) for i in items[-MAX_ITEMS:]) if a is not None]


def metrics(answer: Mapping) -> dict:
    """An ``/api/metrics`` answer with every value checked: a component's record in which a
    value does not fit is not shown at all (None, and ``errors`` says which value and why),
    alerts that are not alerts are left out, ``errors`` are text by component."""
    clean: dict = {}
    refused: dict[str, str] = {}
    for component in (*COMPONENTS, "collector"):
        record = answer.get(component)
        try:
            clean[component] = mapping(record, 1) if isinstance(record, Mapping) else None
            for key in REQUIRED[component] if clean[component] is not None else ():
                if clean[component].get(key) is None:
                    raise Refused(key, record.get(key), "a number: the record is not shown without it")
        except Refused as error:
            clean[component] = None
            refused[component] = f"the instance sent {error}"
    for key in ALERT_LISTS:
        clean[key] = alerts(answer.get(key))
    errors = answer.get("errors")
    clean["errors"] = (
        {c: text(e, MAX_MESSAGE) or "" for c, e in errors.items() if c in COMPONENTS}
        if isinstance(errors, Mapping)
        else {}
    )
    clean["errors"].update({c: e for c, e in refused.items() if c in COMPONENTS})
    return clean
