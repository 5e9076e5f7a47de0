"""What is normal for each watched value: a robust centre and spread, learnt from history.

:class:`Recent` is a ring of the last ``window`` seconds of every watched value (one column
each, float32). :func:`robust_band` turns it into a band per column: the median, and a
half-width of ``k`` times the scaled median absolute deviation (1.4826 MAD estimates the
standard deviation of normal noise and ignores a minority of wild points), never narrower
than a floor (5 % of the centre, at least :data:`ABS_FLOOR`), so a constant value (5 of 5
nodes up) still has a band and any change of it shows.

:class:`Seasonal` keeps a profile per hour of day (median and MAD of the minute means of
that hour over the past weeks) once :data:`SEASONAL_DAYS` days of history exist in the
persistent store; the band of a value is then its hour's band, widened to the recent one's
floor, so a busy afternoon is not unusual on every afternoon.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

MAD_SCALE = 1.4826
ABS_FLOOR = 1e-3
REL_FLOOR = 0.05
SEASONAL_DAYS = 7.0


@dataclass(frozen=True)
class Band:
    """Per column: ``lo`` and ``hi`` (NaN where nothing is known yet), ``centre``."""

    lo: np.ndarray
    hi: np.ndarray
    centre: np.ndarray


def per_column(statistic, values: np.ndarray, each: tuple[int, ...] = ()) -> np.ndarray:
    """``statistic(columns)`` (shape ``each + (columns,)``) of the columns of ``values`` that
    hold a number, NaN for the others: NumPy would warn for each all-NaN column, and muting
    that with ``warnings.catch_warnings`` is not thread-safe."""
    known = np.isfinite(values).any(axis=0)
    out = np.full((*each, values.shape[1]), np.nan)
    if known.any():
        out[..., known] = statistic(values[:, known])
    return out


def _median(values: np.ndarray) -> np.ndarray:
    return _by_gaps(np.median, np.nanmedian, values)


def _quantiles(values: np.ndarray) -> np.ndarray:
    return _by_gaps(np.quantile, np.nanquantile, values, [0.005, 0.995])


def _by_gaps(whole, nan_aware, values: np.ndarray, *args) -> np.ndarray:
    """``nan_aware(values, *args, axis=0)``, the same numbers: the columns without a gap in
    one vectorised ``whole`` call, only those with one through ``nan_aware`` (which goes
    column by column along a long axis: ~50 us per column, ~110 columns with the demo)."""
    gaps = np.isnan(values).any(axis=0)
    if not gaps.any():
        return whole(values, *args, axis=0)
    out = np.empty(np.shape(whole(values[:, :1], *args, axis=0))[:-1] + (values.shape[1],))
    if not gaps.all():
        out[..., ~gaps] = whole(values[:, ~gaps], *args, axis=0)
    out[..., gaps] = nan_aware(values[:, gaps], *args, axis=0)
    return out


def robust_band(values: np.ndarray, k: float, floors: np.ndarray | None = None) -> Band:
    """The band of each column of ``values`` (rows: samples, NaN: missing)."""
    centre = per_column(_median, values)
    mad = per_column(_median, np.abs(values - centre))
    half = np.maximum(k * MAD_SCALE * mad, np.maximum(REL_FLOOR * np.abs(centre), ABS_FLOOR))
    if floors is not None:
        half = np.maximum(half, floors)
    return Band(centre - half, centre + half, centre)


class Recent:
    """A ring of the latest ``rows`` samples of ``columns`` values; grows columns on demand."""

    def __init__(self, rows: int, columns: int = 0):
        self.rows = rows
        self._data = np.full((rows, max(columns, 8)), np.nan, dtype=np.float32)
        self._count = np.zeros(self._data.shape[1], dtype=np.int64)  # samples seen per column
        self._next = 0
        self._filled = 0
        self.appended = 0  # samples appended since creation: what the learner compares
        self._lock = threading.Lock()

    @property
    def filled(self) -> int:
        """Rows holding a sample (up to ``rows``)."""
        return self._filled

    def ensure(self, columns: int) -> None:
        with self._lock:
            have = self._data.shape[1]
            if columns > have:
                more = max(columns, have * 2)
                data = np.full((self.rows, more), np.nan, dtype=np.float32)
                data[:, :have] = self._data
                self._data = data
                self._count = np.concatenate([self._count, np.zeros(more - have, dtype=np.int64)])

    def append(self, values: np.ndarray) -> None:
        """One sample of the first ``len(values)`` columns (the others: missing)."""
        with self._lock:
            row = self._data[self._next]
            row[: values.size] = values
            row[values.size :] = np.nan
            self._count[: values.size] += np.isfinite(values)
            self._next = (self._next + 1) % self.rows
            self._filled = min(self._filled + 1, self.rows)
            self.appended += 1

    def snapshot(self, skip_latest: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(a copy of the filled rows but the latest ``skip_latest``, in no particular order;
        samples seen per column)."""
        with self._lock:
            keep = np.ones(self._filled, dtype=bool)
            if skip_latest:
                keep[(self._next - 1 - np.arange(min(skip_latest, self._filled))) % self.rows] = False
            return self._data[: self._filled][keep], self._count.copy()

    def forget(self, column: int, latest: int) -> None:
        """Blank the latest ``latest`` samples of ``column`` (they turned out to be an anomaly)."""
        with self._lock:
            rows = (self._next - 1 - np.arange(min(latest, self._filled))) % self.rows
            self._data[rows, column] = np.nan

    def load(self, block: np.ndarray) -> None:
        """Fill with earlier samples (rows oldest first), e.g. from stored history at start."""
        block = block[-self.rows :]
        self.ensure(block.shape[1])
        for row in block:
            self.append(row)


class Seasonal:
    """Hour-of-day bands per column from long history (see the module doc)."""

    def __init__(self):
        self.bands: dict[int, Band] = {}  # hour of day (local to UTC) -> band

    @property
    def ready(self) -> bool:
        return bool(self.bands)

    def learn(self, timestamps: np.ndarray, values: np.ndarray, k: float) -> None:
        """``values`` (rows: minute means, oldest first) at ``timestamps``; learns only when
        they span :data:`SEASONAL_DAYS` days."""
        if timestamps.size == 0 or timestamps[-1] - timestamps[0] < SEASONAL_DAYS * 86400 * 0.98:
            self.bands = {}
            return
        hours = ((timestamps % 86400) // 3600).astype(int)
        self.bands = {h: robust_band(values[hours == h], k) for h in range(24) if (hours == h).sum() >= 30}

    def band(self, now: float) -> Band | None:
        return self.bands.get(int((now % 86400) // 3600))


GUARD_SECONDS = 40.0  # the latest samples are judged before they are learnt from (longer than any hold)
ADAPT_SECONDS = 900.0  # an anomaly that lasts this long becomes the new normal: learnt from again


class RobustMethod:
    """The kept method: median and MAD bands over the recent window, widened to the window's
    0.5 and 99.5 % quantiles (short excursions seen recently are normal), seasonal by hour of
    day once a week of history exists. The latest :data:`GUARD_SECONDS` are judged before
    they are learnt from, and values of an anomaly are never learnt (a fault does not become
    normal while it lasts) until it has lasted :data:`ADAPT_SECONDS`.

    ``judge`` runs on the tick; ``learn`` on the insight's thread."""

    name = "robust median/MAD band"

    def __init__(self, rows: int, k: float = 5.0, learn_samples: float = 1800):
        self.k = k
        self.learn_samples = learn_samples
        self.ring = Recent(rows)
        self.seasonal = Seasonal()
        self.band: Band | None = None
        self.band_history: deque[tuple[float, np.ndarray, np.ndarray]] = deque(maxlen=720)
        self.floors = np.zeros(0)
        self.learnt = np.zeros(0)  # samples seen per column, as of the last learn

    def declare(self, floors: list[float]) -> None:
        """The columns' floors (:func:`~.watch.floor`), one per column so far."""
        self.ring.ensure(len(floors))
        self.floors = np.array(floors, dtype="float64")

    def judge(
        self, values: np.ndarray, open_since: np.ndarray, now: float, left_out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(outside, judged)`` per column; remembers ``values`` for learning, but for the
        columns ``left_out`` (a demo fault, an alert: :mod:`.normal`), which are judged only."""
        n = values.size
        keep = values.copy()
        if left_out is not None and left_out.size:
            keep[: min(n, left_out.size)][left_out[:n]] = np.nan
        if open_since.size:
            m = min(n, open_since.size)
            young = np.isfinite(open_since[:m]) & (now - open_since[:m] < ADAPT_SECONDS)
            keep[:m][young] = np.nan
        self.ring.append(keep)
        band = self.band
        lo, hi = np.full(n, np.nan), np.full(n, np.nan)
        if band is not None:
            m = min(n, band.lo.size)
            lo[:m], hi[:m] = band.lo[:m], band.hi[:m]
        judged = np.isfinite(values) & np.isfinite(lo)
        with np.errstate(invalid="ignore"):
            outside = (values < lo) | (values > hi)
        return outside, judged

    def forget(self, column: int, seconds: float, interval: float) -> None:
        """An anomaly opened after ``seconds`` outside: those samples are not normal either."""
        self.ring.forget(column, int(seconds / interval) + 1)

    def learn(self, n: int, now: float, interval: float = 1.0) -> None:
        values, counts = self.ring.snapshot(int(GUARD_SECONDS / interval))
        if n == 0 or values.shape[0] == 0:
            return
        counts = counts[:n]
        learnt = counts >= self.learn_samples  # the others' bands are NaN: not worked out at all
        values = values[:, :n][:, learnt].astype("float64")  # (a new install: none for its first 30 min)
        floors = self.floors[:n] if self.floors.size >= n else np.zeros(n)
        band = robust_band(values, self.k, floors[learnt])
        q_lo, q_hi = per_column(_quantiles, values, (2,))
        lo, hi, centre = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        lo[learnt], hi[learnt], centre[learnt] = np.fmin(band.lo, q_lo), np.fmax(band.hi, q_hi), band.centre
        lo[learnt] = np.where(q_lo >= 0, np.fmax(lo[learnt], 0.0), lo[learnt])  # never went negative: from 0
        season = self.seasonal.band(now) if self.seasonal.ready else None
        if season is not None:
            m = min(n, season.lo.size)
            lo[:m] = np.fmin(season.lo[:m], lo[:m])  # normal now, or normal at this hour of day
            hi[:m] = np.fmax(season.hi[:m], hi[:m])
        lo[~learnt] = np.nan
        hi[~learnt] = np.nan
        self.learnt = counts
        self.band = Band(lo, hi, centre)
        self.band_history.append((now, lo.astype("float32"), hi.astype("float32")))
