"""Pieces several views use: the range's history, notes, tables, drill-down charts."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow as pa
import streamlit as st

from ...core.collector import MetricsCollector
from ...settings.durations import duration
from ..clock import clock, viewer_zone
from ..shared_views import draw_rows, latest, per_version
from ..text import escape_markdown
from ..timechart import TimeChart

MISSING = "–"


def range_note(collector: MetricsCollector, component: str, minutes: float, label: str) -> None:
    """Say so when the chosen range reaches further back than the stored history does (in
    any tier: ``collector.history_start``). Only an in-memory ring can be full. Nothing when the
    range holds no value at all (its newest record is older: the charts say so)."""
    start, stored = per_version(collector, ("coverage", component), lambda c: _coverage(c, component))
    record = latest(collector).get(component)
    now = moment_of(collector) or time.time()
    if start is None or not record or (record.get("timestamp") or 0) < now - minutes * 60:
        return
    note = coverage_note(start, minutes, label, stored, collector.store.capacity, now)
    if note:
        st.caption(f":material/history: {note}")


def _coverage(collector: MetricsCollector, component: str) -> tuple[float | None, int]:
    """When ``component``'s history starts (a read of the disk store), and how many points the
    in-memory ring holds (0 with a disk store): once per version, for every viewer."""
    start = collector.history_start(component)
    return start, 0 if getattr(collector.store, "writer", None) is not None else collector.store.count(component)


def coverage_note(
    first: float | None, minutes: float, label: str, stored: int, capacity: int, now: float | None = None
) -> str | None:
    """``History starts 05:21, 16 min ago: ...`` when the history, whose oldest point is at
    ``first``, misses more than 2 % (at least 5 s) of the range at its start; None when the
    range is covered or there is no data (``first`` None). Read on every refresh of every
    viewer: plain numbers, no DataFrame."""
    if first is None:
        return None
    now = time.time() if now is None else now
    if first - (now - minutes * 60) <= max(5.0, minutes * 60 * 0.02):
        return None
    why = (
        f"the monitor keeps the latest {capacity:,} points of each series (PRSM_METRICS_HISTORY)"
        if stored >= capacity
        else "the monitor has been collecting since then"
    )
    start = clock(first, viewer_zone(), seconds=False)
    held = duration(now - first)
    return f"History starts {start}, {held} ago: {why}, so only the last {held} of the {label} range have data."


def moment_of(collector) -> float | None:
    """The moment a page in the past shows (``?at=``), None for a live page."""
    return getattr(collector, "at", None) if getattr(collector, "past", False) else None


def source_error(metrics: dict, component: str) -> None:
    error = metrics.get("errors", {}).get(component)
    if error:
        st.error(f"The {component} source failed on the last tick: {escape_markdown(error)}", icon=":material/error:")


def table(rows: pd.DataFrame | pa.Table, columns: Mapping[str, object], **kwargs) -> None:
    """``rows`` as st.dataframe showing only ``columns`` (``{name: st.column_config}``: label,
    unit, number format, width), in that order; a missing value reads "–", never "None".
    Rows that every viewer shares should come as :func:`arrow_rows`, converted once."""
    st.dataframe(
        rows if isinstance(rows, pa.Table) else rows.reindex(columns=list(columns)),
        hide_index=True,
        column_config=dict(columns),
        placeholder=MISSING,
        **kwargs,
    )


def arrow_rows(rows: pd.DataFrame, columns: Mapping[str, object]) -> pa.Table | pd.DataFrame:
    """``rows`` reduced to ``columns`` as the Arrow table st.dataframe sends, without pandas'
    schema metadata (about 2 KB). Made once per version and shared (``per_version``), it
    spares every viewer's rerun the conversion, the largest part of a table's cost. A frame
    Arrow cannot type as it is (mixed types in a column) stays a frame: st.dataframe fixes it."""
    shown = rows.reindex(columns=list(columns))
    try:
        return pa.Table.from_pandas(shown, preserve_index=False).replace_schema_metadata(None)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return shown


def detail_charts(
    collector: MetricsCollector, component: str, minutes: float, rows: Sequence[Sequence[TimeChart]]
) -> None:
    """A drill-down's own charts, row by row, from its own history."""
    if getattr(collector, "remote", False):
        st.caption("Per-node and per-model history is not served by an instance's API: its latest figures are above.")
        return
    if not per_version(collector, ("count", component), lambda c: c.store.count(component)):
        st.caption("No history recorded for this yet.")
        return
    draw_rows(rows, collector, component, minutes)
