"""Forecasts of the fields with a limit, from the collector's stored history.

:func:`forecasts` fits a trend (:func:`~.forecast.fit`) to each field that has a limit
(:func:`~.limits.limits`) and says when it reaches it; :func:`capacity` does the same for
the capacity figures the Overview shows. Both read ``collector.history`` (ring, then disk
tiers), downsampled to :data:`POINTS` points, so a forecast can only change once a new point
of that resolution exists: :func:`period` is that resolution, the learning thread's pace.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings.durations import duration as duration_text
from .forecast import Trend, fit, window_text
from .limits import CAPACITY, Limit, limits

POINTS = 400  # points of history one trend is fitted on


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
    """Seconds between two points of the history a trend over ``window`` is fitted on."""
    return window / POINTS


def trend(collector, series: str, field: str, now: float, window: float) -> Trend | None:
    """The trend of one field over ``window`` seconds of its stored history (None: too little)."""
    try:
        frame = collector.history(series, window / 60, max_points=POINTS)
    except ValueError:
        return None
    if frame.empty or field not in frame.columns:
        return None
    return fit(frame["timestamp"].to_numpy("float64"), frame[field].to_numpy("float64"), now, window)


def forecasts(collector, records: dict, now: float, window: float) -> dict[tuple[str, str], Forecast]:
    """``{(series, field): Forecast}`` for every field of ``records`` with a limit and a trend."""
    found = {}
    for limit in limits(collector.rules, records):
        line = trend(collector, limit.series, limit.field, now, window)
        if line is not None:
            found[(limit.series, limit.field)] = Forecast(limit, line, line.eta(limit.value))
    return found


def capacity(collector, now: float, window: float) -> dict[str, Trend | None]:
    """``{label: trend}`` of the capacity figures (:data:`~.limits.CAPACITY`)."""
    return {label: trend(collector, series, field, now, window) for series, field, label, _ in CAPACITY}
