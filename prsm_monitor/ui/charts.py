"""Charts shared by the pages, as Vega-Lite specs with their data.

Specs are plain dicts, not Altair objects: Altair builds and validates a chart in 30 to 60
ms, which on a page of seven charts was most of a refresh tick; a dict costs well under a
millisecond and draws the same. Every function returns a :class:`Chart`, or None when there
is nothing to draw (the caller then says so in words).

Three rules hold for every chart here:

- Every quantitative and temporal scale has its domain computed here. Streamlit creates the
  view before it inserts the data, and a scale that derives its domain from no data logs an
  "Infinite extent" warning in the browser, on every refresh.
- Series are columns named ``s0``, ``s1``, ...; their labels are only shown (legend,
  tooltip titles), never used as field names: a ``.`` in a Vega-Lite field name is a path.
- The declared height is the plot's own (``autosize: fit-x``): a legend or an axis adds to
  it instead of squashing the plot, and charts side by side with the same chrome line up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .style import LEVEL_COLORS, LEVEL_ORDER, PARTS_COLOR, series_color

CHART_HEIGHT = 200
FIT_WIDTH = {"type": "fit-x", "contains": "padding"}
LEGEND = {"title": None, "orient": "top", "symbolType": "stroke", "symbolStrokeWidth": 3}
NOTE_COLOR = "#6b7280"
GAP_STEPS = 5  # a step this many times the typical one is a gap in the record, drawn as one
NO_AXIS = {"title": None, "labels": False, "ticks": False, "grid": False, "domain": False}


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite ``spec`` and the table it draws (``None`` when the spec names its datasets)."""

    spec: dict
    data: pa.Table | None = None


@dataclass(frozen=True)
class Parts:
    """Series that make up the chart's first series (per-core CPU under the total): fields
    matching ``pattern`` (one group), each named ``name.format(group)``, drawn thin under the
    total in one pale colour, with one ``legend`` entry."""

    pattern: str
    name: str
    legend: str

    def fields(self, frame: pd.DataFrame) -> list[tuple[str, str]]:
        found = []
        for column in frame.columns:
            match = re.fullmatch(self.pattern, column)
            if match and frame[column].notna().any():
                found.append((column, self.name.format(match.group(1))))
        return found


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table without pandas' schema metadata (about 1 KB per chart per tick)."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def break_gaps(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` (time in column ``t``) with an empty row in each gap longer than
    :data:`GAP_STEPS` typical steps (the monitor was stopped, an instance did not answer):
    a line breaks at an empty value instead of joining both sides with a straight line, which
    would draw values nobody measured."""
    t = data["t"].to_numpy(dtype="float64")
    if len(t) < 3:
        return data
    steps = np.diff(t)
    typical = float(np.median(steps))
    gaps = np.flatnonzero(steps > GAP_STEPS * typical) if typical > 0 else []
    if not len(gaps):
        return data
    filler = pd.DataFrame(np.nan, index=range(len(gaps)), columns=data.columns).astype(data.dtypes.to_dict())
    filler["t"] = ((t[gaps] + t[gaps + 1]) / 2).astype(data["t"].dtype)
    return pd.concat([data, filler], ignore_index=True).sort_values("t", kind="stable", ignore_index=True)


def _ms(timestamp: float) -> int:
    return round(timestamp * 1000)


def time_axis(span_seconds: float, compact: bool = False) -> dict:
    """A time axis without a title (the page names the time zone once); seconds on short spans."""
    if span_seconds <= (300 if compact else 600):
        fmt = "%H:%M:%S"
    elif span_seconds <= 2 * 86400:
        fmt = "%H:%M"
    elif span_seconds <= 60 * 86400:
        fmt = "%b %d"
    else:
        fmt = "%b %Y"
    return {"title": None, "format": fmt, "tickCount": 4 if compact else 6}


def time_domain(first: float, last: float) -> list[dict]:
    """Epoch milliseconds from ``first`` to ``last`` (widened to a minute when they nearly meet),
    as expressions: Vega-Lite reads plain numbers in a temporal domain wrongly, and with bars'
    ``x2`` it logs a conflict on every refresh."""
    if last - first < 1:
        first, last = last - 30, last + 30
    return [{"expr": str(_ms(first))}, {"expr": str(_ms(last))}]


def value_domain(values: np.ndarray, unit: str, zero: bool, shown: Sequence[float]) -> list[float]:
    """The y domain: 0..1 for ratios, 0..100 for percentages (more if the data goes beyond),
    else the data's range (from 0 when ``zero``) stretched to the ``shown`` threshold values."""
    finite = values[np.isfinite(values)]
    if unit in ("ratio", "%"):
        top = 1.0 if unit == "ratio" else 100.0
        return [0.0, max(top, float(finite.max()) if finite.size else top)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if zero:
        low = min(low, 0.0)
    for value in shown:
        low, high = min(low, value), max(high, value)
    if high - low < 1e-9:
        high = low + (abs(low) * 0.1 or 1.0)
    return [low, high]


def threshold_label(level: str, value: float, unit: str) -> str:
    if unit == "%":
        return f"{level} {value:g}%"
    return f"{level} {value:g}" + (f" {unit}" if unit and unit != "ratio" else "")


def split_thresholds(thresholds, data_max: float, unit: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """``(shown, off_chart)`` as ``(level, value)`` pairs. A threshold far above the data
    would flatten the lines to nothing, so it stays off the chart and is only named (percent
    and 0..1 ratio charts always show theirs)."""
    shown, off_chart = [], []
    for level, value in zip(("warning", "critical"), thresholds or (None, None), strict=True):
        if value is None:
            continue
        far = unit not in ("%", "ratio") and value > 3 * max(data_max, 1e-9)
        (off_chart if far else shown).append((level, value))
    return shown, off_chart


def timeseries(
    frame: pd.DataFrame,
    series: Mapping[str, str],
    *,
    unit: str,
    title: str = "",
    thresholds: tuple[float | None, float | None] | None = None,
    height: int = CHART_HEIGHT,
    zero: bool = True,
    compact: bool = False,
    parts: Parts | None = None,
) -> Chart | None:
    """Lines of ``series`` (``{field: label}``) over time, with warning and critical rule lines.

    The first series is drawn on top and the others beneath it, in reverse order; ``parts``
    add thin faded lines under the first. The table is sent wide (one row per time) as
    float32: 4 bytes for the time (seconds after the first point) and 4 per series.
    ``title`` names the y axis (with the unit); ``compact`` drops axis titles and legend
    (small trend charts that the caption above names)."""
    if frame.empty:
        return None
    main = [(f, series[f]) for f in series if f in frame.columns and frame[f].notna().any()]
    extra = parts.fields(frame) if parts else []
    if not main and not extra:
        return None
    data = pd.DataFrame({f"s{i}": frame[f].astype("float32") for i, (f, _) in enumerate(main + extra)})
    band = main[0][0] if main and band_of(frame, main[0][0]) else None  # rollups: the first series' min-max
    if band:
        data["lo"] = frame[f"{band}_min"].astype("float32")
        data["hi"] = frame[f"{band}_max"].astype("float32")
    base, last = float(frame["timestamp"].iloc[0]), float(frame["timestamp"].iloc[-1])
    data.insert(0, "t", (frame["timestamp"] - base).astype("float32"))
    data = break_gaps(data)
    values = data.drop(columns="t").to_numpy(dtype="float64")
    data_max = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    shown, off_chart = split_thresholds(thresholds, data_max, unit)
    y_axis = {"title": None if compact else (f"{title} ({unit})" if unit and title else title or None)}
    if unit.endswith("/s"):
        y_axis["format"] = "~s"  # 1.5M, 20k; with the prefix of the largest tick, so 0 reads "0M" unless told
        y_axis["labelExpr"] = "datum.value == 0 ? '0' : datum.label"
    x = {
        "field": "time",
        "type": "temporal",
        "axis": time_axis(last - base, compact),
        "scale": {"domain": time_domain(base, last)},
    }
    y_scale = {
        "domain": [float(f"{v:.6g}") for v in value_domain(values, unit, zero, [v for _, v in shown])],
        "nice": True,
    }

    legend = [label for _, label in main]
    colors = [series_color(label, i) for i, label in enumerate(legend)]
    if extra:
        legend.append(parts.legend)
        colors.append(PARTS_COLOR)

    y_shared = {"type": "quantitative", "axis": y_axis, "scale": y_scale}

    def line(column: str, legend_label: str, tooltip: list[dict], width: float) -> dict:
        return {
            "mark": {"type": "line", "strokeWidth": width},
            "encoding": {"y": {"field": column}, "color": {"datum": legend_label}, "tooltip": tooltip},
        }

    def value(column: str, name: str) -> dict:
        return {"field": column, "type": "quantitative", "title": f"{name} ({unit or 'value'})", "format": ",.4~g"}

    when = {"field": "time", "type": "temporal", "title": "Time", "format": "%H:%M:%S"}
    offset = len(main)
    lines = [
        line(f"s{offset + i}", parts.legend, [value(f"s{offset + i}", name)], 1) for i, (_, name) in enumerate(extra)
    ]
    if band:  # beneath every line: where the series really went within each bucket
        lines.insert(
            0,
            {
                "mark": {"type": "area", "opacity": 0.18, "color": colors[0]},
                "encoding": {
                    "y": {"field": "lo"},
                    "y2": {"field": "hi"},
                    "color": {"value": colors[0]},
                    "tooltip": [when, value("lo", "lowest"), value("hi", "highest")],
                },
            },
        )
    main_width = 2.4 if extra else 1.8
    lines += [
        line(f"s{i}", label, [when, value(f"s{i}", label)], main_width)
        for i, (_, label) in reversed(list(enumerate(main)))
    ]
    # The lines share the time channel, its transform, the y scale and axis and the colour
    # scale (each line adds its field or its datum); the threshold layers have their own.
    color = {"type": "nominal", "scale": {"domain": legend, "range": colors}, "legend": None if compact else LEGEND}
    group = {
        "transform": [{"calculate": f"datum.t * 1000 + {_ms(base)}", "as": "time"}],
        "encoding": {"x": x, "y": y_shared, "color": color},
        "layer": lines,
    }
    layers = [group, *_threshold_layers(shown, off_chart, unit, y_shared, labelled=not compact)]
    spec = {
        "height": height,
        "autosize": FIT_WIDTH,
        "layer": layers,
    }
    if shown:  # the thresholds' colours are their own (the levels'), and have no legend
        spec["resolve"] = {"scale": {"color": "independent"}, "legend": {"color": "independent"}}
    return Chart(spec, _arrow(data))


def band_of(frame: pd.DataFrame, field: str) -> bool:
    """True when ``frame`` carries a min-max band for ``field`` (history read from a rollup tier:
    each row a bucket's mean, with ``<field>_min`` and ``<field>_max``)."""
    return f"{field}_min" in frame.columns and f"{field}_max" in frame.columns and frame[f"{field}_min"].notna().any()


def _threshold_layers(
    shown: list[tuple[str, float]], off_chart: list[tuple[str, float]], unit: str, y: dict, labelled: bool
) -> list[dict]:
    """Dashed rule lines at the warning and critical levels, in the alert levels' colours,
    each named at its right end; thresholds above the chart are named in the legend's row,
    right-aligned, with an arrow instead ("↑ warning 100 ms · critical 500 ms").

    Their few values are inline (a hundred bytes), not a dataset of their own in Arrow."""
    layers = []
    if shown:
        rows = [
            {"v": value, "c": LEVEL_COLORS[level], "label": threshold_label(level, value, unit)}
            for level, value in shown
        ]
        y = {**y, "field": "v"}
        color = {"field": "c", "type": "nominal", "scale": None, "legend": None}
        rule = {
            "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5},
            "encoding": {"y": y, "color": color, "tooltip": [{"field": "label", "title": "Threshold"}]},
        }
        layers.append({"data": {"values": rows}, "layer": [rule]})
        if labelled:
            text = {
                "mark": {"type": "text", "align": "right", "baseline": "bottom", "dx": -2, "dy": -3, "fontSize": 10},
                "encoding": {"x": {"value": "width"}, "y": y, "color": color, "text": {"field": "label"}},
            }
            layers[0]["layer"].append(text)
    if labelled and off_chart:
        above = " · ".join(threshold_label(level, value, unit) for level, value in off_chart)
        layers.append(
            {
                "data": {"values": [{}]},
                "mark": {
                    "type": "text",
                    "text": f"↑ {above}",
                    "align": "right",
                    "baseline": "bottom",
                    "dx": -2,
                    "fontSize": 10,
                    "color": NOTE_COLOR,
                },
                "encoding": {"x": {"value": "width"}, "y": {"value": -6}},
            }
        )
    return layers


def distribution(counts: Mapping[str, int], *, title: str, height: int = 150) -> Chart | None:
    """Horizontal bars of ``{name: count}``, in one colour (a colour per name would suggest a meaning)."""
    if not counts:
        return None
    data = pd.DataFrame({"name": list(counts), "count": list(counts.values())})
    spec = {
        "height": height,
        "autosize": FIT_WIDTH,
        "mark": {"type": "bar", "cornerRadiusEnd": 3, "color": "#4c78a8"},
        "encoding": {
            "y": {"field": "name", "type": "nominal", "title": None, "sort": "-x"},
            "x": {
                "field": "count",
                "type": "quantitative",
                "title": title,
                "axis": {"tickMinStep": 1},
                "scale": {"domain": [0, max(1, int(data["count"].max()))], "nice": True},
            },
            "tooltip": [
                {"field": "name", "type": "nominal", "title": "Name"},
                {"field": "count", "type": "quantitative", "title": "Count"},
            ],
        },
    }
    return Chart(spec, _arrow(data))


def alert_counts(events: list[dict], *, minutes: float, now: float, height: int = 180) -> Chart | None:
    """Stacked bars of alert events per level over time (about 30 buckets over the range)."""
    if not events:
        return None
    bucket = max(10.0, minutes * 60 / 30)
    frame = pd.DataFrame({"timestamp": [e["timestamp"] for e in events], "level": [e["level"] for e in events]})
    frame["bucket"] = (frame["timestamp"] // bucket) * bucket
    counts = frame.groupby(["bucket", "level"]).size().reset_index(name="count")
    tallest = int(counts.groupby("bucket")["count"].sum().max())
    counts["t"] = (counts["bucket"] - (now - minutes * 60)).astype("float32")
    start_ms = _ms(now - minutes * 60)
    spec = {
        "height": height,
        "autosize": FIT_WIDTH,
        "transform": [
            {"calculate": f"datum.t * 1000 + {start_ms}", "as": "from"},
            {"calculate": f"datum.from + {bucket * 1000:.0f}", "as": "to"},
        ],
        "mark": {"type": "bar", "clip": True},
        "encoding": {
            "x": {
                "field": "from",
                "type": "temporal",
                "axis": time_axis(minutes * 60),
                "scale": {"domain": time_domain(now - minutes * 60, now)},
            },
            "x2": {"field": "to"},
            "y": {
                "aggregate": "sum",
                "field": "count",
                "type": "quantitative",
                "title": "Alert events",
                "axis": {"tickMinStep": 1},
                "scale": {"domain": [0, max(1, tallest)], "nice": True},
            },
            "color": {
                "field": "level",
                "type": "nominal",
                "scale": {"domain": LEVEL_ORDER, "range": [LEVEL_COLORS[lv] for lv in LEVEL_ORDER]},
                "legend": {**LEGEND, "symbolType": "square"},
            },
            "tooltip": [
                {"field": "from", "type": "temporal", "title": "From", "format": "%H:%M:%S"},
                {"field": "level", "type": "nominal", "title": "Level"},
                {"field": "count", "type": "quantitative", "title": "Events", "aggregate": "sum"},
            ],
        },
    }
    return Chart(spec, _arrow(counts[["t", "level", "count"]]))
