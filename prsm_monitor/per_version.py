"""What is derived from the collector, computed once per collector version.

A response body such as ``/api/metrics`` depends only on what the collector holds, which
changes only with a tick, an alert event or a settings change (:attr:`MetricsCollector.version`).
Every request between two changes gets the same bytes, encoded once. The pages share their
charts and tables the same way (:mod:`prsm_monitor.ui.shared_views`). Below both the API and
the pages (it imports nothing of the package), so neither reaches into the other.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

_NOTHING = object()


class PerVersion:
    """``compute(collector)``, cached for the collector's current version.

    The cache is keyed on the collector object itself (held weakly, so a released collector
    is not kept alive) and its version: a second collector, even one that reuses the first
    one's ``id`` after it was freed, never gets the first one's value. A computed ``None`` is
    cached like any other value."""

    def __init__(self, compute: Callable):
        self._compute = compute
        self._cached: tuple[weakref.ref, tuple, object] | None = None
        self._lock = threading.Lock()

    def _lookup(self, collector, version):
        cached = self._cached
        if cached is not None and cached[0]() is collector and cached[1] == version:
            return cached[2]
        return _NOTHING

    def cached(self, collector):
        """The value for the current version, or None when it has to be computed."""
        value = self._lookup(collector, collector.version)
        return None if value is _NOTHING else value

    def get(self, collector):
        """The value for the current version, computing it at most once per version."""
        value = self._lookup(collector, collector.version)
        if value is not _NOTHING:
            return value
        with self._lock:
            version = collector.version  # read before computing: a tick meanwhile re-computes
            value = self._lookup(collector, version)
            if value is not _NOTHING:
                return value
            value = self._compute(collector)
            self._cached = (weakref.ref(collector), version, value)
            return value
