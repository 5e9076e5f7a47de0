"""Overview page: health of system, network and AI at a glance, active alerts, trends, the monitor's own health."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from ...core.collector import COMPONENTS, MetricsCollector
from .. import insight_layers, kpi
from ..kpi import Kpi
from ..shared_views import draw, kpi_row, latest
from ..state import Prefs
from ..style import LEVEL_BADGES, LEVEL_ORDER
from ..timechart import TimeChart
from .alerts import alert_list
from .common import range_note

TITLES = {"system": "System", "network": "Network", "ai": "AI models"}
TRENDS = {
    "system": TimeChart("CPU (%)", {"cpu_percent": "CPU"}, "%", rule="cpu"),
    "network": TimeChart("Latency (ms)", {"average_latency": "Latency"}, "ms", rule="latency"),
    "ai": TimeChart("Success rate", {"success_rate": "Success rate"}, "ratio", rule="success_rate"),
}
SELF_KPIS = (
    Kpi("tick_duration_ms", "Tick time", kpi.ms, "Time the last collection tick took", rise="bad"),
    Kpi("missed_ticks_total", "Missed ticks", kpi.count, "Ticks skipped because one overran", rise="bad"),
    Kpi("process_cpu_percent", "Monitor CPU", kpi.pct, "CPU used by this process (100 = one core)", rise="bad"),
    Kpi("process_rss_mb", "Monitor memory", kpi.megabytes, "Resident memory of this process", rise="bad"),
    Kpi("ticks_total", "Ticks", kpi.count, "Collection ticks since the monitor started", delta=False),
    Kpi("store_disk_mb", "History on disk", kpi.megabytes, "Size of the saved history (all tiers)", delta=False),
)


def worst_level(alerts: list[dict]) -> str | None:
    levels = {a["level"] for a in alerts}
    return next((level for level in LEVEL_ORDER if level in levels), None)


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1f}%"


def headline(component: str, record: dict | None) -> str:
    """One line of the component's key figures (our own numbers, safe as Markdown)."""
    if record is None:
        return "No source is running for this component."
    if component == "system":
        return (
            f"CPU {_pct(record.get('cpu_percent'))} · memory {_pct(record.get('memory_percent'))} · "
            f"disk {_pct(record.get('disk_percent'))}"
        )
    if component == "network":
        latency = record.get("average_latency")
        return f"{record['active_nodes']}/{record['total_nodes']} nodes up · " + (
            "latency –" if latency is None else f"latency {latency:.1f} ms"
        )
    rate = record.get("success_rate")
    return f"{record['active_models']}/{record['total_models']} models · " + (
        "success –" if rate is None else f"success {_pct(100 * rate)}"
    )


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    metrics = latest(collector)
    active = metrics["active_alerts"]
    trends = [c for c in COMPONENTS if metrics[c] is not None]
    if "system" in trends:
        range_note(collector, "system", prefs.minutes, prefs.range_label)
    for column, component in zip(st.columns(3), COMPONENTS, strict=True):
        mine = [a for a in active if a["component"] == component]
        level = worst_level(mine)
        record = metrics[component]
        with column.container(border=True):
            if component in metrics["errors"]:
                status, color = "Source failing", "orange"
            elif record is None:
                status, color = "No source", "gray"
            else:
                status, color = ("Healthy" if level is None else level.capitalize()), LEVEL_BADGES[level]
            st.markdown(f"**{TITLES[component]}** :{color}-badge[{status}]")
            st.caption(headline(component, record))
            st.caption(f"{len(mine)} active alert{'s' if len(mine) != 1 else ''}")
            if component in trends:
                trend = TRENDS[component]
                st.caption(f"{trend.heading}, last {prefs.range_label}")
                draw(trend, collector, component, prefs.minutes, compact=True)
    insight = getattr(collector, "insight", None)  # another instance's pages: its own dashboard has them
    if insight is not None:
        st.subheader("Forecasts")
        insight_layers.insight_notes(insight, within=insight.horizon)
        insight_layers.capacity_panel(insight)
    st.subheader("Active alerts")
    counts = Counter(a["level"] for a in active)
    for column, level in zip(st.columns(4), LEVEL_ORDER, strict=True):
        column.metric(level.capitalize(), counts.get(level, 0), border=True)
    if active:
        alert_list(active[:10])
        if len(active) > 10:
            st.caption(f"{len(active) - 10} more on the Alerts page.")
    else:
        st.caption("No alert is active.")
    st.subheader("Monitor health")
    on_disk = (metrics["collector"] or {}).get("store_disk_mb") is not None
    kpi_row(collector, "collector", SELF_KPIS if on_disk else SELF_KPIS[:-1])
