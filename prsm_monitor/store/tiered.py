"""History with tiers on disk: the in-memory ring for the newest raw rows, the SQLite file
(:mod:`.disk`, written by :mod:`.writer`) for everything older, and optionally a
Prometheus server (:mod:`prsm_monitor.store.prometheus_reader`) for long ranges.

:class:`TieredStore` has the interface of :class:`~.ring.HistoryStore`. What
:meth:`TieredStore.query` returns depends on the tier it reads:

- **raw** (the ring and the raw tier): the columns of the fields as declared, one row per
  collected point; downsampled with ``max_points`` (:func:`~.ring.downsample`), buckets
  evenly spaced in time in the rollup shape below (mean, ``_min``, ``_max``).
- **minute**, **hour** (rollups) and **prometheus**: ``timestamp`` (the bucket's start),
  then per field ``<field>`` (the mean over the bucket), then per field ``<field>_min``
  and ``<field>_max`` (the band to draw). One row per bucket; ``max_points`` merges
  neighbouring buckets (minimum of minima, maximum of maxima, count-weighted mean).

``frame.attrs["tier"]`` names the tier (``"raw"``, ``"minute"``, ``"hour"``,
``"prometheus"``) and ``frame.attrs["step"]`` its seconds per bucket (None for raw);
``frame.attrs["error"]`` says why a read fell back to memory, when it did.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from .codec import decode_raw, decode_raw_many, decode_rollups
from .columns import Columns
from .ring import HistoryStore, bucket_names, downsample
from .tiers import RAW, TIERS, Rollup, decode_rollup, downsample_rollup, merge, pick_tier, roll_up
from .writer import Writer

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
MIB = 1024.0 * 1024.0
LIVE_SECONDS = 3600.0  # raw rows held in memory while a writer keeps the older ones on disk


def rollup_frame(names: tuple[str, ...], rollup: Rollup) -> Columns:
    """The rollup shape of the module doc; ``names`` includes ``timestamp``."""
    fields = [n for n in names if n != "timestamp"]
    low, mean, high, _ = rollup.stats.astype(float)
    columns = {"timestamp": rollup.ts}
    columns.update(zip(fields, mean, strict=True))
    for i, name in enumerate(fields):
        columns[f"{name}_min"] = low[i]
        columns[f"{name}_max"] = high[i]
    return Columns(columns)


def _align(source: tuple[str, ...], target: tuple[str, ...], values: np.ndarray, axis: int) -> np.ndarray:
    """``values`` laid out over ``source`` names, re-laid over ``target`` (NaN where missing)."""
    if source == target:
        return values
    index = {name: i for i, name in enumerate(source)}
    shape = list(values.shape)
    shape[axis] = 1
    padded = np.concatenate([values, np.full(shape, np.nan)], axis=axis)  # index len(source): NaN
    return np.take(padded, [index.get(name, len(source)) for name in target], axis=axis)


def history_start(firsts: dict[int, float | None]) -> float | None:
    """Where history starts, from each tier's oldest row time. A rollup's time is its bucket's
    start, up to a bucket before the first point in it: a coarser tier counts only where it
    reaches back at least one of its buckets further than the finer tiers."""
    start = None
    for tier in TIERS:
        first = firsts.get(tier.level)
        if first is not None and (start is None or first <= start - (tier.step or 0.0)):
            start = first
    return start


class TieredStore:
    """``ring`` (a :class:`HistoryStore`) plus, optionally, a ``writer`` (its database is
    read here) and a ``remote`` reader for ranges that start more than ``remote_after``
    seconds ago. ``lock`` (released on :meth:`close`) is the data directory's lock."""

    def __init__(
        self, ring: HistoryStore, writer: Writer | None = None, remote=None, *, remote_after=86400.0, lock=None
    ):
        self.ring = ring
        self._writer: Writer | None = None
        self.writer = writer
        self.remote = remote
        self.remote_after = remote_after
        self.lock = lock
        self.problem: tuple[str, str] | None = None  # why the disk is not used, when it is not

    @property
    def writer(self) -> Writer | None:
        return self._writer

    @writer.setter
    def writer(self, writer: Writer | None) -> None:
        """With a writer, the ring holds the last :data:`LIVE_SECONDS` (what the live pages
        draw); older ranges are read from the disk tiers. Without one, up to its capacity."""
        self._writer = writer
        self.ring.keep_for(LIVE_SECONDS if writer is not None else None)

    # -- the HistoryStore interface ---------------------------------------------------------
    @property
    def capacity(self) -> int:
        return self.ring.capacity

    def declare(self, component: str, names: Iterable[str], max_capacity: int | None = None) -> None:
        self.ring.declare(component, names, max_capacity)

    def fields(self, component: str) -> tuple[str, ...]:
        return self.ring.fields(component)

    def resize(self, capacity: int) -> None:
        self.ring.resize(capacity)

    def append(self, component: str, record: Mapping[str, object]) -> None:
        if self.writer is None:
            self.ring.append(component, record)
            return
        names, row = self.ring.append_row(component, record)
        self.writer.put((component, names), row)

    def count(self, component: str) -> int:
        """Raw points held: in memory and, older than those, on disk."""
        count = self.ring.count(component)
        writer = self.writer  # once: close() may set it to None meanwhile
        if writer is None:
            return count
        db = writer.db
        before = self.ring.first_timestamp(component)
        limit = np.inf if before is None else before
        for names, block in writer.open_rows(component):  # in no committed chunk yet
            count += int((block[names.index("timestamp")] < limit).sum())
        try:
            series = db.series(component)
            count += db.raw_rows([sid for sid, _ in series], before)
            if before is not None:  # the chunk the ring's first row falls in: its older rows
                for sid, names in series:
                    ts = names.index("timestamp")
                    for codec, data in db.chunks(0, sid, before, before):
                        count += int((decode_raw(data, len(names), ts, codec)[ts] < before).sum())
        except sqlite3.Error:
            pass
        return count

    def first_timestamp(self, component: str) -> float | None:
        """Where the stored history of ``component`` starts (any tier), None when nothing is."""
        firsts = {0: self.ring.first_timestamp(component)}
        try:
            firsts = self._firsts(component, self._series(component), firsts[0])
        except sqlite3.Error:
            pass
        return history_start(firsts)

    @property
    def disk_mb(self) -> float | None:
        """The history file's size on disk, MiB (None: memory only)."""
        if self.writer is None or self.writer.disk_bytes is None:
            return None
        return self.writer.disk_bytes / MIB

    def close(self) -> None:
        """Commit what is pending, close the file, release the directory."""
        writer, self.writer = self.writer, None  # reads after close come from memory
        try:
            if writer is not None:
                writer.close()
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None

    # -- queries -------------------------------------------------------------------------------
    @property
    def _db(self):
        return self.writer.db if self.writer is not None else None

    def _firsts(self, component: str, sids: list[int], ring_first: float | None) -> dict[int, float | None]:
        """The oldest row time of each tier (the ring counts as raw)."""
        writer = self.writer
        firsts = {t.level: self._db.first(t.level, sids) if sids else None for t in TIERS}
        for first in (ring_first, writer.open_first(component) if writer is not None else None):
            if first is not None:
                firsts[0] = first if firsts[0] is None else min(firsts[0], first)
        return firsts

    def _series(self, component: str) -> list[int]:
        db = self._db
        return [] if db is None else [sid for sid, _ in db.series(component)]

    def query(
        self, component: str, start: float | None = None, end: float | None = None, max_points: int | None = None
    ) -> pd.DataFrame:
        """Rows of ``component`` with ``start <= timestamp <= end`` from the tier that suits
        (see the module doc for the shape). Unknown components raise ``KeyError``."""
        return self.query_columns(component, start, end, max_points).frame()

    def query_columns(
        self, component: str, start: float | None = None, end: float | None = None, max_points: int | None = None
    ) -> Columns:
        """:meth:`query`'s rows as NumPy columns (:mod:`.columns`)."""
        names = self.ring.fields(component)
        if not names:
            raise KeyError(component)
        if max_points is not None and max_points < 2:
            raise ValueError(f"max_points must be at least 2, not {max_points}")
        now = time.time() if end is None else end
        if self.remote is not None and start is not None and start < now - self.remote_after:
            try:
                return Columns.of_frame(self.remote.query(component, names, start, end, max_points))
            except LookupError:  # not a series the server has (drill-down): the local store
                pass
            except Exception as error:  # noqa: BLE001 - an unreachable server falls back to the local store
                log.warning("Prometheus read failed, using the local history: %s", error)
                frame = self._local(component, names, start, end, max_points)
                frame.attrs["error"] = f"Prometheus: {error}"
                return frame
        return self._local(component, names, start, end, max_points)

    def _local(self, component, names, start, end, max_points) -> Columns:
        ring_first = self.ring.first_timestamp(component)
        if self._db is None or (start is not None and ring_first is not None and ring_first <= start):
            return self._frame(self.ring.query_columns(component, start, end, max_points), RAW)
        try:
            return self._disk(component, names, start, end, max_points, ring_first)
        except sqlite3.Error as error:
            frame = self._frame(self.ring.query_columns(component, start, end, max_points), RAW)
            frame.attrs["error"] = f"history file: {error}"
            return frame

    def _disk(self, component, names, start, end, max_points, ring_first) -> Columns:
        db = self._db
        series = db.series(component)
        firsts = self._firsts(component, [sid for sid, _ in series], ring_first)
        oldest = history_start(firsts)
        if oldest is None:
            return self._frame(self.ring.query_columns(component, start, end, max_points), RAW)
        reach = oldest if start is None else max(start, oldest)
        covered = {level: first is not None and first <= reach for level, first in firsts.items()}
        span = (time.time() if end is None else end) - reach
        tier = pick_tier(span, max_points, covered)
        if tier is RAW:
            block = self._raw_rows(component, series, names, start, end, ring_first)
            if (
                max_points is not None
                and (small := downsample(block, max_points, names.index("timestamp"))) is not block
            ):
                block, names = small, bucket_names(names)
            return self._frame(Columns.of(names, block), RAW)
        fields = tuple(n for n in names if n != "timestamp")
        lo = None if start is None else start - tier.step  # the bucket holding start, too
        rollup = self._rollups(series, fields, tier.level, lo, end)
        # the newest bucket is still open: made from the finer tier's rows, so charts reach now
        newest = rollup.ts[-1] + tier.step if len(rollup) else lo
        if tier.level == 1:
            block = self._raw_rows(component, series, names, newest, end, ring_first)
            ts = block[names.index("timestamp")]
            parts = [rollup]
            for bucket in np.unique(np.floor(ts / tier.step) * tier.step):
                rows = block[:, (ts >= bucket) & (ts < bucket + tier.step)]
                parts.append(roll_up(rows, names.index("timestamp"), float(bucket)))
            rollup = Rollup.concat(parts, len(fields))
        else:
            finer = self._rollups(series, fields, tier.level - 1, newest, end)
            if len(finer):
                buckets = np.floor(finer.ts / tier.step) * tier.step
                starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
                partial = merge(finer, 0, starts)
                partial.ts = buckets[starts]
                rollup = Rollup.concat([rollup, partial], len(fields))
        rollup = rollup.window(None if start is None else start - tier.step + 1e-6, end)
        if max_points is not None:
            rollup = downsample_rollup(rollup, max_points)
        return self._frame(rollup_frame(names, rollup), tier)

    def _raw_rows(self, component, series, names, start, end, ring_first) -> np.ndarray:
        """Raw rows in ``[start, end]``: from disk before the ring's first row, then the ring."""
        blocks = [self._raw(component, series, names, start, end, ring_first)]
        if ring_first is not None:
            blocks.append(self.ring.block(component, start, end)[1])
        return np.concatenate(blocks, axis=1)

    def _rollups(self, series, fields, level, start, end) -> Rollup:
        """Rollup rows of ``level`` in ``[start, end]`` over ``fields``, oldest first."""
        db = self._db
        parts = []
        for sid, source in series:
            source_fields = tuple(n for n in source if n != "timestamp")
            width = len(source_fields)
            stored = decode_rollups(db.chunks(level, sid, start, end), width)
            for rollup in [stored, *(decode_rollup(data, width) for data in db.tail(level, sid, start, end))]:
                parts.append(Rollup(rollup.ts, _align(source_fields, fields, rollup.stats, 1)))
        rollup = Rollup.concat(parts, len(fields))
        if len(rollup) > 1 and not (np.diff(rollup.ts) >= 0).all():
            order = np.argsort(rollup.ts, kind="stable")
            rollup = Rollup(rollup.ts[order], rollup.stats[:, :, order])
        return rollup

    def _raw(self, component, series, names, start, end, before) -> np.ndarray:
        """Raw rows on disk in ``[start, end]`` and before ``before``, over ``names``: the
        closed chunks, and the rows of open chunks (the writer's memory). Memory is read
        first: a chunk committed in between is then read twice, and its rows once."""
        writer = self.writer  # once: close() may set it to None meanwhile
        if writer is None:
            return np.empty((len(names), 0))
        db = writer.db
        hi = end if before is None else (before if end is None else min(end, before))
        blocks = [_align(source, names, block, 0) for source, block in writer.open_rows(component)]
        for sid, source in series:
            stored = decode_raw_many(db.chunks(0, sid, start, hi), len(source), source.index("timestamp"))
            blocks.append(_align(source, names, stored, 0))
        if not blocks:
            return np.empty((len(names), 0))
        block = np.concatenate(blocks, axis=1)
        ts = block[names.index("timestamp")]
        if len(ts) > 1 and not (np.diff(ts) > 0).all():
            block = block[:, np.argsort(ts, kind="stable")]
            ts = block[names.index("timestamp")]
            unique = np.r_[True, ts[1:] != ts[:-1]]
            if not unique.all():
                block, ts = block[:, unique], ts[unique]
        lo = 0 if start is None else int(np.searchsorted(ts, start, "left"))
        hi = len(ts) if end is None else int(np.searchsorted(ts, end, "right"))
        if before is not None:
            hi = min(hi, int(np.searchsorted(ts, before, "left")))
        return block[:, lo:hi]

    @staticmethod
    def _frame(frame: Columns, tier) -> Columns:
        frame.attrs.update(tier=tier.name, step=tier.step)
        return frame


def saved_in(store) -> str | None:
    """The directory ``store``'s history is saved in (None: memory only, or not saved now)."""
    if not isinstance(store, TieredStore) or store.writer is None or store.lock is None:
        return None
    return os.fspath(store.lock.path)
