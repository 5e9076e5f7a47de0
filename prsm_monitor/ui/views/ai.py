"""AI Models page: models table, inference rate, time and confidence with thresholds, distributions,
and one model's own charts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...collector import MetricsCollector
from .. import charts, kpi
from ..kpi import Kpi
from ..state import Prefs
from .common import NO_DATA, chart, detail_charts, figure_row, frame, source_error, thresholds
from .network import NO_SOURCE

KPIS = (
    Kpi("active_models", "Models up", kpi.count, "Model instances on nodes that are up"),
    Kpi("inference_rate", "Inferences/s", kpi.rate, "Requests completed per second over the window"),
    Kpi("success_rate", "Success rate", kpi.ratio_pct, "Valid answers before the deadline, over the window"),
    Kpi(
        "average_inference_time",
        "Inference time",
        kpi.seconds,
        "Submission to answer, mean over the window",
        inverse=True,
    ),
    Kpi("average_confidence", "Confidence", kpi.plain, "Top-class probability of classifier answers, mean"),
    Kpi("total_inferences", "Inferences", kpi.count, "Requests completed since the monitor started"),
)
MODEL_COLUMNS = {
    "node": st.column_config.TextColumn("Node"),
    "model": st.column_config.TextColumn("Model"),
    "framework": st.column_config.TextColumn("Framework"),
    "type": st.column_config.TextColumn("Type"),
    "status": st.column_config.TextColumn("Status"),
    "inferences": st.column_config.NumberColumn("Inferences", format="%d", help="Served by this host, cumulative"),
    "success_rate": st.column_config.ProgressColumn("Success", min_value=0, max_value=1, format="percent"),
    "p50_time_s": st.column_config.NumberColumn("p50 time (s)", format="%.3f"),
    "p95_time_s": st.column_config.NumberColumn("p95 time (s)", format="%.3f"),
    "mean_confidence": st.column_config.NumberColumn(
        "Confidence", format="%.3f", help="Classifiers only; regressors have none"
    ),
}


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = collector.get_latest_metrics()
    record = metrics["ai"]
    source_error(metrics, "ai")
    if record is None:
        st.info(NO_SOURCE, icon=":material/info:")
        return
    kpi.kpi_row(collector, "ai", record, KPIS)
    data = frame(collector, "ai", prefs.minutes)
    left, right = st.columns(2)
    with left:
        st.subheader("Inference time")
        chart(
            charts.timeseries(
                data,
                {"average_inference_time": "Inference time", "p95_inference_time": "p95"},
                unit="s",
                title="Inference time",
                thresholds=thresholds(collector, "inference_time"),
            ),
            NO_DATA,
        )
        st.subheader("Success rate")
        chart(
            charts.timeseries(
                data,
                {"success_rate": "Success rate"},
                unit="ratio",
                title="Success rate",
                thresholds=thresholds(collector, "success_rate"),
            ),
            NO_DATA,
        )
    with right:
        st.subheader("Confidence")
        chart(
            charts.timeseries(
                data,
                {"average_confidence": "Confidence"},
                unit="ratio",
                title="Mean confidence",
                thresholds=thresholds(collector, "confidence"),
            ),
            NO_DATA,
        )
        st.subheader("Inference rate")
        chart(
            charts.timeseries(data, {"inference_rate": "Inferences/s"}, unit="requests/s", title="Completed"), NO_DATA
        )
    st.subheader("Models")
    rows = record.get("models") or []
    st.dataframe(pd.DataFrame(rows, columns=list(MODEL_COLUMNS)), hide_index=True, column_config=MODEL_COLUMNS)
    left, right = st.columns(2)
    with left:
        chart(
            charts.distribution(record.get("distribution_by_framework") or {}, title="Instances by framework"),
            "No models deployed.",
        )
    with right:
        chart(
            charts.distribution(record.get("distribution_by_type") or {}, title="Instances by type"),
            "No models deployed.",
        )
    model_detail(collector, record, prefs)


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
    figure_row(
        (
            ("Hosts up", row["live_hosts"], lambda v: f"{v}/{row['hosts']}"),
            ("Success", row["success_rate"], kpi.ratio_pct),
            ("Time", row["average_time_s"], kpi.seconds),
            ("Mean abs. error", row.get("mean_absolute_error"), kpi.plain)
            if regressor
            else ("Confidence", row["mean_confidence"], kpi.plain),
            ("Input drift", row["drift"], kpi.plain),
        )
    )
    quality = (
        ("mean_absolute_error", "Mean abs. error", "", None)
        if regressor
        else ("mean_confidence", "Confidence", "ratio", "confidence")
    )
    detail_charts(
        collector,
        f"model:{name}",
        prefs.minutes,
        (("average_time_s", "Inference time", "s", "inference_time"), quality),
    )
