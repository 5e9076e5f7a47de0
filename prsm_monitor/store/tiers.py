"""Tiers of history, like RRD and Netdata's dbengine: raw points, 1-minute and 1-hour rollups.

Pure functions over numpy arrays, no I/O. A *block* is a ``(fields, rows)`` float64 array
whose row ``ts_index`` holds the timestamps (as :class:`~.ring.Ring` stores it). A
*rollup* is a :class:`Rollup`: per bucket its start time and, for every other field, the
minimum, mean, maximum and count of the values that were not NaN.

Each tier's chunks span exactly one bucket of the next tier: a raw chunk holds one minute
of points and rolls up into one minute row; a minute chunk holds one hour of minute rows
and rolls up into one hour row; an hour chunk holds one day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tier:
    name: str
    level: int
    step: float | None  # seconds per row; None: raw, at the collection interval
    span: float  # seconds per chunk (the next tier's step)


TIERS = (
    Tier("raw", 0, None, 60.0),
    Tier("minute", 1, 60.0, 3600.0),
    Tier("hour", 2, 3600.0, 86400.0),
)
RAW, MINUTE, HOUR = TIERS
STATS = ("min", "mean", "max", "count")


@dataclass
class Rollup:
    """Buckets of one series: ``ts`` (bucket starts, seconds) and ``stats``, a
    ``(4, fields, buckets)`` float64 array of min, mean, max and count (NaN where count is 0)."""

    ts: np.ndarray
    stats: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls, fields: int) -> Rollup:
        return cls(np.empty(0), np.empty((4, fields, 0)))

    @classmethod
    def concat(cls, parts: list[Rollup], fields: int) -> Rollup:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty(fields)
        return cls(np.concatenate([p.ts for p in parts]), np.concatenate([p.stats for p in parts], axis=2))

    def window(self, start: float | None, end: float | None) -> Rollup:
        """Buckets whose start lies in ``[start, end]`` (None: unbounded); ``ts`` must be sorted.
        A view, not a copy."""
        lo = 0 if start is None else int(np.searchsorted(self.ts, start, "left"))
        hi = len(self.ts) if end is None else int(np.searchsorted(self.ts, end, "right"))
        return self if (lo, hi) == (0, len(self.ts)) else Rollup(self.ts[lo:hi], self.stats[:, :, lo:hi])


def bucket_of(ts: float, span: float) -> float:
    """The start of the ``span``-second bucket holding ``ts`` (aligned to the Unix epoch, UTC)."""
    return math.floor(ts / span) * span


def roll_up(block: np.ndarray, ts_index: int, bucket: float) -> Rollup:
    """One bucket starting at ``bucket`` from a block of raw rows."""
    values = np.delete(block, ts_index, axis=0)
    present = ~np.isnan(values)
    count = present.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(present, values, np.inf).min(axis=1, initial=np.inf)
        high = np.where(present, values, -np.inf).max(axis=1, initial=-np.inf)
        mean = np.where(present, values, 0.0).sum(axis=1) / count
    empty = count == 0
    low[empty] = high[empty] = mean[empty] = np.nan
    return Rollup(np.array([bucket]), np.stack([low, mean, high, count])[:, :, None])


def merge(rollup: Rollup, size: int, starts: np.ndarray | None = None) -> Rollup:
    """Merge every ``size`` consecutive buckets into one (or the groups starting at the row
    indices ``starts``): minimum of minima, maximum of maxima, count-weighted mean, summed
    counts. The merged bucket is stamped with its first bucket's start."""
    n = len(rollup)
    if n == 0:
        return rollup
    if starts is None:
        starts = np.arange(0, n, max(1, size))
    low, mean, high, count = rollup.stats
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.add.reduceat(count, starts, axis=1)
        sums = np.add.reduceat(np.nan_to_num(mean * count), starts, axis=1)  # empty buckets add 0
        means = sums / total  # 0 / 0: NaN where every bucket was empty
    lows = np.fmin.reduceat(low, starts, axis=1)  # fmin/fmax skip NaN
    highs = np.fmax.reduceat(high, starts, axis=1)
    return Rollup(rollup.ts[starts], np.stack([lows, means, highs, total]))


def downsample_rollup(rollup: Rollup, max_points: int) -> Rollup:
    """At most ``max_points`` buckets evenly spaced in time: the buckets (one tier's step
    apart, the smallest spacing among them) merge in groups of ``size`` steps on a grid that
    ends at the newest bucket, each group stamped with the start of its newest step, so every
    stamp lies on the grid and the newest one is the newest bucket's. A stretch without
    buckets (a stopped monitor) stays without: a real gap stays a gap."""
    n = len(rollup)
    if n <= max_points:
        return rollup
    ts = rollup.ts
    diffs = np.diff(ts)
    step = float(diffs[diffs > 0].min()) if (diffs > 0).any() else 1.0
    slots = round((ts[-1] - ts[0]) / step) + 1
    width = -(-slots // max_points) * step
    k = np.minimum(np.floor((ts[-1] - ts) / width + 1e-9), max_points - 1).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    merged = merge(rollup, 0, starts)
    return Rollup(ts[-1] - k[starts] * width, merged.stats)


def pick_tier(span: float, max_points: int | None, covered: dict[int, bool]) -> Tier:
    """The tier a query over ``span`` seconds reads.

    ``covered[level]`` says whether that tier holds the range's start (its data reaches that
    far back, or nothing older exists anywhere). Among covering tiers, the coarsest one
    that still gives ``max_points`` rows (step * max_points <= span); none giving that
    many, the finest covering tier. Without ``max_points`` (full resolution): the finest
    covering tier. Nothing covers: the coarsest tier."""
    candidates = [t for t in TIERS if covered.get(t.level)]
    if not candidates:
        return TIERS[-1]
    if max_points is not None:
        for tier in reversed(candidates):
            if tier.step is not None and tier.step * max_points <= span:
                return tier
    return candidates[0]


# -- encoding: chunks and open rows are stored as plain little-endian arrays --------------
def encode_raw(block: np.ndarray) -> bytes:
    """A raw block as bytes: float64, field-major (each field's values contiguous)."""
    return np.ascontiguousarray(block, dtype="<f8").tobytes()


def decode_raw(data: bytes, fields: int) -> np.ndarray:
    values = np.frombuffer(data, dtype="<f8")
    return values.reshape(fields, len(values) // fields)


def encode_rollup(rollup: Rollup) -> bytes:
    """Bucket starts as float64, then min, mean and max as float32 and counts as float32
    (Netdata's tier-1 layout keeps float32 min/max/sum too: 7 significant digits)."""
    return np.ascontiguousarray(rollup.ts, "<f8").tobytes() + np.ascontiguousarray(rollup.stats, "<f4").tobytes()


def decode_rollup(data: bytes, fields: int) -> Rollup:
    """``fields`` counts the fields without the timestamp. The stats stay float32 (as stored)."""
    n = len(data) // (8 + 16 * fields)
    ts = np.frombuffer(data, "<f8", count=n)
    stats = np.frombuffer(data, "<f4", offset=8 * n).reshape(4, fields, n)
    return Rollup(ts, stats)
