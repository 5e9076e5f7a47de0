"""Pieces several views use: charts declared as data and drawn by one helper, tables, notes."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ...collector import MetricsCollector
from .. import charts
from ..charts import CHART_HEIGHT, Parts
from ..clock import clock, duration, viewer_zone
from ..style import MAX_POINTS

NO_DATA = "No data in this time range yet."
MISSING = "–"


@dataclass(frozen=True)
class TimeChart:
    """A time-series chart as data: ``series`` (``{field: label}``) of the frame it is drawn
    from, in ``unit``, with the warning and critical lines of alert rule ``rule``.

    ``heading`` is the subheader above it, ``axis`` the y axis title; ``empty`` says why
    there is no chart when the frame has no value of any series yet."""

    heading: str | None
    series: Mapping[str, str]
    unit: str
    axis: str = ""
    rule: str | None = None
    empty: str = NO_DATA
    parts: Parts | None = None
    height: int = CHART_HEIGHT


def show(spec: charts.Chart | None, empty: str) -> None:
    """Draw a chart, or say in words why there is none (never an empty frame)."""
    if spec is None:
        st.caption(empty)
    else:
        st.vega_lite_chart(spec.data, spec.spec, width="stretch")


def thresholds(collector: MetricsCollector, rule: str | None) -> tuple[float | None, float | None] | None:
    r = collector.rules.get(rule) if rule else None
    return None if r is None else (r.warning, r.critical)


def draw(chart: TimeChart, collector: MetricsCollector, data: pd.DataFrame, *, compact: bool = False) -> None:
    """One declared chart from ``data`` (compact: the small trend of an Overview card)."""
    if chart.heading and not compact:
        st.subheader(chart.heading)
    spec = charts.timeseries(
        data,
        chart.series,
        unit=chart.unit,
        title=chart.axis,
        thresholds=thresholds(collector, chart.rule),
        height=130 if compact else chart.height,
        compact=compact,
        parts=chart.parts,
    )
    show(spec, chart.empty)


def draw_rows(rows: Sequence[Sequence[TimeChart]], collector: MetricsCollector, data: pd.DataFrame) -> None:
    """Declared charts row by row: the charts of a row side by side, so they line up; a row
    of one chart spans the page."""
    for row in rows:
        for column, chart in zip(st.columns(len(row)), row, strict=True):
            with column:
                draw(chart, collector, data)


def frame(collector: MetricsCollector, component: str, minutes: float) -> pd.DataFrame:
    """History of the range, downsampled for charts with peaks kept."""
    return collector.history(component, minutes, max_points=MAX_POINTS)


def range_note(collector: MetricsCollector, component: str, data: pd.DataFrame, minutes: float, label: str) -> None:
    """Say so when the chosen range reaches further back than the stored history does (in
    any tier: ``collector.history_start``). Only an in-memory ring can be full."""
    start = collector.history_start(component)
    if start is None or data.empty:
        return
    stored = 0 if getattr(collector.store, "writer", None) is not None else collector.store.count(component)
    first = pd.DataFrame({"timestamp": [start]})
    note = coverage_note(first, minutes, label, stored, collector.store.capacity)
    if note:
        st.caption(f":material/history: {note}")


def coverage_note(
    data: pd.DataFrame, minutes: float, label: str, stored: int, capacity: int, now: float | None = None
) -> str | None:
    """``History starts 05:21, 16 min ago: ...`` when the history misses more than 2 % (at
    least 5 s) of the range at its start; None when the range is covered or there is no data."""
    if data.empty:
        return None
    now = time.time() if now is None else now
    first = float(data["timestamp"].iloc[0])
    if first - (now - minutes * 60) <= max(5.0, minutes * 60 * 0.02):
        return None
    why = (
        f"the monitor keeps the latest {capacity:,} points of each series (PRSM_METRICS_HISTORY)"
        if stored >= capacity
        else "the monitor has been collecting since then"
    )
    start = clock(first, viewer_zone(), seconds=False)
    return f"History starts {start}, {duration(now - first)} ago: {why}, so the last {label} are not all covered."


def source_error(metrics: dict, component: str) -> None:
    error = metrics.get("errors", {}).get(component)
    if error:
        st.error(f"The {component} source failed on the last tick: {error}", icon=":material/error:")


def table(rows: pd.DataFrame, columns: Mapping[str, object], **kwargs) -> None:
    """``rows`` as st.dataframe showing only ``columns`` (``{name: st.column_config}``: label,
    unit, number format, width), in that order; a missing value reads "–", never "None"."""
    st.dataframe(
        rows.reindex(columns=list(columns)),
        hide_index=True,
        column_config=dict(columns),
        placeholder=MISSING,
        **kwargs,
    )


def detail_charts(
    collector: MetricsCollector, component: str, minutes: float, rows: Sequence[Sequence[TimeChart]]
) -> None:
    """A drill-down's own charts, row by row, from its own history."""
    if collector.store.count(component) == 0:
        st.caption("No history recorded for this yet.")
        return
    draw_rows(rows, collector, collector.history(component, minutes, max_points=MAX_POINTS))
