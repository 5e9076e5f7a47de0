"""The Network and AI pages while they watch real PRSM nodes (``PRSM_NODE_URLS``): what a 1.7.0
node reports about its peers, economy, storage and compute jobs. Nothing here is simulated;
the caption names the nodes watched."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from ...core.collector import MetricsCollector
from ...settings.durations import duration
from .. import kpi
from ..kpi import Kpi
from ..shared_views import draw_rows, kpi_row, latest, per_version
from ..state import Prefs
from ..text import escape_markdown as md
from ..timechart import TimeChart
from .common import arrow_rows, range_note, table

NETWORK_KPIS = (
    Kpi("active_nodes", "Nodes up", kpi.count, "Watched nodes whose /status answered on their latest poll", "good"),
    Kpi("total_connections", "Peer links", kpi.count, "Connections between the nodes, each pair once", "good"),
    Kpi("min_peers", "Fewest peers", kpi.count, "Peers of the node that has the fewest", "good"),
    Kpi("ftns_balance", "FTNS balance", kpi.plain, "FTNS in the nodes' wallets, summed"),
    Kpi("storage_used_percent", "Storage used", kpi.pct, "Used of pledged, the fullest node", "bad"),
    Kpi("min_uptime_s", "Youngest uptime", duration, "Time since the most recently started node started"),
)
AI_KPIS = (
    Kpi("jobs_submitted", "Jobs submitted", kpi.count, "Compute jobs the nodes submitted (requester side)"),
    Kpi("jobs_completed", "Completed", kpi.count, "Submitted jobs that completed", "good"),
    Kpi("jobs_failed", "Failed", kpi.count, "Submitted jobs that failed", "bad"),
    Kpi("jobs_served", "Run for others", kpi.count, "Jobs the nodes ran as providers"),
    Kpi("job_slots", "Job slots", kpi.count, "Concurrent job slots the nodes offer"),
    Kpi("consensus_disagreements", "Disagreements", kpi.count, "Result consensus failures and disputes, 10 min"),
)
NETWORK_CHARTS = (
    (
        TimeChart("Peers", {"peers_connected": "Connected", "peers_known": "Known", "min_peers": "Fewest"}, "1"),
        TimeChart("FTNS", {"ftns_balance": "Balance", "escrow_locked_ftns": "In escrow"}, "FTNS", "Summed"),
    ),
    (
        TimeChart("Storage", {"storage_used_gb": "Used", "storage_pledged_gb": "Pledged"}, "GB", "Summed"),
        TimeChart(
            "Ledger",
            {"ledger_txs_broadcast": "Broadcast", "ledger_txs_received": "Received", "ledger_discrepancies": "Gaps"},
            "1",
            "Transactions",
        ),
    ),
)
AI_CHARTS = (
    (
        TimeChart(
            "Jobs",
            {"jobs_submitted": "Submitted", "jobs_completed": "Completed", "jobs_failed": "Failed"},
            "1",
            "Since the nodes started",
        ),
        TimeChart(
            "Capacity", {"job_slots": "Slots", "jobs_active": "Running for others", "jobs_pending": "Pending"}, "1"
        ),
    ),
    (
        TimeChart("Job failures", {"job_failure_share": "Failed share, 10 min"}, "ratio", rule="job_failures"),
        TimeChart(
            "Result consensus",
            {"consensus_reached": "Agreed", "consensus_failed": "Disagreed", "disputed_results": "Disputed"},
            "1",
        ),
    ),
)
NODE_COLUMNS = {
    "name": st.column_config.TextColumn("Node", pinned=True),
    "status": st.column_config.TextColumn("Status", width="small"),
    "address": st.column_config.TextColumn("Address"),
    "peers_connected": st.column_config.NumberColumn("Peers", width="small", format="%d"),
    "peers_known": st.column_config.NumberColumn("Known", width="small", format="%d"),
    "bootstrap": st.column_config.TextColumn("Bootstrap", help="Bootstrap peers reached at start; degraded: none"),
    "uptime": st.column_config.TextColumn("Uptime", width="small"),
    "age_s": st.column_config.NumberColumn("Answer age (s)", width="small", format="%.1f"),
    "note": st.column_config.TextColumn("Not reported / error", width="large"),
}
ECONOMY_COLUMNS = {
    "name": st.column_config.TextColumn("Node", pinned=True),
    "ftns_balance": st.column_config.NumberColumn("FTNS", format="%.2f"),
    "transactions": st.column_config.NumberColumn("Transactions", format="%d"),
    "escrow_locked_ftns": st.column_config.NumberColumn("In escrow", format="%.2f"),
    "settlement_queue": st.column_config.NumberColumn("To settle", format="%d"),
    "settled_ftns": st.column_config.NumberColumn("Settled", format="%.2f"),
    "staked_ftns": st.column_config.NumberColumn("Staked", format="%.2f"),
    "ledger_discrepancies": st.column_config.NumberColumn("Ledger gaps", format="%d"),
    "storage": st.column_config.TextColumn("Storage used/pledged (GB)"),
    "pinned_cids": st.column_config.NumberColumn("Pinned", width="small", format="%d"),
    "challenges": st.column_config.TextColumn("Proofs passed/failed", width="small"),
    "indexed_cids": st.column_config.NumberColumn("Indexed", width="small", format="%d"),
}
JOB_COLUMNS = {
    "node": st.column_config.TextColumn("Node", pinned=True),
    "status": st.column_config.TextColumn("Status", width="small"),
    "jobs_submitted": st.column_config.NumberColumn("Submitted", format="%d"),
    "jobs_pending": st.column_config.NumberColumn("Pending", format="%d"),
    "jobs_completed": st.column_config.NumberColumn("Completed", format="%d"),
    "jobs_failed": st.column_config.NumberColumn("Failed", format="%d"),
    "jobs_active": st.column_config.NumberColumn("Running for others", format="%d"),
    "jobs_served": st.column_config.NumberColumn("Run for others", format="%d"),
    "job_slots": st.column_config.NumberColumn("Slots", format="%d"),
    "cpu_cores_allocated": st.column_config.NumberColumn("CPU cores", format="%.1f"),
    "memory_gb_allocated": st.column_config.NumberColumn("Memory (GB)", format="%.2f"),
    "ftns_spent": st.column_config.NumberColumn("FTNS spent", format="%.2f"),
    "consensus_reached": st.column_config.NumberColumn("Consensus agreed", format="%d"),
    "consensus_failed": st.column_config.NumberColumn("Disagreed", format="%d"),
}
NOT_REPORTED = "Not reported by these nodes"


def watching(collector: MetricsCollector) -> str:
    """Which network the page shows: the real nodes' addresses (passwords never shown)."""
    rows = (latest(collector)["network"] or {}).get("nodes") or []
    where = ", ".join(md(r["address"]) for r in rows)
    return (
        f"Watching {len(rows)} PRSM nodes through their management APIs (`PRSM_NODE_URLS`: {where}): "
        "every figure here is what the nodes report; the monitor simulates nothing."
    )


def missing(record: dict) -> str:
    names = record.get("not_reported") or []
    return f"{NOT_REPORTED}: {', '.join(n.replace('_', ' ') for n in names)}." if names else ""


def _pair(a, b, digits: int = 0) -> str:
    def one(v) -> str:
        return "–" if v is None or pd.isna(v) else f"{v:.{digits}f}"

    return f"{one(a)}/{one(b)}"


def node_rows(collector: MetricsCollector) -> pd.DataFrame:
    nodes = (latest(collector)["network"] or {}).get("nodes") or []
    rows = pd.DataFrame(nodes)
    if rows.empty:
        return pd.DataFrame(columns=list(NODE_COLUMNS))
    rows["uptime"] = [None if v is None or pd.isna(v) else duration(v) for v in rows["uptime_s"]]
    rows["storage"] = [_pair(u, p, 2) for u, p in zip(rows["storage_used_gb"], rows["storage_pledged_gb"], strict=True)]
    rows["challenges"] = [
        _pair(a, b) for a, b in zip(rows["challenges_passed"], rows["challenges_failed"], strict=True)
    ]
    rows["bootstrap"] = [
        "–" if pd.isna(d) else ("degraded" if d else f"ok, {c:.0f} reached")
        for d, c in zip(rows["bootstrap_degraded"], rows["bootstrap_connected"], strict=True)
    ]
    rows["note"] = [note(row) for row in nodes]
    return rows


def shared_rows(collector: MetricsCollector) -> pd.DataFrame:
    """:func:`node_rows` once per collector version, for both tables."""
    return per_version(collector, ("real_node_rows",), node_rows)


def note(row: dict) -> str:
    """A node's error, the routes and subsystems it does not report, the values refused."""
    parts = [row["error"]] if isinstance(row.get("error"), str) else []
    for key in ("unreported", "problems"):
        parts += [p for p in row.get(key) or () if isinstance(p, str)]
    return "; ".join(parts)


def job_rows(collector: MetricsCollector) -> pd.DataFrame:
    rows = (latest(collector)["ai"] or {}).get("jobs_by_node") or []
    return pd.DataFrame(rows).reindex(columns=list(JOB_COLUMNS))


def network(collector: MetricsCollector, record: dict, prefs: Prefs, topology: Callable[[], None]) -> None:
    """The Network page's body for real nodes; ``topology`` draws the nodes and their peer links."""
    st.caption(watching(collector))
    kpi_row(collector, "network", NETWORK_KPIS)
    st.subheader("Nodes")
    table(
        per_version(collector, ("real_node_table",), lambda c: arrow_rows(shared_rows(c), NODE_COLUMNS)), NODE_COLUMNS
    )
    st.subheader("Economy and storage")
    table(
        per_version(collector, ("real_economy_table",), lambda c: arrow_rows(shared_rows(c), ECONOMY_COLUMNS)),
        ECONOMY_COLUMNS,
    )
    st.caption(missing(record))
    st.subheader("Peer links")
    topology()
    range_note(collector, "network", prefs.minutes, prefs.range_label)
    draw_rows(NETWORK_CHARTS, collector, "network", prefs.minutes)


def ai(collector: MetricsCollector, record: dict, prefs: Prefs) -> None:
    """The AI page's body for real nodes: their compute jobs (1.7.0 nodes run jobs of the types
    inference, embedding and benchmark; they report no named models)."""
    st.caption(watching(collector))
    kpi_row(collector, "ai", AI_KPIS)
    st.subheader("Compute jobs by node")
    table(per_version(collector, ("real_job_rows",), lambda c: arrow_rows(job_rows(c), JOB_COLUMNS)), JOB_COLUMNS)
    st.caption("Counts since each node started. 1.7.0 nodes report jobs by status, not by job type. " + missing(record))
    range_note(collector, "ai", prefs.minutes, prefs.range_label)
    draw_rows(AI_CHARTS, collector, "ai", prefs.minutes)
