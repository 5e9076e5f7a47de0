"""Network page: topology, latency between nodes, nodes, latency and message rate, consensus,
and one node's own charts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...collector import MetricsCollector
from .. import kpi
from ..clock import clock, duration, local_times, viewer_zone
from ..kpi import Kpi
from ..network_charts import LatencyBands, latency_matrix, topology
from ..state import Prefs
from ..text import escape_markdown as md
from ..timechart import TimeChart, draw_rows, show
from .common import detail_charts, frame, range_note, source_error, table

KPIS = (
    Kpi("active_nodes", "Nodes up", kpi.count, "Nodes that answered in the latest report", rise="good"),
    Kpi("total_connections", "Live links", kpi.count, "Links with both ends up and hearing each other", rise="good"),
    Kpi("average_latency", "Latency", kpi.ms, "Mean heartbeat round trip over the last window", rise="bad"),
    Kpi("p95_latency", "Latency p95", kpi.ms, "95th percentile heartbeat round trip", rise="bad"),
    Kpi("message_rate", "Messages/s", kpi.rate, "Frames delivered between nodes per second"),
    Kpi("consensus_commits", "Commits", kpi.count, "Proposals committed at quorum since the monitor started"),
)
CHARTS = (
    (
        TimeChart(
            "Latency",
            {"average_latency": "Latency", "p95_latency": "Latency p95"},
            "ms",
            "Heartbeat round trip",
            rule="latency",
        ),
        TimeChart("Messages", {"message_rate": "Messages/s"}, "messages/s", "Delivered"),
    ),
)
COMMIT_CHART = TimeChart(
    None,
    {"average_commit_time_ms": "Time to commit"},
    "ms",
    "Time to commit",
    empty="No proposal has committed in the window.",
)
NODE_CHARTS = (
    TimeChart(None, {"latency_ms": "Latency"}, "ms", "Round trip", rule="latency"),
    TimeChart(None, {"message_rate": "Messages/s"}, "messages/s", "Received"),
    TimeChart(None, {"memory_percent": "Memory"}, "%", "Of its memory limit"),
)
NODE_COLUMNS = {
    "name": st.column_config.TextColumn("Node", pinned=True),
    "status": st.column_config.TextColumn("Status", width="small"),
    "links": st.column_config.TextColumn("Links up", width="small", help="Links up / configured"),
    "latency_ms": st.column_config.NumberColumn(
        "Latency (ms)", help="Mean heartbeat round trip, windowed", format="%.2f"
    ),
    "message_rate": st.column_config.NumberColumn("Messages/s", help="Frames received per second", format="%.1f"),
    "messages_in": st.column_config.NumberColumn("Received", help="Frames since the node started", format="localized"),
    "messages_out": st.column_config.NumberColumn("Sent", help="Frames since the node started", format="localized"),
    "queue_length": st.column_config.NumberColumn(
        "Queue", width="small", help="Inference requests waiting", format="%d"
    ),
    "models": st.column_config.TextColumn("Models", width="large"),
}
PROPOSAL_COLUMNS = {
    "started": st.column_config.DatetimeColumn("Started", format="HH:mm:ss"),
    "proposer": st.column_config.TextColumn("Proposed by"),
    "outcome": st.column_config.TextColumn("Outcome"),
    "votes": st.column_config.NumberColumn("Votes", width="small", format="%d"),
    "quorum": st.column_config.NumberColumn(
        "Quorum", width="small", help="Votes needed: 2/3 of live nodes", format="%d"
    ),
    "live_nodes": st.column_config.NumberColumn("Live nodes", width="small", format="%d"),
    "time_to_commit_ms": st.column_config.NumberColumn("To commit (ms)", format="%.1f"),
}
NO_SOURCE = (
    "No PRSM network source is running: the demo network is off (PRSM_DEMO=false) and no network "
    "is configured. System metrics and alerts still work."
)


def latency_bands(collector: MetricsCollector) -> LatencyBands:
    rule = collector.rules["latency"]
    return LatencyBands(rule.warning, rule.critical)


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
    bands = latency_bands(collector)
    left, right = st.columns(2)
    with left:
        st.subheader("Topology")
        show(topology(nodes, edges, bands), "No nodes in the directory.")
    with right:
        st.subheader("Link latency")
        show(latency_matrix(edges, [n["name"] for n in nodes], bands), "No link has measured a round trip yet.")
    st.subheader("Nodes")
    node_table(nodes)
    data = frame(collector, "network", prefs.minutes)
    range_note(collector, "network", data, prefs.minutes, prefs.range_label)
    draw_rows(CHARTS, collector, data)
    consensus(collector, record, data)
    node_detail(collector, nodes, prefs)


def node_table(nodes: list[dict]) -> None:
    rows = pd.DataFrame(nodes, columns=[*NODE_COLUMNS, "links_up", "links_total"])
    rows["links"] = [f"{up or 0}/{total}" for up, total in zip(rows["links_up"], rows["links_total"], strict=True)]
    rows["models"] = [", ".join(m) if isinstance(m, list | tuple) else m for m in rows["models"]]
    table(rows, NODE_COLUMNS)


def consensus(collector: MetricsCollector, record: dict, data: pd.DataFrame) -> None:
    st.subheader("Consensus")
    st.caption(
        f"{record['consensus_proposals']:.0f} proposals, {record['consensus_commits']:.0f} committed at a 2/3 "
        f"quorum of live nodes, {record['consensus_rejections']:.0f} rejected at timeout, "
        f"{record['consensus_votes']:.0f} votes cast."
    )
    draw_rows(((COMMIT_CHART,),), collector, data)
    history = record.get("consensus_history") or []
    if not history:
        st.caption("No proposal yet.")
        return
    rows = pd.DataFrame(history).iloc[::-1]
    rows["started"] = local_times(rows["started"], viewer_zone()).to_numpy()
    table(rows, PROPOSAL_COLUMNS, height=220)


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
            f"{md(name)} is down" + (f" since {clock(since, viewer_zone())}" if since else ""),
            icon=":material/cloud_off:",
        )
    else:
        kpi.figure_row(
            (
                ("Latency", row.get("latency_ms"), kpi.ms),
                ("Messages/s", row.get("message_rate"), kpi.rate),
                ("Links up", row.get("links_up"), lambda v: f"{v:.0f}/{row['links_total']}"),
                ("Queue", row.get("queue_length"), kpi.count),
                ("Uptime", row.get("uptime_s"), duration),
            )
        )
    detail_charts(collector, f"node:{name}", prefs.minutes, (NODE_CHARTS,))
