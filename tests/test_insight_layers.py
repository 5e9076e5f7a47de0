"""The insight's chart layers: a pure function of the chart and the insight's state."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prsm_monitor.insight.engine import Episode, Forecast
from prsm_monitor.insight.forecast import Trend
from prsm_monitor.insight.limits import Limit
from prsm_monitor.insight.watch import Column
from prsm_monitor.ui import charts, insight_layers

T0 = 1_800_000_000.0


class State:
    """What decorate reads of an Insight: a band, two overlapping anomalies, one forecast."""

    def band_of(self, series, field, since):
        t = T0 + np.arange(0, 600, 5.0)
        return t, np.full(t.size, 40.0), np.full(t.size, 60.0)

    def anomalies_of(self, series, fields, since):
        column = Column("system", "memory_percent", "%")
        return [Episode(column, T0 + 300, T0 + 400), Episode(column, T0 + 350, T0 + 450)]

    def forecast_of(self, series, field):
        trend = Trend(T0 + 600, 70.0, 0.01, 900.0, 1.0, 0.1)
        return Forecast(Limit("system", "memory_percent", 100.0, "memory full"), trend, 3000.0)


FIELDS = {"memory_percent": "Memory"}


def frame() -> pd.DataFrame:
    return pd.DataFrame({"timestamp": T0 + np.arange(600.0), "memory_percent": np.linspace(50, 70, 600)})


def test_band_anomalies_and_forecast_are_marks_of_this_tick():
    decor = insight_layers.decor("system", FIELDS, State(), T0, T0 + 599, band=True)
    kinds = [row["kind"] for row in decor.rows]
    assert set(kinds) == {"band", "anomaly", "forecast"} and kinds.count("band") == 120
    (span,) = [row for row in decor.rows if row["kind"] == "anomaly"]
    assert span["x2"] - span["x"] == 150_000 and span["label"] == "memory_percent"  # the two merged, named once
    forecast = [row for row in decor.rows if row["kind"] == "forecast"]
    assert [row["label"] for row in forecast] == ["", "memory full in 50 min"]
    assert decor.end > T0 + 599  # the time axis reaches into the forecast
    chart = charts.timeseries(frame(), FIELDS, unit="%", insight=decor)
    window, *rows = chart.datasets["marks"].to_pylist()
    assert window["kind"] == "window" and window["x2"] == round(decor.end * 1000)
    assert [row["kind"] for row in rows] == kinds  # after the window (no threshold on this chart)


def test_the_layers_draw_band_and_spans_beneath_the_lines_and_the_forecast_above():
    chart = charts.timeseries(
        frame(), FIELDS, unit="%", insight=insight_layers.decor("system", FIELDS, State(), T0, T0 + 599, band=True)
    )
    layers = chart.spec["layer"]
    filters = [layer.get("transform", [{}])[0].get("filter", {}).get("oneOf") for layer in layers]
    lines = next(i for i, layer in enumerate(layers) if "layer" in layer)
    assert filters[:lines] == [["band"], ["anomaly"]]
    assert ["forecast"] in filters[lines:]
    band, spans = layers[0], layers[1]
    assert band["mark"]["type"] == "area" and band["mark"]["interpolate"] == "step-after"
    assert spans["mark"]["type"] == "rect" and spans["encoding"]["x2"] == {"field": "x2"}
    forecast = next(layer for layer in layers if layer.get("mark", {}).get("type") == "line")
    assert forecast["mark"]["strokeDash"] and forecast["mark"]["clip"]


def test_without_the_band_preference_no_band():
    decor = insight_layers.decor("system", FIELDS, State(), T0, T0 + 599, band=False)
    assert "band" not in [row["kind"] for row in decor.rows]
    chart = charts.timeseries(frame(), FIELDS, unit="%", compact=True, insight=decor)
    assert "area" not in [layer.get("mark", {}).get("type") for layer in chart.spec["layer"]]


def test_a_chart_without_series_or_insight_has_no_insight_layers():
    assert insight_layers.decor(None, FIELDS, State(), T0, T0 + 599, band=True) is None
    assert insight_layers.decor("system", FIELDS, None, T0, T0 + 599, band=True) is None
    plain = charts.timeseries(frame(), FIELDS, unit="%")
    assert [layer for layer in plain.spec["layer"] if layer.get("mark", {}).get("type") == "rect"] == []
