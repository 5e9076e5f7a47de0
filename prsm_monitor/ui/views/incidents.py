"""Alerts page, notifications: incidents (alerts grouped by what caused them) as rows that
expand, and the delivery log (what was sent where, what failed and why)."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from ...core.collector import MetricsCollector
from ...notify.message import duration
from ...notify.view import notifications_view
from ..clock import clock, local_times, viewer_zone
from ..state import Prefs
from ..style import LEVEL_BADGES
from ..text import escape_markdown

DELIVERIES_SHOWN = 50
SHOWN = 10  # incidents listed (each is a table, sent on every refresh); the API has them all
MEMBER_COLUMNS = {
    "level": st.column_config.TextColumn("Level"),
    "message": st.column_config.TextColumn("Alert", width="large"),
    "component": st.column_config.TextColumn("Component"),
    "value": st.column_config.NumberColumn("Value now", format="%.4g"),
    "threshold": st.column_config.NumberColumn("Threshold", format="%.4g"),
    "for": st.column_config.TextColumn("For"),
    "state": st.column_config.TextColumn("State"),
}
DELIVERY_COLUMNS = {  # what happened first, where to last: on a narrow page the status and reason stay in view
    "time": st.column_config.DatetimeColumn("Queued", format="MMM D, HH:mm:ss"),
    "status": st.column_config.TextColumn("Status"),
    "error": st.column_config.TextColumn("Why it failed", width="medium"),
    "kind": st.column_config.TextColumn("What"),
    "title": st.column_config.TextColumn("Notification", width="medium"),
    "attempts": st.column_config.NumberColumn("Attempts"),
    "latency": st.column_config.NumberColumn("Latency (s)", format="%.2f", help="From the alert to the receiver"),
    "channel": st.column_config.TextColumn("Route"),
    "target": st.column_config.TextColumn("Target"),
}


def _clock(timestamp: float) -> str:
    return clock(timestamp, viewer_zone())


def _members(incident: dict, now: float) -> pd.DataFrame:
    rows = []
    for alert in incident["alerts"]:
        details = alert["details"]
        end = alert["ended_at"] if alert["ended_at"] is not None else now
        rows.append(
            {
                "level": alert["level"],
                "message": alert["message"],
                "component": alert["component"],
                "value": details.get("value") if isinstance(details.get("value"), (int, float)) else None,
                "threshold": details.get("threshold") if isinstance(details.get("threshold"), (int, float)) else None,
                "for": duration(end - alert["fired_at"]),
                "state": "firing" if alert["firing"] else f"ended {_clock(alert['ended_at'])}",
            }
        )
    table = pd.DataFrame(rows)
    return table.drop(columns=[c for c in ("value", "threshold") if table[c].isna().all()])  # none has one


def incident_row(incident: dict, now: float) -> None:
    """One expander per incident; its label is Markdown, so the untrusted title is escaped."""
    state = (
        f"{incident['firing']} firing, since {_clock(incident['started'])}"
        if incident["open"]
        else f"ended {_clock(incident['ended_at'])}"
    )
    told, count = incident["notifications"], len(incident["alerts"])
    label = (
        f":{LEVEL_BADGES[incident['level']]}-badge[{incident['level'].upper()}] "
        f"{escape_markdown(incident['title'])} · {state} · {count} alert{'s' if count != 1 else ''}"
        f"{f' · notified {told}×' if told else ''}"
    )
    with st.expander(label, expanded=False):
        if incident["labels"]:
            st.caption("Grouped by " + escape_markdown(", ".join(f"{k}={v}" for k, v in incident["labels"].items())))
        st.dataframe(_members(incident, now), hide_index=True, column_config=MEMBER_COLUMNS, placeholder="–")
        st.page_link(
            "pages/6_Incident.py",
            label="Timeline and report",
            icon=":material/timeline:",
            query_params={"incident": incident["id"]},
        )
        runbooks = {a["details"].get("runbook_url") for a in incident["alerts"]} - {None, ""}
        for url in sorted(runbooks):
            st.text(f"Runbook: {url}")


def deliveries(view: dict) -> None:
    st.markdown("**Delivery log**")
    entries = view["deliveries"]
    if not entries:
        st.caption("Nothing sent yet.")
        return
    table = pd.DataFrame(
        {
            "time": local_times([d["created"] for d in entries], viewer_zone()),
            "status": [d["status"] for d in entries],
            "error": [d["error"] if d["status"] != "sent" else None for d in entries],
            "kind": [d["kind"] for d in entries],
            "title": [d["title"] for d in entries],
            "attempts": [d["attempts"] for d in entries],
            "latency": [d["latency_s"] for d in entries],
            "channel": [d["channel"] for d in entries],
            "target": [d["target"] for d in entries],
        }
    )
    st.dataframe(table, hide_index=True, column_config=DELIVERY_COLUMNS, placeholder="–")
    counts = ", ".join(f"{n} {status}" for status, n in view["counts"].items() if n)
    st.caption(f"{counts} of the last 500; the newest {len(entries)} here, all at GET /api/notifications.")


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    now = time.time()
    view = notifications_view(collector.notifier, limit=SHOWN, deliveries=DELIVERIES_SHOWN)
    counts = view["incident_counts"]
    st.subheader(f"Incidents ({counts['open']} open)")
    if not counts["total"]:
        st.caption("No incident since the monitor started.")
    for incident in view["incidents"]:
        incident_row(incident, now)
    if counts["total"] > SHOWN:
        st.caption(f"{counts['total'] - SHOWN} older incidents are not shown; GET /api/notifications has them all.")
    timers = view["timers"]
    st.subheader("Notifications")
    if not view["enabled"]:
        st.caption(
            "No route is configured: set PRSM_NOTIFY_URLS (Apprise URLs), PRSM_ALERTMANAGER_URL, "
            "or [notifications] in .streamlit/secrets.toml."
        )
        return
    routes = "; ".join(
        f"{escape_markdown(r['name'])}: {len(r['targets'])} target(s)"
        + (f", {r['min_level']} and above" if "min_level" in r else "")
        + (", escalations only" if r.get("escalation") else "")
        for r in view["routes"]
    )
    st.caption(
        f"{routes}. Each incident is told after {duration(timers['group_wait_s'])}, changes after "
        f"{duration(timers['group_interval_s'])}, again every {duration(timers['repeat_interval_s'])} while it "
        f"fires; critical alerts not acknowledged in {duration(timers['escalate_after_s'])} are escalated."
    )
    deliveries(view)
