"""KPI rows: st.metric with a delta against one minute ago."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ..collector import MetricsCollector


@dataclass(frozen=True)
class Kpi:
    field: str
    label: str
    fmt: Callable[[float], str]
    help: str | None = None
    inverse: bool = False  # a rise is bad (red) rather than good (green)
    delta: bool = True


def value_a_minute_ago(frame: pd.DataFrame, field: str, now: float) -> float | None:
    """The newest value of ``field`` stamped at least 60 s before ``now`` (None if the history is shorter)."""
    if frame.empty or field not in frame:
        return None
    older = frame[frame["timestamp"] <= now - 60]
    if older.empty:
        return None
    value = older[field].iloc[-1]
    return None if pd.isna(value) else float(value)


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if math.isnan(value) else value


def kpi_row(collector: MetricsCollector, component: str, record: dict | None, kpis: Sequence[Kpi]) -> None:
    """One column per KPI, with its change against one minute ago (said in each KPI's help).
    Missing values read "–", never an invented number."""
    recent = collector.history(component, minutes=1.5)
    now = record.get("timestamp") if record else None
    for column, kpi in zip(st.columns(len(kpis)), kpis, strict=True):
        value = _number(record.get(kpi.field)) if record else None
        delta = None
        if kpi.delta and value is not None and now is not None:
            before = value_a_minute_ago(recent, kpi.field, now)
            if before is not None:
                change = value - before
                delta = f"{'+' if change >= 0 else '−'}{kpi.fmt(abs(change))}"
        column.metric(
            kpi.label,
            "–" if value is None else kpi.fmt(value),
            delta=delta,
            delta_color="inverse" if kpi.inverse else "normal",
            help=f"{kpi.help + '. ' if kpi.help else ''}The small figure is the change against one minute ago.",
            border=True,
        )


def pct(value: float) -> str:
    return f"{value:.1f}%"


def ratio_pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def ms(value: float) -> str:
    return f"{value:.1f} ms" if abs(value) < 10 else f"{value:,.0f} ms"


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def count(value: float) -> str:
    return f"{value:,.0f}"


def rate(value: float) -> str:
    return f"{value:,.1f}/s"


def plain(value: float) -> str:
    return f"{value:.2f}"
