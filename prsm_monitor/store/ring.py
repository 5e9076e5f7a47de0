"""Bounded, columnar history of each component's numeric fields.

Each component keeps one preallocated ``float64`` array per declared field, used as a
ring: 8 bytes per stored value and no object per point. ``None`` is stored as NaN.
Records are expected in time order (the collector appends them so); queries by time
range return pandas DataFrames, optionally downsampled for charts with a min/max per
bucket so that peaks survive.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd


class Ring:
    """One component's history: a fixed number of rows, one float64 column per field."""

    def __init__(self, names: Iterable[str], capacity: int):
        self.names = tuple(names)
        if "timestamp" not in self.names:
            raise ValueError("a history needs a 'timestamp' field")
        self.capacity = int(capacity)
        self.columns = np.full((len(self.names), self.capacity), np.nan)
        self._ts = self.columns[self.names.index("timestamp")]
        self.size = 0
        self.head = 0  # where the next row goes

    def append(self, record: Mapping[str, object]) -> int:
        """Store one record; returns the column it went to."""
        row = self.head
        for i, name in enumerate(self.names):
            value = record.get(name)
            self.columns[i, row] = np.nan if value is None else value
        self.head = (row + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)
        return row

    def first(self) -> float | None:
        """The oldest row's timestamp (None when empty)."""
        if not self.size:
            return None
        return float(self._ts[0 if self.size < self.capacity else self.head])

    def ordered(self) -> np.ndarray:
        """All rows, oldest first (a copy)."""
        if self.size < self.capacity:
            return self.columns[:, : self.size].copy()
        return np.concatenate((self.columns[:, self.head :], self.columns[:, : self.head]), axis=1)

    def window(self, start: float | None, end: float | None) -> np.ndarray:
        """Rows with ``start <= timestamp <= end``, oldest first, as a (fields, rows) copy."""
        if self.size < self.capacity:
            segments = [(0, self.size)]
        else:
            segments = [(self.head, self.capacity), (0, self.head)]
        parts = []
        for lo, hi in segments:
            ts = self._ts[lo:hi]
            a = lo + (0 if start is None else int(np.searchsorted(ts, start, "left")))
            b = lo + (len(ts) if end is None else int(np.searchsorted(ts, end, "right")))
            if b > a:
                parts.append(self.columns[:, a:b])
        if not parts:
            return np.empty((len(self.names), 0))
        return parts[0].copy() if len(parts) == 1 else np.concatenate(parts, axis=1)

    def resized(self, capacity: int) -> Ring:
        """A new ring of ``capacity`` rows holding the newest rows of this one."""
        ring = Ring(self.names, capacity)
        rows = self.ordered()[:, -capacity:] if self.size else np.empty((len(self.names), 0))
        n = rows.shape[1]
        ring.columns[:, :n] = rows
        ring.size = n
        ring.head = n % capacity
        return ring


def _extreme_indices(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per bucket of ``size`` consecutive values: index of the minimum and of the maximum.

    NaN is skipped (an all-NaN bucket points at a NaN). Whole buckets are reshaped
    views; only the last, shorter bucket and columns that hold NaN cost a copy."""
    n = len(values)
    full = n // size
    parts = [values[: full * size].reshape(full, size)]
    if full * size < n:
        parts.append(values[full * size :][None, :])
    lows, highs = [], []
    for part in parts:
        if np.isnan(part).any():
            missing = np.isnan(part)
            lows.append(np.where(missing, np.inf, part).argmin(axis=1))
            highs.append(np.where(missing, -np.inf, part).argmax(axis=1))
        else:
            lows.append(part.argmin(axis=1))
            highs.append(part.argmax(axis=1))
    offsets = np.arange(len(parts[0]) + (len(parts) - 1)) * size
    return np.concatenate(lows) + offsets, np.concatenate(highs) + offsets


def downsample(block: np.ndarray, max_points: int, ts_index: int) -> np.ndarray:
    """Reduce a (fields, rows) block to at most ``max_points`` rows, keeping peaks.

    Rows are cut into ``max_points // 2`` buckets of equal count. Each bucket yields two
    rows stamped with its first and last timestamp; for every field they hold the
    bucket's minimum and maximum in the order they occurred. So every bucket's extremes
    survive, and a peak moves by at most one bucket width in time.
    """
    n = block.shape[1]
    if n <= max_points:
        return block
    size = -(-n // max(1, max_points // 2))  # rows per bucket, rounded up
    buckets = -(-n // size)
    out = np.empty((block.shape[0], buckets * 2))
    for i, values in enumerate(block):
        if i == ts_index:
            continue
        low, high = _extreme_indices(values, size)
        out[i, 0::2] = values[np.minimum(low, high)]
        out[i, 1::2] = values[np.maximum(low, high)]
    starts = np.arange(buckets) * size
    out[ts_index, 0::2] = block[ts_index, starts]
    out[ts_index, 1::2] = block[ts_index, np.minimum(starts + size, n) - 1]
    return out


class HistoryStore:
    """Histories of all components, sharing one capacity (rows per component).

    The interface is deliberately narrow (``declare``, ``append``, ``query``,
    ``resize``, ``count``, ``first_timestamp``, ``close``): :class:`~.tiered.TieredStore`
    keeps one of these as its newest raw rows and adds the on-disk tiers. Thread-safe.
    """

    def __init__(self, capacity: int = 1000):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self._capacity = int(capacity)
        self._rings: dict[str, Ring] = {}
        self._caps: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._capacity

    def declare(self, component: str, names: Iterable[str], max_capacity: int | None = None) -> None:
        """Set the fields kept for ``component`` (re-declaring the same fields is a no-op).

        ``max_capacity`` caps this component's rows below the store's capacity (drill-down
        series of many nodes need not keep as much as the main components)."""
        names = tuple(names)
        with self._lock:
            if max_capacity is not None:
                self._caps[component] = max_capacity
            ring = self._rings.get(component)
            if ring is None or ring.names != names:
                self._rings[component] = Ring(names, self._rows(component))

    def _rows(self, component: str) -> int:
        return min(self._capacity, self._caps.get(component, self._capacity))

    def append(self, component: str, record: Mapping[str, object]) -> None:
        with self._lock:
            self._rings[component].append(record)

    def append_row(self, component: str, record: Mapping[str, object]) -> tuple[tuple[str, ...], np.ndarray]:
        """:meth:`append`, returning the field names and a copy of the stored row (float64)."""
        with self._lock:
            ring = self._rings[component]
            return ring.names, ring.columns[:, ring.append(record)].copy()

    def first_timestamp(self, component: str) -> float | None:
        """Where this component's history starts (None: nothing stored)."""
        with self._lock:
            ring = self._rings.get(component)
            return ring.first() if ring else None

    def block(self, component: str, start: float | None, end: float | None) -> tuple[tuple[str, ...], np.ndarray]:
        """``(names, (fields, rows) array)`` of the rows in ``[start, end]``, oldest first."""
        with self._lock:
            ring = self._rings[component]
            return ring.names, ring.window(start, end)

    def close(self) -> None:
        """Nothing to release in memory (the on-disk store closes its file here)."""

    def count(self, component: str) -> int:
        with self._lock:
            ring = self._rings.get(component)
            return ring.size if ring else 0

    def fields(self, component: str) -> tuple[str, ...]:
        with self._lock:
            ring = self._rings.get(component)
            return ring.names if ring else ()

    def resize(self, capacity: int) -> None:
        """Change rows per component at run time, keeping the newest rows."""
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        with self._lock:
            self._capacity = int(capacity)
            self._rings = {c: ring.resized(self._rows(c)) for c, ring in self._rings.items()}

    def query(
        self, component: str, start: float | None = None, end: float | None = None, max_points: int | None = None
    ) -> pd.DataFrame:
        """Rows of ``component`` with ``start <= timestamp <= end`` (epoch seconds), oldest first.

        With ``max_points`` the result is downsampled (see :func:`downsample`). Unknown
        components raise ``KeyError``.
        """
        with self._lock:
            ring = self._rings[component]
            block = ring.window(start, end)
            names = ring.names
        if max_points is not None:
            if max_points < 2:
                raise ValueError(f"max_points must be at least 2, not {max_points}")
            block = downsample(block, max_points, names.index("timestamp"))
        return pd.DataFrame(dict(zip(names, block, strict=True)), columns=list(names))
