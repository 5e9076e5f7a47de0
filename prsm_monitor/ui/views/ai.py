"""AI Models page: models table, inference rate, time and confidence with thresholds, distributions,
and one model's own charts."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from ... import units
from ...core.collector import MetricsCollector
from .. import charts, kpi
from ..kpi import Kpi
from ..shared_views import draw_rows, kpi_row, latest, per_version, steady
from ..state import Prefs
from ..text import escape_markdown
from ..timechart import TimeChart, show
from . import nodes as real_nodes
from .common import MISSING, arrow_rows, detail_charts, range_note, source_error, table
from .network import NO_SOURCE

NOT_FROM_NODES = "No PRSM node of PRSM_NODE_URLS has been read yet."

KPIS = (
    Kpi("active_models", "Models up", kpi.count, "Model instances on nodes that are up", rise="good"),
    Kpi("inference_rate", "Inferences/s", kpi.rate, "Requests completed per second over the window"),
    Kpi(
        "success_rate", "Success rate", kpi.ratio_pct, "Valid answers before the deadline, over the window", rise="good"
    ),
    Kpi(
        "average_inference_time",
        "Inference time",
        kpi.seconds,
        "Submission to answer, mean over the window",
        rise="bad",
    ),
    Kpi(
        "average_confidence",
        "Confidence",
        kpi.plain,
        "Top-class probability of classifier answers, mean",
        rise="good",
    ),
    Kpi("total_inferences", "Inferences", kpi.count, "Requests completed since the monitor started"),
)
CHARTS = (
    (
        TimeChart(
            "Inference time",
            {"average_inference_time": "Inference time", "p95_inference_time": "p95"},
            "s",
            "Submission to answer",
            rule="inference_time",
        ),
        TimeChart("Confidence", {"average_confidence": "Confidence"}, "ratio", "Mean", rule="confidence"),
    ),
    (
        TimeChart("Success rate", {"success_rate": "Success rate"}, "ratio", "Answered in time", rule="success_rate"),
        TimeChart("Inference rate", {"inference_rate": "Inferences/s"}, "requests/s", "Completed"),
    ),
    (
        TimeChart("Input drift", {"input_drift": "Input drift"}, "", "Standard errors from training"),
        TimeChart("Accuracy", {"accuracy": "Accuracy"}, "ratio", "Right answers (classifiers)"),
    ),
)
INPUT_DRIFT_NOTE = (
    "Input drift: how far the models' inputs are from the data they were trained on, in standard "
    "errors of the window's requests (about 1 as trained). Per model, *input scale* is the root mean "
    "square of its inputs standardised by its training inputs: 1 as trained, below 1 when inputs lost "
    "spread, above 1 when they moved away."
)
MODEL_CHARTS = {
    "time": TimeChart(None, {"average_time_s": "Inference time"}, "s", "Inference time", rule="inference_time"),
    "classifier": TimeChart(None, {"mean_confidence": "Confidence"}, "ratio", "Confidence", rule="confidence"),
    "regressor": TimeChart(None, {"mean_absolute_error": "Mean abs. error"}, "", "Mean abs. error"),
    "input": TimeChart(None, {"input_scale": "Input scale"}, "", "Input scale (1 as trained)"),
}
# Widths in px: every header and value whole in the main area at 1024 px with the sidebar open
# (about 560 px; tests/test_browser_tables.py). Framework, type, inferences and input scale of
# each host are under Model detail.
MODEL_COLUMNS = {
    "model": st.column_config.TextColumn("Model", width=135),
    "node": st.column_config.TextColumn("Node", width=75),
    "status": st.column_config.TextColumn("Status", width=65),
    "success_rate": st.column_config.NumberColumn(  # a number: a model without requests reads "–", not a blank bar
        "Success", format="percent", help="Served share of its requests, windowed", width=70
    ),
    "time_p50_p95": st.column_config.TextColumn(
        "Time p50 / p95", help="Request time on this host, median / 95th percentile, windowed", width=115
    ),
    "mean_confidence": st.column_config.NumberColumn(
        "Confidence", help="Classifiers only; regressors have none", format="%.3f", width=90
    ),
}
HOST_COLUMNS = {
    "node": MODEL_COLUMNS["node"],
    "status": MODEL_COLUMNS["status"],
    "inferences": st.column_config.NumberColumn(
        "Inferences", help="Served by this host, cumulative", format="localized", width=85
    ),
    "success_rate": MODEL_COLUMNS["success_rate"],
    "time_p50_p95": MODEL_COLUMNS["time_p50_p95"],
    "input_scale": st.column_config.NumberColumn(
        "Input scale",
        help="RMS of its inputs standardised by its training inputs: 1 as trained",
        format="%.2f",
        width=90,
    ),
}


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = latest(collector)
    record = metrics["ai"]
    source_error(metrics, "ai")
    if record is None:
        st.info(NOT_FROM_NODES if collector.settings.node_urls else NO_SOURCE, icon=":material/info:")
        return
    if record.get("source") == "nodes":  # real PRSM nodes (PRSM_NODE_URLS): their compute jobs
        return real_nodes.ai(collector, record, prefs)
    kpi_row(collector, "ai", KPIS)
    range_note(collector, "ai", prefs.minutes, prefs.range_label)
    draw_rows(CHARTS, collector, "ai", prefs.minutes)
    st.caption(INPUT_DRIFT_NOTE)
    st.subheader("Models")
    st.caption(MODELS_NOTE)
    rows = steady(collector, ("model_rows",), model_states, lambda c: arrow_rows(shared_model_rows(c), MODEL_COLUMNS))
    table(rows, MODEL_COLUMNS)
    for column, (field, title) in zip(st.columns(2), DISTRIBUTIONS.items(), strict=True):
        with column:
            show(distribution(collector, field, title), "No models deployed.")
    model_detail(collector, record, prefs)


DISTRIBUTIONS = {"distribution_by_framework": "Instances by framework", "distribution_by_type": "Instances by type"}


MODELS_NOTE = "Each model instance: its status at once, its figures re-read every 5 s."


def model_states(collector: MetricsCollector) -> tuple:
    """What the models table must show at once: which instances there are and their status
    (its figures may be a few seconds old, :func:`shared_views.steady`)."""
    models = (latest(collector)["ai"] or {}).get("models") or []
    return tuple((m.get("node"), m.get("model"), m.get("status")) for m in models)


def model_rows(collector: MetricsCollector) -> pd.DataFrame:
    """One row per model on a host, with every field the page shows of it (both tables)."""
    fields = [*MODEL_COLUMNS, *HOST_COLUMNS, "framework", "type", "p50_time_s", "p95_time_s"]
    rows = pd.DataFrame((latest(collector)["ai"] or {}).get("models") or [], columns=list(dict.fromkeys(fields)))
    rows["time_p50_p95"] = [time_pair(a, b) for a, b in zip(rows["p50_time_s"], rows["p95_time_s"], strict=True)]
    return rows


def shared_model_rows(collector: MetricsCollector) -> pd.DataFrame:
    """:func:`model_rows` once per collector version, for both tables."""
    return per_version(collector, ("model_frame",), model_rows)


def time_pair(p50: float | None, p95: float | None) -> str | None:
    """``62 / 293 ms`` or ``5.31 / 6.27 s``: both on the scale of the larger, the unit said once;
    None (shown "–") when neither is known."""
    known = [v for v in (p50, p95) if v is not None and math.isfinite(v)]
    if not known:
        return None
    seconds = max(known) >= 1
    scale, unit = (1.0, "s") if seconds else (1000.0, "ms")

    def one(value: float | None) -> str:
        return MISSING if value is None or not math.isfinite(value) else units.number(value * scale)

    return f"{one(p50)} / {one(p95)} {unit}"


def distribution(collector: MetricsCollector, field: str, title: str) -> charts.Chart | None:
    """The bars of instances per name (``distribution_by_framework``, ``distribution_by_type``):
    the same chart object while the counts are the same (:func:`shared_views.steady`), so it is
    not rebuilt each tick and every viewer gets a reference to its copy."""

    def counts(c) -> dict:
        return (latest(c)["ai"] or {}).get(field) or {}

    return steady(
        collector,
        ("distribution", field),
        lambda c: tuple(counts(c).items()),
        lambda c: charts.distribution(counts(c), title=title),
        seconds=math.inf,
    )


def hosts_of(collector: MetricsCollector, name: str) -> pd.DataFrame:
    """The rows of model ``name``, one per host (the detail's table; like the models table, its
    figures re-read every few seconds and its hosts' status at once: :func:`shared_views.steady`)."""
    rows = shared_model_rows(collector)
    return rows[rows["model"] == name]


def model_detail(collector: MetricsCollector, record: dict, prefs: Prefs) -> None:
    """Drill-down: one model's figures across its hosts, and its own history."""
    st.subheader("Model detail")
    summary = record.get("model_summary") or []
    names = [m["model"] for m in summary]
    if not names:
        st.caption("No models deployed.")
        return
    name = st.selectbox("Model", names, key="ai_model")
    row = next(m for m in summary if m["model"] == name)
    regressor = row["type"] == "regressor"
    hosts, shown = steady(  # the table converted once for every viewer of this model, not per refresh
        collector, ("model_hosts", name), model_states, lambda c: (h := hosts_of(c, name), arrow_rows(h, HOST_COLUMNS))
    )
    kind = ", ".join(escape_markdown(v) for v in dict.fromkeys(hosts["framework"].dropna()))
    count = f"{len(hosts)} host{'' if len(hosts) == 1 else 's'}"
    kpi.figure_row(
        (
            ("Hosts up", row["live_hosts"], lambda v: f"{v:.0f}/{row['hosts']}"),
            ("Success", row["success_rate"], kpi.ratio_pct),
            ("Time", row["average_time_s"], kpi.seconds),
            ("Mean abs. error", row.get("mean_absolute_error"), kpi.plain)
            if regressor
            else ("Confidence", row["mean_confidence"], kpi.plain),
            ("Input scale", row.get("input_scale"), kpi.plain),
            ("Injected drift", row["drift"], kpi.plain),
        )
    )
    quality = MODEL_CHARTS["regressor" if regressor else "classifier"]
    st.caption(f"A {escape_markdown(row['type'])} model of framework {kind or MISSING}, on {count}:")
    table(shown, HOST_COLUMNS)
    detail_charts(
        collector, f"model:{name}", prefs.minutes, ((MODEL_CHARTS["time"], quality), (MODEL_CHARTS["input"],))
    )
