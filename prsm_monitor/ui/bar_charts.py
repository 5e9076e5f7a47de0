"""Bar charts: instances per name (AI Models) and alert events over time (Alerts).

Each spec is built with Altair once per what it depends on (a title, the bucket width of the
range) and shared; the bars and the window come each tick as datasets (:mod:`.chartkit`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import altair as alt
import pandas as pd

from .chartkit import (
    BOUNDS,
    FIT_WIDTH,
    LEGEND,
    MARKS,
    ROWS,
    TIME_BASE,
    TIME_DOMAIN,
    VALUE_DOMAIN,
    Chart,
    arrow,
    marks_table,
    time_format,
    to_spec,
    window,
    window_layer,
)
from .style import LEVEL_COLORS, LEVEL_ORDER

BAR_COLOR = "#4c78a8"
BUCKETS = 30  # alert-count bars over a range


def distribution(counts: Mapping[str, int], *, title: str, height: int = 150) -> Chart | None:
    """Horizontal bars of ``{name: count}``, in one colour (a colour per name would suggest a meaning)."""
    if not counts:
        return None
    data = pd.DataFrame({"name": list(counts), "count": list(counts.values())})
    top = max(1, int(data["count"].max()))
    return Chart(distribution_spec(title, height), {ROWS: arrow(data), MARKS: marks_table(window(y0=0, y1=top))})


@functools.lru_cache(maxsize=32)
def distribution_spec(title: str, height: int) -> dict:
    bars = (
        alt.Chart(alt.NamedData(ROWS))
        .mark_bar(cornerRadiusEnd=3, color=BAR_COLOR)
        .encode(
            y=alt.Y("name:N", title=None, sort="-x"),
            x=alt.X("count:Q", title=title, axis=alt.Axis(tickMinStep=1), scale=VALUE_DOMAIN),
            tooltip=[alt.Tooltip("name:N", title="Name"), alt.Tooltip("count:Q", title="Count")],
        )
    )
    chart = alt.layer(bars, window_layer()).add_params(BOUNDS).properties(height=height, autosize=FIT_WIDTH)
    return to_spec(chart, "distribution")


def alert_counts(events: list[dict], *, minutes: float, now: float, height: int = 180) -> Chart | None:
    """Stacked bars of alert events per level over time (about :data:`BUCKETS` over the range)."""
    if not events:
        return None
    bucket = max(10.0, minutes * 60 / BUCKETS)
    start = now - minutes * 60
    frame = pd.DataFrame({"timestamp": [e["timestamp"] for e in events], "level": [e["level"] for e in events]})
    frame["bucket"] = (frame["timestamp"] // bucket) * bucket
    counts = frame.groupby(["bucket", "level"]).size().reset_index(name="count")
    tallest = int(counts.groupby("bucket")["count"].sum().max())
    counts["t"] = (counts["bucket"] - start).astype("float32")
    datasets = {
        ROWS: arrow(counts[["t", "level", "count"]]),
        MARKS: marks_table(window(start, now, 0, max(1, tallest))),
    }
    return Chart(alert_counts_spec(round(bucket * 1000), time_format(minutes * 60), height), datasets)


@functools.lru_cache(maxsize=32)
def alert_counts_spec(bucket_ms: int, fmt: str, height: int) -> dict:
    bars = (
        alt.Chart(alt.NamedData(ROWS))
        .transform_calculate(**{"from": f"datum.t * 1000 + {TIME_BASE}"})
        .transform_calculate(to=f"datum.from + {bucket_ms}")
        .mark_bar(clip=True)
        .encode(
            x=alt.X("from:T", axis=alt.Axis(title=None, format=fmt, tickCount=6), scale=TIME_DOMAIN),
            x2=alt.X2("to:T"),
            y=alt.Y("sum(count):Q", title="Alert events", axis=alt.Axis(tickMinStep=1), scale=VALUE_DOMAIN),
            color=alt.Color(
                "level:N",
                scale=alt.Scale(domain=LEVEL_ORDER, range=[LEVEL_COLORS[lv] for lv in LEVEL_ORDER]),
                legend=alt.Legend(**{**LEGEND, "symbolType": "square"}),
            ),
            tooltip=[
                alt.Tooltip("from:T", title="From", format="%H:%M:%S"),
                alt.Tooltip("level:N", title="Level"),
                alt.Tooltip("sum(count):Q", title="Events"),
            ],
        )
    )
    chart = alt.layer(bars, window_layer()).add_params(BOUNDS).properties(height=height, autosize=FIT_WIDTH)
    return to_spec(chart, "alert_counts")
