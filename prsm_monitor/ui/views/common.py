"""Pieces several views use."""

from __future__ import annotations

import streamlit as st

from ...collector import MetricsCollector
from .. import charts
from ..style import MAX_POINTS


def chart(spec: charts.Chart | None, empty: str) -> None:
    """Draw a chart, or say in words why there is none (never an empty frame)."""
    if spec is None:
        st.caption(empty)
    else:
        st.vega_lite_chart(spec.data, spec.spec, width="stretch")


def thresholds(collector: MetricsCollector, rule: str) -> tuple[float | None, float | None]:
    r = collector.rules[rule]
    return r.warning, r.critical


def frame(collector: MetricsCollector, component: str, minutes: float):
    """History of the range, downsampled for charts with peaks kept."""
    return collector.history(component, minutes, max_points=MAX_POINTS)


def source_error(metrics: dict, component: str) -> None:
    error = metrics.get("errors", {}).get(component)
    if error:
        st.error(f"The {component} source failed on the last tick: {error}", icon=":material/error:")


NO_DATA = "No data in this time range yet."


def figure_row(figures) -> None:
    """``(label, value, format)`` as bordered metrics; a missing value reads "–"."""
    for column, (label, value, fmt) in zip(st.columns(len(figures)), figures, strict=True):
        column.metric(label, "–" if value is None else fmt(value), border=True)


def detail_charts(collector: MetricsCollector, component: str, minutes: float, specs) -> None:
    """Side by side, one chart per ``(field, label, unit, rule or None)`` of a drill-down series."""
    if collector.store.count(component) == 0:
        st.caption("No history recorded for this yet.")
        return
    history = collector.history(component, minutes, max_points=MAX_POINTS)
    for column, (field, label, unit, rule) in zip(st.columns(len(specs)), specs, strict=True):
        with column:
            spec = charts.timeseries(
                history,
                {field: label},
                unit=unit,
                title=label,
                height=180,
                thresholds=thresholds(collector, rule) if rule else None,
            )
            chart(spec, NO_DATA)
