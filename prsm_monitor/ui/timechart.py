"""Time-series charts declared as data (like :class:`~prsm_monitor.ui.kpi.Kpi`), drawn by one helper."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from ..core.collector import MetricsCollector
from ..fields import Field
from . import charts, insight_layers
from .charts import CHART_HEIGHT, Parts

NO_DATA = "No data in this time range yet."


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


def show(chart: charts.Chart | None, empty: str, tail: dict | None = None) -> None:
    """Draw a chart (its shared spec with this tick's datasets), or say in words why there is
    none (never an empty frame). A ``tail`` (:func:`charts.tail`) is drawn over it: placed just
    before the body, it takes no room of its own and lies over the body (:data:`LIVE_CSS`)."""
    if chart is None:
        st.caption(empty)
        return
    if tail is not None:
        st.vega_lite_chart(None, tail, width="stretch")
    st.vega_lite_chart(None, chart.vega_lite(), width="stretch")


# A tail (found by its accessible name) takes no height and lies over the chart after it, its
# top on the chart's top (the block's 1rem gap taken back), letting the pointer through to the
# chart's tooltips. No container per chart: a container is one more message on every refresh.
# Its value axis (laid out so that its plot lands on the chart's) and its background are hidden
# here, once per page, rather than in the spec sent with every tick.
LIVE_CSS = f"""<style>
div[data-testid="stElementContainer"]:has([aria-label="{charts.TAIL_LABEL}"]) {{
  height: 0 !important; min-height: 0 !important; overflow: visible; margin-bottom: -1rem;
  position: relative; z-index: 1; pointer-events: none;
}}
[aria-label="{charts.TAIL_LABEL}"] svg {{ background-color: transparent !important; }}
[aria-label="{charts.TAIL_LABEL}"] .role-axis {{ visibility: hidden; }}
</style>"""


def about(chart: TimeChart, fields: Mapping[str, Field]) -> str | None:
    """What a chart's lines are, for the help beside its heading (like Netdata's chart info):
    each series' label, the help its source declares for it and its field name (as the API's
    JSON names it); its per-part lines; its dashed lines. None when the source declares
    none of its series."""
    lines = [
        f"**{label}**: {fields[name].help}. Field `{name}`." for name, label in chart.series.items() if name in fields
    ]
    if not lines:
        return None
    if chart.parts is not None:
        part = next((f for f in fields.values() if re.fullmatch(chart.parts.pattern, f.name)), None)
        if part is not None:
            lines.append(f"**{chart.parts.legend}**, one thin line each: {part.help}, and so on.")
    if chart.rule:
        lines.append(f"Dashed lines: the warning and critical limits of alert rule `{chart.rule}`.")
    return "\n\n".join(lines)


def thresholds(collector: MetricsCollector, rule: str | None) -> tuple[float | None, float | None] | None:
    r = collector.rules.get(rule) if rule else None
    return None if r is None else (r.warning, r.critical)


def draw(chart: TimeChart, collector: MetricsCollector, data: pd.DataFrame, *, compact: bool = False) -> None:
    """One declared chart from ``data`` (compact: the small trend of an Overview card)."""
    if chart.heading and not compact:
        st.subheader(chart.heading)
    show(spec(chart, collector, data, compact=compact, band=insight_layers.show_band()), chart.empty)


def spec(
    chart: TimeChart,
    collector: MetricsCollector,
    data: pd.DataFrame,
    *,
    compact: bool = False,
    band: bool = False,
    reach: float | None = None,
    also: np.ndarray | None = None,
) -> charts.Chart | None:
    """The chart :func:`draw` shows (None: nothing to draw), with the insight's layers
    (:mod:`.insight_layers`: the normal band when ``band``, anomalies, the forecast); pure, so
    pages can share it (``band`` is a viewer's choice: part of a shared chart's key). Its spec
    is the one built for its shape (:func:`charts.timeseries_spec`); its datasets are this tick's.
    ``reach`` and ``also``: see :func:`charts.timeseries`."""
    decor = None
    if not data.empty:
        start, end = float(data["timestamp"].iloc[0]), float(data["timestamp"].iloc[-1])
        insight = getattr(collector, "insight", None)
        decor = insight_layers.decor(data.attrs.get("series"), chart.series, insight, start, end, band=band)
    return charts.timeseries(
        data,
        chart.series,
        unit=chart.unit,
        title=chart.axis,
        thresholds=thresholds(collector, chart.rule),
        height=130 if compact else chart.height,
        compact=compact,
        parts=chart.parts,
        insight=decor,
        reach=reach,
        also=also,
    )
