"""Forecasts of the fields with a limit, from the collector's stored history.

:func:`forecasts` fits a trend (:func:`~.forecast.fit`) to each field that has a limit
(:func:`~.limits.limits`) and says when it reaches it; :func:`capacity` does the same for
the capacity figures the Overview shows. Both read ``collector.history`` (ring, then disk
tiers) through :func:`~.forecast.readings`: the window downsampled, the newest minutes at full
resolution, so a fault that bends a line in its first minutes is seen. :func:`period` is the
learning thread's pace for them: a new point of the window's resolution, but at least every
:data:`FRESH` seconds, for the newest minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings.durations import duration as duration_text
from .forecast import LONG_POINTS, Trend, fit, readings, window_text
from .limits import CAPACITY, Limit, limits

POINTS = LONG_POINTS  # at most this many points in the long read
MINUTE = 60.0  # seconds: the step of the store's minute tier
FRESH = 10.0  # seconds: the newest minutes are read at full resolution; refit at least this often


@dataclass(frozen=True)
class Forecast:
    limit: Limit
    trend: Trend
    eta: float | None  # seconds from trend.at to the limit; None: not heading there

    @property
    def text(self) -> str:
        """``disk full in 3 d 4 h (at the current rate over the last 6 h)``."""
        if self.eta is None:
            return f"{self.limit.what}: not at the current rate"
        if self.eta <= 0:
            return f"{self.limit.what} now"
        rate = f"at the current rate over the last {window_text(self.trend.window)}"
        return f"{self.limit.what} in {duration_text(self.eta)} ({rate})"


def period(window: float) -> float:
    """Seconds between two fits of the trends over ``window``: a new point of the long read,
    or :data:`FRESH`, whichever comes first."""
    return min(window / POINTS, FRESH)


def reader(history):
    """``history`` (a collector's ``history_columns``) remembering each read for the life of
    the returned function: one refit reads each series once for all its fields with a limit
    (system: disk, memory, swap; a node: memory, queue), not once per field."""
    reads = {}

    def read(series: str, minutes: float, max_points: int | None = None):
        key = (series, minutes, max_points)
        if key not in reads:
            reads[key] = history(series, minutes, max_points=max_points)
        return reads[key]

    return read


def long_points(collector, series: str, now: float, window: float) -> int:
    """Points of a trend's long read: :data:`POINTS` while the in-memory ring holds what is
    stored of the window; once older rows of it are on disk, as many as it has minutes (at most
    :data:`POINTS`), which the store answers from its minute tier (its buckets merged two by
    two to fit: a point every 2 minutes). :data:`POINTS` over a 6 h window (a point every 54 s,
    finer than a minute) made it pick the raw tier, so from the first hour after start every
    refit (every 10 s) decoded up to 5 h of raw rows from disk."""
    ring = getattr(collector.store, "ring", None)  # the newest hour in memory, the rest on disk
    if ring is None:  # memory only: the window is in memory
        return POINTS
    ring_first, first = ring.first_timestamp(series), collector.history_start(series)
    if ring_first is None or first is None or first >= ring_first or ring_first <= now - window:
        return POINTS  # nothing of the window older than the ring
    return max(2, min(POINTS, int((now - max(first, now - window)) // MINUTE)))


def trend(collector, series: str, field: str, now: float, window: float, history=None) -> Trend | None:
    """The trend of one field over ``window`` seconds of its stored history (None: too
    little), read through ``history`` (default: ``collector.history_columns``)."""
    try:
        points = long_points(collector, series, now, window)
        t, y = readings(history or collector.history_columns, series, field, window, points)
    except ValueError:
        return None
    return fit(t, y, now, window) if t.size else None


def forecasts(collector, records: dict, now: float, window: float, history=None) -> dict[tuple[str, str], Forecast]:
    """``{(series, field): Forecast}`` for every field of ``records`` with a limit and a trend."""
    found = {}
    for limit in limits(collector.rules, records):
        line = trend(collector, limit.series, limit.field, now, window, history)
        if line is not None:
            found[(limit.series, limit.field)] = Forecast(limit, line, line.eta(limit.value))
    return found


def capacity(collector, now: float, window: float, fitted: dict | None = None, history=None) -> dict[str, Trend | None]:
    """``{label: trend}`` of the capacity figures (:data:`~.limits.CAPACITY`); a figure with a
    forecast in ``fitted`` (what :func:`forecasts` returned for the same ``now``: disk and
    memory) takes its trend, not a second fit of the same history."""
    fitted = fitted or {}
    return {
        label: fitted[(series, field)].trend
        if (series, field) in fitted
        else trend(collector, series, field, now, window, history)
        for series, field, label, _ in CAPACITY
    }
