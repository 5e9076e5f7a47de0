"""The insight's chart layers: a pure function of the chart and the insight's state."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from prsm_monitor.insight.engine import Episode, Forecast
from prsm_monitor.insight.forecast import Trend
from prsm_monitor.insight.limits import Limit
from prsm_monitor.insight.watch import Column
from prsm_monitor.ui import charts
from prsm_monitor.ui.insight_layers import decorate

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


def chart():
    frame = pd.DataFrame({"timestamp": T0 + np.arange(600.0), "memory_percent": np.linspace(50, 70, 600)})
    return charts.timeseries(frame, {"memory_percent": "Memory"}, unit="%")


def test_band_anomalies_and_forecast_are_added_and_the_input_is_left_alone():
    base = chart()
    before = copy.deepcopy(base.spec)
    spec = decorate(base, "system", {"memory_percent": "Memory"}, State(), band=True, compact=False).spec
    assert base.spec == before
    marks = [layer.get("mark", {}).get("type") for layer in spec["layer"]]
    assert marks[:2] == ["area", "rect"]  # band and anomaly spans beneath the lines
    spans = spec["layer"][1]["data"]["values"]
    assert len(spans) == 1 and spans[0]["end"] - spans[0]["time"] == 150_000  # the two merged
    forecast = spec["layer"][-1]
    assert forecast["layer"][0]["mark"]["strokeDash"] and forecast["data"]["values"][1]["label"] == (
        "memory full in 50 min"
    )
    end = int(spec["layer"][2]["encoding"]["x"]["scale"]["domain"][1]["expr"])
    assert end > round((T0 + 600) * 1000)  # the time axis reaches into the forecast


def test_without_the_band_preference_no_band():
    spec = decorate(chart(), "system", {"memory_percent": "Memory"}, State(), band=False, compact=True).spec
    assert "area" not in [layer.get("mark", {}).get("type") for layer in spec["layer"]]


def test_a_chart_without_series_or_insight_is_returned_as_is():
    base = chart()
    assert decorate(base, None, {"memory_percent": "Memory"}, State(), band=True, compact=False) is base
    assert decorate(base, "system", {"memory_percent": "Memory"}, None, band=True, compact=False) is base
