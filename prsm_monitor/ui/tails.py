"""A live chart's tail (:func:`.charts.tail`): the rows after its body's last one, at the body's
resolution, up to the newest stored value; kept while its end is a couple of intervals old.

A tail changes with every tick, and every viewer is sent it on every refresh; so it is kept
(the same object, so the same Streamlit message, which a viewer who holds it receives as a
reference) while it still holds: the same closed steps, and its end at most a couple of
collection intervals old (what issue 21 allows a chart's line, whatever is cached)."""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from . import charts
from .chart_rows import at_step
from .chartkit import Chart

MAX_ENTRIES = 512
_lock = threading.Lock()
_held: dict[tuple, tuple] = {}  # held(): (body, times, values, tail) per chart


def clear() -> None:
    """Forget every kept tail (tests)."""
    with _lock:
        _held.clear()


def body_end(collector, component: str, now: float, step: float, newest_minutes: float) -> float:
    """Where a new body ends: the last whole step before ``now``, and before the newest stored
    row (looked for over the last ``newest_minutes``), which is the tail's: a body's last row
    is a bucket's mean, and the line would end there."""
    newest = collector.history(component, newest_minutes)["timestamp"]
    end = math.floor(now / step) * step
    return min(end, float(newest.iloc[-1]) - 1e-3) if len(newest) else end


def newer(collector, component: str, since: float, step: float, now: float) -> tuple[np.ndarray, dict]:
    """The rows after ``since`` at a chart's resolution (:func:`chart_rows.at_step`): their
    times and ``{field: values}``. Read from the newest raw rows in memory when the collector
    has them (a live collector: numpy, no DataFrame), else from its history."""
    ring = getattr(collector.store, "ring", collector.store)
    if not getattr(collector, "past", False) and hasattr(ring, "block") and ring.fields(component):
        names, block = ring.block(component, since, None)
    else:
        frame = collector.history(component, (max(time.time(), now) - since + 1) / 60)
        names, block = tuple(frame.columns), frame.to_numpy(dtype="float64").T
    columns = dict(zip(names, np.asarray(block, dtype="float64"), strict=True))
    times = columns.pop("timestamp", np.empty(0))
    keep = times > since
    fields = list(columns)
    values = np.array([columns[f][keep] for f in fields]).reshape(len(fields), int(keep.sum()))
    times, values = at_step(times[keep], values, since, step)
    return times, dict(zip(fields, values, strict=True))


def held(key: tuple, body: Chart, head: tuple, times: np.ndarray, values: np.ndarray, recent: float = 0.0) -> dict:
    """:func:`charts.tail` through ``head`` (the body's last rows) and ``times``/``values``; the
    same object as the previous tail of ``key`` while that one still holds (:func:`unmoved`),
    so that Streamlit sends a viewer who holds it a reference, not the tail."""
    previous = _held.get(key)
    if previous is not None and previous[0] is body and unmoved(previous[1:3], (times, values), recent):
        return previous[3]
    tail = charts.tail(body, np.r_[head[0], times], np.hstack([head[1], values]))
    with _lock:
        _held.pop(key, None)
        _held[key] = (body, times, values, tail)
        while len(_held) > MAX_ENTRIES:
            _held.pop(next(iter(_held)))
    return tail


def unmoved(drawn: tuple, newest: tuple, recent: float = 0.0) -> bool:
    """Whether a tail drawn through ``drawn`` (times, values) may stand for one through
    ``newest``: the same closed steps, and its end at most ``recent`` seconds older than the
    newest row (a couple of collection intervals: the age issue 21 allows a chart's line,
    whatever is cached; a line that merely looks the same at a long range could be minutes
    old)."""
    (was, old), (times, values) = drawn, newest
    if times.size != was.size or not np.array_equal(times[:-1], was[:-1]):
        return False
    if not np.array_equal(values[:, :-1], old[:, :-1], equal_nan=True):
        return False
    return times[-1] - was[-1] <= recent


def within(body: Chart, values: np.ndarray) -> bool:
    """Whether ``values`` lie on ``body``'s value axis (else the tail would leave the plot)."""
    finite = values[np.isfinite(values)]
    return not finite.size or (body.window["y"] <= finite.min() and finite.max() <= body.window["y2"])
