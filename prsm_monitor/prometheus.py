"""Prometheus exposition of the collector's latest snapshot.

One custom collector, :class:`SnapshotCollector`, whose ``collect()`` reads
``get_latest_metrics()`` and turns every declared :class:`~prsm_monitor.fields.Field` into a
gauge or counter: name ``prsm_<component>_<field>`` with the unit in base units
(``_bytes``, ``_seconds``, ``_percent``; counters end in ``_total``), help from the field.
Per-node and per-model detail lists become the same kind of metric with a ``node`` or
``model`` label. Nothing is registered at import: :func:`make_registry` builds a fresh
:class:`~prometheus_client.CollectorRegistry` each call.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .alerts.rules import LEVELS
from .collector import COMPONENTS
from .fields import COUNTER, GAUGE, Field

PREFIX = "prsm"
GIB = 1024.0**3
MIB = 1024.0**2

# unit -> (suffixes of the field name to drop, suffix to add, factor to base units, help note)
_UNITS: dict[str, tuple[tuple[str, ...], str, float, str]] = {
    "%": (("_percent",), "_percent", 1.0, "percent, 0 to 100"),
    "GB": (("_gb",), "_bytes", GIB, "bytes; the JSON API gives GiB"),
    "MB": (("_mb",), "_bytes", MIB, "bytes; the JSON API gives MiB"),
    "B": (("_bytes",), "_bytes", 1.0, "bytes"),
    "B/s": (("_bytes_per_s", "_per_s", "_rate"), "_bytes_per_second", 1.0, "bytes per second"),
    "ms": (("_ms",), "_seconds", 0.001, "seconds; the JSON API gives milliseconds"),
    "s": (("_seconds", "_s"), "_seconds", 1.0, "seconds"),
}

# numbered fields that become one metric with a label: cpu_core_3_percent -> cpu_core_percent{core="3"}
_INDEXED = re.compile(r"^(cpu)_(core)_(\d+)(_percent)$")


@dataclass(frozen=True)
class Detail:
    """A per-node / per-model list in a component's record, exposed with labels.

    ``rows`` is the record key of the list, ``scope`` the metric name stem, ``labels`` maps
    label names to row keys. The field ``up`` reads a row's ``up`` or ``status == "up"``."""

    component: str
    rows: str
    scope: str
    labels: tuple[tuple[str, str], ...]
    fields: tuple[Field, ...]
    full: bool = False  # only with ``/metrics?detail=full``


_UP = "1 while it is up (answered the latest report), else 0"
DETAILS: tuple[Detail, ...] = (
    Detail(
        "network",
        "nodes",
        "network_node",
        (("node", "name"),),
        (
            Field("up", "1", GAUGE, f"Node: {_UP}"),
            Field("latency_ms", "ms", GAUGE, "Node: mean heartbeat round trip of its links, windowed"),
            Field("message_rate", "messages/s", GAUGE, "Node: frames received per second, windowed"),
            Field("queue_length", "1", GAUGE, "Node: inference requests waiting in its queue"),
            Field("inferences_served", "1", COUNTER, "Node: inference requests its models served"),
        ),
    ),
    Detail(
        "network",
        "nodes",
        "network_node",
        (("node", "name"),),
        (
            Field("uptime_s", "s", GAUGE, "Node: time since it (re)started"),
            Field("links_up", "1", GAUGE, "Node: its links that are up"),
            Field("links_total", "1", GAUGE, "Node: its configured links"),
            Field("latency_p95_ms", "ms", GAUGE, "Node: 95th percentile heartbeat round trip, windowed"),
            Field("messages_in", "1", COUNTER, "Node: frames received since it started"),
            Field("messages_out", "1", COUNTER, "Node: frames sent since it started"),
            Field("bad_frames", "1", COUNTER, "Node: malformed or oversized frames received"),
            Field("dropped_frames", "1", COUNTER, "Node: frames its firewall dropped"),
            Field("routes", "1", GAUGE, "Node: models it knows a route to"),
            Field("delay_ms", "ms", GAUGE, "Node: injected network delay (demo fault)"),
        ),
        full=True,
    ),
    Detail(
        "network",
        "edges",
        "network_link",
        (("source", "source"), ("target", "target")),
        (
            Field("up", "1", GAUGE, "Link: 1 while both ends are up and hear each other, else 0"),
            Field("latency_ms", "ms", GAUGE, "Link: mean heartbeat round trip from both ends, windowed"),
        ),
        full=True,
    ),
    Detail(
        "ai",
        "models",
        "ai_model_instance",
        (("node", "node"), ("model", "model")),
        (
            Field("up", "1", GAUGE, f"Model instance: {_UP}"),
            Field("parameters", "1", GAUGE, "Model instance: number of parameters"),
            Field("inferences", "1", COUNTER, "Model instance: requests served since its host started"),
            Field("success_rate", "1", GAUGE, "Model instance: served share of its requests, windowed (0..1)"),
            Field("p50_time_s", "s", GAUGE, "Model instance: median request time, windowed"),
            Field("p95_time_s", "s", GAUGE, "Model instance: 95th percentile request time, windowed"),
            Field("mean_confidence", "1", GAUGE, "Model instance: mean top-class probability, windowed (0..1)"),
        ),
        full=True,
    ),
    Detail(
        "ai",
        "model_summary",
        "ai_model",
        (("model", "model"),),
        (
            Field("live_hosts", "1", GAUGE, "Model: hosts that are up"),
            Field("success_rate", "1", GAUGE, "Model: successful share of requests seen by clients, windowed (0..1)"),
            Field("average_time_s", "s", GAUGE, "Model: mean time of successful requests, windowed"),
            Field("mean_confidence", "1", GAUGE, "Model: mean top-class probability, windowed (0..1)"),
        ),
    ),
    Detail(
        "ai",
        "model_summary",
        "ai_model",
        (("model", "model"),),
        (
            Field("hosts", "1", GAUGE, "Model: nodes that host it"),
            Field("accuracy", "1", GAUGE, "Model: classifier answers equal to the true label, windowed (0..1)"),
            Field("mean_absolute_error", "1", GAUGE, "Model: regressor answers' mean absolute error, windowed"),
            Field("drift", "1", GAUGE, "Model: injected input drift (demo fault)"),
        ),
        full=True,
    ),
)

# {label value: count} maps in a record -> (component, key, metric stem, label name, help, full only)
DISTRIBUTIONS: tuple[tuple[str, str, str, str, str, bool], ...] = (
    ("ai", "model_distribution", "ai_model_instances", "model", "Model instances deployed, by model", False),
    ("ai", "distribution_by_framework", "ai_framework_instances", "framework", "Model instances, by framework", True),
    ("ai", "distribution_by_type", "ai_type_instances", "type", "Model instances, by type", True),
    (
        "ai",
        "distribution_by_architecture",
        "ai_architecture_instances",
        "architecture",
        "Model instances, by architecture",
        True,
    ),
)


@lru_cache(maxsize=4096)
def _indexed(name: str):
    return _INDEXED.match(name)


@lru_cache(maxsize=4096)
def metric_name(component: str, field: str, unit: str) -> tuple[str, float, str]:
    """``(name, factor, unit note)`` of a field: the Prometheus name in base units and the
    factor from the stored value to it. Counters get their ``_total`` from the family."""
    drop, suffix, factor, note = _UNITS.get(unit, ((), "", 1.0, ""))
    base = field
    for ending in drop:
        if base.endswith(ending):
            base = base[: -len(ending)]
            break
    if suffix == "_bytes_per_second" and (base == "bytes" or base.endswith("_bytes")):
        base = base[: -len("bytes")].rstrip("_")
    name = f"{PREFIX}_{component}" + (f"_{base}" if base else "") + suffix
    return name, factor, note


def _number(value) -> float | None:
    kind = type(value)
    if kind is float:
        return None if value != value else value  # NaN: no sample
    if kind is int:
        return float(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return float(value)
    return None


_UNIT_IN_HELP = re.compile(r",\s*(GiB|MiB|GB|MB|ms|bytes|seconds)\s*$")


def _family(field: Field, name: str, note: str, labels: Iterable[str] = ()) -> Metric:
    """A gauge or counter family; the help is the field's, its unit named as exposed."""
    help_text = _UNIT_IN_HELP.sub("", field.help) + (f" ({note})" if note else "")
    if field.kind == COUNTER:
        return CounterMetricFamily(name, help_text, labels=list(labels))
    return GaugeMetricFamily(name, help_text, labels=list(labels))


class LatestSnapshot:
    """A collector plugin that keeps the metrics the collector hands its plugins after each
    tick, by reference: a scrape reads them without another deep copy (about 20 ms with
    100 demo nodes). Until the first tick after attaching, ``get_latest_metrics()`` is read.

    The plugin snapshot is taken after the tick's alert rules, before the collector records
    its own tick, so the ``collector`` record in it is one tick old."""

    def __init__(self, get: Callable):
        self.get = get
        self._lock = threading.Lock()
        self._collector = None
        self._latest: tuple[dict, float] | None = None

    def process(self, metrics: dict) -> None:  # the collector's thread; never modifies metrics
        self._latest = (metrics, time.time())

    def read(self):
        """``(collector, metrics, time of the tick's end or None)``."""
        collector = self.get()
        with self._lock:
            if self._collector is not collector:
                if self._collector is not None:
                    self._collector.remove_plugin(self)
                self._latest = None
                collector.add_plugin(self)
                self._collector = collector
        latest = self._latest
        if latest is None:
            return collector, collector.get_latest_metrics(), None
        return collector, latest[0], latest[1]


class SnapshotCollector:
    """A prometheus-client custom collector over a MetricsCollector's latest snapshot.

    ``snapshot`` is a :class:`LatestSnapshot`; ``full`` adds the high-cardinality detail
    (per link, per model instance, more per node and per model)."""

    def __init__(self, snapshot: LatestSnapshot, full: bool = False):
        self.snapshot = snapshot
        self.full = full

    def collect(self):
        collector, latest, at = self.snapshot.read()
        declared = collector.fields
        for component in (*COMPONENTS, "collector"):
            record = latest.get(component)
            if not record:
                continue
            yield from self._record(component, record, declared.get(component, ()))
            yield from self._details(component, record)
        yield from self._health(collector, latest, at)
        yield from self._alerts(latest.get("active_alerts") or [])

    def _record(self, component: str, record: Mapping, fields: Iterable[Field]):
        indexed: dict[str, Metric] = {}
        for field in fields:
            if field.name == "timestamp":
                continue
            value = _number(record.get(field.name))
            if value is None:
                continue
            match = _indexed(field.name)
            if match:  # cpu_core_0_percent, cpu_core_1_percent, ... -> cpu_core_percent{core="0"}
                stem, label, index, rest = match.groups()
                name, factor, note = metric_name(component, f"{stem}_{label}{rest}", field.unit)
                if name not in indexed:
                    help_field = Field(field.name, field.unit, field.kind, f"CPU use of each {label}")
                    indexed[name] = _family(help_field, name, note, [label])
                indexed[name].add_metric([index], value * factor)
                continue
            name, factor, note = metric_name(component, field.name, field.unit)
            family = _family(field, name, note)
            family.add_metric([], value * factor)
            yield family
        yield from indexed.values()

    def _details(self, component: str, record: Mapping):
        """Per-node / per-model lists (:data:`DETAILS`) and distributions, labelled."""
        for detail in DETAILS:
            if detail.full and not self.full:
                continue
            rows = record.get(detail.rows) if detail.component == component else None
            if not isinstance(rows, list) or not rows:
                continue
            label_names = [name for name, _ in detail.labels]
            labelled = [
                (row, [str(row.get(key, "")) for _, key in detail.labels]) for row in rows if isinstance(row, Mapping)
            ]
            for field in detail.fields:
                name, factor, note = metric_name(detail.scope, field.name, field.unit)
                family = None
                for row, labels in labelled:
                    value = _row_value(row, field.name)
                    if value is None:
                        continue
                    if family is None:
                        family = _family(field, name, note, label_names)
                    family.add_metric(labels, value * factor)
                if family is not None:
                    yield family
        for owner, key, stem, label, help_text, full in DISTRIBUTIONS:
            counts = record.get(key) if owner == component and (self.full or not full) else None
            if isinstance(counts, Mapping) and counts:
                family = GaugeMetricFamily(f"{PREFIX}_{stem}", help_text, labels=[label])
                for value, count in counts.items():
                    if _number(count) is not None:
                        family.add_metric([str(value)], float(count))
                yield family

    def _health(self, collector, latest: Mapping, at: float | None):
        up = GaugeMetricFamily(f"{PREFIX}_collector_up", "1 while the collector thread runs, else 0")
        up.add_metric([], 1.0 if collector.running else 0.0)
        yield up
        record = latest.get("collector")
        if at is None and record and record.get("timestamp") is not None:
            at = record["timestamp"]
        if at is not None:
            age = GaugeMetricFamily(f"{PREFIX}_collector_last_tick_age_seconds", "Seconds since the last tick")
            age.add_metric([], max(0.0, time.time() - at))
            yield age

    def _alerts(self, active: Iterable[Mapping]):
        counts = {(level, component): 0 for level in LEVELS for component in COMPONENTS}
        for alert in active:
            key = (alert.get("level"), alert.get("component"))
            counts[key] = counts.get(key, 0) + 1
        family = GaugeMetricFamily(
            f"{PREFIX}_active_alerts", "Alerts firing now, by level and component", labels=["level", "component"]
        )
        for (level, component), count in counts.items():
            family.add_metric([str(level), str(component)], count)
        yield family


def _row_value(row: Mapping, name: str) -> float | None:
    if name == "up":
        up = row.get("up")
        if up is None and "status" in row:
            up = row["status"] == "up"
        return None if up is None else float(bool(up))
    return _number(row.get(name))


def make_registry(get: Callable, full: bool = False, snapshot: LatestSnapshot | None = None) -> CollectorRegistry:
    """A new registry holding only a :class:`SnapshotCollector` over ``get()``'s collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot or LatestSnapshot(get), full))
    return registry
