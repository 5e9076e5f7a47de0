"""Which values are watched, and where each one comes from in a tick's records.

Every gauge field of ``system``, ``network`` and ``ai`` and of the drill-down series
(``node:<name>``, ``model:<name>``) is one column, except bookkeeping fields that say how a
value was measured rather than what was measured, per-core CPU (the total is watched) and
duplicates of a watched percentage. Counters are left out: they only grow; their rates are
gauges of their own (``message_rate``, ``inference_rate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fields import GAUGE, Field

SKIPPED = frozenset(
    {
        "timestamp",
        "window_seconds",
        "total_nodes",
        "configured_links",
        "total_models",
        "memory_total_gb",
        "memory_used_gb",
        "swap_used_gb",
        "load_5m",
        "load_15m",
    }
)


def alert_labels(series: str, kind: str, field: str) -> dict[str, str]:
    """What an anomaly or forecast alert of ``field`` in ``series`` carries in its details for
    grouping and for Alertmanager: the node or model it is about (``node:node-3`` ->
    ``{"node": "node-3"}``), so it joins that node's incident, and an ``alertname`` of its own
    (``anomaly_average_latency``), so two of one component are two alerts there, not one."""
    labels = {"alertname": f"{kind}_{field}"}
    prefix, _, name = series.partition(":")
    if name and prefix in ("node", "model"):
        labels[prefix] = name
    return labels


@dataclass(frozen=True)
class Column:
    """One watched value: ``series`` is the record it is read from (``system``,
    ``node:node-3``), ``component`` the alert component it belongs to."""

    series: str
    field: str
    unit: str
    floor: float = 0.0  # the least change of it worth calling unusual

    @property
    def component(self) -> str:
        if self.series.startswith("node:"):
            return "network"
        if self.series.startswith("model:"):
            return "ai"
        return self.series

    @property
    def label(self) -> str:
        """``average_latency``, ``node-3 latency_ms``: how messages and /metrics name it."""
        return self.field if self.series == self.component else f"{self.series.split(':', 1)[1]} {self.field}"

    @property
    def metric_field(self) -> str:
        """The ``field`` label of ``prsm_anomalies_total``: ``average_latency``, ``node:node-3.latency_ms``."""
        return self.field if self.series == self.component else f"{self.series}.{self.field}"


UNIT_FLOORS = {"ms": 10.0, "s": 0.05, "%": 2.0}  # below these, a change is noise on a busy host
RATIO_FLOOR = 0.03  # of a 0..1 ratio: three points of success rate or confidence
COUNT_FLOOR = 0.5  # of a count: one node, link or queued request is a change


def floor(f: Field) -> float:
    """The least change of ``f`` worth calling unusual, whatever its history's spread."""
    if f.unit == "1":
        return RATIO_FLOOR if "0..1" in f.help else COUNT_FLOOR
    return UNIT_FLOORS.get(f.unit, 0.0)


def watched(fields: tuple[Field, ...]) -> list[Field]:
    return [f for f in fields if f.kind == GAUGE and f.name not in SKIPPED and not f.name.startswith("cpu_core_")]


class Columns:
    """The columns seen so far, in order, and one plan per record to gather a tick's values."""

    def __init__(self):
        self.columns: list[Column] = []
        self.index: dict[tuple[str, str], int] = {}
        self.plans: dict[str, list[tuple[str, int]]] = {}

    def declare(self, series: str, fields: tuple[Field, ...]) -> None:
        if series in self.plans:
            return
        plan = []
        for f in watched(fields):
            key = (series, f.name)
            if key not in self.index:
                self.index[key] = len(self.columns)
                self.columns.append(Column(series, f.name, f.unit, floor(f)))
            plan.append((f.name, self.index[key]))
        self.plans[series] = plan

    def gather(self, records: dict) -> np.ndarray:
        """This tick's values, NaN where a record or value is missing."""
        values = np.full(len(self.columns), np.nan)
        for series, plan in self.plans.items():
            record = records.get(series)
            if record is None:
                continue
            for name, i in plan:
                v = record.get(name)
                if v is not None:
                    values[i] = v
        return values

    def find(self, series: str, field: str) -> int | None:
        return self.index.get((series, field))
