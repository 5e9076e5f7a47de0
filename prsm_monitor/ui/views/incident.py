"""Incident page: one incident's story (:mod:`prsm_monitor.alerts.incident_timeline`): its cause,
duration, times to detect and acknowledge, the nodes and models it touched, the charts of the
fields its alerts judged from a few minutes before to after, its timeline as a table, and the
report as Markdown with the charts' data as CSV (:mod:`prsm_monitor.alerts.incident_report`).

Which incident: ``?incident=<id>`` in the URL (the Alerts page's rows and notifications link
there), else the picker's choice, which then goes into the URL so the link can be shared.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from ...alerts.incident_report import markdown, span
from ...alerts.incident_signals import Signal, chart_frames, long_csv, signals
from ...alerts.incident_timeline import incident_list, incident_record
from ...anonymize import anonymize_frame, anonymizer_for, is_on
from ...core.collector import MetricsCollector
from ...notify.view import notifications_view
from .. import charts
from ..clock import clock, local_times, viewer_zone
from ..state import Prefs
from ..style import LEVEL_BADGES
from ..text import escape_markdown as md
from ..timechart import show

PARAM = "incident"
TIMELINE_COLUMNS = {
    "time": st.column_config.DatetimeColumn("Time", format="HH:mm:ss.S", width="small"),
    "offset": st.column_config.TextColumn("From start", width="small"),
    "kind": st.column_config.TextColumn("What", width="small"),
    "text": st.column_config.TextColumn("Detail", width="large"),
    "who": st.column_config.TextColumn("Who", width="medium"),
}
ROW_PX, MAX_TABLE_PX = 35, 720  # the timeline table shows every entry up to this height, then scrolls


def chosen(items: list[dict]) -> int | None:
    """The incident the URL names (an error shown when it names none remembered), else the
    picker's choice (the newest by default); the choice is written back to the URL."""
    ids = [i["id"] for i in items]
    raw = st.query_params.get(PARAM)
    if raw is not None and (not raw.isascii() or not raw.isdigit() or int(raw) not in ids):
        st.error(md(f"incident={raw!r} is not an incident this monitor remembers: pick one below."))
        raw = None
    wanted = int(raw) if raw is not None else ids[0]
    titles = {i["id"]: f"#{i['id']} {i['title']} ({i['state']})" for i in items}  # a selectbox shows plain text
    pick = st.selectbox("Incident", ids, index=ids.index(wanted), format_func=titles.get, key=f"incident_pick_{wanted}")
    if str(pick) != st.query_params.get(PARAM):
        st.query_params[PARAM] = str(pick)
    return pick


def headline(record: dict) -> None:
    badge = f":{LEVEL_BADGES[record['level']]}-badge[{record['level'].upper()}]"
    st.subheader(f"{badge} Incident {record['id']}: {md(record['title'])}")
    zone = viewer_zone()
    ended = f"ended {clock(record['end'], zone)}" if record["end"] else "still open"
    cause = md(record["cause"]) if record["cause"] else "not known (no demo fault recorded)"
    st.caption(f"Cause: {cause} · started {clock(record['start'], zone)} · {ended}")
    cards = st.columns(4)
    detect = span(record["time_to_detect_s"])
    cards[0].metric("Duration", span(record["duration_s"]))
    cards[1].metric("Time to detect", detect, help=f"From the {record['detected_from'] or '–'} to the first alert")
    ack = record["time_to_acknowledge_s"]
    cards[2].metric("Time to acknowledge", span(ack) if ack is not None else "not yet")
    cards[3].metric("Alerts", len(record["alerts"]))
    nodes = ", ".join(record["nodes"]) or "none named"
    models = ", ".join(record["models"]) or "none named"
    st.caption(md(f"Nodes affected: {nodes}") + " · " + md(f"Models affected: {models}"))


def signal_charts(record: dict, found: list[Signal], frames: dict) -> None:
    st.subheader("The fields involved")
    if not found:
        st.caption("Its alerts name no stored field to chart.")
        return
    columns = st.columns(2)
    for i, signal in enumerate(found):
        frame = frames.get(signal.key, pd.DataFrame(columns=["timestamp"]))
        line = signal.above if signal.above is not None else signal.below
        unit = "" if signal.unit == "1" else signal.unit  # a count or a flag: no unit to print
        chart = charts.timeseries(
            frame, {signal.field: signal.label}, unit=unit, title=signal.label, thresholds=(line, None)
        )
        with columns[i % 2]:
            st.markdown(f"**{md(signal.label)}**")
            show(chart, "No stored values of it around the incident.")


def timeline_table(record: dict) -> None:
    st.subheader("Timeline")
    entries = record["timeline"]
    table = pd.DataFrame(
        {
            "time": local_times([e["time"] for e in entries], viewer_zone()),
            "offset": [f"{e['time'] - record['start']:+.1f} s" for e in entries],
            "kind": [e["kind"] for e in entries],
            "text": [e["text"] for e in entries],  # untrusted: a table cell shows it as text
            "who": [e.get("who") for e in entries],
        }
    )
    height = min(MAX_TABLE_PX, ROW_PX * (len(table) + 1) + 3)
    st.dataframe(
        table, hide_index=True, column_config=TIMELINE_COLUMNS, placeholder="–", width="stretch", height=height
    )


def exports(collector: MetricsCollector, record: dict, found: list[Signal], frames: dict) -> None:
    """The post-mortem (Markdown) and the charts' data (CSV), anonymized when it is on."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(record["start"]))
    base = f"prsm-incident-{record['id']}-{stamp}"
    hidden = is_on(collector)

    def report() -> bytes:
        text = markdown(record, source=collector.notifier.instance, csv_name=f"{base}.csv")
        return (anonymizer_for(collector).text(text) if hidden else text).encode()

    def data() -> bytes:
        frame = long_csv(found, frames)
        return (anonymize_frame(frame, collector) if hidden else frame).to_csv(index=False).encode()

    left, right = st.columns(2)
    left.download_button(
        "Report (Markdown)", report, file_name=f"{base}.md", mime="text/markdown", icon=":material/description:",
        on_click="ignore", key="incident_report_md", width="stretch",
    )  # fmt: skip
    right.download_button(
        "Charts' data (CSV)", data, file_name=f"{base}.csv", mime="text/csv", icon=":material/download:",
        on_click="ignore", key="incident_report_csv", width="stretch",
    )  # fmt: skip
    if hidden:
        st.caption("PRSM_ANONYMIZE is on: names and addresses in both files are salted hashes.")


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    view = notifications_view(collector.notifier)
    items = incident_list(view)
    if not items:
        st.info("No incident since the monitor started: when alerts fire, their incidents are listed here.")
        return
    wanted = chosen(items)
    record = incident_record(collector, view, wanted)
    if record is None:  # forgotten between the two reads (the newest 200 ended ones are kept)
        st.warning(f"Incident {wanted} is no longer remembered.")
        return
    found = signals(record["alerts"], collector.rules)
    frames = chart_frames(collector, found, record["start"], record["end"] or time.time())
    headline(record)
    exports(collector, record, found, frames)
    timeline_table(record)
    signal_charts(record, found, frames)
