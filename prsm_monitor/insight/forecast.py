"""Trend fits and time to a limit: Theil–Sen over a window, as Prometheus' ``predict_linear``.

:func:`theil_sen` is the median of the pairwise slopes (robust to up to ~29 % outliers).
:func:`fit` picks the window: it starts from the longest (6 h by default, or what history
there is) and moves to shorter stretches while the stretch bends (its recent third's slope
disagrees with the whole's, or its newest minute has left its line): a leak that started
20 min ago is judged on those 20 min, not diluted by a flat morning, and one that started a
minute ago on that minute. :func:`readings` gives it the history at the resolution that
needs: the long window downsampled, the newest :data:`RECENT` seconds tick by tick.
:func:`Trend.eta` is the time until the fitted line reaches a limit.

How short a trend may be, and how far it may reach: a forecast needs a straight line of
:data:`MIN_WINDOW` (60 s) whose pairwise slopes agree in sign (:data:`CONSISTENT`) and whose
rise is :data:`CLEAR_RISE` times its scatter. A line shorter than :data:`LONG_WINDOW` (10 min)
forecasts at most :data:`SHORT_REACH` (4) of its own lengths ahead, a longer one
:data:`MAX_REACH` (12). The demo's leak (16 MiB/min on a 64 MiB node, full in ~3.8 min) is then
forecast after about a minute of it (3 windows ahead) and its alert fires after the 20 s hold,
well inside a 3-minute fault; a healthy value would have to rise along one line for a full
minute at a rate that reaches its limit within 4 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_POINTS = 120  # pairwise slopes of at most this many points (7,140 pairs)
MIN_SPAN = 60.0  # seconds of data a trend needs
MIN_POINTS = 20
MIN_RECENT = 20.0  # seconds of data the recent third needs to be judged on its own
NEWEST = 60.0  # seconds: the newest stretch whose level must stay on a line for the line to count
SHRINK = 0.85  # each shorter stretch tried is this much of the previous one
MIN_WINDOW = 60.0  # seconds of one straight line a forecast needs
CONSISTENT = 0.8  # share of pairwise slopes that must agree in sign for a trend to count
CLEAR_RISE = 5.0  # the rise over the window must be this many times the scatter about the line
LONG_WINDOW = 600.0  # a line this long may reach MAX_REACH windows ahead, a shorter one SHORT_REACH
MAX_REACH = 12.0  # no forecast further ahead than this many times the window it was fitted on
SHORT_REACH = 4.0
RECENT = 300.0  # seconds of the newest history read at full resolution (readings)
LONG_POINTS = 400  # points of the long window's read (downsampled)
RECENT_POINTS = 600  # at most this many of the recent read (an interval under 0.5 s is downsampled)


@dataclass(frozen=True)
class Trend:
    """A line ``value(t) = level + slope * (t - at)`` fitted at time ``at`` over ``window`` s.

    ``agreement`` is the share of pairwise slopes with the fitted slope's sign (1.0: every
    pair of points rose); ``noise`` the median absolute residual."""

    at: float
    level: float
    slope: float  # units per second
    window: float
    agreement: float
    noise: float

    def value(self, t: float) -> float:
        return self.level + self.slope * (t - self.at)

    def eta(self, limit: float) -> float | None:
        """Seconds from ``at`` until the line reaches ``limit`` upwards (0: past it already);
        None when it does not rise consistently and clearly above its scatter, or when the
        limit is further ahead than :data:`MAX_REACH` windows (:data:`SHORT_REACH` for a line
        shorter than :data:`LONG_WINDOW`: a 2-minute swing says nothing about next week)."""
        if self.level >= limit:
            return 0.0
        if self.slope <= 0 or self.agreement < CONSISTENT or self.slope * self.window < CLEAR_RISE * self.noise:
            return None
        if self.window < MIN_WINDOW:
            return None
        eta = (limit - self.level) / self.slope
        reach = MAX_REACH if self.window >= LONG_WINDOW else SHORT_REACH
        return eta if eta <= reach * self.window else None

    @property
    def per_day(self) -> float:
        return self.slope * 86400.0


def theil_sen(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(slope, intercept, agreement)``: median pairwise slope, median intercept, and the share
    of pairwise slopes with that slope's sign. ``t`` and ``y`` finite, same length >= 2."""
    if t.size > MAX_POINTS:
        pick = np.linspace(0, t.size - 1, MAX_POINTS).round().astype(int)
        t, y = t[pick], y[pick]
    i, j = _pairs(t.size)
    dt = t[j] - t[i]
    if t.size > 1 and (t[1:] > t[:-1]).all():  # times rising (as stored): every pair counts
        slopes = (y[j] - y[i]) / dt
    else:
        keep = dt > 0
        slopes = (y[j] - y[i])[keep] / dt[keep]
    if slopes.size == 0:
        return 0.0, float(median(y)), 0.0
    slope = float(median(slopes))
    intercept = float(median(y - slope * t))
    agreeing = np.count_nonzero(slopes > 0 if slope > 0 else slopes < 0)
    agreement = agreeing / slopes.size if slope != 0 else 0.0
    return slope, intercept, agreement


def median(a: np.ndarray) -> float:
    """``float(np.median(a))`` of a 1-D array of finite numbers (not empty), by the same
    partition and the same mean of the middle two, without ``np.median``'s generic axis and
    NaN handling: ~5x faster on the few hundred values of a fit, called ~200 times a refit."""
    k = a.size // 2
    if a.size % 2:
        return float(np.partition(a, k)[k])
    part = np.partition(a, (k - 1, k))
    return float((part[k - 1] + part[k]) / 2)


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, k=1)``; made once for :data:`MAX_POINTS`, the size of every
    stretch longer than that (the learning thread fits ~20 trends every 10 s, a few
    stretches each)."""
    return _PAIRS if n == MAX_POINTS else np.triu_indices(n, k=1)


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    for a in arrays:
        a.flags.writeable = False
    return arrays


_PAIRS = _read_only(*np.triu_indices(MAX_POINTS, k=1))


def fit(t: np.ndarray, y: np.ndarray, now: float, window: float = 6 * 3600.0) -> Trend | None:
    """The trend of ``y`` over the last ``window`` seconds before ``now`` (NaNs dropped), on
    the longest recent stretch that is still one straight line (its last third runs on the
    line of the whole); None without enough data."""
    ok = np.isfinite(y) & np.isfinite(t) & (t >= now - window) & (t <= now)
    t, y = t[ok].astype("float64"), y[ok].astype("float64")
    if t.size < MIN_POINTS or t[-1] - t[0] < MIN_SPAN:
        return None
    span = t[-1] - t[0]
    for length in span * SHRINK ** np.arange(64):
        if length < MIN_SPAN:
            break
        part = t >= t[-1] - length
        if part.sum() < MIN_POINTS:
            break
        trend = _line(t[part], y[part], now)
        if trend is not None:
            return trend
    part = t >= t[-1] - MIN_SPAN
    slope, intercept, agreement = theil_sen(t[part] - t[0], y[part])
    return _trend(t[part], y[part], now, slope, intercept, agreement)


def _line(t: np.ndarray, y: np.ndarray, now: float) -> Trend | None:
    """The fit of ``t, y`` when its last third runs on its line (within 3x that third's own
    scatter over its span) and its newest :data:`NEWEST` seconds stay on it (their median
    residual within 3x the scatter about the line), else None: the stretch bends and a
    shorter one is tried."""
    start = t[0]
    slope, intercept, agreement = theil_sen(t - start, y)
    residual = y - (intercept + slope * (t - start))
    newest = t >= t[-1] - NEWEST
    if newest.sum() < t.size and abs(median(residual[newest])) > 3 * max(median(np.abs(residual)), 1e-9):
        return None
    recent = t >= t[-1] - (t[-1] - t[0]) / 3
    if recent.sum() >= MIN_POINTS // 2 and t[-1] - t[recent][0] >= MIN_RECENT:
        r_slope, r_intercept, _ = theil_sen(t[recent] - start, y[recent])
        noise = float(median(np.abs(y[recent] - (r_intercept + r_slope * (t[recent] - start)))))
        if abs(r_slope - slope) * (t[-1] - t[recent][0]) > 3 * max(noise, 1e-9):
            return None
    return _trend(t, y, now, slope, intercept, agreement)


def _trend(t, y, now, slope, intercept, agreement) -> Trend:
    start = t[0] if t.size else now
    residual = np.abs(y - (intercept + slope * (t - start)))
    level = intercept + slope * (now - start)
    return Trend(now, float(level), slope, float(t[-1] - t[0]), agreement, float(median(residual)))


def readings(
    history, series: str, field: str, window: float, long_points: int = LONG_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """``(t, y)`` of ``field`` of ``series`` over the last ``window`` seconds, for :func:`fit`:
    ``history(series, minutes, max_points=)`` (a collector's ``history_columns``) read twice, the whole window
    downsampled to ``long_points`` and the newest :data:`RECENT` seconds at full
    resolution, spliced where the recent read starts (without recent rows: the long read).
    Empty without the field."""

    def read(seconds: float, points: int) -> tuple[np.ndarray, np.ndarray]:
        frame = history(series, seconds / 60, max_points=points)
        if frame.empty or field not in frame.columns:
            return np.zeros(0), np.zeros(0)
        return np.asarray(frame["timestamp"], dtype="float64"), np.asarray(frame[field], dtype="float64")

    t, y = read(window, long_points)
    if not t.size:
        return t, y
    rt, ry = read(min(RECENT, window), RECENT_POINTS)
    if not rt.size:
        return t, y
    older = t < rt[0]
    return np.concatenate([t[older], rt]), np.concatenate([y[older], ry])


def window_text(seconds: float) -> str:
    """``6 h``, ``20 min``: the window a rate was measured over, rounded for reading."""
    if seconds >= 5400:
        return f"{round(seconds / 3600)} h"
    return f"{max(1, round(seconds / 60))} min"
