"""System page: CPU, memory and swap, disk, network, connections, load, top processes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...collector import MetricsCollector
from ...sources.system import top_processes
from .. import charts, kpi
from ..kpi import Kpi
from ..state import Prefs
from .common import NO_DATA, chart, frame, source_error, thresholds

KPIS = (
    Kpi("cpu_percent", "CPU", kpi.pct, "Use over all cores", inverse=True),
    Kpi("memory_percent", "Memory", kpi.pct, "Physical memory in use", inverse=True),
    Kpi("disk_percent", "Disk", kpi.pct, "Space used on the root file system", inverse=True),
    Kpi("swap_percent", "Swap", kpi.pct, "Swap in use (– when the machine has none)", inverse=True),
    Kpi("load_1m", "Load 1 min", kpi.plain, "Runnable processes, averaged over a minute", inverse=True),
    Kpi("active_connections", "Sockets", kpi.count, "Open TCP and UDP sockets, IPv4 and IPv6"),
)


@st.cache_data(ttl=5, show_spinner=False)
def _processes() -> pd.DataFrame:
    return pd.DataFrame(top_processes(10), columns=["pid", "name", "cpu_percent", "memory_mb", "threads"])


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = collector.get_latest_metrics()
    record = metrics["system"]
    source_error(metrics, "system")
    if record is None:
        st.info("Waiting for the first reading of this machine.", icon=":material/hourglass_empty:")
        return
    kpi.kpi_row(collector, "system", record, KPIS)
    data = frame(collector, "system", prefs.minutes)
    cores = {f"cpu_core_{i}_percent": f"Core {i}" for i in range(len(record.get("cpu_per_core") or []))}
    left, right = st.columns(2)
    with left:
        st.subheader("CPU")
        chart(
            charts.timeseries(
                data,
                {"cpu_percent": "CPU", **cores},
                unit="%",
                title="CPU use",
                thresholds=thresholds(collector, "cpu"),
            ),
            NO_DATA,
        )
        st.subheader("Disk")
        chart(
            charts.timeseries(
                data, {"disk_percent": "Disk"}, unit="%", title="Space used", thresholds=thresholds(collector, "disk")
            ),
            NO_DATA,
        )
        chart(
            charts.timeseries(
                data,
                {"disk_read_bytes_per_s": "Read", "disk_write_bytes_per_s": "Written"},
                unit="B/s",
                title="Disk I/O",
                height=160,
            ),
            "No disk I/O rate yet: it needs two readings, 5 s apart.",
        )
    with right:
        st.subheader("Memory")
        chart(
            charts.timeseries(
                data,
                {"memory_percent": "Memory", "swap_percent": "Swap"},
                unit="%",
                title="Memory in use",
                thresholds=thresholds(collector, "memory"),
            ),
            NO_DATA,
        )
        st.subheader("Network")
        chart(
            charts.timeseries(
                data,
                {"network_sent_bytes_per_s": "Sent", "network_recv_bytes_per_s": "Received"},
                unit="B/s",
                title="Network rate",
            ),
            "No network rate yet: it needs two readings.",
        )
        chart(
            charts.timeseries(
                data, {"active_connections": "Connections"}, unit="sockets", title="Open sockets", height=160
            ),
            NO_DATA,
        )
    st.subheader("Load")
    chart(
        charts.timeseries(
            data,
            {"load_1m": "Load 1m", "load_5m": "Load 5m", "load_15m": "Load 15m"},
            unit="",
            title="Load average",
            height=160,
        ),
        "This platform reports no load average.",
    )
    st.subheader("Top processes")
    st.caption(f"{record.get('process_count') or '–'} processes; the ten using the most CPU, re-read every 5 s.")
    st.dataframe(
        _processes(),
        hide_index=True,
        column_config={
            "pid": st.column_config.NumberColumn("PID", format="%d"),
            "name": st.column_config.TextColumn("Name"),
            "cpu_percent": st.column_config.NumberColumn("CPU %", format="%.1f", help="100 = one core"),
            "memory_mb": st.column_config.NumberColumn("Memory (MB)", format="%.1f"),
            "threads": st.column_config.NumberColumn("Threads", format="%d"),
        },
    )
