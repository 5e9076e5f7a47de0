"""Metric fields declared once, as data.

Sources declare the numeric fields they report; the history store keeps one column
per declared field, and exporters (API, Prometheus) derive names, units and help
texts from the same declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

GAUGE = "gauge"
COUNTER = "counter"


@dataclass(frozen=True)
class Field:
    """One numeric field of a component's record.

    ``unit`` is the unit of the stored value ("%", "GB", "MB", "B/s", "ms", "s", "1" for a
    plain count or ratio). ``kind`` is ``"gauge"`` for an instantaneous value or
    ``"counter"`` for a cumulative total that only grows (until a restart).
    """

    name: str
    unit: str
    kind: str
    help: str

    def __post_init__(self):
        if self.kind not in (GAUGE, COUNTER):
            raise ValueError(f"Field {self.name!r}: kind must be 'gauge' or 'counter', not {self.kind!r}")


TIMESTAMP = Field("timestamp", "s", GAUGE, "Time of the reading, seconds since the Unix epoch")

# the collector's own health, the ``collector`` component (see prsm_monitor.core.tickstats)
COLLECTOR_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("tick_duration_ms", "ms", GAUGE, "Time the last tick took (sources, store, alerts)"),
    Field("interval_seconds", "s", GAUGE, "Configured collection interval"),
    Field("ticks_total", "1", COUNTER, "Ticks run since the collector was created"),
    Field("missed_ticks_total", "1", COUNTER, "Scheduled ticks skipped because a tick overran"),
    Field("process_cpu_percent", "%", GAUGE, "CPU used by this process since the previous tick (100 = one core)"),
    Field("process_rss_mb", "MB", GAUGE, "Resident memory of this process, MiB"),
    Field("store_disk_mb", "MB", GAUGE, "Disk used by the saved history (database and its log), MiB"),
)

COMPONENTS = ("system", "network", "ai")  # the components of get_latest_metrics(), in order
LEVELS = ("info", "warning", "error", "critical")  # alert levels, least severe first


@dataclass(frozen=True)
class Rows:
    """A list of rows in a component's record (one per node, link, model...), declared by its
    source so that exporters can label them: ``key`` is the record key of the list, ``scope``
    the metric stem (``network_node``), ``labels`` maps label names to row keys, ``fields`` are
    the numeric row values. A field named ``up`` reads a row's ``up`` or ``status == "up"``.
    ``full`` rows are exported only on request (high cardinality)."""

    component: str
    key: str
    scope: str
    labels: tuple[tuple[str, str], ...]
    fields: tuple[Field, ...]
    full: bool = False


@dataclass(frozen=True)
class Distribution:
    """A ``{label value: count}`` mapping in a component's record, e.g. model instances by framework."""

    component: str
    key: str
    scope: str
    label: str
    help: str
    full: bool = False
