"""Altair charts shared by the pages. Every function returns a chart, or None when
there is nothing to draw (the caller then says so in words)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import altair as alt
import pandas as pd
import pyarrow as pa

from .style import LEVEL_COLORS, LEVEL_ORDER, series_color

TIME_AXIS = alt.Axis(title="Local time", format="%H:%M:%S", labelOverlap=True, tickCount=6)


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table without pandas' schema metadata (about 1 KB per chart per tick)."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def _local_time(timestamps: pd.Series) -> pd.Series:
    # tz-aware UTC; Vega-Lite shows it in the viewer's local time zone
    return pd.to_datetime(timestamps, unit="s", utc=True)


def timeseries(
    frame: pd.DataFrame,
    series: Mapping[str, str],
    *,
    unit: str,
    title: str,
    thresholds: tuple[float | None, float | None] | None = None,
    height: int = 220,
    zero: bool = True,
    compact: bool = False,
) -> alt.Chart | None:
    """Lines of ``series`` (``{field: label}``) over time, with warning and critical rule lines.

    The frame is sent wide (one row per time, values as float32) and folded in the
    browser, so each point costs 8 bytes of time and 4 per series on the wire. ``compact``
    drops the axis titles (small trend charts; the caller names the chart)."""
    fields = [f for f in series if f in frame.columns and frame[f].notna().any()]
    if frame.empty or not fields:
        return None
    labels = [series[f] for f in fields]
    data = frame[fields].astype("float32").rename(columns=series)  # 7 significant digits is plenty on screen
    data_max = float(data.max().max())
    data.insert(0, "time", _local_time(frame["timestamp"]))
    data = _arrow(data)
    y_title = f"{title} ({unit})" if unit else title
    lines = (
        alt.Chart()
        .transform_fold(labels, as_=["series", "value"])
        .mark_line(strokeWidth=1.6)
        .encode(
            x=alt.X("time:T", axis=alt.Axis(title=None, format="%H:%M", tickCount=4) if compact else TIME_AXIS),
            y=alt.Y(
                "value:Q",
                title=None if compact else y_title,
                scale=alt.Scale(domain=[0, 1]) if unit == "ratio" else alt.Scale(zero=zero),
                axis=alt.Axis(format="~s") if unit.endswith("/s") else alt.Axis(),
            ),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=labels, range=[series_color(label, i) for i, label in enumerate(labels)]),
                legend=alt.Legend(title=None, orient="top", direction="horizontal") if len(labels) > 1 else None,
            ),
            tooltip=[
                alt.Tooltip("time:T", title="Time", format="%H:%M:%S"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("value:Q", title=unit or "value", format=",.3~f"),
            ],
        )
    )
    shown, off_chart = _split_thresholds(thresholds, data_max, unit)
    chart = alt.layer(lines, *_threshold_rules(shown), data=data).properties(height=height)
    if off_chart and not compact:
        chart = chart.properties(
            title=alt.TitleParams(
                f"{' and '.join(off_chart)} above the chart",
                fontSize=11,
                fontWeight="normal",
                color="#6b7280",
                anchor="end",
            )
        )
    return chart


def _split_thresholds(thresholds, data_max: float, unit: str):
    """Keep threshold lines near the data; far above it they would flatten the lines to nothing,
    so they are named instead (percent and 0..1 ratio charts always show them)."""
    if not thresholds or unit in ("%", "ratio"):
        return thresholds, []
    shown, off_chart = [], []
    for level, value in zip(("warning", "critical"), thresholds, strict=True):
        if value is not None and value > 3 * max(data_max, 1e-9):
            shown.append(None)
            off_chart.append(f"{level} {value:g} {unit}")
        else:
            shown.append(value)
    return tuple(shown), off_chart


def _threshold_rules(thresholds) -> list[alt.Chart]:
    """Dashed rule lines at the warning and critical levels, in the alert levels' colours.

    They take the layer's data, aggregated to one row, and a constant y: a dataset of their
    own would cost about 800 bytes each per refresh tick."""
    rules = []
    for level, value in zip(("warning", "critical"), thresholds or (None, None), strict=True):
        if value is None:
            continue
        rules.append(
            alt.Chart()
            .transform_aggregate(rows="count()")
            .transform_calculate(threshold=f"'{level} at {value:g}'")
            .mark_rule(strokeDash=[6, 4], strokeWidth=1.5, color=LEVEL_COLORS[level])
            .encode(y=alt.datum(value), tooltip=[alt.Tooltip("threshold:N", title="Threshold")])
        )
    return rules


def distribution(counts: Mapping[str, int], *, title: str, height: int = 180) -> alt.Chart | None:
    """Horizontal bars of ``{name: count}``."""
    if not counts:
        return None
    data = pd.DataFrame({"name": list(counts), "count": list(counts.values())})
    return (
        alt.Chart(data)
        .mark_bar(cornerRadiusEnd=3)
        .encode(
            y=alt.Y("name:N", title=None, sort="-x"),
            x=alt.X("count:Q", title=title, axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("name:N", legend=None),
            tooltip=[alt.Tooltip("name:N", title="Name"), alt.Tooltip("count:Q", title="Count")],
        )
        .properties(height=height)
    )


def alert_counts(events: list[dict], *, minutes: float, now: float, height: int = 200) -> alt.Chart | None:
    """Stacked bars of alert events per level over time (about 30 buckets over the range)."""
    if not events:
        return None
    bucket = max(10.0, minutes * 60 / 30)
    frame = pd.DataFrame({"timestamp": [e["timestamp"] for e in events], "level": [e["level"] for e in events]})
    frame["bucket"] = (frame["timestamp"] // bucket) * bucket
    counts = frame.groupby(["bucket", "level"]).size().reset_index(name="count")
    counts["time"] = _local_time(counts["bucket"])
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X(
                "time:T",
                axis=TIME_AXIS,
                scale=alt.Scale(
                    domain=[
                        pd.Timestamp(now - minutes * 60, unit="s", tz="UTC").isoformat(),
                        pd.Timestamp(now, unit="s", tz="UTC").isoformat(),
                    ]
                ),
            ),
            y=alt.Y("count:Q", title="Alert events", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "level:N",
                scale=alt.Scale(domain=LEVEL_ORDER, range=[LEVEL_COLORS[lv] for lv in LEVEL_ORDER]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            order=alt.Order("level:N"),
            tooltip=[alt.Tooltip("time:T", title="From", format="%H:%M:%S"), "level:N", "count:Q"],
        )
        .properties(height=height)
    )


def circle_layout(names: list[str]) -> dict[str, tuple[float, float]]:
    """Nodes evenly on a circle, in name order: stable from tick to tick."""
    n = max(1, len(names))
    return {
        name: (math.cos(2 * math.pi * i / n - math.pi / 2), math.sin(2 * math.pi * i / n - math.pi / 2))
        for i, name in enumerate(names)
    }


def topology(nodes: list[dict], edges: list[dict], *, height: int = 420) -> alt.Chart | None:
    """Node-link drawing: links coloured by measured latency (grey when down), down nodes in red."""
    if not nodes:
        return None
    position = circle_layout([n["name"] for n in nodes])
    links = pd.DataFrame(
        [
            {
                "x": position[e["source"]][0],
                "y": position[e["source"]][1],
                "x2": position[e["target"]][0],
                "y2": position[e["target"]][1],
                "link": f"{e['source']} ↔ {e['target']}",
                "up": "up" if e["up"] else "down",
                "latency": e.get("latency_ms"),
            }
            for e in edges
            if e["source"] in position and e["target"] in position
        ],
        columns=["x", "y", "x2", "y2", "link", "up", "latency"],
    )
    points = pd.DataFrame(
        [
            {
                "x": position[n["name"]][0],
                "y": position[n["name"]][1],
                "node": n["name"],
                "status": n["status"],
                "latency": n.get("latency_ms"),
                "links": f"{n.get('links_up', 0)}/{n['links_total']}",
            }
            for n in nodes
        ]
    )
    axis = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    scale = alt.Scale(domain=[-1.35, 1.35])
    x, y = alt.X("x:Q", axis=axis, scale=scale), alt.Y("y:Q", axis=axis, scale=scale)
    links, points = _arrow(links), _arrow(points)
    link_tooltip = [
        alt.Tooltip("link:N", title="Link"),
        alt.Tooltip("up:N", title="State"),
        alt.Tooltip("latency:Q", title="Latency (ms)", format=".2f"),
    ]
    layers = [
        alt.Chart(links)
        .transform_filter("datum.up == 'down'")
        .mark_rule(strokeDash=[4, 4], color="#bbbbbb", strokeWidth=1.5)
        .encode(x=x, y=y, x2="x2", y2="y2", tooltip=link_tooltip),
        alt.Chart(links)
        .transform_filter("datum.up == 'up'")
        .mark_rule(strokeWidth=3)
        .encode(
            x=x,
            y=y,
            x2="x2",
            y2="y2",
            tooltip=link_tooltip,
            color=alt.Color(
                "latency:Q", title="Link latency (ms)", scale=alt.Scale(scheme="yelloworangered", domainMin=0)
            ),
        ),
        alt.Chart(points)
        .mark_circle(size=420, opacity=1, stroke="white", strokeWidth=2)
        .encode(
            x=x,
            y=y,
            fill=alt.Fill(
                "status:N",
                scale=alt.Scale(domain=["up", "down"], range=[LEVEL_COLORS["info"], LEVEL_COLORS["critical"]]),
                legend=alt.Legend(title="Node"),
            ),
            tooltip=[
                alt.Tooltip("node:N", title="Node"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("links:N", title="Links up"),
                alt.Tooltip("latency:Q", title="Latency (ms)", format=".2f"),
            ],
        ),
        alt.Chart(points).mark_text(dy=-20, fontSize=12, fontWeight="bold").encode(x=x, y=y, text="node:N"),
    ]
    return alt.layer(*layers).resolve_scale(color="independent").properties(height=height).configure_view(strokeWidth=0)


def latency_matrix(edges: list[dict], names: list[str], *, height: int = 360) -> alt.Chart | None:
    """Node × node heatmap of measured link latency; pairs without a link stay blank."""
    cells = []
    for e in edges:
        if e.get("latency_ms") is None:
            continue
        for a, b in ((e["source"], e["target"]), (e["target"], e["source"])):
            cells.append({"from": a, "to": b, "latency": e["latency_ms"], "state": "up" if e["up"] else "down"})
    if not cells:
        return None
    return (
        alt.Chart(pd.DataFrame(cells))
        .mark_rect()
        .encode(
            x=alt.X("to:N", title="Peer", sort=names),
            y=alt.Y("from:N", title="Node", sort=names),
            color=alt.Color("latency:Q", title="Latency (ms)", scale=alt.Scale(scheme="yelloworangered", domainMin=0)),
            tooltip=[
                alt.Tooltip("from:N", title="Node"),
                alt.Tooltip("to:N", title="Peer"),
                alt.Tooltip("latency:Q", title="Latency (ms)", format=".2f"),
                alt.Tooltip("state:N", title="Link"),
            ],
        )
        .properties(height=height)
    )
