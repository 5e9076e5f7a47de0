"""What the insight adds to the pages: the normal band, anomaly marks and forecast lines on a
chart, the forecast lines of System and Overview, the capacity panel and the learning note.

The chart layers are Altair layers (:func:`layers`), part of a time series' spec, built once;
their rows come each tick from :func:`decor` (a pure function of the insight's state, the
chart's window and the viewer's band preference) in the chart's ``marks`` dataset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import streamlit as st

from ..insight.forecast import window_text
from ..settings.durations import duration as duration_text
from .chartkit import marks_of, ms
from .text import escape_markdown

BAND_KEY = "insight_band"
BAND_COLOR = "#2e9e4f"
ANOMALY_COLOR = "#d62728"
FORECAST_COLOR = "#555555"


def show_band() -> bool:
    """The viewer's preference (the sidebar's *Normal band* toggle), on by default."""
    return bool(st.session_state.get(BAND_KEY, True))


def band_toggle() -> None:
    st.toggle(
        "Normal band",
        value=True,
        key=BAND_KEY,
        help="Shade what is normal for the first line of each chart, learnt from its history",
    )


@dataclass(frozen=True)
class Decor:
    """This tick's insight marks of one chart: ``rows`` for its ``marks`` dataset and ``end``
    the time its axis reaches (beyond the data when a forecast line goes on)."""

    rows: list[dict]
    end: float

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of marks there are (each needs its layers in the spec: part of its shape)."""
        return tuple(sorted({row["kind"] for row in self.rows}))


def layers(y: Callable[[str], alt.Y], kinds: Sequence[str], *, compact: bool) -> tuple[list, list]:
    """``(under, over)`` the lines for the ``kinds`` of marks there are: the normal band and
    the anomaly spans beneath them, the anomaly labels (not on ``compact`` charts) and the
    forecast above. ``y(column)`` is the lines' y channel for another column."""
    x = alt.X("x:T")
    under, over = [], []
    if "band" in kinds:
        under.append(
            marks_of("band")
            .mark_area(opacity=0.13, color=BAND_COLOR, interpolate="step-after", clip=True)
            .encode(
                x=x,
                y=y("y"),
                y2=alt.Y2(field="y2"),
                tooltip=[
                    alt.Tooltip("y:Q", title="normal from", format=",.4~g"),
                    alt.Tooltip("y2:Q", title="normal to", format=",.4~g"),
                ],
            )
        )
    spans = marks_of("anomaly")  # one span per stretch however many of its values were unusual
    if "anomaly" in kinds:
        under.append(
            spans.mark_rect(opacity=0.12, color=ANOMALY_COLOR, clip=True).encode(
                x=x,
                x2=alt.X2(field="x2"),
                y=alt.YValue(0),
                y2=alt.Y2Value("height"),
                tooltip=[alt.Tooltip("label:N", title="Unusual")],
            )
        )
    if "anomaly" in kinds and not compact:
        label = {"align": "left", "baseline": "top", "dx": 2, "dy": 2, "fontSize": 10, "clip": True}
        over.append(spans.mark_text(text="anomaly", color=ANOMALY_COLOR, **label).encode(x=x, y=alt.YValue(0)))
    if "forecast" in kinds:
        forecast = marks_of("forecast").encode(x=x, y=y("y"))
        over.append(forecast.mark_line(strokeDash=[5, 4], strokeWidth=2, color=FORECAST_COLOR, clip=True))
        text = {"align": "right", "baseline": "bottom", "dy": -4, "fontSize": 10, "color": FORECAST_COLOR, "clip": True}
        over.append(forecast.mark_text(**text).encode(text="label:N"))
    return under, over


def decor(
    series: str | None, fields: Mapping[str, str], insight, start: float, end: float, *, band: bool
) -> Decor | None:
    """The marks of the normal band of the first field (when ``band``), the fields' anomalies
    and the forecast of the first field that has one, over the window ``start``..``end``
    (None without insight: the chart then has no insight layers)."""
    if series is None or insight is None or not fields:
        return None
    rows: list[dict] = []
    first = next(iter(fields))
    if band:
        found = insight.band_of(series, first, start)
        if found is not None:
            t, lo, hi = found
            rows += [
                {"kind": "band", "x": ms(a), "y": float(b), "y2": float(c)} for a, b, c in zip(t, lo, hi, strict=True)
            ]
    for a, b, what in _spans(insight.anomalies_of(series, fields, start), start, time.time()):
        rows.append({"kind": "anomaly", "x": ms(a), "x2": ms(b), "label": what})
    forecast = next((f for f in (insight.forecast_of(series, name) for name in fields) if f is not None), None)
    new_end = end
    if forecast is not None and forecast.eta is not None and forecast.eta > 0:
        trend = forecast.trend
        reach = min(forecast.eta, max((end - start) / 3, 60.0))
        new_end = trend.at + reach
        label = f"{forecast.limit.what} in {duration_text(forecast.eta)}"
        rows.append({"kind": "forecast", "x": ms(trend.at), "y": trend.level, "label": ""})
        rows.append({"kind": "forecast", "x": ms(new_end), "y": trend.value(new_end), "label": label})
    return Decor(rows, max(end, new_end))


def _spans(episodes, start: float, now: float) -> list[tuple[float, float, str]]:
    """Overlapping anomalies merged: ``(from, to, "what was unusual")`` per stretch."""
    spans: list[list] = []
    for e in sorted(episodes, key=lambda e: e.start):
        a, b = max(e.start, start), e.end or now
        if spans and a <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], b)
            spans[-1][2].append(e.column.label)
        else:
            spans.append([a, b, [e.column.label]])
    return [(a, b, ", ".join(dict.fromkeys(names))) for a, b, names in spans]


def forecasts(insight, series: str | None = None, within: float | None = None) -> list:
    """Forecasts of ``series`` (all: None) heading to their limit (within ``within`` seconds), soonest first."""
    found = [f for f in list(insight.forecasts.values()) if series is None or f.limit.series == series]
    found = [f for f in found if f.eta is not None and (within is None or f.eta <= within)]
    return sorted(found, key=lambda f: f.eta)


NONE_NEAR = "No limit is forecast to be reached within {horizon} at the current rates."
LEARNING = "Anomaly detection is {learning}: it judges values once it knows what is normal."


def insight_notes(insight, series: str | None = None, within: float | None = None) -> None:
    """``Disk full in 3 d 4 h (at the current rate over the last 6 h)`` per forecast of
    ``series`` (all: None; within ``within`` seconds), a line each, as text (node names are
    untrusted: escaped); else that none is near, and how far anomaly detection has learnt, in
    one caption. One element each, not one per line: every element is one more message to
    every viewer on every refresh, and a caption this long is sent as a reference while it
    reads the same."""
    found = forecasts(insight, series, within)
    if found:
        st.markdown("  \n".join(f":material/trending_up: {escape_markdown(f.text)}" for f in found[:6]))
    quiet = []
    if not found:
        horizon = duration_text(insight.horizon if within is None else within)
        quiet.append(f":material/trending_flat: {NONE_NEAR.format(horizon=horizon)}")
    learning = insight.learning_text()
    if learning:
        quiet.append(f":material/school: {LEARNING.format(learning=learning)}")
    if quiet:
        st.caption("  \n".join(quiet))


CAPACITY_WINDOW = 3600.0  # seconds of trend a growth per day needs
CAPACITY_UNITS = {"Disk": "%", "Memory": "%", "Message rate": "msg/s", "Inference rate": "req/s"}


def capacity_panel(insight) -> None:
    """Growth per day of disk, memory, message rate and inference rate (Theil–Sen trends)."""
    st.subheader("Capacity")
    trends = dict(insight.capacity)
    # Two cards a row: four in one row cut "Inference rate per day" at 1024 px with the sidebar open.
    columns = [column for _ in range(0, len(CAPACITY_UNITS), 2) for column in st.columns(2)][: len(CAPACITY_UNITS)]
    windows = []
    for column, (label, unit) in zip(columns, CAPACITY_UNITS.items(), strict=True):
        trend = trends.get(label)
        if trend is None or trend.window < CAPACITY_WINDOW:  # minutes say nothing of a day
            column.metric(f"{label} per day", "–", border=True, help="Needs an hour of one steady trend")
            continue
        windows.append(trend.window)
        column.metric(
            f"{label} per day",
            f"{trend.per_day:+.3g} {unit}",
            border=True,
            help=f"Theil–Sen trend over the last {window_text(trend.window)}",
        )
    if windows:
        st.caption(f"Growth per day at the current rate, fitted over the last {window_text(max(windows))} of history.")
    else:
        st.caption("Growth per day needs an hour of history with one steady trend.")
