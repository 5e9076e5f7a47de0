"""Bounded, columnar history of each component's numeric fields.

Each component keeps one ``float64`` array per declared field, used as a ring: 8 bytes per
stored value and no object per point. ``None`` is stored as NaN. The arrays grow with the
rows held (from :data:`INITIAL_ROWS`, doubling, up to the capacity), so memory follows what
is stored, not what could be; with ``keep_seconds`` (a store with tiers on disk: older rows
are read there) a ring stops growing once it spans that much time and wraps from then on.
Records are expected in time order (the collector appends them so); queries by time
range return pandas DataFrames (``query``) or NumPy columns (``query_columns``, for the work
done at rest, see :mod:`.columns`), optionally downsampled for charts into buckets evenly
spaced in time, each with its mean, minimum and maximum (so peaks survive as a band).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from .columns import Columns

if TYPE_CHECKING:
    import pandas as pd

INITIAL_ROWS = 256  # rows a ring allocates at first; it doubles from there while it may grow


class Ring:
    """One component's history: up to ``capacity`` rows (and, with ``keep_seconds``, not
    more than span that many seconds once full), one float64 column per field."""

    def __init__(self, names: Iterable[str], capacity: int, keep_seconds: float | None = None, rows: int = 0):
        self.names = tuple(names)
        if "timestamp" not in self.names:
            raise ValueError("a history needs a 'timestamp' field")
        self.capacity = int(capacity)
        self.keep_seconds = keep_seconds
        self.columns = np.full((len(self.names), min(self.capacity, max(rows, INITIAL_ROWS))), np.nan)
        self._ts = self.columns[self.names.index("timestamp")]
        self.size = 0
        self.head = 0  # where the next row goes

    @property
    def allocated(self) -> int:
        """Rows the arrays hold now (up to ``capacity``)."""
        return self.columns.shape[1]

    def append(self, record: Mapping[str, object]) -> int:
        """Store one record; returns the column it went to."""
        if self.size == self.allocated and self.allocated < self.capacity:
            self._grow(record.get("timestamp"))
        row = self.head
        for i, name in enumerate(self.names):
            value = record.get(name)
            self.columns[i, row] = np.nan if value is None else value
        self.head = (row + 1) % self.allocated
        self.size = min(self.size + 1, self.allocated)
        return row

    def _grow(self, newest) -> None:
        """Make room before the oldest row is overwritten, unless the rows held already span
        ``keep_seconds``: doubling, or to the rows that the time span asks for, if fewer."""
        rows = self.allocated
        target = rows * 2
        if self.keep_seconds is not None and newest is not None:
            span = float(newest) - self.first()
            if span >= self.keep_seconds:
                return
            if span > 0:
                target = min(target, max(rows + 1, math.ceil(rows * self.keep_seconds / span * 1.02)))
        grown = np.full((len(self.names), min(self.capacity, target)), np.nan)
        grown[:, : self.size] = self.ordered()
        self.columns = grown
        self._ts = grown[self.names.index("timestamp")]
        self.head = self.size

    def first(self) -> float | None:
        """The oldest row's timestamp (None when empty)."""
        if not self.size:
            return None
        return float(self._ts[0 if self.size < self.allocated else self.head])

    def ordered(self) -> np.ndarray:
        """All rows, oldest first (a copy)."""
        if self.size < self.allocated:
            return self.columns[:, : self.size].copy()
        return np.concatenate((self.columns[:, self.head :], self.columns[:, : self.head]), axis=1)

    def window(self, start: float | None, end: float | None) -> np.ndarray:
        """Rows with ``start <= timestamp <= end``, oldest first, as a (fields, rows) copy."""
        if self.size < self.allocated:
            segments = [(0, self.size)]
        else:
            segments = [(self.head, self.allocated), (0, self.head)]
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
        rows = self.ordered()[:, -capacity:] if self.size else np.empty((len(self.names), 0))
        n = rows.shape[1]
        ring = Ring(self.names, capacity, self.keep_seconds, rows=n)
        ring.columns[:, :n] = rows
        ring.size = n
        ring.head = n % ring.allocated
        return ring


def bucket_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of a downsampled block (:func:`downsample`): ``timestamp``, each field (its
    bucket's mean), then each field's ``<field>_min`` and ``<field>_max``: the shape of the
    rollup tiers (:func:`~.tiered.rollup_frame`), so a chart draws the mean as its line and the
    minimum to maximum as a band, whatever tier it reads."""
    fields = [n for n in names if n != "timestamp"]
    return ("timestamp", *fields, *(f"{n}{s}" for n in fields for s in ("_min", "_max")))


def downsample(block: np.ndarray, max_points: int, ts_index: int) -> np.ndarray:
    """Reduce a (fields, rows) block to at most ``max_points`` buckets evenly spaced in time.

    The buckets are ``width`` seconds wide (the block's span over ``max_points``, whole seconds
    from a second up) and end at the newest row: bucket ``k`` holds the rows in
    ``(newest - (k + 1) * width, newest - k * width]`` and is stamped with its end, so the
    newest point is the newest row and every stamp lies on one grid. Rows come out in the
    :func:`bucket_names` layout: per field the bucket's mean (NaN skipped), then per field its
    minimum and maximum (the band, where every peak survives). A stretch without rows (a
    stopped monitor) stays without buckets: a real gap stays a gap. A block of at most
    ``max_points`` rows is returned as it is (its own layout, one row per point).
    """
    n = block.shape[1]
    if n <= max_points:
        return block
    ts = block[ts_index]
    newest = ts[-1]
    width = (newest - ts[0]) / max_points
    width = float(np.ceil(width)) if width >= 1.0 else width * (1 + 1e-9)
    if not width > 0:  # every row at one instant
        width = 1.0
    k = np.minimum(np.floor((newest - ts) / width), max_points - 1).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    values = np.delete(block, ts_index, axis=0)
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        counts = np.add.reduceat(present, starts, axis=1)
        means = np.add.reduceat(np.where(present, values, 0.0), starts, axis=1) / counts
    lows = np.fmin.reduceat(values, starts, axis=1)  # fmin/fmax skip NaN (all NaN: NaN)
    highs = np.fmax.reduceat(values, starts, axis=1)
    bands = np.stack([lows, highs], axis=1).reshape(2 * len(values), len(starts))  # f_min, f_max, ...
    stamps = newest - k[starts] * width
    return np.vstack([stamps[None, :], means, bands])


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
        self._keep_seconds: float | None = None
        self._rings: dict[str, Ring] = {}
        self._caps: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._capacity

    def keep_for(self, seconds: float | None) -> None:
        """Hold (about) ``seconds`` of rows per component, within the capacity, when older
        rows are kept elsewhere (a store with tiers on disk); None: up to the capacity."""
        with self._lock:
            self._keep_seconds = seconds
            for ring in self._rings.values():
                ring.keep_seconds = seconds

    def allocated_bytes(self) -> dict[str, int]:
        """Bytes each component's ring takes now (for the footprint benchmark)."""
        with self._lock:
            return {c: ring.columns.nbytes for c, ring in self._rings.items()}

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
                self._rings[component] = Ring(names, self._rows(component), self._keep_seconds)

    def _rows(self, component: str) -> int:
        return min(self._capacity, self._caps.get(component, self._capacity))

    def append(self, component: str, record: Mapping[str, object]) -> None:
        with self._lock:
            self._rings[component].append(record)

    def append_row(self, component: str, record: Mapping[str, object]) -> tuple[tuple[str, ...], np.ndarray]:
        """:meth:`append`, returning the field names and a copy of the stored row (float64)."""
        with self._lock:
            ring = self._rings[component]
            row = ring.append(record)  # first: appending may grow (replace) the columns
            return ring.names, ring.columns[:, row].copy()

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
        return self.query_columns(component, start, end, max_points).frame()

    def query_columns(
        self, component: str, start: float | None = None, end: float | None = None, max_points: int | None = None
    ) -> Columns:
        """:meth:`query`'s rows as NumPy columns."""
        with self._lock:
            ring = self._rings[component]
            block = ring.window(start, end)
            names = ring.names
        if max_points is not None:
            if max_points < 2:
                raise ValueError(f"max_points must be at least 2, not {max_points}")
            downsampled = downsample(block, max_points, names.index("timestamp"))
            if downsampled is not block:
                block, names = downsampled, bucket_names(names)
        return Columns.of(names, block)
