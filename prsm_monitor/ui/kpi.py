"""KPI rows: st.metric with a delta against one minute ago, coloured by what the change means."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import streamlit as st

from ..core.collector import MetricsCollector

Rise = Literal["good", "bad", "neutral"]
# st.metric's delta_color for each meaning of a rise: "normal" draws a rise green and a fall
# red, "inverse" the other way round, "off" both grey.
_DELTA_COLORS = {"good": "normal", "bad": "inverse", "neutral": "off"}


@dataclass(frozen=True)
class Kpi:
    """One card: ``field`` of the component's latest record, shown with ``fmt``.

    ``rise`` says, once per field, whether a rise is good (nodes up, success rate), bad
    (latency, CPU) or neither (message rate, cumulative counts): it colours the delta."""

    field: str
    label: str
    fmt: Callable[[float], str]
    help: str | None = None
    rise: Rise = "neutral"
    delta: bool = True


@dataclass(frozen=True)
class Delta:
    """How st.metric shows a change: text with an ASCII sign (a Unicode minus would read
    as a rise), ``color`` (st.metric's delta_color) and ``arrow`` (its delta_arrow)."""

    text: str
    color: str
    arrow: str


def delta_of(kpi: Kpi, change: float) -> Delta:
    """The change as shown: a change that rounds to zero in ``kpi.fmt`` has no arrow and no colour."""
    magnitude = kpi.fmt(abs(change))
    if magnitude == kpi.fmt(0.0):
        return Delta(magnitude, "off", "off")
    sign = "+" if change > 0 else "-"
    return Delta(sign + magnitude, _DELTA_COLORS[kpi.rise], "auto")


def values_a_minute_ago(frame: pd.DataFrame, fields: Sequence[str], now: float) -> dict[str, float]:
    """Each field's value in the newest row stamped at least 60 s before ``now`` (a field
    without one there, or a history shorter than a minute, is left out)."""
    if frame.empty:
        return {}
    row = int(np.searchsorted(frame["timestamp"].to_numpy(), now - 60, side="right")) - 1
    if row < 0:
        return {}
    values = {field: frame[field].iloc[row] for field in fields if field in frame}
    return {field: float(value) for field, value in values.items() if not pd.isna(value)}


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if math.isnan(value) else value


def kpi_row(collector: MetricsCollector, component: str, record: dict | None, kpis: Sequence[Kpi]) -> None:
    """The KPIs as bordered cards in a row that wraps when the page is narrow (so no label or
    value is cut), each with its change against one minute ago. Missing values read "–"."""
    draw_cards(cards(collector, component, record, kpis))


def cards(collector: MetricsCollector, component: str, record: dict | None, kpis: Sequence[Kpi]) -> list[dict]:
    """``st.metric`` arguments of each KPI card (pure, so pages can share them)."""
    now = record.get("timestamp") if record else None
    wanted = [kpi.field for kpi in kpis if kpi.delta]
    earlier = values_a_minute_ago(collector.history(component, minutes=1.5), wanted, now) if now and wanted else {}
    made = []
    for kpi in kpis:
        value = _number(record.get(kpi.field)) if record else None
        delta = None
        if kpi.delta and value is not None:
            before = earlier.get(kpi.field)
            if before is not None:
                delta = delta_of(kpi, value - before)
        help_text = f"{kpi.help}. " if kpi.help else ""
        if kpi.delta:
            help_text += "The small figure is the change against one minute ago."
        made.append(
            {
                "label": kpi.label,
                "value": "–" if value is None else kpi.fmt(value),
                "delta": delta.text if delta else None,
                "delta_color": delta.color if delta else "off",
                "delta_arrow": delta.arrow if delta else "auto",
                "help": help_text or None,
            }
        )
    return made


def draw_cards(made: Sequence[dict]) -> None:
    """Cards made by :func:`cards`, bordered, in a row that wraps."""
    with st.container(horizontal=True, gap="small"):
        for card in made:
            st.metric(**card, border=True)


def figure_row(figures: Sequence[tuple[str, object, Callable[[float], str]]]) -> None:
    """``(label, value, format)`` as bordered cards without a delta, wrapping like a KPI row; a
    missing value reads "–"."""
    with st.container(horizontal=True, gap="small"):
        for label, value, fmt in figures:
            number = _number(value)
            st.metric(label, "–" if number is None else fmt(number), border=True)


# Formats: short, so that a card stays narrow (three significant digits are plenty on a card).
def pct(value: float) -> str:
    return f"{value:.0f}%" if abs(value) >= 99.95 else f"{value:.1f}%"


def ratio_pct(value: float) -> str:
    return pct(100 * value)


def ms(value: float) -> str:
    return f"{value:.1f} ms" if abs(value) < 10 else f"{value:,.0f} ms"


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"


def count(value: float) -> str:
    return f"{value:,.0f}"


def rate(value: float) -> str:
    return f"{value:,.1f}/s" if abs(value) < 100 else f"{value:,.0f}/s"


def plain(value: float) -> str:
    return f"{value:.2f}"


def megabytes(value: float) -> str:
    return f"{value:,.0f} MB"
