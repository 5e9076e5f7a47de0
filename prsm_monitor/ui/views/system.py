"""System page: CPU, memory and swap, disk, network, connections, load, top processes."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import streamlit as st

from ...core.collector import MetricsCollector
from ...sources.system import top_processes
from .. import insight_layers, kpi
from ..charts import Parts
from ..kpi import Kpi
from ..shared_views import draw_rows, kpi_row, latest
from ..state import Prefs
from ..timechart import TimeChart
from .common import arrow_rows, range_note, source_error, table

KPIS = (
    Kpi("cpu_percent", "CPU", kpi.pct, "Use over all cores", rise="bad"),
    Kpi("memory_percent", "Memory", kpi.pct, "Physical memory in use", rise="bad"),
    Kpi("disk_percent", "Disk", kpi.pct, "Space used on the root file system", rise="bad"),
    Kpi("swap_percent", "Swap", kpi.pct, "Swap in use (– when the machine has none)", rise="bad"),
    Kpi("load_1m", "Load 1 min", kpi.plain, "Runnable processes, averaged over a minute", rise="bad"),
    Kpi("active_connections", "Sockets", kpi.count, "Open TCP and UDP sockets, IPv4 and IPv6"),
)
CHARTS = (
    (
        TimeChart(
            "CPU",
            {"cpu_percent": "CPU"},
            "%",
            "Use over all cores",
            rule="cpu",
            parts=Parts(r"cpu_core_(\d+)_percent", "Core {}", "Per core"),
        ),
        TimeChart("Memory", {"memory_percent": "Memory", "swap_percent": "Swap"}, "%", "In use", rule="memory"),
    ),
    (
        TimeChart("Disk space", {"disk_percent": "Disk"}, "%", "Used", rule="disk"),
        TimeChart(
            "Disk I/O",
            {"disk_read_bytes_per_s": "Read", "disk_write_bytes_per_s": "Written"},
            "B/s",
            "Rate",
            empty="No disk I/O rate yet: it needs two readings, 5 s apart.",
        ),
    ),
    (
        TimeChart(
            "Network interfaces",  # loopback left out: what leaves or reaches the machine
            {"network_sent_bytes_per_s": "Sent", "network_recv_bytes_per_s": "Received"},
            "B/s",
            "Rate, loopback not counted",
            empty="No network rate yet: it needs two readings.",
        ),
        TimeChart("Open sockets", {"active_connections": "Sockets"}, "sockets", "Open"),
    ),
    (
        TimeChart(
            "Load",
            {"load_1m": "Load 1m", "load_5m": "Load 5m", "load_15m": "Load 15m"},
            "",
            "Load average",
            empty="This platform reports no load average.",
        ),
    ),
)
PROCESSES_HELP = (
    "Read live with psutil when the page is drawn, at most every 5 s, and not stored: so not shown "
    "for a past moment or for another instance. CPU is the share of one core since the previous "
    "reading; memory is the resident set."
)
PROCESS_COLUMNS = {
    "pid": st.column_config.NumberColumn("PID", width="small", format="%d"),
    "name": st.column_config.TextColumn("Name", width="medium"),
    "cpu_percent": st.column_config.NumberColumn("CPU (%)", help="100 = one core", format="%.1f"),
    "memory_mb": st.column_config.NumberColumn("Memory (MB)", format="%.1f"),
    "threads": st.column_config.NumberColumn("Threads", format="%d"),
}


_measured = {"before": False}  # has this process read per-process CPU times once already?


@st.cache_resource(ttl=5, show_spinner=False)  # shared as it is: every viewer sends the same table
def _processes() -> tuple[pa.Table | pd.DataFrame, bool]:
    """The top ten, and whether their CPU use is measured: psutil measures it between two
    readings, so the first one (after start) has no CPU figure and is ordered by memory."""
    rows = pd.DataFrame(top_processes(10), columns=list(PROCESS_COLUMNS))
    measured, _measured["before"] = _measured["before"], True
    if not measured:
        rows["cpu_percent"] = None
        rows = rows.sort_values("memory_mb", ascending=False)
    return arrow_rows(rows, PROCESS_COLUMNS), measured


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = latest(collector)
    record = metrics["system"]
    source_error(metrics, "system")
    if record is None:
        st.info("Waiting for the first reading of this machine.", icon=":material/hourglass_empty:")
        return
    kpi_row(collector, "system", KPIS)
    range_note(collector, "system", prefs.minutes, prefs.range_label)
    insight = getattr(collector, "insight", None)  # another instance's pages: its own dashboard has them
    if insight is not None:
        insight_layers.insight_notes(insight, "system")
    draw_rows(CHARTS, collector, "system", prefs.minutes)
    st.subheader("Top processes", help=PROCESSES_HELP)
    if getattr(collector, "past", False):
        st.caption("Processes are read live and not stored: clear the moment (Back to live) to see them.")
        return
    if getattr(collector, "remote", False):
        st.caption("Not served by an instance's API: open the instance's own dashboard for its processes.")
        return
    rows, measured = _processes()
    count = record.get("process_count")
    which = (
        "the ten using the most CPU"
        if measured
        else "the ten using the most memory (CPU use needs a second reading, in 5 s)"
    )
    st.caption(f"{'–' if count is None else f'{count:,}'} processes; {which}, re-read every 5 s.")
    table(rows, PROCESS_COLUMNS)
