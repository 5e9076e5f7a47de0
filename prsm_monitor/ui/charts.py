"""Time-series charts: Altair specs built once per shape, rows sent per tick (:mod:`.chartkit`).

Building an Altair chart costs milliseconds (``to_dict`` of a layered chart about 8 ms here),
so a time series' spec is built once per :class:`Shape` (everything the spec depends on:
series and their labels, unit, axis title and format, height, the insight layers the viewer
sees) and kept; what moves from tick to tick (the rows, the window's domains, thresholds,
notes and insight marks) travels as named datasets beside it.

- Series are columns named ``s0``, ``s1``, ...; their labels are only shown (legend, tooltip
  titles), never used as field names: a ``.`` in a Vega-Lite field name is a path.
- The declared height is the plot's own (``autosize: fit-x``): a legend or an axis adds to
  it instead of squashing the plot, and charts side by side with the same chrome line up.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from . import insight_layers
from .bar_charts import alert_counts, distribution  # noqa: F401 - the pages' names for the bar charts
from .chart_rows import break_gaps, compact_times, time_axis, time_window, value_domain
from .chart_thresholds import above_note, split_thresholds, threshold_layers, threshold_marks
from .chartkit import (
    BOUNDS,
    FIT_WIDTH,
    LEGEND,
    MARKS,
    ROWS,
    TIME_BASE,
    TIME_DOMAIN,
    VALUE_DOMAIN,
    Chart,  # noqa: F401 - the pages' name for a drawn chart
    arrow,
    fitted_legend,
    marks_table,
    time_format,
    to_spec,
    window,
    window_layer,
)
from .style import PARTS_COLOR, series_color

CHART_HEIGHT = 200
PART_WIDTH = 1.0  # per-core lines: thin, and their tooltip names the core only
HEADROOM = 0.1  # of a body's value range above its values, so that the tail's next ones fit


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


@dataclass(frozen=True)
class Shape:
    """What a time series' spec depends on (its cache key): ``lines`` are ``(column, legend
    label, tooltip name, stroke width)`` from the bottom up, ``legend`` and ``colors`` the
    colour scale; ``thresholds`` whether any is drawn, ``insight`` the kinds of insight marks
    drawn (:attr:`insight_layers.Decor.kinds`)."""

    lines: tuple[tuple[str, str, str, float], ...]
    legend: tuple[str, ...]
    colors: tuple[str, ...]
    unit: str
    axis_title: str | None
    time_format: str
    height: int
    compact: bool
    rollup: bool
    thresholds: bool
    insight: tuple[str, ...]


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
    insight: insight_layers.Decor | None = None,
    reach: float | None = None,
    also: np.ndarray | None = None,
) -> Chart | None:
    """Lines of ``series`` (``{field: label}``) over time, with warning and critical rule lines.

    The first series is drawn on top and the others beneath it, in reverse order; ``parts``
    add thin faded lines under the first; ``insight`` adds the normal band, anomalies and the
    forecast (:mod:`.insight_layers`). The rows are sent wide (one per time): the time in
    seconds after the window's start (:func:`compact_times`), 4 bytes (float32) per series. ``title`` names the
    y axis (with the unit); ``compact`` drops axis titles, legend and labels (small trend charts
    that the caption above names). ``reach`` (epoch seconds) is where the time axis ends at
    the least, ``also`` values the value axis must hold: a body that a tail (:func:`tail`)
    continues up to now."""
    if frame.empty:
        return None
    main, extra = drawn_fields(frame, series, parts)
    if not main and not extra:
        return None
    data = pd.DataFrame({f"s{i}": frame[f].astype("float32") for i, (f, _) in enumerate(main + extra)})
    band = main[0][0] if main and band_of(frame, main[0][0]) else None  # rollups: the first series' min-max
    if band:
        data["lo"] = frame[f"{band}_min"].astype("float32")
        data["hi"] = frame[f"{band}_max"].astype("float32")
    base, last = float(frame["timestamp"].iloc[0]), float(frame["timestamp"].iloc[-1])
    x0, x1 = time_window(base, last)
    x1 = max(x1, reach or x1)
    data.insert(0, "t", (frame["timestamp"] - x0).astype("float32"))
    data = break_gaps(data)
    values = data.drop(columns="t").to_numpy(dtype="float64")
    if also is not None and also.size:
        values = np.concatenate([values.ravel(), np.asarray(also, dtype="float64").ravel()])
    data_max = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    shown, off_chart = split_thresholds(thresholds, data_max, unit)
    y0, y1 = value_domain(values, unit, zero, [v for _, v in shown])
    if reach is not None and unit not in ("%", "ratio"):  # room for the tail's next values
        y1 += HEADROOM * (y1 - y0)
    marks = threshold_marks(shown, unit)
    if insight is not None:
        marks += insight.rows
        x1 = max(x1, insight.end)

    legend = [label for _, label in main]
    colors = [series_color(label, i) for i, label in enumerate(legend)]
    if extra:
        legend.append(parts.legend)
        colors.append(PARTS_COLOR)
    offset, main_width = len(main), 2.4 if extra else 1.8
    lines = [(f"s{offset + i}", parts.legend, name, PART_WIDTH) for i, (_, name) in enumerate(extra)]
    lines += [(f"s{i}", label, label, main_width) for i, (_, label) in reversed(list(enumerate(main)))]
    shape = Shape(
        lines=tuple(lines),
        legend=tuple(legend),
        colors=tuple(colors),
        unit=unit,
        axis_title=None if compact else (f"{title} ({unit})" if unit and title else title or None),
        time_format=time_format(last - base, compact),
        height=height,
        compact=compact,
        rollup=band is not None,
        thresholds=bool(shown),
        insight=() if insight is None else insight.kinds,
    )
    note = None if compact else above_note(off_chart, unit)
    bounds = window(x0, x1, float(f"{y0:.6g}"), float(f"{y1:.6g}"), note)
    datasets = {
        ROWS: arrow(data).set_column(0, "t", pa.array(compact_times(data["t"].to_numpy()))),
        MARKS: marks_table(bounds, marks),
    }
    fields = tuple(f for f, _ in main + extra)
    return Chart(timeseries_spec(shape), datasets, shape=shape, window=bounds, fields=fields)


TAIL_LABEL = "Newest values"  # the tail's accessible name; the page's style finds it by it (timechart.LIVE_CSS)


def tail(body: Chart, times: np.ndarray, values: np.ndarray) -> dict | None:
    """The spec of a small chart drawn over ``body`` (:func:`tail_spec`: its plot laid out where
    the body's is, nothing drawn but the lines) through ``times`` (epoch seconds: the body's last
    rows, then the newer ones at the body's resolution, :func:`chart_rows.at_step`) and ``values``
    (one row per field of the body, :attr:`Chart.fields`), inline. The body holds still while
    the tail moves: a viewer's browser keeps the body and is sent only this (a few hundred bytes
    for a line of a few points). None when there is nothing to add to the body.

    Its time axis is seconds after the body's window start (``t``, as the body's rows), on a
    linear scale over the body's window: the same place for the same time as the body's time
    scale, with no transform and no epoch in the spec."""
    if body.shape is None or times.size < 2:
        return None
    relative = np.round(times - body.window["x"] / 1000, 3)
    columns = {"t": [_short(t) for t in relative.tolist()]}
    for i, row in enumerate(values):
        columns[f"s{i}"] = [None if not np.isfinite(v) else _short(float(f"{v:.4g}")) for v in row.tolist()]
    rows = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    label = body.window.get("label")
    template = tail_spec(body.shape, bool(label))
    lines, *note = template["layer"]
    span = _short(round((body.window["x2"] - body.window["x"]) / 1000, 3))
    x = {"field": "t", "type": "quantitative", "scale": {"domain": [0, span]}, "axis": None}
    y = {**lines["encoding"]["y"], "scale": {**VALUE_SCALE, "domain": [_short(body.window[k]) for k in ("y", "y2")]}}
    lines = {**lines, "data": {"values": rows}, "encoding": {"x": x, "y": y}}
    note = [{**layer, "data": {"values": [{"label": label}]}} for layer in note]
    return {**template, "layer": [lines, *note]}


def _short(value: float) -> float | int:
    """A whole number as an int (``55``, not ``55.0``, in the JSON)."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


VALUE_SCALE = {"nice": True}  # the body's value scale (chartkit.VALUE_DOMAIN) but for its domain


@functools.lru_cache(maxsize=256)
def tail_spec(shape: Shape, noted: bool = False) -> dict:
    """The tail's spec for ``shape`` (rows and domains filled in per tick by :func:`tail`),
    derived from the body's Altair spec (:func:`timeseries_spec`) without building another.

    Its plot must land exactly on the body's, and a plot is moved by whatever is drawn outside
    it. Every mark of the body is clipped to its plot (a threshold's label sits under its rule,
    :data:`chart_thresholds.LABEL_BASELINE`) and its time axis labels are flush with the plot
    (Vega-Lite's default for a continuous x scale), so only the value axis, the legend and the
    note above the plot count. The tail has the body's value axis (same scale, so the same
    ticks and labels) and its note (``noted``, not drawn); no time axis, which lies below the
    plot, and no legend, which the body draws below its plot where it moves nothing the tail
    needs. The page's style (:data:`timechart.LIVE_CSS`) hides its axis and its background,
    so nothing of that rides along in each tick's spec; its lines are coloured as the body's."""
    body = timeseries_spec(shape)
    lines = copy.deepcopy(next(layer for layer in body["layer"] if layer.get("data") == {"name": ROWS}))
    colors = dict(zip(shape.legend, shape.colors, strict=True))
    drawn = []
    for layer in lines["layer"]:
        if layer["mark"]["type"] == "line":
            encoding = layer["encoding"]
            drawn.append({"mark": {**layer["mark"], "color": colors[encoding["color"]["datum"]]}, "y": encoding["y"]})
    layers = [
        {  # one layer of the lines, for their data (a spec's top-level data would be sent as Arrow)
            "layer": [{"mark": d["mark"], "encoding": {"y": d["y"]}} for d in drawn],
            "encoding": {"y": {k: v for k, v in lines["encoding"]["y"].items() if k != "scale"}},
        }
    ]
    if noted:
        note = copy.deepcopy(
            next(
                layer
                for layer in body["layer"]
                if layer.get("data") == {"name": MARKS}
                and layer.get("mark", {}).get("type") == "text"
                and "label" in str(layer.get("encoding"))
            )
        )
        note.pop("transform", None)
        note["mark"] = {**note["mark"], "opacity": 0}
        layers.append(note)
    return {"description": TAIL_LABEL, "layer": layers, "height": body["height"], "autosize": body["autosize"]}


def drawn_fields(
    frame: pd.DataFrame, series: Mapping[str, str], parts: Parts | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(main, extra)``: the ``(field, label)`` of the series with a value in ``frame``, and of
    its parts; a chart's columns ``s0``, ``s1``, ... in that order."""
    main = [(f, series[f]) for f in series if f in frame.columns and frame[f].notna().any()]
    return main, parts.fields(frame) if parts else []


def channels(shape: Shape) -> tuple[alt.X, alt.Y, alt.Color]:
    """The lines' time, value and colour channels."""
    y_axis = alt.Axis(title=shape.axis_title)
    if shape.unit.endswith("/s"):  # 1.5M, 20k; with the prefix of the largest tick, so 0 reads "0M" unless told
        y_axis = alt.Axis(title=shape.axis_title, format="~s", labelExpr="datum.value == 0 ? '0' : datum.label")
    x = alt.X("time:T", axis=time_axis(shape.time_format, shape.compact), scale=TIME_DOMAIN)
    y = alt.Y(type="quantitative", axis=y_axis, scale=VALUE_DOMAIN)
    color = alt.Color(
        type="nominal",
        scale=alt.Scale(domain=list(shape.legend), range=list(shape.colors)),
        legend=None if shape.compact else fitted_legend(shape.legend, **LEGEND),
    )
    return x, y, color


def line_layers(shape: Shape, tooltips: bool = True) -> list[alt.Chart]:
    """One line per series of ``shape``, bottom up."""
    when = alt.Tooltip("time:T", title="Time", format="%H:%M:%S")
    drawn = []
    for column, label, name, width in shape.lines:
        tip = alt.Tooltip(f"{column}:Q", title=f"{name} ({shape.unit or 'value'})", format=",.4~g")
        encoding = {"tooltip": [tip] if width == PART_WIDTH else [when, tip]} if tooltips else {}
        drawn.append(
            alt.Chart()
            .mark_line(strokeWidth=width, clip=True)
            .encode(y=alt.Y(field=column), color=alt.datum(label), **encoding)
        )
    return drawn


@functools.lru_cache(maxsize=256)
def timeseries_spec(shape: Shape) -> dict:
    """The time series' Vega-Lite spec for ``shape``, built with Altair once and shared."""
    unit = shape.unit
    x, y, color = channels(shape)
    when = alt.Tooltip("time:T", title="Time", format="%H:%M:%S")

    def value(column: str, name: str) -> alt.Tooltip:
        return alt.Tooltip(f"{column}:Q", title=f"{name} ({unit or 'value'})", format=",.4~g")

    layers = []
    if shape.rollup:  # beneath every line: where the series really went within each bucket
        first = shape.colors[0]
        layers.append(
            alt.Chart()
            .mark_area(opacity=0.18, color=first, clip=True)
            .encode(
                y=alt.Y(field="lo"),
                y2=alt.Y2(field="hi"),
                color=alt.value(first),
                tooltip=[when, value("lo", "lowest"), value("hi", "highest")],
            )
        )
    layers += line_layers(shape)
    # The lines share the time channel, its transform, the y scale and axis and the colour
    # scale (each line adds its field or its datum); the other layers have their own.
    lines = (
        alt.layer(*layers, data=alt.NamedData(ROWS))
        .transform_calculate(time=f"datum.t * 1000 + {TIME_BASE}")
        .encode(x=x, y=y, color=color)
    )

    def y_of(column: str) -> alt.Y:  # another layer's values: the lines' scale, axis and domain
        return alt.Y(f"{column}:Q")

    under, over = insight_layers.layers(y_of, shape.insight, compact=shape.compact)
    thresholds = threshold_layers(y_of("y"), labelled=not shape.compact) if shape.thresholds else []
    chart = alt.layer(*under, lines, *thresholds, *over, window_layer())
    chart = chart.add_params(BOUNDS).resolve_scale(color="independent").resolve_legend(color="independent")
    return to_spec(chart.properties(height=shape.height, autosize=FIT_WIDTH), "timeseries")


def band_of(frame: pd.DataFrame, field: str) -> bool:
    """True when ``frame`` carries a min-max band for ``field`` (history read from a rollup tier:
    each row a bucket's mean, with ``<field>_min`` and ``<field>_max``)."""
    return f"{field}_min" in frame.columns and f"{field}_max" in frame.columns and frame[f"{field}_min"].notna().any()
