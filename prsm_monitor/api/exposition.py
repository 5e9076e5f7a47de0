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

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from starlette.concurrency import run_in_threadpool

from ..fields import COMPONENTS, COUNTER, LEVELS, Distribution, Field, Rows
from ..metric_names import PREFIX, metric_name
from ..metric_names import indexed as numbered
from ..per_version import PerVersion


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

    def __init__(self, snapshot: LatestSnapshot, full: bool = False, live: bool = True):
        self.snapshot = snapshot
        self.full = full
        self.live = live  # with the collector's up and last-tick age (see LiveCollector)

    def collect(self):
        collector, latest, at = self.snapshot.read()
        declared = collector.fields
        rows, distributions = collector.rows
        for component in dict.fromkeys((*COMPONENTS, "collector", *declared)):  # and "custom", if any
            record = latest.get(component)
            if not record:
                continue
            yield from self._record(component, record, declared.get(component, ()))
            yield from self._details(component, record, rows, distributions)
        if self.live:
            yield from LiveCollector(self.snapshot.get).collect(at)
        yield from self._alerts(latest.get("active_alerts") or [])
        yield from _anomalies(getattr(collector, "insight", None))

    def _record(self, component: str, record: Mapping, fields: Iterable[Field]):
        indexed: dict[str, Metric] = {}
        for field in fields:
            if field.name == "timestamp":
                continue
            value = _number(record.get(field.name))
            if value is None:
                continue
            match = numbered(field.name)
            if match:  # cpu_core_0_percent, cpu_core_1_percent, ... -> cpu_core_percent{core="0"}
                stem, label, index, rest = match.groups()
                name, factor, note = metric_name(component, f"{stem}_{label}{rest}", field.unit)
                if name not in indexed:
                    help_field = Field(field.name, field.unit, field.kind, f"CPU use of each {label}")
                    indexed[name] = _family(help_field, name, note, [label])
                indexed[name].add_metric([index], value * factor)
                continue
            name, factor, note = metric_name(component, field.name, field.unit, field.kind == COUNTER)
            family = _family(field, name, note)
            family.add_metric([], value * factor)
            yield family
        yield from indexed.values()

    def _details(self, component: str, record: Mapping, rows: Iterable[Rows], distributions: Iterable[Distribution]):
        """Per-node / per-model lists and distributions, as their sources declared them, labelled."""
        for detail in rows:
            if detail.full and not self.full:
                continue
            listed = record.get(detail.key) if detail.component == component else None
            if not isinstance(listed, list) or not listed:
                continue
            label_names = [name for name, _ in detail.labels]
            labelled = [
                (row, [str(row.get(key, "")) for _, key in detail.labels]) for row in listed if isinstance(row, Mapping)
            ]
            for field in detail.fields:
                name, factor, note = metric_name(detail.scope, field.name, field.unit, field.kind == COUNTER)
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
        for dist in distributions:
            counts = record.get(dist.key) if dist.component == component and (self.full or not dist.full) else None
            if isinstance(counts, Mapping) and counts:
                family = GaugeMetricFamily(f"{PREFIX}_{dist.scope}", dist.help, labels=[dist.label])
                for value, count in counts.items():
                    if _number(count) is not None:
                        family.add_metric([str(value)], float(count))
                yield family

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


def _anomalies(insight):
    """``prsm_anomalies_total{component,field}``: anomalies opened since the monitor started."""
    if insight is None:
        return
    family = CounterMetricFamily(
        f"{PREFIX}_anomalies", "Anomalies opened (a value outside its learnt band)", labels=["component", "field"]
    )
    for (component, field), count in sorted(dict(insight.counts).items()):
        family.add_metric([component, field], count)
    yield family


def _row_value(row: Mapping, name: str) -> float | None:
    if name == "up":
        up = row.get("up")
        if up is None and "status" in row:
            up = row["status"] == "up"
        return None if up is None else float(bool(up))
    return _number(row.get(name))


class LiveCollector:
    """What changes between two ticks: whether the collector thread runs, and the age of its
    last tick (the series that shows a stall)."""

    def __init__(self, get: Callable):
        self.get = get

    def collect(self, at: float | None = None):
        collector = self.get()
        up = GaugeMetricFamily(f"{PREFIX}_collector_up", "1 while the collector thread runs, else 0")
        up.add_metric([], 1.0 if collector.running else 0.0)
        yield up
        record = collector.latest("collector")
        if at is None and record and record.get("timestamp") is not None:
            at = record["timestamp"]
        if at is not None:
            age = GaugeMetricFamily(f"{PREFIX}_collector_last_tick_age_seconds", "Seconds since the last tick")
            age.add_metric([], max(0.0, time.time() - at))
            yield age


def _registry(collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def make_registry(get: Callable, full: bool = False, snapshot: LatestSnapshot | None = None) -> CollectorRegistry:
    """A new registry holding only a :class:`SnapshotCollector` over ``get()``'s collector."""
    return _registry(SnapshotCollector(snapshot or LatestSnapshot(get), full))


OPENMETRICS_EOF = b"# EOF\n"


class Exposition:
    """``/metrics`` bodies. The snapshot part (every record, row and alert count) is rendered
    once per collector version, off the event loop; the live part (:class:`LiveCollector`) is
    rendered on every scrape and appended, so a stalled collector still shows as one."""

    def __init__(self, get: Callable):
        snapshot = LatestSnapshot(get)
        self._registries = {full: _registry(SnapshotCollector(snapshot, full, live=False)) for full in (False, True)}
        self._live = _registry(LiveCollector(get))
        self._bodies: dict[tuple[bool, str], PerVersion] = {}

    async def render(self, collector, full: bool, accept: str) -> tuple[bytes, str]:
        """``(body, content type)`` for a scrape that sent ``accept``."""
        encoder, content_type = choose_encoder(accept)
        key = (full, content_type)
        cache = self._bodies.get(key)
        if cache is None:
            registry = self._registries[full]
            cache = self._bodies.setdefault(key, PerVersion(lambda _collector: encoder(registry)))
        body = cache.cached(collector)
        if body is None:
            body = await run_in_threadpool(cache.get, collector)
        if body.endswith(OPENMETRICS_EOF):
            body = body[: -len(OPENMETRICS_EOF)]
        return body + encoder(self._live), content_type
