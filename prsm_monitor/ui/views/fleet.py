"""Fleet page: one row per instance (this one first) and a link into each."""

from __future__ import annotations

import time
import urllib.parse
from collections import Counter

import pandas as pd
import streamlit as st

from ...core.collector import MetricsCollector
from ...fields import LEVELS as ALERT_LEVELS
from ...fleet import InstanceState, PrometheusFleet, ScrapedInstance, fleet_of, prometheus_fleet_of, summary
from ...fleet.poller import SPARK_POINTS, UP, WAITING
from ...settings.durations import duration
from ...settings.env_services import LOCAL_INSTANCE
from ..instances import KEY, LOCAL_LABEL, hub_of
from ..state import Prefs
from ..style import LEVEL_COLORS
from ..text import escape_markdown
from .common import moment_of

SPARK_MINUTES = 5
LEVELS = tuple(reversed(ALERT_LEVELS))  # most severe first
STATUS_WORDS = {
    UP: "up",
    WAITING: "waiting",
    "unreachable": "unreachable",
    "unauthorized": "token refused",
    "bad_answer": "not a prsm-monitor",
}
STATUS_COLORS = {"up": "#2e9e4f", "stale": LEVEL_COLORS["warning"], "waiting": "#9aa0aa"}
# Widths in px: every header and value whole in the main area at 1024 px with the sidebar open
# (about 560 px; tests/test_browser_tables.py). One frame holds every figure; the main table
# shows MAIN, the "Addresses, nodes, models and alerts by level" expander the rest.
COLUMNS = {
    "instance": st.column_config.TextColumn("Instance", width=110),
    "address": st.column_config.TextColumn("Address", width=165),
    "status": st.column_config.TextColumn("Status", help="stale: the figures are its last answer, that old", width=130),
    "last_seen": st.column_config.TextColumn(
        "Last seen", help="Age of the last answer read from the instance", width=90
    ),
    "cpu": st.column_config.NumberColumn("CPU", format="%.1f%%", width=60),
    "memory": st.column_config.NumberColumn("Memory", format="%.1f%%", help="Memory in use", width=75),
    "alerts": st.column_config.TextColumn(
        "Alerts", help="Active alerts, every level, and the most severe; each level's count below", width=90
    ),
    "nodes": st.column_config.TextColumn("Nodes up", width=80),
    "models": st.column_config.TextColumn("Models", help="Active of all model instances", width=70),
    "critical": st.column_config.NumberColumn("Critical", format="%d", width=70),
    "error": st.column_config.NumberColumn("Error", format="%d", width=60),
    "warning": st.column_config.NumberColumn("Warning", format="%d", width=75),
    "info": st.column_config.NumberColumn("Info", format="%d", width=60),
    "cpu_trend": st.column_config.LineChartColumn(
        f"CPU, {SPARK_MINUTES} min",
        y_min=0,
        y_max=100,
        width=90,
        help=f"CPU (%) over the last {SPARK_MINUTES} minutes",
    ),
}
MAIN = ["instance", "status", "cpu", "memory", "alerts", "cpu_trend"]
DETAILS = (["instance", "address", "last_seen", "nodes", "models"], ["instance", *LEVELS])
FIGURES = ["cpu", "memory", "alerts", "nodes", "models", *LEVELS]


def _of(numerator, denominator) -> str | None:
    return None if numerator is None or denominator is None else f"{numerator:.0f}/{denominator:.0f}"


def row(instance: dict, address: str | None, trend: list[float]) -> dict:
    """One row of the table from an instance's summary (:mod:`prsm_monitor.fleet.summary`)."""
    age = instance["age_seconds"]
    return {
        "instance": instance["name"],
        "address": address,
        "status": STATUS_WORDS.get(instance["status"], instance["status"]),
        "last_seen": "never" if age is None else ("now" if age < 1.5 else f"{duration(age)} ago"),
        "cpu": instance["cpu_percent"],
        "memory": instance["memory_percent"],
        "nodes": _of(instance["active_nodes"], instance["total_nodes"]),
        "models": _of(instance["active_models"], instance["total_models"]),
        **instance["active_alerts"],
        "alerts": alerts_text(instance["active_alerts"]),
        "cpu_trend": trend,
    }


def alerts_text(counts: dict) -> str | None:
    """``3 (critical)``: the active alerts of every level, and the most severe; ``none``; None
    (shown "–") when the instance's alerts are not known."""
    known = {level: counts[level] for level in LEVELS if counts.get(level) is not None}
    if not known:
        return None
    worst = next((level for level in LEVELS if known.get(level)), None)
    return "none" if worst is None else f"{sum(known.values()):.0f} ({worst})"


def local_row(collector: MetricsCollector, now: float) -> dict:
    spark = collector.history("system", SPARK_MINUTES, max_points=SPARK_POINTS)
    trend = spark["cpu_percent"].dropna().round(1).tolist() if "cpu_percent" in spark else []
    return {**row(summary.local_instance(collector, now), "this dashboard", trend), "instance": LOCAL_LABEL}


def remote_row(state: InstanceState, stale: bool, now: float) -> dict:
    url = urllib.parse.urlsplit(state.url)
    trend = [cpu for stamp, cpu in state.cpu if stamp >= now - SPARK_MINUTES * 60]
    host = url.netloc.rpartition("@")[2]  # the address, without the (already masked) user
    return row(summary.remote_instance(state, stale, now), host + url.path, trend)


def scraped_row(scraped: ScrapedInstance, stale: bool, now: float) -> dict:
    """A row of an instance Prometheus scrapes: its last samples there."""
    return row(summary.scraped_instance(scraped, stale, now), None, list(scraped.cpu))


def prometheus_table(scraped: PrometheusFleet, now: float) -> None:
    """Every prsm-monitor the Prometheus of PRSM_PROMETHEUS_URL scrapes, read in a few queries for all."""
    rows, read_at, error = scraped.snapshot()
    st.subheader("Scraped by Prometheus")
    when = "not read yet" if read_at is None else f"read {duration(max(0.0, now - read_at))} ago"
    st.caption(
        f"Every prsm-monitor that {scraped.reader.url} scrapes, by its instance label: its last samples there "
        f"({when}, every {scraped.interval:g} s). Open one through PRSM_INSTANCES to see its pages here."
    )
    if error:
        st.error(f"Prometheus could not be read: {escape_markdown(error)}", icon=":material/error:")
    if not rows:
        st.caption("No prsm-monitor found there yet.")
        return
    table = pd.DataFrame([scraped_row(r, scraped.is_stale(r, now), now) for r in rows])[list(COLUMNS)]
    tables(table, address=False)  # the instance label is its address


def tables(table: pd.DataFrame, address: bool = True) -> None:
    """``table``'s MAIN columns, then the others in an expander (each table fits 1024 px)."""
    show = styled(table)
    st.dataframe(show, hide_index=True, column_config=COLUMNS, column_order=MAIN, placeholder="–")
    with st.expander("Addresses, nodes, models and alerts by level"):
        for order in DETAILS:
            order = [c for c in order if address or c != "address"]
            st.dataframe(show, hide_index=True, column_config=COLUMNS, column_order=order, placeholder="–")


def _status_style(status: str) -> str:
    color = STATUS_COLORS.get(status, LEVEL_COLORS["error"])
    return f"color: {color}; font-weight: 600"


def styled(table: pd.DataFrame):
    """Status in its colour; figures that are not current (an instance's last answer) in grey italics."""
    old = ~table["status"].isin(("up", "waiting")).to_numpy()
    grey = "color: #9aa0aa; font-style: italic"
    return table.style.map(_status_style, subset=["status"]).apply(
        lambda column: [grey if o else "" for o in old], axis=0, subset=FIGURES
    )


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    hub = hub_of(collector)
    past = moment_of(collector)
    fleet = None if past is not None else fleet_of(hub)  # another instance's past is on its own dashboard
    now = time.time() if past is None else past
    rows = [local_row(hub, now)]
    if past is not None:
        st.caption("In the past this page shows this instance only: each instance keeps its own history.")
    if fleet is not None:
        rows += [remote_row(s, fleet.is_stale(s, now), now) for s in fleet.states()]
    table = pd.DataFrame(rows)[list(COLUMNS)]
    counts = Counter(r["status"] for r in rows)
    st.caption(
        f"{len(rows)} instance{'s' if len(rows) != 1 else ''}: "
        + ", ".join(f"{n} {status}" for status, n in counts.most_common())
        + ("" if fleet is None else f". Others are read from their API every {fleet.interval:g} s.")
    )
    tables(table)
    scraped = prometheus_fleet_of(hub)
    if fleet is None and scraped is None:
        st.info(
            "This monitor watches no other instance. Set PRSM_INSTANCES=name=URL,... (tokens in "
            ".streamlit/secrets.toml, [instances.<name>]) to watch others here.",
            icon=":material/lan:",
        )
    if scraped is not None:
        prometheus_table(scraped, now)


def links(collector: MetricsCollector) -> None:
    """A button per instance that opens it on the Overview. Outside the live fragment: a page
    switch from inside one loses the sidebar's widget state."""
    fleet = fleet_of(hub_of(collector))
    if fleet is None:
        return
    st.caption("Open an instance: every page then shows it (the choice is kept in the URL, like the time range).")
    with st.container(horizontal=True, gap="small"):
        for name in (LOCAL_INSTANCE, *fleet.names):
            label = LOCAL_LABEL if name == LOCAL_INSTANCE else name
            if st.button(label, key=f"fleet_open_{name}", icon=":material/open_in_new:", on_click=choose, args=(name,)):
                st.switch_page("streamlit_app.py", query_params={})  # None would clear bound parameters: refused


def choose(name: str) -> None:
    """Make ``name`` the instance every page shows. Set here rather than by a link's query
    parameter: on a page change Streamlit keeps the selector's old value over the URL's."""
    st.session_state[KEY] = name
