"""A collector as it was at a moment: the read interface the pages use, answered from the store.

:class:`PastCollector` answers what the views ask of the live
:class:`~prsm_monitor.core.collector.MetricsCollector` (``get_latest_metrics``, ``latest``,
``history``, ``get_active_alerts``, ``get_alerts``, ``rules``, ``silences``, ``version``...)
for a fixed moment ``at``, never from the live collector state:

- each record's numbers are the stored series' row at or just before ``at`` (the raw tier
  while it lasts, then a minute or an hour mean), the rest of it (node, link and model rows,
  proposals, errors) the newest snapshot at or before ``at`` (:mod:`prsm_monitor.store.snapshots`);
- ``history(...)`` ends at ``at``: charts' windows end there, KPI deltas compare with the
  minute before it;
- the alerts are replayed from the persisted alert and audit events up to ``at``
  (:mod:`.replay`): active then, acknowledged then, silenced then;
- the thresholds (colour bands, chart rules) are those the snapshot recorded.

It is read-only (no acknowledgement, no settings) and its ``version`` never changes, so
what pages derive from it is computed once per moment and shared by every viewer.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections import OrderedDict

from ..alerts.log import select
from ..store import snapshots
from .overlay import at_tick
from .replay import PastIncidents, PastSilences, active_at, silences_at

EVENTS_READ = 5000  # newest events up to the moment read from disk (the log keeps 1,000 in memory)
RECENT_MINUTES = 2.0  # how far before the moment a record's row is looked for
KEPT = 16  # moments kept (PastCollector objects, with what pages derived from them)


class PastCollector:
    """``hub`` (the live collector: its store and settings, never its latest state) at ``at``."""

    past = True
    remote = False
    demo_network = None
    running = True
    insight = None

    def __init__(self, hub, at: float):
        self.hub = hub
        self.at = float(at)
        self.settings = hub.settings
        self.store = hub.store
        self.rules_file = getattr(hub, "rules_file", None)
        self._lock = threading.Lock()
        self._state: dict | None = None

    # -- fixed ------------------------------------------------------------------------------
    @property
    def version(self) -> tuple:
        return ("past", self.at)

    @property
    def collection_interval(self) -> float:
        return self.hub.collection_interval

    @property
    def fields(self):
        return self.hub.fields

    @property
    def rules(self) -> dict:
        thresholds = (self._load()["snapshot_records"] or {}).get("thresholds") or {}
        rules = dict(self.hub.rules)
        for name, pair in thresholds.items():
            if name in rules and isinstance(pair, list) and len(pair) == 2:
                rules[name] = dataclasses.replace(rules[name], warning=pair[0], critical=pair[1])
        return rules

    # -- what the moment holds ----------------------------------------------------------------
    @property
    def snapshot(self) -> snapshots.Snapshot | None:
        return self._load()["snapshot"]

    @property
    def series_tier(self) -> str | None:
        """The tier the records' numbers came from (``raw``, ``minute``, ``hour``, ``prometheus``)."""
        return self._load()["tier"]

    def _load(self) -> dict:
        with self._lock:
            if self._state is None:
                self._state = self._read()
            return self._state

    def _read(self) -> dict:
        snapshot, events = None, {}
        writer = getattr(self.store, "writer", None)
        if writer is not None:
            try:
                with writer.db.reading() as conn:
                    snapshot = snapshots.read_at(conn, self.at)
                    rows = conn.execute(
                        "SELECT data FROM events WHERE ts<=? ORDER BY seq DESC LIMIT ?", (self.at, EVENTS_READ)
                    )
                    for (data,) in rows.fetchall():
                        event = json.loads(data)
                        events[event["id"]] = event
            except sqlite3.Error:
                snapshot = None
        for event in self.hub.log.events():  # the newest, not committed yet (at most a second)
            if event["timestamp"] <= self.at:
                events.setdefault(event["id"], event)
        ordered = sorted(events.values(), key=lambda e: e["id"])
        kept = snapshot.records if snapshot is not None else {}
        records, tier = {}, None
        for component in snapshots.RECORDS:
            row, row_tier = self._row(component)
            tier = tier or row_tier
            structure = kept.get(component)
            if row is None and structure is None:
                records[component] = None
                continue
            records[component] = {**(structure or {}), **(row or {})}
        records["network"], records["ai"] = at_tick(records["network"], records["ai"], self._node_row)
        return {
            "snapshot": snapshot,
            "snapshot_records": kept,
            "records": records,
            "tier": tier,
            "events": ordered,
            "active": active_at(ordered, self.at),
            "silences": PastSilences(silences_at(ordered, self.at)),
            "incidents": PastIncidents(ordered, getattr(getattr(self.hub.notifier, "grouper", None), "timers", None))
            if getattr(self.hub, "notifier", None) is not None
            else None,
        }

    def _row(self, component: str) -> tuple[dict | None, str | None]:
        """The stored row of ``component`` at or just before the moment, and its tier."""
        import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

        try:
            frame = self.hub.history(component, RECENT_MINUTES, end=self.at)
        except (ValueError, KeyError):
            return None, None
        if frame.empty:
            return None, None
        row = frame.iloc[-1]
        values = {}
        for name, value in row.items():
            if name.endswith(("_min", "_max")) and name[:-4] in row.index:
                continue
            # stored as float64: a whole number reads as the int the live record had (a count)
            values[name] = None if pd.isna(value) else int(value) if float(value).is_integer() else float(value)
        return values, frame.attrs.get("tier", "raw")

    def _node_row(self, name) -> dict | None:
        """The ``node:<name>`` series' row at or just before the moment (None: not stored)."""
        if not isinstance(name, str) or not self.store.fields(f"node:{name}"):
            return None
        return self._row(f"node:{name}")[0]

    # -- the collector's read interface ---------------------------------------------------------
    def get_latest_metrics(self) -> dict:
        state = self._load()
        alerts = [e for e in state["events"] if e.get("kind") != "changed"][-10:]
        errors = dict(state["snapshot_records"].get("errors") or {})
        return {**state["records"], "errors": errors, "alerts": alerts, "active_alerts": list(state["active"])}

    def latest(self, component: str) -> dict | None:
        return self._load()["records"].get(component)

    def get_active_alerts(self) -> list[dict]:
        return list(self._load()["active"])

    @property
    def notifier(self) -> PastIncidents | None:
        """The incidents as grouped at the moment (None when the live collector groups none)."""
        return self._load()["incidents"]

    @property
    def silences(self) -> PastSilences:
        return self._load()["silences"]

    def get_alerts(self, *, since_id=0, limit=None, level=None, component=None, since=None) -> list[dict]:
        """Events up to the moment, oldest first, filtered as :meth:`AlertLog.events` does."""
        return select(self._load()["events"], since_id, limit, level, component, since)

    def history(self, component: str, minutes: float | None = 60, max_points: int | None = None, end=None):
        """The stored history of ``component`` over the ``minutes`` before the moment (or before
        ``end``, when that is earlier)."""
        until = self.at if end is None else min(float(end), self.at)
        return self.hub.history(component, minutes, max_points, end=until)

    def history_start(self, component: str) -> float | None:
        return self.hub.history_start(component)

    def acknowledge(self, alert_id: int, actor: str | None = None) -> bool:
        return False

    def configure(self, **changes) -> None:
        raise PermissionError("a page in the past is read-only: clear ?at= to change settings")

    def __repr__(self) -> str:
        return f"PastCollector(at={self.at!r})"


_kept: OrderedDict[tuple, PastCollector] = OrderedDict()
_kept_lock = threading.Lock()


def past_view(hub, at: float) -> PastCollector:
    """The :class:`PastCollector` of ``hub`` at ``at``, the same object for every viewer of
    that moment (the newest :data:`KEPT` moments are kept)."""
    key = (id(hub), float(at))
    with _kept_lock:
        view = _kept.get(key)
        if view is None or view.hub is not hub:
            view = _kept[key] = PastCollector(hub, at)
            while len(_kept) > KEPT:
                _kept.popitem(last=False)
        _kept.move_to_end(key)
        return view
