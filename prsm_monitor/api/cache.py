"""What the API derives from the collector, computed once per collector version.

A response body such as ``/api/metrics`` depends only on what the collector holds, which
changes only with a tick, an alert event or a settings change (:attr:`MetricsCollector.version`).
Every request between two changes gets the same bytes, encoded once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class PerVersion:
    """``compute(collector)``, cached for the collector's current version."""

    def __init__(self, compute: Callable):
        self._compute = compute
        self._cached: tuple[tuple, object] | None = None
        self._lock = threading.Lock()

    def cached(self, collector):
        """The value for the current version, or None when it has to be computed."""
        cached = self._cached
        if cached is not None and cached[0] == (id(collector), collector.version):
            return cached[1]
        return None

    def get(self, collector):
        """The value for the current version, computing it at most once per version."""
        value = self.cached(collector)
        if value is not None:
            return value
        with self._lock:
            key = (id(collector), collector.version)  # read before computing: a tick meanwhile re-computes
            cached = self._cached
            if cached is not None and cached[0] == key:
                return cached[1]
            value = self._compute(collector)
            self._cached = (key, value)
            return value
