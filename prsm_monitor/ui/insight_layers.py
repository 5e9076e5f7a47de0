"""What the insight adds to the pages: the normal band, anomaly marks and forecast lines on a
chart, the forecast lines of System and Overview, the capacity panel and the learning note.

:func:`decorate` is a pure function of a chart, the insight's state and the viewer's band
preference: it returns a new spec (the input is not changed) with its layers added, so a
view may cache specs per collector version. Its few values travel inline in the spec.
"""

from __future__ import annotations

import copy
import time

import streamlit as st

from ..durations import duration as duration_text
from ..insight.forecast import window_text
from .charts import Chart
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


def _ms(t: float) -> int:
    return round(t * 1000)


def decorate(chart: Chart | None, series: str | None, fields, insight, *, band: bool, compact: bool) -> Chart | None:
    """``chart`` with the normal band of its first field (when ``band``), its fields' anomalies
    marked, and the forecast of its first field that has one, as a dashed line."""
    if chart is None or series is None or insight is None or not fields:
        return chart
    spec = chart.spec
    group = spec["layer"][0]
    x_domain = group["encoding"]["x"]["scale"]["domain"]
    start, end = int(x_domain[0]["expr"]) / 1000, int(x_domain[1]["expr"]) / 1000
    y = {"type": "quantitative", "scale": group["encoding"]["y"]["scale"]}
    x = {"field": "time", "type": "temporal"}
    under, over = [], []
    first = next(iter(fields))
    if band:
        found = insight.band_of(series, first, start)
        if found is not None:
            t, lo, hi = found
            rows = [{"time": _ms(a), "lo": float(b), "hi": float(c)} for a, b, c in zip(t, lo, hi, strict=True)]
            under.append(
                {
                    "data": {"values": rows},
                    "mark": {
                        "type": "area",
                        "opacity": 0.13,
                        "color": BAND_COLOR,
                        "interpolate": "step-after",
                        "clip": True,
                    },
                    "encoding": {
                        "x": x,
                        "y": {**y, "field": "lo"},
                        "y2": {"field": "hi"},
                        "tooltip": [
                            {"field": "lo", "type": "quantitative", "title": "normal from", "format": ",.4~g"},
                            {"field": "hi", "type": "quantitative", "title": "normal to", "format": ",.4~g"},
                        ],
                    },
                }
            )
    spans = _spans(insight.anomalies_of(series, fields, start), start, time.time())
    if spans:
        rows = [{"time": _ms(a), "end": _ms(b), "what": what} for a, b, what in spans]
        under.append(  # beneath the lines, one span per stretch however many of its values were unusual
            {
                "data": {"values": rows},
                "mark": {"type": "rect", "opacity": 0.12, "color": ANOMALY_COLOR, "clip": True},
                "encoding": {
                    "x": x,
                    "x2": {"field": "end"},
                    "y": {"value": 0},
                    "y2": {"value": "height"},
                    "tooltip": [{"field": "what", "type": "nominal", "title": "Unusual"}],
                },
            }
        )
        if not compact:
            over.append(
                {
                    "data": {"values": rows},
                    "mark": {
                        "type": "text",
                        "text": "anomaly",
                        "color": ANOMALY_COLOR,
                        "align": "left",
                        "baseline": "top",
                        "dx": 2,
                        "dy": 2,
                        "fontSize": 10,
                        "clip": True,
                    },
                    "encoding": {"x": x, "y": {"value": 0}},
                }
            )
    forecast = next((f for f in (insight.forecast_of(series, name) for name in fields) if f is not None), None)
    new_end = end
    if forecast is not None and forecast.eta is not None and forecast.eta > 0:
        trend = forecast.trend
        span = end - start
        reach = min(forecast.eta, max(span / 3, 60.0))
        new_end = trend.at + reach
        rows = [
            {"time": _ms(trend.at), "v": trend.level, "label": ""},
            {
                "time": _ms(new_end),
                "v": trend.value(new_end),
                "label": f"{forecast.limit.what} in {duration_text(forecast.eta)}",
            },
        ]
        over.append(
            {
                "data": {"values": rows},
                "layer": [
                    {
                        "mark": {
                            "type": "line",
                            "strokeDash": [5, 4],
                            "strokeWidth": 2,
                            "color": FORECAST_COLOR,
                            "clip": True,
                        },
                        "encoding": {"x": x, "y": {**y, "field": "v"}},
                    },
                    {
                        "mark": {
                            "type": "text",
                            "align": "right",
                            "baseline": "bottom",
                            "dy": -4,
                            "fontSize": 10,
                            "color": FORECAST_COLOR,
                        },
                        "encoding": {"x": x, "y": {**y, "field": "v"}, "text": {"field": "label"}},
                    },
                ],
            }
        )
    if not under and not over:
        return chart
    spec = copy.deepcopy(spec)
    if new_end > end:
        spec["layer"][0]["encoding"]["x"]["scale"]["domain"][1] = {"expr": str(_ms(new_end))}
    spec["layer"] = under + spec["layer"] + over
    return Chart(spec, chart.data)


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


def learning_note(insight) -> None:
    text = insight.learning_text()
    if text:
        st.caption(f":material/school: Anomaly detection is {text}: it judges values once it knows what is normal.")


def forecast_notes(insight, series: str | None = None, within: float | None = None) -> None:
    """``Disk full in 3 d 4 h (at the current rate over the last 6 h)`` per forecast, as text
    (node names are untrusted: escaped)."""
    found = forecasts(insight, series, within)
    for forecast in found[:6]:
        st.markdown(f":material/trending_up: {escape_markdown(forecast.text)}")
    if not found:
        horizon = duration_text(insight.horizon if within is None else within)
        st.caption(
            f":material/trending_flat: No limit is forecast to be reached within {horizon} at the current rates."
        )


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
