"""Where the API's routes find the collector: the process-wide one (:class:`SharedCollector`)
or one given by its owner (:class:`FixedCollector`). Both answer ``current()`` (None while
none exists) and ``get()`` (creating it if need be)."""

from __future__ import annotations

from ..core import shared
from ..core.collector import MetricsCollector


class SharedCollector:
    """The process-wide collector of :mod:`prsm_monitor.core.shared`."""

    @staticmethod
    def current() -> MetricsCollector | None:
        return shared.current_collector()

    @staticmethod
    def get() -> MetricsCollector:
        return shared.get_collector()


class FixedCollector:
    """One given collector (tests, benchmarks, embedding); started and stopped by its owner."""

    def __init__(self, collector: MetricsCollector):
        self.collector = collector

    def current(self) -> MetricsCollector:
        return self.collector

    def get(self) -> MetricsCollector:
        return self.collector
