"""Network page: nodes, topology, latency, message rate, consensus, and one node's own charts."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from ...collector import MetricsCollector
from .. import charts, kpi
from ..kpi import Kpi
from ..state import Prefs
from ..text import escape_markdown as md
from .common import NO_DATA, chart, detail_charts, figure_row, frame, source_error, thresholds

KPIS = (
    Kpi("active_nodes", "Nodes up", kpi.count, "Nodes that answered in the latest report"),
    Kpi("total_connections", "Live links", kpi.count, "Links with both ends up and hearing each other"),
    Kpi("average_latency", "Latency", kpi.ms, "Mean heartbeat round trip over the last window", inverse=True),
    Kpi("p95_latency", "Latency p95", kpi.ms, "95th percentile heartbeat round trip", inverse=True),
    Kpi("message_rate", "Messages/s", kpi.rate, "Frames delivered between nodes per second"),
    Kpi("consensus_commits", "Commits", kpi.count, "Proposals committed at quorum"),
)
NO_SOURCE = (
    "No PRSM network source is running: the demo network is off (PRSM_DEMO=false) and no network "
    "is configured. System metrics and alerts still work."
)


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = collector.get_latest_metrics()
    record = metrics["network"]
    source_error(metrics, "network")
    if record is None:
        st.info(NO_SOURCE, icon=":material/info:")
        return
    kpi.kpi_row(collector, "network", record, KPIS)
    st.caption(f"Windowed values cover the last {record['window_seconds']:.0f} s of reports.")
    nodes, edges = record["nodes"], record["edges"]
    data = frame(collector, "network", prefs.minutes)
    left, right = st.columns([1.1, 1])
    with left:
        st.subheader("Topology")
        chart(charts.topology(nodes, edges), "No nodes in the directory.")
    with right:
        st.subheader("Nodes")
        node_table(nodes)
    left, right = st.columns(2)
    with left:
        st.subheader("Latency")
        chart(
            charts.timeseries(
                data,
                {"average_latency": "Latency", "p95_latency": "Latency p95"},
                unit="ms",
                title="Heartbeat round trip",
                thresholds=thresholds(collector, "latency"),
            ),
            NO_DATA,
        )
        st.subheader("Messages")
        chart(charts.timeseries(data, {"message_rate": "Messages/s"}, unit="messages/s", title="Message rate"), NO_DATA)
    with right:
        st.subheader("Latency between nodes")
        chart(charts.latency_matrix(edges, [n["name"] for n in nodes]), "No link has measured a round trip yet.")
    consensus(collector, record, data)
    node_detail(collector, nodes, prefs)


def node_table(nodes: list[dict]) -> None:
    table = pd.DataFrame(
        nodes,
        columns=[
            "name",
            "status",
            "links_up",
            "links_total",
            "latency_ms",
            "message_rate",
            "messages_in",
            "messages_out",
            "queue_length",
            "models",
        ],
    )
    table["models"] = [", ".join(m) for m in table["models"]]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "name": st.column_config.TextColumn("Node"),
            "status": st.column_config.TextColumn("Status"),
            "links_up": st.column_config.NumberColumn("Links up", format="%d"),
            "links_total": st.column_config.NumberColumn("Links", format="%d"),
            "latency_ms": st.column_config.NumberColumn("Latency (ms)", format="%.2f"),
            "message_rate": st.column_config.NumberColumn("Msg/s", format="%.1f"),
            "messages_in": st.column_config.NumberColumn("Msgs in", format="%d"),
            "messages_out": st.column_config.NumberColumn("Msgs out", format="%d"),
            "queue_length": st.column_config.NumberColumn("Queue", format="%d"),
            "models": st.column_config.TextColumn("Models"),
        },
    )


def consensus(collector: MetricsCollector, record: dict, data: pd.DataFrame) -> None:
    st.subheader("Consensus")
    st.caption(
        f"{record['consensus_proposals']:.0f} proposals, {record['consensus_commits']:.0f} committed at a 2/3 "
        f"quorum of live nodes, {record['consensus_rejections']:.0f} rejected at timeout, "
        f"{record['consensus_votes']:.0f} votes cast."
    )
    left, right = st.columns(2)
    with left:
        chart(
            charts.timeseries(
                data, {"average_commit_time_ms": "Time to commit"}, unit="ms", title="Time to commit", height=200
            ),
            "No proposal has committed in the window.",
        )
    history = record.get("consensus_history") or []
    if history:
        table = pd.DataFrame(history)
        table["started"] = pd.to_datetime(table["started"], unit="s", utc=True)
        cols = [
            c
            for c in ("started", "proposer", "outcome", "votes", "quorum", "live_nodes", "time_to_commit_ms")
            if c in table
        ]
        right.dataframe(
            table[cols].iloc[::-1],
            hide_index=True,
            column_config={
                "started": st.column_config.DatetimeColumn("Started (UTC)", format="HH:mm:ss"),
                "time_to_commit_ms": st.column_config.NumberColumn("Time to commit (ms)", format="%.1f"),
            },
        )


def node_detail(collector: MetricsCollector, nodes: list[dict], prefs: Prefs) -> None:
    """Drill-down: one node's figures and its own history."""
    st.subheader("Node detail")
    names = [n["name"] for n in nodes]
    name = st.selectbox("Node", names, key="network_node")
    row = next((n for n in nodes if n["name"] == name), None)
    if row is None:
        return
    if row["status"] == "down":
        since = row.get("down_since")
        st.error(
            f"{md(name)} is down" + (f" since {time.strftime('%H:%M:%S UTC', time.gmtime(since))}" if since else ""),
            icon=":material/cloud_off:",
        )
    else:
        figure_row(
            (
                ("Latency", row.get("latency_ms"), kpi.ms),
                ("Messages/s", row.get("message_rate"), kpi.rate),
                ("Links up", row.get("links_up"), lambda v: f"{v:.0f}/{row['links_total']}"),
                ("Queue", row.get("queue_length"), kpi.count),
                ("Uptime", row.get("uptime_s"), lambda v: f"{v:,.0f} s"),
            )
        )
    detail_charts(
        collector,
        f"node:{name}",
        prefs.minutes,
        (("latency_ms", "Latency", "ms", "latency"), ("message_rate", "Messages/s", "messages/s", None)),
    )
