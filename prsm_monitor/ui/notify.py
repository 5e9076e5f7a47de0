"""Toasts: each new alert appears once per browser session, on whatever page is open, unless
a silence matches it (see :mod:`prsm_monitor.alerts.silences`)."""

from __future__ import annotations

import streamlit as st

from ..core.collector import MetricsCollector
from .text import escape_markdown

TOAST_KINDS = frozenset({"fired", "escalated", "error"})
ICONS = {"warning": ":material/warning:", "error": ":material/error:", "critical": ":material/crisis_alert:"}
SEEN_KEY = "notify_last_event_id"


def toast_new_alerts(collector: MetricsCollector) -> None:
    """Toast alerts logged since this session last looked. A new session starts from now:
    it is not flooded with history (that is on the Alerts page)."""
    if SEEN_KEY not in st.session_state:
        newest = collector.get_alerts(limit=1)
        st.session_state[SEEN_KEY] = newest[-1]["id"] if newest else 0
        return
    events = collector.get_alerts(since_id=st.session_state[SEEN_KEY])
    if not events:
        return
    st.session_state[SEEN_KEY] = events[-1]["id"]
    for event in events[-5:]:  # a burst shows its newest five; one a silence covered when it fired stays quiet
        if event["kind"] in TOAST_KINDS and collector.silences.silenced(event, event["timestamp"]) is None:
            st.toast(
                f"**{event['level'].upper()}** · {event['component']}: {escape_markdown(event['message'])}",
                icon=ICONS.get(event["level"]),
                duration="long",
            )
