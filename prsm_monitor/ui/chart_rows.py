"""The rows and domains of a time-series chart: gaps in the record as breaks in its line, the
time window and axis, compact time values, the value domain."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

GAP_STEPS = 5  # a step this many times the typical one is a gap in the record, drawn as one


def break_gaps(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` (time in column ``t``) with an empty row in each gap longer than
    :data:`GAP_STEPS` typical steps (the monitor was stopped, an instance did not answer):
    a line breaks at an empty value instead of joining both sides with a straight line, which
    would draw values nobody measured."""
    t = data["t"].to_numpy(dtype="float64")
    if len(t) < 3:
        return data
    steps = np.diff(t)
    typical = float(np.median(steps))
    gaps = np.flatnonzero(steps > GAP_STEPS * typical) if typical > 0 else []
    if not len(gaps):
        return data
    filler = pd.DataFrame(np.nan, index=range(len(gaps)), columns=data.columns).astype(data.dtypes.to_dict())
    filler["t"] = ((t[gaps] + t[gaps + 1]) / 2).astype(data["t"].dtype)
    return pd.concat([data, filler], ignore_index=True).sort_values("t", kind="stable", ignore_index=True)


def time_axis(fmt: str, compact: bool = False) -> alt.Axis:
    """A time axis without a title (the page names the time zone once)."""
    return alt.Axis(title=None, format=fmt, tickCount=4 if compact else 6)


def compact_times(t: np.ndarray) -> np.ndarray:
    """Seconds after the window's start in two bytes when they are whole and under 18 h (a
    history at whole seconds: :func:`shared_views.visible_precision`), else float32 (4 bytes)."""
    finite = t[np.isfinite(t)]
    if finite.size and finite.min() >= 0 and finite.max() < 65536 and np.all(finite == np.round(finite)):
        return t.astype("uint16")
    return t.astype("float32")


def time_window(first: float, last: float) -> tuple[float, float]:
    """``first`` to ``last``, widened to a minute when they nearly meet."""
    return (last - 30, last + 30) if last - first < 1 else (first, last)


def value_domain(values: np.ndarray, unit: str, zero: bool, shown: Sequence[float]) -> list[float]:
    """The y domain: 0..1 for ratios, 0..100 for percentages (more if the data goes beyond),
    else the data's range (from 0 when ``zero``) stretched to the ``shown`` threshold values."""
    finite = values[np.isfinite(values)]
    if unit in ("ratio", "%"):
        top = 1.0 if unit == "ratio" else 100.0
        return [0.0, max(top, float(finite.max()) if finite.size else top)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if zero:
        low = min(low, 0.0)
    for value in shown:
        low, high = min(low, value), max(high, value)
    if high - low < 1e-9:
        high = low + (abs(low) * 0.1 or 1.0)
    return [low, high]


def at_step(times: np.ndarray, values: np.ndarray, since: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Raw rows after ``since`` (``times``, and ``values`` as (series, rows)) at a chart's own
    resolution: per whole ``step`` after ``since`` that has closed, the mean of its rows (NaN
    skipped) stamped with the step's end, as the body's buckets are; then the newest row as
    it is, so that the line ends at the newest value. Raw rows a second apart would draw the
    tail finer than the body it continues, and cost more bytes than they show."""
    if times.size == 0:
        return times, values
    k = np.ceil((times - since) / step).astype(np.int64) - 1  # step k: (since + k step, since + (k + 1) step]
    closed = k < k[-1]  # the newest row's step is still open: only the newest row of it is drawn
    if not closed.any():
        return times[-1:], values[:, -1:]
    kept = k[closed]
    starts = np.flatnonzero(np.r_[True, kept[1:] != kept[:-1]])
    inside = values[:, closed]
    present = ~np.isnan(inside)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.add.reduceat(np.where(present, inside, 0.0), starts, axis=1) / np.add.reduceat(
            present, starts, axis=1
        )
    stamps = since + (kept[starts] + 1) * step
    return np.r_[stamps, times[-1]], np.hstack([means, values[:, -1:]])
