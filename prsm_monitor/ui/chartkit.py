"""What every chart shares: the :class:`Chart` record, its named datasets and the ``bounds`` parameter.

A chart is an Altair spec built once per shape and shared (:func:`to_spec`), plus this tick's
rows as named Arrow datasets. Every layer names its dataset:

- ``rows``: the measured values (one row per time, or per bar, cell, node);
- ``marks``: the few marks of thresholds and insight, ``kind`` saying which layer draws a row
  (:func:`marks_of`) and its position in ``x``, ``x2`` (epoch ms), ``y``, ``y2``, named
  like the channels that draw them. Its first row is the *window* (:func:`window`): ``x``..``x2``
  the time domain (``x`` is also the time base of the rows: their ``t`` is seconds after it),
  ``y``..``y2`` the value domain, and ``label`` a note above the plot. Every scale reads it through
  :data:`BOUNDS`, and :func:`window_layer` draws its note. (One small table, not two: each
  Arrow table costs some 400 bytes of schema per chart per tick.)

Explicit domains matter: Streamlit creates the view before it inserts the data, and a scale
that derives its domain from no data logs an "Infinite extent" warning in the browser.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import altair as alt
import pandas as pd
import pyarrow as pa
from streamlit.dataframe_util import convert_arrow_table_to_arrow_bytes

ROWS, MARKS = "rows", "marks"
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
NOTE_COLOR = "#6b7280"
LEGEND = {"title": None, "orient": "bottom", "symbolType": "stroke", "symbolStrokeWidth": 3}
NO_AXIS = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
# The window row; before the first data arrives a minute from the epoch, values 0 to 1.
BOUNDS = alt.param(name="bounds", expr=f"data('{MARKS}')[0] || {{x: 0, x2: 60000, y: 0, y2: 1}}")
TIME_DOMAIN = alt.Scale(domain=[alt.ExprRef("bounds.x"), alt.ExprRef("bounds.x2")])
VALUE_DOMAIN = alt.Scale(domain=[alt.ExprRef("bounds.y"), alt.ExprRef("bounds.y2")], nice=True)
TIME_BASE = "bounds.x"  # the rows' times are seconds after the window's start: ``datum.t * 1000 + bounds.x``
MARKS_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("x", pa.float64()),
        ("x2", pa.float64()),
        ("y", pa.float64()),
        ("y2", pa.float64()),
        ("label", pa.string()),
    ]
)
built: Counter[str] = Counter()  # specs built per kind of chart: the tests' and the bench's view of the caches
_built_lock = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """A Vega-Lite ``spec`` (built once and shared: never changed) and the ``datasets`` it
    names, as Arrow tables (this tick's)."""

    spec: dict
    datasets: Mapping[str, pa.Table] = field(default_factory=dict)
    # A time series' own description, for a tail that continues it (:func:`.charts.tail`): its
    # shape (the spec's cache key), its window row and the fields its columns s0, s1, ... hold.
    shape: Hashable | None = None
    window: Mapping | None = None
    fields: tuple[str, ...] = ()

    @property
    def data(self) -> pa.Table | None:
        """The measured rows."""
        return self.datasets.get(ROWS)

    @functools.cached_property
    def ipc(self) -> dict[str, bytes]:
        """The datasets as Arrow IPC bytes, serialized once for every viewer of this chart."""
        return {name: convert_arrow_table_to_arrow_bytes(table) for name, table in self.datasets.items()}

    def vega_lite(self) -> dict:
        """The spec with this tick's datasets: a new top-level dict, the shared spec left alone."""
        return {**self.spec, "datasets": self.ipc}


def to_spec(chart: alt.TopLevelMixin, kind: str) -> dict:
    """``chart.to_dict()`` without validation (our charts are tested), counted in :data:`built`;
    without Altair's default view size and schema URL (sent with every tick, used by nothing here)."""
    with _built_lock:
        built[kind] += 1
    spec = chart.to_dict(validate=False)
    spec.pop("$schema", None)
    if spec.get("config") == {"view": {"continuousWidth": 300, "continuousHeight": 300}}:
        del spec["config"]
    return spec


def ms(timestamp: float) -> float:
    """Epoch seconds as the epoch milliseconds Vega-Lite reads."""
    return float(round(timestamp * 1000))


def arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table without pandas' schema metadata (about 1 KB per chart per tick)."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def time_format(span_seconds: float, compact: bool = False) -> str:
    """The time axis's format: seconds on short spans, days and months on long ones."""
    if span_seconds <= (300 if compact else 600):
        return "%H:%M:%S"
    if span_seconds <= 2 * 86400:
        return "%H:%M"
    return "%b %d" if span_seconds <= 60 * 86400 else "%b %Y"


def window(x0: float = 0.0, x1: float = 60.0, y0: float = 0.0, y1: float = 1.0, note: str | None = None) -> dict:
    """The window row of ``marks``: times ``x0``..``x1`` (epoch seconds), values ``y0``..``y1``, a note."""
    return {"kind": "window", "x": ms(x0), "x2": ms(x1), "y": float(y0), "y2": float(y1), "label": note}


def fitted_legend(labels: Sequence[str], font_size: float = 12, **legend) -> alt.Legend:
    """A legend in as many columns as fit the chart's width (Vega's ``width`` signal), each
    column as wide as the longest label needs: no label is cut ("500 ms and ove") and no
    entry falls off the right edge, at any width. Widths are estimated from the label's length
    (an average glyph is about 0.62 em) plus the symbol and the padding."""
    widest = max((len(label) for label in labels), default=1) * font_size * 0.62 + 16 + 6 + 12
    return alt.Legend(
        columns=alt.ExprRef(f"max(1, floor(width / {widest:.0f}))"),
        labelLimit=0,
        labelFontSize=font_size,
        columnPadding=12,
        **legend,
    )


def window_layer() -> alt.Chart:
    """The window's note, right-aligned above the plot (none: nothing drawn)."""
    return (
        marks_of("window")
        .transform_filter("datum.label")
        .mark_text(align="right", baseline="bottom", dx=-2, fontSize=10, color=NOTE_COLOR)
        .encode(x=alt.XValue("width"), y=alt.YValue(-6), text="label:N")
    )


def marks_table(window_row: Mapping, rows: Sequence[Mapping] = ()) -> pa.Table:
    """The ``marks`` dataset: the window row, then ``rows`` (a row's absent columns are null)."""
    return pa.Table.from_pylist([window_row, *rows], schema=MARKS_SCHEMA)


def marks_of(*kinds: str) -> alt.Chart:
    """A layer drawn from the ``marks`` rows of these ``kinds``."""
    return alt.Chart(alt.NamedData(MARKS)).transform_filter(alt.FieldOneOfPredicate(field="kind", oneOf=list(kinds)))
