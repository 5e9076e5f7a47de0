"""Alerts page: active alerts with acknowledgement, history with filters, counts over time by level."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from ...core.collector import COMPONENTS, MetricsCollector
from ...fields import LEVELS
from .. import charts
from ..clock import clock, local_times, viewer_zone
from ..shared_views import per_version
from ..state import Prefs
from ..style import LEVEL_BADGES, LEVEL_COLORS
from ..timechart import show
from . import incidents
from .alert_rows import actions_note, alert_details, muted_badge, row_actions
from .common import moment_of
from .silences import silence_errors, silences_list

HISTORY_COLUMNS = {  # the message second: on a narrow page it is what must stay in view
    "time": st.column_config.DatetimeColumn("Time", format="MMM D, HH:mm:ss"),
    "level": st.column_config.TextColumn("Level"),
    "message": st.column_config.TextColumn("Message", width="large"),
    "component": st.column_config.TextColumn("Component"),
    "event": st.column_config.TextColumn("Event"),
}


def _clock(timestamp: float) -> str:
    return clock(timestamp, viewer_zone())


def active_alerts(collector: MetricsCollector) -> None:
    active = per_version(collector, ("active_alerts",), lambda c: c.get_active_alerts())
    st.subheader(f"Active ({len(active)})")
    silence_errors()
    if not active:
        st.success("No alert is active.", icon=":material/check_circle:")
        return
    past = getattr(collector, "past", False)
    writable = not getattr(collector, "remote", False) and not past  # acknowledged there, or now
    if writable:
        actions_note(collector)
    causes = per_version(collector, ("incident_causes",), caused_by)
    shown = [a for a in active if a["id"] not in causes.folded][:25]
    alert_list(shown, collector if writable else None, causes.followers, collector.silences if past else None)
    if past:
        st.caption("As the alert log recorded them then: acknowledged and silenced as they were at that moment.")
    elif not writable:
        st.caption("Acknowledge these on the instance's own dashboard: changes apply only to this instance.")
    hidden = len(active) - len(causes.folded) - len(shown)
    if hidden > 0:
        st.caption(f"{hidden} more active alerts are not shown; see the history below.")


@dataclass(frozen=True)
class Causes:
    """Active alerts that one thing caused (an open incident, :mod:`prsm_monitor.notify.grouping`):
    ``followers`` maps the incident's first alert id to the others, ``folded`` holds their ids."""

    followers: dict[int, list[dict]]
    folded: frozenset[int]


def caused_by(collector) -> Causes:
    """The open incidents of more than one active alert, as :class:`Causes` (none without a notifier)."""
    notifier = getattr(collector, "notifier", None)
    if notifier is None:
        return Causes({}, frozenset())
    active = {a["id"]: a for a in collector.get_active_alerts()}
    followers: dict[int, list[dict]] = {}
    for incident in notifier.incidents():
        ids = [m["alert_id"] for m in incident["alerts"] if m["firing"] and m["alert_id"] in active]
        if incident["open"] and len(ids) > 1:
            followers[ids[0]] = [active[i] for i in ids[1:]]
    return Causes(followers, frozenset(a["id"] for group in followers.values() for a in group))


def alert_list(
    alerts: list[dict],
    collector: MetricsCollector | None = None,
    followers: dict[int, list[dict]] | None = None,
    silences=None,
) -> None:
    """One bordered row per alert: level, component and since when, the message (as text: it is
    untrusted, and it wraps), and with ``collector`` its value, threshold, duration, context and
    runbook, and Acknowledge and Silence controls (see :mod:`.alert_rows`); a silenced alert is
    shown muted. ``followers`` (an alert's id: the alerts it caused, one incident) puts those
    in an expander under its row: one incident, one row that expands. ``silences`` (read-only
    rows, a page in the past) says which were silenced then."""
    now = time.time()
    details = alert_details(collector, alerts, now) if collector is not None else None
    silences = collector.silences if collector is not None else silences
    for alert in alerts:
        silence = silences.silenced(alert, now) if silences is not None else None
        with st.container(border=True):
            what, message, action = st.columns([2, 5, 2.2], vertical_alignment="center")
            badge = (
                muted_badge(alert) if silence else f":{LEVEL_BADGES[alert['level']]}-badge[{alert['level'].upper()}]"
            )
            what.markdown(badge)
            what.caption(f"{alert['component']} · since {_clock(alert['started'])}")
            message.text(alert["message"])  # untrusted text: shown as text
            if details is not None:
                details(message, alert, silence)
            if collector is not None:
                row_actions(action, collector, alert)
            elif alert["acknowledged"]:
                action.caption(f"Acknowledged {_clock(alert['acknowledged_at'])}")
            caused = (followers or {}).get(alert["id"])
            if caused:
                count = len(caused)
                with st.expander(f"{count} more alert{'s' if count != 1 else ''} of this incident"):
                    alert_list(caused, collector, silences=silences)


def _level_style(level: str) -> str:
    return f"background-color: {LEVEL_COLORS[level]}33; font-weight: 600"


def history(collector: MetricsCollector, prefs: Prefs) -> None:
    st.subheader("History")
    left, right = st.columns(2)
    levels = left.multiselect("Level", LEVELS, default=list(LEVELS), key="alerts_levels")
    components = right.multiselect("Component", COMPONENTS, default=list(COMPONENTS), key="alerts_components")
    key = ("alert_events", prefs.minutes, tuple(levels), tuple(components))
    events, counts = per_version(collector, key, lambda c: _events(c, prefs.minutes, levels, components))
    show(counts, f"No alert events in the last {prefs.range_label} for this filter.")
    if not events:
        return
    table = pd.DataFrame(
        {
            "time": local_times([e["timestamp"] for e in events], viewer_zone()),
            "level": [e["level"] for e in events],
            "message": [e["message"] for e in events],
            "component": [e["component"] for e in events],
            "event": [e["kind"] for e in events],
        }
    ).iloc[::-1]
    st.dataframe(
        table.style.map(_level_style, subset=["level"]),
        hide_index=True,
        column_config=HISTORY_COLUMNS,
        placeholder="–",
    )
    st.caption(f"{len(events)} events, newest first. The log keeps the last 1,000.")


def _events(collector: MetricsCollector, minutes: float, levels, components) -> tuple[list[dict], charts.Chart | None]:
    """The range's events that pass the filter, and their counts over time (shared by viewers)."""
    now = moment_of(collector) or time.time()
    since = collector.get_alerts(since=now - minutes * 60)
    events = [e for e in since if e["level"] in levels and e["component"] in components]
    return events, charts.alert_counts(events, minutes=minutes, now=now)


def render(collector: MetricsCollector, prefs: Prefs) -> None:
    active_alerts(collector)
    if getattr(collector, "past", False):
        silences_then(collector)
    elif not getattr(collector, "remote", False):  # silences and notifications are each instance's own
        silences_list(collector)
        incidents.render(collector, prefs)  # grouped alerts and the delivery log (prsm_monitor.notify)
    history(collector, prefs)


SILENCE_COLUMNS = {
    "matchers": st.column_config.TextColumn("Matches"),
    "ends": st.column_config.DatetimeColumn("Until", format="MMM D, HH:mm"),
    "created_by": st.column_config.TextColumn("By"),
    "comment": st.column_config.TextColumn("Comment", width="large"),
}


def silences_then(collector) -> None:
    """A page in the past: the silences in force at its moment, from the audit events."""
    items = collector.silences.items
    st.subheader(f"Silences in force then ({len(items)})")
    if not items:
        st.caption("No silence was in force at this moment.")
        return
    rows = pd.DataFrame(
        {
            "matchers": [", ".join(f"{k}={v}" for k, v in s["matchers"].items()) for s in items],
            "ends": local_times([s["ends_at"] for s in items], viewer_zone()),
            "created_by": [s["created_by"] for s in items],
            "comment": [s["comment"] for s in items],
        }
    )
    st.dataframe(rows, hide_index=True, column_config=SILENCE_COLUMNS, placeholder="–")
