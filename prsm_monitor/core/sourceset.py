"""The sources a collector ticks: those the settings configure (:func:`default_sources`),
and :class:`SourceSet`: added with a history declared for
each of their fields, collected once per tick (a failing source is noted per component,
never raised), and what they declare for exporters."""

from __future__ import annotations

import time

from ..fields import Distribution, Field, Rows
from ..settings.model import Settings
from ..sources.base import Source, as_source, unwrap
from ..sources.registry import REGISTRY
from . import declared

DETAIL_HISTORY = 3600  # rows kept per drill-down series (one per node or model): an hour at 1 Hz


def default_sources(settings: Settings) -> list[Source]:
    """The sources ``settings`` configure (see :mod:`prsm_monitor.sources.registry`): this
    machine, other instances, and the demo network or real PRSM nodes."""
    return REGISTRY.create(settings)


class SourceSet:
    """The ``(name, source)`` pairs, in the order they were added; ``store`` gets their
    series; ``lock`` is the collector's, so a reader sees the list and its state together."""

    def __init__(self, store, lock):
        self.store = store
        self._lock = lock
        self._sources: list[tuple[str, Source]] = []

    def add(self, source, name: str | None = None) -> None:
        """Add a source (see :meth:`MetricsCollector.add_source`); its fields get a history each."""
        name = name or type(source).__name__
        source = as_source(source)
        for component in source.components:
            self.store.declare(component, [f.name for f in source.fields[component]])
        for component, fields in source.detail_fields.items():
            self.store.declare(component, [f.name for f in fields], max_capacity=DETAIL_HISTORY)
        with self._lock:
            self._sources.append((name, source))

    def clear(self) -> list[Source]:
        """Forget every source; returns them (as added) for their owner to close."""
        with self._lock:
            old = [s for _, s in self._sources]
            self._sources = []
        return old

    def named(self) -> list[tuple[str, Source]]:
        """A copy of the ``(name, source)`` pairs."""
        with self._lock:
            return list(self._sources)

    def wrapped(self) -> list[Source]:
        """The sources as :class:`~prsm_monitor.sources.base.Source` objects."""
        return [s for _, s in self.named()]

    @property
    def sources(self) -> list:
        """The sources, as they were added."""
        return [unwrap(s) for s in self.wrapped()]

    @property
    def point_bytes(self) -> int:
        return declared.point_bytes(self.wrapped())

    @property
    def demo_network(self):
        return next((s.demo_network for s in self.wrapped() if s.demo_network is not None), None)

    @property
    def fields(self) -> dict[str, tuple[Field, ...]]:
        return declared.fields(self.wrapped())

    @property
    def rows(self) -> tuple[tuple[Rows, ...], tuple[Distribution, ...]]:
        return declared.rows(self.wrapped())


def collect(sources: list[tuple[str, Source]]) -> tuple[dict, dict, dict]:
    """Collect every source once: the records by component, the failures by component
    (``(source name, exception)``) and the milliseconds each source took, by name."""
    records: dict[str, dict] = {}
    failures: dict[str, tuple[str, Exception]] = {}
    source_ms: dict[str, float] = {}
    for name, source in sources:
        source_started = time.perf_counter()
        try:
            records.update(source.collect())
        except Exception as exc:  # noqa: BLE001 - any source failure becomes an alert
            for component in source.components:
                failures[component] = (name, exc)
        source_ms[name] = (time.perf_counter() - source_started) * 1000.0
    return records, failures, source_ms
