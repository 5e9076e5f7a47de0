"""What pages derive from a collector, computed once per collector version and shared by every viewer.

A page's history frame, its chart specs, its KPI cards and its tables depend only on the
collector's data and settings, the page and the time range. The collector's
:attr:`~prsm_monitor.core.collector.MetricsCollector.version` changes with every tick, alert event
and settings change, so everything here is computed at most once per version and key, by
whichever session asks first, and every other session (and every rerun of the same session
within that tick) gets the same object. This is the API's mechanism
(:class:`~prsm_monitor.per_version.PerVersion`), one entry per key.

Keys are (the collector object, what is derived, its arguments): another object with the
collector's read interface (``version``, ``history``, ``get_latest_metrics``, ``rules``) gets
its own entries. Shared values are read-only: pages read them, never change them.

What a viewer chose on its own (time zone, a selected node, alert filters) is either part of
the key or applied after the shared step.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from ..per_version import PerVersion
from . import insight_layers, kpi, tails, timechart
from .charts import Chart
from .style import MAX_POINTS
from .timechart import TimeChart, show

T = TypeVar("T")
MAX_ENTRIES = 512  # keys kept (least recently used first out): pages x ranges x charts, drill-downs
# Points a chart needs, by its width (each a bucket's mean, with its lowest and highest value
# as a band, so peaks stay): a chart across the page MAX_POINTS (150), one of two side by side 100, an Overview
# trend (130 px tall, a third of the page) 80. More would draw the same line and send more.
HALF_POINTS = 100
COMPACT_POINTS = 80

_lock = threading.Lock()
_entries: OrderedDict[tuple, PerVersion] = OrderedDict()
_held: dict[tuple, tuple] = {}  # steady(): (collector, state, made at, value) per key
_bodies: dict[tuple, tuple] = {}  # live(): (collector, (its end, thresholds, hold), body, its last rows) per key
STEADY_SECONDS = 5.0
clock = time.time  # where a live chart's steps are cut (tests pin it)
# A body holds still this long at least (whole steps of its range: 60 s at 15 min, one step of
# 576 s at 24 h); its tail then spans up to that much, at the body's resolution (chart_rows.at_step).
HOLD_SECONDS = 60.0
RECENT_INTERVALS = 2  # a tail may end this many collection intervals before the newest row (issue 21)
computed: Counter[str] = Counter()  # computations per kind ("history", "chart", ...): tests, bench


def per_version(collector, key: tuple[Hashable, ...], compute: Callable[[Any], T]) -> T:
    """``compute(collector)`` at most once per collector version for ``key`` (its first item
    names the kind of value, for :data:`computed`); the same object for every caller."""
    entry_key = (id(collector), key)  # PerVersion also checks the object itself, held weakly
    with _lock:
        entry = _entries.get(entry_key)
        if entry is None:
            entry = _entries[entry_key] = PerVersion(_counted(key[0], compute))
            if len(_entries) > MAX_ENTRIES:
                _entries.popitem(last=False)
        else:
            _entries.move_to_end(entry_key)
    return entry.get(collector)


def _counted(kind, compute: Callable[[Any], T]) -> Callable[[Any], T]:
    def counted(collector) -> T:
        computed[kind] += 1
        return compute(collector)

    return counted


def clear() -> None:
    """Forget every shared value (tests)."""
    with _lock:
        _entries.clear()
        _held.clear()
        _bodies.clear()
        tails.clear()
        computed.clear()


def steady(
    collector,
    key: tuple[Hashable, ...],
    state: Callable[[Any], Hashable],
    compute: Callable[[Any], T],
    seconds: float = STEADY_SECONDS,
    now: Callable[[], float] = time.monotonic,
) -> T:
    """:func:`per_version` of a drawing whose look depends on ``state(collector)`` (which
    links are up, their colour bands) and whose other values (a tooltip's latency) may be a
    few seconds old: the same object as before while the state is unchanged and younger than
    ``seconds``, so Streamlit sends the browser a reference, not the drawing; a new one at
    once when the state changes."""

    def compute_or_keep(c) -> T:
        look = state(c)
        previous = _held.get((id(c), key))
        if previous is not None and previous[0]() is c and previous[1] == look and now() - previous[2] < seconds:
            return previous[3]
        value = compute(c)
        with _lock:
            _held.pop((id(c), key), None)
            _held[(id(c), key)] = (weakref.ref(c), look, now(), value)
            while len(_held) > MAX_ENTRIES:
                _held.pop(next(iter(_held)))
        return value

    return per_version(collector, key, compute_or_keep)


def latest(collector) -> dict:
    """``collector.get_latest_metrics()`` of this version (a deep copy made once, not per viewer)."""
    return per_version(collector, ("latest",), lambda c: c.get_latest_metrics())


def history(collector, component: str, minutes: float, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """The range's history of ``component`` as charts draw it: buckets evenly spaced in time
    (their mean, minimum and maximum once there are more points than ``max_points``), rounded
    where the rounding cannot be seen (:func:`visible_precision`), reaching the newest stored
    point (:func:`reaching_newest`) whatever tier the range reads."""

    def compute(c) -> pd.DataFrame:
        frame = c.history(component, minutes, max_points=max_points)
        if not getattr(c, "remote", False):  # another instance's API answers up to its own now
            frame = reaching_newest(frame, c.history(component, NEWEST_MINUTES))
        return named(visible_precision(frame), component)

    return per_version(collector, ("history", component, minutes, max_points), compute)


NEWEST_MINUTES = 1.0  # where :func:`history` looks for the newest raw point


def reaching_newest(frame: pd.DataFrame, recent: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a range's downsampled history) ending at the newest row of ``recent`` (the
    last raw rows): a rollup tier stamps its newest bucket with the bucket's start, up to a
    minute or an hour before the newest point, which a chart must still reach. The newest row
    is appended, its band (``<field>_min``/``_max``) its own value, when it is newer than
    ``frame``'s last stamp."""
    if recent.empty or frame.empty:
        return frame if not frame.empty else recent
    newest = recent.iloc[-1]
    if newest["timestamp"] <= frame["timestamp"].iloc[-1]:
        return frame
    row = {}
    for name in frame.columns:
        base = name.removesuffix("_min").removesuffix("_max")
        row[name] = newest[name] if name in newest.index else newest.get(base, np.nan)
    tail = pd.DataFrame([row], columns=frame.columns).astype(frame.dtypes.to_dict(), errors="ignore")
    joined = pd.concat([frame, tail], ignore_index=True)
    joined.attrs.update(frame.attrs)
    return joined


def named(frame: pd.DataFrame, component: str) -> pd.DataFrame:
    """``frame`` with ``attrs["series"]`` naming its series: the insight's chart layers find its
    band, anomalies and forecast by it (:mod:`.insight_layers`)."""
    frame.attrs["series"] = component
    return frame


def visible_precision(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with whole-second times when its points are a second or more apart (a chart's
    tooltip shows hh:mm:ss), and values of 1,000 or more as integers (tooltips show four
    significant digits). Whole numbers leave the float32 columns sent to the browser with
    zero low bits, which the WebSocket's compression shrinks."""
    if len(frame) < 2:
        return frame
    rounded = {}
    times = frame["timestamp"].to_numpy(dtype="float64")
    if (times[-1] - times[0]) / (len(times) - 1) >= 1.0:
        rounded["timestamp"] = np.round(times)
    for name in frame.columns:
        if name != "timestamp" and frame[name].dtype.kind == "f":
            values = frame[name].to_numpy()
            large = np.abs(values) >= 1000
            if large.any():
                rounded[name] = np.where(large, np.round(values), values)
    return frame.assign(**rounded) if rounded else frame


def chart_key(chart: TimeChart) -> tuple:
    """A hashable key of a chart declaration: every field of it (mappings as their items)."""
    return tuple(
        (f.name, tuple(v.items()) if isinstance(v, Mapping) else v)
        for f in dataclasses.fields(chart)
        for v in (getattr(chart, f.name),)
    )


@dataclasses.dataclass(frozen=True)
class Live:
    """A time series as drawn: its ``body`` (None: no data), which holds still between two
    steps of its range, and the ``tail`` drawn over it from the body's last point to the newest
    stored one (None: the body reaches it by itself)."""

    body: Chart | None
    tail: dict | None = None


def step_of(minutes: float, points: int) -> float:
    """Seconds of one point of a chart: ``minutes`` over ``points`` (6 s for 15 min at 150)."""
    return minutes * 60 / points


def hold_of(minutes: float, points: int, span: float | None = None) -> float:
    """Seconds a chart's body holds still: whole steps, :data:`HOLD_SECONDS` at least; over a
    history of ``span`` seconds only a tenth of it (one step at least), so that a young
    history's line is not drawn short of a chart's right edge by the room its tail may need."""
    step, wanted = step_of(minutes, points), HOLD_SECONDS if span is None else min(HOLD_SECONDS, span / 10)
    return step * max(1, math.ceil(wanted / step))


def chart(
    collector,
    declared: TimeChart,
    component: str,
    minutes: float,
    *,
    compact: bool = False,
    points: int = MAX_POINTS,
    band: bool = False,
) -> Live:
    """The Vega-Lite chart of ``declared`` over the range (:func:`timechart.spec`) from
    ``points`` points (compact: :data:`COMPACT_POINTS`), with the normal band when ``band``,
    shared; as a body and a tail (:class:`Live`, :func:`live`)."""
    points = COMPACT_POINTS if compact else points
    key = ("chart", component, minutes, chart_key(declared), compact, points, band)
    return per_version(collector, key, lambda c: live(c, key, declared, component, minutes, points))


def live(collector, key: tuple, declared: TimeChart, component: str, minutes: float, points: int, now=None) -> Live:
    """The body: the range up to the last whole step (:func:`step_of`, the bucket grid) before
    the newest row (:func:`tails.body_end`), kept (the same object, so Streamlit sends every viewer a
    reference to its copy, not the chart again) for its hold (:func:`hold_of`) unless a
    threshold changes or the newest values leave its value axis; its time axis reaches the
    hold's end. The tail: the
    rows after the body's last one at the body's resolution, up to the newest stored value,
    drawn over the body (:func:`charts.tail`) and kept while its end is a couple of
    intervals old (:func:`tails.held`). Another instance's history (its API answers up to its own now) is
    one chart, as read."""
    compact, band = key[4], key[6]

    def whole(frame: pd.DataFrame) -> Live:
        return Live(timechart.spec(declared, collector, frame, compact=compact, band=band))

    if getattr(collector, "remote", False):
        return whole(history(collector, component, minutes, points))
    now = clock() if now is None else now
    first = getattr(collector.store, "ring", collector.store).first_timestamp(component)  # in memory: cheap
    hold = hold_of(minutes, points, None if first is None else now - first)
    limits = timechart.thresholds(collector, declared.rule)
    held = _bodies.get((id(collector), key))  # kept from its end for its hold (a young history's grows with it)
    fresh = held and held[0]() is collector and held[1][1] == limits and held[1][0] <= now < held[1][0] + held[1][2]
    body, head = (held[2], held[3]) if fresh else (None, None)
    if body is None:
        end = tails.body_end(collector, component, now, step_of(minutes, points), NEWEST_MINUTES)
        frame = visible_precision(collector.history(component, minutes, max_points=points, end=end))
        if len(frame) < 2:  # a history younger than a step: one chart, up to now
            return whole(history(collector, component, minutes, points))
    since = float(head[0][-1] if body is not None else frame["timestamp"].iloc[-1])
    times, newer = tails.newer(collector, component, since, step_of(minutes, points), now)
    shown = [newer[f] for f in declared.series if f in newer]
    values = np.array(shown, dtype="float64").reshape(len(shown), times.size)
    if body is not None and not tails.within(body, values):
        body = None  # a new value beyond the body's value axis: a new body that holds it
        end = tails.body_end(collector, component, now, step_of(minutes, points), NEWEST_MINUTES)
        frame = visible_precision(collector.history(component, minutes, max_points=points, end=end))
    if body is None:
        body = timechart.spec(
            declared, collector, named(frame, component), compact=compact, band=band, reach=end + hold, also=values
        )
        if body is None or body.shape is None:  # nothing before the step's end yet: one chart, up to now
            return whole(history(collector, component, minutes, points))
        last = frame.iloc[-2:]  # the tail goes over the body's last segment: no seam where they meet
        head = (
            last["timestamp"].to_numpy(dtype="float64"),
            np.array([last[f].to_numpy(dtype="float64") if f in last else np.full(2, np.nan) for f in body.fields]),
        )
        with _lock:
            _bodies.pop((id(collector), key), None)
            _bodies[(id(collector), key)] = (weakref.ref(collector), (end, limits, hold), body, head)
            while len(_bodies) > MAX_ENTRIES:
                _bodies.pop(next(iter(_bodies)))
    if not times.size:
        return Live(body)
    drawn = np.array([newer.get(f, np.full(times.size, np.nan)) for f in body.fields]).reshape(len(body.fields), -1)
    recent = RECENT_INTERVALS * getattr(collector, "collection_interval", 0.0)
    return Live(body, tails.held((id(collector), key), body, head, times, drawn, recent))


def draw(
    declared: TimeChart, collector, component: str, minutes: float, *, compact: bool = False, points: int = MAX_POINTS
) -> None:
    """:func:`timechart.draw` of the shared chart, its tail over its body."""
    if declared.heading and not compact:
        st.subheader(declared.heading, help=about(collector, component, declared))
    band = insight_layers.show_band()  # the viewer's own choice: part of the shared chart's key
    drawn = chart(collector, declared, component, minutes, compact=compact, points=points, band=band)
    show(drawn.body, declared.empty, drawn.tail)


def about(collector, component: str, declared: TimeChart) -> str | None:
    """:func:`timechart.about` from the fields the collector's sources declare (a past moment's
    are the live collector's, another instance's those its API serves)."""

    def compute(c) -> str | None:
        declared_fields = getattr(c, "fields", None)
        return timechart.about(declared, {f.name: f for f in (declared_fields or {}).get(component, ())})

    return per_version(collector, ("about", component, chart_key(declared)), compute)


def draw_rows(rows: Sequence[Sequence[TimeChart]], collector, component: str, minutes: float) -> None:
    """Shared charts row by row: a row's charts side by side in columns, so they line up; a
    row of one chart spans the page as it is, in no column (a column and its row are two more
    messages to every viewer on every refresh)."""
    for row in rows:
        if len(row) == 1:
            draw(row[0], collector, component, minutes, points=MAX_POINTS)
            continue
        for column, declared in zip(st.columns(len(row)), row, strict=True):
            with column:
                draw(declared, collector, component, minutes, points=HALF_POINTS)


def learned_from(collector) -> str | None:
    """What the normal bands were learnt from (``Normal bands learnt from 28 min of values; 2 min
    while a demo fault was injected or an alert fired left out.``), for a caption under the band
    toggle or the Overview's charts; None for a collector without insight (another instance)."""
    insight = getattr(collector, "insight", None)
    return insight.learned_from_text() if insight is not None else None


def kpi_row(collector, component: str, kpis: Sequence[kpi.Kpi]) -> None:
    """:func:`kpi.kpi_row` of the component's latest record, the cards made once per version."""
    key = ("kpis", component, tuple(kpis))
    kpi.draw_cards(per_version(collector, key, lambda c: kpi.cards(c, component, latest(c)[component], kpis)))
