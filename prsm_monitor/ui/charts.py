"""Charts shared by the pages, as Vega-Lite specs with their data.

Specs are plain dicts, not Altair objects: Altair builds and validates a chart in 30 to 60
ms, which on a page of seven charts was most of a refresh tick; a dict costs well under a
millisecond and draws the same. Every function returns a :class:`Chart`, or None when there
is nothing to draw (the caller then says so in words).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from .style import LEVEL_COLORS, LEVEL_ORDER, series_color

TIME_AXIS = {"title": "Local time", "format": "%H:%M:%S", "labelOverlap": True, "tickCount": 6}
COMPACT_TIME_AXIS = {"title": None, "format": "%H:%M", "tickCount": 4}
NO_AXIS = {"title": None, "labels": False, "ticks": False, "grid": False, "domain": False}


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite ``spec`` and the table it draws (``None`` when the spec names its datasets)."""

    spec: dict
    data: pa.Table | None = None


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table without pandas' schema metadata (about 1 KB per chart per tick)."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def _iso(timestamp: float) -> str:
    return pd.Timestamp(timestamp, unit="s", tz="UTC").isoformat()


def _time_from_offset(base_ms: int) -> dict:
    """Rebuild epoch milliseconds from the float32 second offsets sent on the wire."""
    return {"calculate": f"datum.t * 1000 + {base_ms}", "as": "time"}


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
) -> Chart | None:
    """Lines of ``series`` (``{field: label}``) over time, with warning and critical rule lines.

    The table is sent wide (one row per time) as float32: 4 bytes for the time (seconds
    after the first point) and 4 per series, folded into lines in the browser. ``compact``
    drops the axis titles (small trend charts; the caller names the chart)."""
    fields = [f for f in series if f in frame.columns and frame[f].notna().any()]
    if frame.empty or not fields:
        return None
    labels = [series[f] for f in fields]
    data = frame[fields].astype("float32").rename(columns=series)  # 7 significant digits is plenty on screen
    data_max = float(data.max().max())
    base = float(frame["timestamp"].iloc[0])
    data.insert(0, "t", (frame["timestamp"] - base).astype("float32"))
    y_axis = {"title": None if compact else (f"{title} ({unit})" if unit else title)}
    if unit.endswith("/s"):
        y_axis["format"] = "~s"
    lines = {
        "transform": [{"fold": labels, "as": ["series", "value"]}, _time_from_offset(round(base * 1000))],
        "mark": {"type": "line", "strokeWidth": 1.6},
        "encoding": {
            "x": {"field": "time", "type": "temporal", "axis": COMPACT_TIME_AXIS if compact else TIME_AXIS},
            "y": {
                "field": "value",
                "type": "quantitative",
                "axis": y_axis,
                "scale": {"domain": [0, 1]} if unit == "ratio" else {"zero": zero},
            },
            "color": {
                "field": "series",
                "type": "nominal",
                "scale": {"domain": labels, "range": [series_color(label, i) for i, label in enumerate(labels)]},
                "legend": {"title": None, "orient": "top", "direction": "horizontal"} if len(labels) > 1 else None,
            },
            "tooltip": [
                {"field": "time", "type": "temporal", "title": "Time", "format": "%H:%M:%S"},
                {"field": "series", "type": "nominal", "title": "Series"},
                {"field": "value", "type": "quantitative", "title": unit or "value", "format": ",.3~f"},
            ],
        },
    }
    shown, off_chart = _split_thresholds(thresholds, data_max, unit)
    spec = {"height": height, "layer": [lines, *_threshold_rules(shown)]}
    if off_chart and not compact:
        spec["title"] = {
            "text": f"{' and '.join(off_chart)} above the chart",
            "fontSize": 11,
            "fontWeight": "normal",
            "color": "#6b7280",
            "anchor": "end",
        }
    return Chart(spec, _arrow(data))


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


def _threshold_rules(thresholds) -> list[dict]:
    """Dashed rule lines at the warning and critical levels, in the alert levels' colours.

    They take the layer's data, aggregated to one row, and a constant y: a dataset of their
    own would cost about 800 bytes each per refresh tick."""
    rules = []
    for level, value in zip(("warning", "critical"), thresholds or (None, None), strict=True):
        if value is None:
            continue
        rules.append(
            {
                "transform": [
                    {"aggregate": [{"op": "count", "as": "rows"}]},
                    {"calculate": json.dumps(f"{level} at {value:g}"), "as": "threshold"},
                ],
                "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5, "color": LEVEL_COLORS[level]},
                "encoding": {
                    "y": {"datum": value, "type": "quantitative"},
                    "tooltip": [{"field": "threshold", "type": "nominal", "title": "Threshold"}],
                },
            }
        )
    return rules


def distribution(counts: Mapping[str, int], *, title: str, height: int = 180) -> Chart | None:
    """Horizontal bars of ``{name: count}``."""
    if not counts:
        return None
    data = pd.DataFrame({"name": list(counts), "count": list(counts.values())})
    spec = {
        "height": height,
        "mark": {"type": "bar", "cornerRadiusEnd": 3},
        "encoding": {
            "y": {"field": "name", "type": "nominal", "title": None, "sort": "-x"},
            "x": {"field": "count", "type": "quantitative", "title": title, "axis": {"tickMinStep": 1}},
            "color": {"field": "name", "type": "nominal", "legend": None},
            "tooltip": [
                {"field": "name", "type": "nominal", "title": "Name"},
                {"field": "count", "type": "quantitative", "title": "Count"},
            ],
        },
    }
    return Chart(spec, _arrow(data))


def alert_counts(events: list[dict], *, minutes: float, now: float, height: int = 200) -> Chart | None:
    """Stacked bars of alert events per level over time (about 30 buckets over the range)."""
    if not events:
        return None
    bucket = max(10.0, minutes * 60 / 30)
    frame = pd.DataFrame({"timestamp": [e["timestamp"] for e in events], "level": [e["level"] for e in events]})
    frame["bucket"] = (frame["timestamp"] // bucket) * bucket
    counts = frame.groupby(["bucket", "level"]).size().reset_index(name="count")
    counts["bucket"] = pd.to_datetime(counts["bucket"], unit="s", utc=True)
    spec = {
        "height": height,
        "mark": {"type": "bar"},
        "encoding": {
            "x": {
                "field": "bucket",
                "type": "temporal",
                "axis": TIME_AXIS,
                "scale": {"domain": [_iso(now - minutes * 60), _iso(now)]},
            },
            "y": {"field": "count", "type": "quantitative", "title": "Alert events", "axis": {"tickMinStep": 1}},
            "color": {
                "field": "level",
                "type": "nominal",
                "scale": {"domain": LEVEL_ORDER, "range": [LEVEL_COLORS[lv] for lv in LEVEL_ORDER]},
                "legend": {"title": None, "orient": "top"},
            },
            "tooltip": [
                {"field": "bucket", "type": "temporal", "title": "From", "format": "%H:%M:%S"},
                {"field": "level", "type": "nominal"},
                {"field": "count", "type": "quantitative"},
            ],
        },
    }
    return Chart(spec, _arrow(counts[["bucket", "level", "count"]]))


def circle_layout(names: list[str]) -> dict[str, tuple[float, float]]:
    """Nodes evenly on a circle, in name order: stable from tick to tick."""
    n = max(1, len(names))
    return {
        name: (math.cos(2 * math.pi * i / n - math.pi / 2), math.sin(2 * math.pi * i / n - math.pi / 2))
        for i, name in enumerate(names)
    }


def topology(nodes: list[dict], edges: list[dict], *, height: int = 420) -> Chart | None:
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
                "links": f"{n.get('links_up') or 0}/{n['links_total']}",
            }
            for n in nodes
        ]
    )
    scale = {"domain": [-1.35, 1.35]}
    xy = {
        "x": {"field": "x", "type": "quantitative", "axis": NO_AXIS, "scale": scale},
        "y": {"field": "y", "type": "quantitative", "axis": NO_AXIS, "scale": scale},
    }
    ends = {"x2": {"field": "x2"}, "y2": {"field": "y2"}}
    link_tooltip = [
        {"field": "link", "type": "nominal", "title": "Link"},
        {"field": "up", "type": "nominal", "title": "State"},
        {"field": "latency", "type": "quantitative", "title": "Latency (ms)", "format": ".2f"},
    ]
    spec = {
        "height": height,
        "datasets": {"links": _arrow(links), "points": _arrow(points)},
        "layer": [
            {
                "data": {"name": "links"},
                "transform": [{"filter": "datum.up == 'down'"}],
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#bbbbbb", "strokeWidth": 1.5},
                "encoding": {**xy, **ends, "tooltip": link_tooltip},
            },
            {
                "data": {"name": "links"},
                "transform": [{"filter": "datum.up == 'up'"}],
                "mark": {"type": "rule", "strokeWidth": 3},
                "encoding": {
                    **xy,
                    **ends,
                    "tooltip": link_tooltip,
                    "color": {
                        "field": "latency",
                        "type": "quantitative",
                        "title": "Link latency (ms)",
                        "scale": {"scheme": "yelloworangered", "domainMin": 0},
                    },
                },
            },
            {
                "data": {"name": "points"},
                "mark": {"type": "circle", "size": 420, "opacity": 1, "stroke": "white", "strokeWidth": 2},
                "encoding": {
                    **xy,
                    "fill": {
                        "field": "status",
                        "type": "nominal",
                        "scale": {"domain": ["up", "down"], "range": [LEVEL_COLORS["info"], LEVEL_COLORS["critical"]]},
                        "legend": {"title": "Node"},
                    },
                    "tooltip": [
                        {"field": "node", "type": "nominal", "title": "Node"},
                        {"field": "status", "type": "nominal", "title": "Status"},
                        {"field": "links", "type": "nominal", "title": "Links up"},
                        {"field": "latency", "type": "quantitative", "title": "Latency (ms)", "format": ".2f"},
                    ],
                },
            },
            {
                "data": {"name": "points"},
                "mark": {"type": "text", "dy": -20, "fontSize": 12, "fontWeight": "bold"},
                "encoding": {**xy, "text": {"field": "node", "type": "nominal"}},
            },
        ],
        "resolve": {"scale": {"color": "independent"}},
        "config": {"view": {"strokeWidth": 0}},
    }
    return Chart(spec)


def latency_matrix(edges: list[dict], names: list[str], *, height: int = 360) -> Chart | None:
    """Node × node heatmap of measured link latency; pairs without a link stay blank."""
    cells = []
    for e in edges:
        if e.get("latency_ms") is None:
            continue
        for a, b in ((e["source"], e["target"]), (e["target"], e["source"])):
            cells.append({"from": a, "to": b, "latency": e["latency_ms"], "state": "up" if e["up"] else "down"})
    if not cells:
        return None
    spec = {
        "height": height,
        "mark": {"type": "rect"},
        "encoding": {
            "x": {"field": "to", "type": "nominal", "title": "Peer", "sort": names},
            "y": {"field": "from", "type": "nominal", "title": "Node", "sort": names},
            "color": {
                "field": "latency",
                "type": "quantitative",
                "title": "Latency (ms)",
                "scale": {"scheme": "yelloworangered", "domainMin": 0},
            },
            "tooltip": [
                {"field": "from", "type": "nominal", "title": "Node"},
                {"field": "to", "type": "nominal", "title": "Peer"},
                {"field": "latency", "type": "quantitative", "title": "Latency (ms)", "format": ".2f"},
                {"field": "state", "type": "nominal", "title": "Link"},
            ],
        },
    }
    return Chart(spec, _arrow(pd.DataFrame(cells)))
