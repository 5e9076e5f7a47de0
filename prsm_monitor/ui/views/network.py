"""Network page: topology, latency between nodes, nodes, latency and message rate, consensus,
and one node's own charts."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import streamlit as st

from ...core.collector import MetricsCollector
from ...settings.durations import duration
from .. import kpi
from ..clock import clock, local_times, viewer_zone
from ..kpi import Kpi
from ..network_charts import LatencyBands, latency_matrix, topology
from ..shared_views import STEADY_SECONDS, draw_rows, kpi_row, latest, per_version, steady
from ..state import Prefs
from ..text import escape_markdown as md
from ..timechart import TimeChart, show
from . import nodes as real_nodes
from .common import MISSING, arrow_rows, detail_charts, range_note, source_error, table

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
DRAWINGS_NOTE = (
    "Colours change as soon as a link or node changes state; the latencies in the tooltips are "
    f"redrawn every {STEADY_SECONDS:g} s."
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
# Widths in px: every header and value whole in the main area at 1024 px with the sidebar open
# (about 560 px; tests/test_browser_tables.py). Frames received and sent, and the models' names,
# are under Node detail.
NODE_COLUMNS = {
    "name": st.column_config.TextColumn("Node", width=90),
    "status": st.column_config.TextColumn("Status", width=65),
    "links": st.column_config.TextColumn("Links up", help="Links up / configured", width=75),
    "latency_ms": st.column_config.NumberColumn(
        "Latency", help="Mean heartbeat round trip, windowed", format="%.2f ms", width=85
    ),
    "message_rate": st.column_config.NumberColumn(
        "Messages/s", help="Frames received per second", format="%.1f", width=90
    ),
    "queue_length": st.column_config.NumberColumn("Queue", help="Inference requests waiting", format="%d", width=65),
    "model_count": st.column_config.NumberColumn(
        "Models", help="Model instances it hosts: their names are under Node detail", format="%d", width=70
    ),
}
PROPOSAL_COLUMNS = {
    "started": st.column_config.DatetimeColumn("Started", format="HH:mm:ss", width=75),
    "proposer": st.column_config.TextColumn("Proposed by", width=95),
    "outcome": st.column_config.TextColumn("Outcome", width=85),
    "votes": st.column_config.NumberColumn("Votes", format="%d", width=60),
    "quorum": st.column_config.NumberColumn("Quorum", help="Votes needed: 2/3 of live nodes", format="%d", width=70),
    "live_nodes": st.column_config.NumberColumn("Live nodes", format="%d", width=80),
    "time_to_commit_ms": st.column_config.NumberColumn("To commit", format="%.1f ms", width=85),
}
NO_SOURCE = (
    "No PRSM network source is running: the demo network is off (PRSM_DEMO=false) and no network "
    "is configured. System metrics and alerts still work."
)


def latency_bands(collector: MetricsCollector) -> LatencyBands:
    rule = collector.rules["latency"]
    return LatencyBands(rule.warning, rule.critical)


NO_ROWS_YET = (
    "No node, link or consensus rows were stored at or before this moment (they are stored every"
    " few seconds from the start): its figures and charts only."
)


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = latest(collector)
    record = metrics["network"]
    source_error(metrics, "network")
    if record is None:
        st.info(NO_SOURCE, icon=":material/info:")
        return
    if record.get("source") == "nodes":  # real PRSM nodes (PRSM_NODE_URLS)
        drawing = steady(collector, ("topology",), _link_states, _topology)
        return real_nodes.network(collector, record, prefs, lambda: show(drawing, "No nodes watched."))
    kpi_row(collector, "network", KPIS)
    st.caption(f"Windowed values cover the last {record['window_seconds']:.0f} s of reports.")
    if "nodes" not in record:  # a past moment before the store's first snapshot of the node rows
        st.info(NO_ROWS_YET, icon=":material/history:")
        network_charts(collector, prefs)
        return
    nodes = record["nodes"]
    left, right = st.columns(2)
    with left:
        st.subheader("Topology")
        show(steady(collector, ("topology",), _link_states, _topology), "No nodes in the directory.")
    with right:
        st.subheader("Link latency")
        show(
            steady(collector, ("latency_matrix",), _link_states, _latency_matrix),
            "No link has measured a round trip yet.",
        )
    st.caption(DRAWINGS_NOTE)
    st.subheader("Nodes")
    table(  # exact each tick: a moment looked back at reads as the live page did (its stored rows)
        per_version(collector, ("node_rows",), lambda c: node_table(_record(c)["nodes"])), NODE_COLUMNS
    )
    network_charts(collector, prefs)
    consensus(collector, record, prefs)
    node_detail(collector, nodes, prefs)


def network_charts(collector: MetricsCollector, prefs: Prefs) -> None:
    """The network's time series over the chosen range, with what the range holds."""
    range_note(collector, "network", prefs.minutes, prefs.range_label)
    draw_rows(CHARTS, collector, "network", prefs.minutes)


def links_text(up, total) -> str:
    """``up/total`` links; an unknown count reads "–"."""

    def count(value) -> str:
        return MISSING if value is None or pd.isna(value) else f"{value:.0f}"

    return f"{count(up)}/{count(total)}"


def _record(collector: MetricsCollector) -> dict:
    """The network record of this version (shared by viewers; empty if the source went away)."""
    return latest(collector)["network"] or {"nodes": [], "edges": []}


def _link_states(collector: MetricsCollector) -> tuple:
    """What the drawings' colours and labels show: each node's status and links up, each
    link's colour band. While it holds, a drawing is redrawn every few seconds, not every tick."""
    record = _record(collector)
    bands = latency_bands(collector)
    return (
        bands,
        tuple((n["name"], n["status"], n.get("links_up"), n.get("links_total")) for n in record["nodes"]),
        tuple((e["source"], e["target"], bands.kind(e.get("latency_ms"), e["up"])) for e in record["edges"]),
    )


def _topology(collector: MetricsCollector):
    record = _record(collector)
    return topology(record["nodes"], record["edges"], latency_bands(collector))


def _latency_matrix(collector: MetricsCollector):
    record = _record(collector)
    return latency_matrix(record["edges"], [n["name"] for n in record["nodes"]], latency_bands(collector))


def proposal_table(collector: MetricsCollector, zone):
    """The recent proposals as Arrow, started times in ``zone``; rebuilt when a shown value
    changes (:func:`_proposals`), not every tick."""
    return steady(
        collector,
        ("proposals", str(zone)),
        _proposals,
        lambda c: arrow_rows(proposal_rows(c, zone), PROPOSAL_COLUMNS),
        seconds=math.inf,
    )


def _proposals(collector: MetricsCollector) -> tuple:
    """Every shown value of the recent proposals: the table is rebuilt when one changes (a new
    proposal, a vote, a commit), not every tick."""
    return tuple(tuple(p.values()) for p in _record(collector).get("consensus_history") or ())


def node_table(nodes: list[dict]) -> pa.Table | pd.DataFrame:
    """The nodes table as st.dataframe sends it (:data:`NODE_COLUMNS`), built straight from the
    records: it is rebuilt every tick (it must be exact), so without a DataFrame and its
    conversion. A value Arrow cannot type goes the way of every other table
    (:func:`node_rows`, :func:`.common.arrow_rows`), which st.dataframe fixes."""
    derived = {
        "links": [links_text(n.get("links_up"), n.get("links_total")) for n in nodes],
        "model_count": [len(m) if isinstance(m := n.get("models"), list | tuple) else None for n in nodes],
    }
    try:
        return pa.table(
            {
                name: pa.array(derived[name] if name in derived else [n.get(name) for n in nodes], from_pandas=True)
                for name in NODE_COLUMNS
            }
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return arrow_rows(node_rows(nodes), NODE_COLUMNS)


def node_rows(nodes: list[dict]) -> pd.DataFrame:
    rows = pd.DataFrame(nodes, columns=[*NODE_COLUMNS, "links_up", "links_total", "models"])
    rows["links"] = [links_text(up, total) for up, total in zip(rows["links_up"], rows["links_total"], strict=True)]
    rows["model_count"] = [len(m) if isinstance(m, list | tuple) else None for m in rows["models"]]
    return rows


def consensus(collector: MetricsCollector, record: dict, prefs: Prefs) -> None:
    st.subheader("Consensus")
    if record["consensus_proposals"] is None:
        st.caption("Consensus rounds are not reported by these nodes.")
        return
    st.caption(
        f"{record['consensus_proposals']:.0f} proposals, {record['consensus_commits']:.0f} committed at a 2/3 "
        f"quorum of live nodes, {record['consensus_rejections']:.0f} rejected at timeout, "
        f"{record['consensus_votes']:.0f} votes cast."
    )
    draw_rows(((COMMIT_CHART,),), collector, "network", prefs.minutes)
    if not record.get("consensus_history"):
        st.caption("No proposal yet.")
        return
    zone = viewer_zone()  # the viewer's own: part of the key
    table(proposal_table(collector, zone), PROPOSAL_COLUMNS, height=220)


def proposal_rows(collector: MetricsCollector, zone) -> pd.DataFrame:
    """The recent proposals, newest first, started times in ``zone``."""
    rows = pd.DataFrame(_record(collector).get("consensus_history") or []).iloc[::-1]
    rows["started"] = local_times(rows["started"], zone).to_numpy()
    return rows


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
                ("Links up", row.get("links_up"), lambda v: links_text(v, row["links_total"])),
                ("Queue", row.get("queue_length"), kpi.count),
                ("Uptime", row.get("uptime_s"), duration),
                ("Frames received", row.get("messages_in"), kpi.count),
                ("Frames sent", row.get("messages_out"), kpi.count),
            )
        )
    models = row.get("models")
    if isinstance(models, list | tuple):
        st.caption(f"Models on {md(name)}: " + (", ".join(md(m) for m in models) or "none") + ".")
    detail_charts(collector, f"node:{name}", prefs.minutes, (NODE_CHARTS,))
