"""What an active alert's row on the Alerts page adds to its message: the value now, the
threshold and for how long, context, description and runbook, the silence that mutes it, and
the Acknowledge and Silence controls (disabled for viewers, see :mod:`..roles`)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ...alerts.context import context, facts
from ...core.collector import MetricsCollector
from ...sources.system import top_processes
from ..clock import clock, viewer_zone
from ..roles import reason_caption, role
from ..text import escape_markdown as md
from .silences import silence_form

PROCESS_FIELDS = ("cpu_percent", "memory_percent")  # alerts whose context is the top processes


def _acknowledge(collector: MetricsCollector, alert_id: int) -> None:
    who = role(collector.settings)  # checked again: the button could be a stale one
    if who.may_change:
        collector.acknowledge(alert_id, who.actor)


def muted_badge(alert: dict) -> str:
    return f":gray-badge[{alert['level'].upper()} · SILENCED]"


def actions_note(collector: MetricsCollector) -> None:
    """Once above the rows: why a viewer's controls are disabled."""
    reason_caption(role(collector.settings))


def alert_details(collector: MetricsCollector, alerts: list[dict], now: float) -> Callable:
    """A function that writes one alert's details into a container; what every row needs
    (the latest records, the top processes when a CPU or memory alert is active) is read once."""
    latest = collector.get_latest_metrics()
    processes = []
    if any((a.get("details") or {}).get("field") in PROCESS_FIELDS for a in alerts):
        processes = top_processes(10)
    zone = viewer_zone()

    def details(container, alert: dict, silence: dict | None) -> None:
        info = alert.get("details") or {}
        lines = [facts(alert, now), *context(alert, latest, processes)]
        if info.get("description"):
            lines.append(info["description"])
        for line in lines:
            container.caption(md(line))  # node, model and process names are untrusted
        url = info.get("runbook_url")
        if url and url.startswith(("https://", "http://")):
            container.link_button("Runbook", url, icon=":material/menu_book:")
        elif url:
            container.caption(md(f"Runbook: {url}"))
        if silence:
            until = clock(silence["ends_at"], zone)
            container.caption(
                ":material/notifications_off: "
                + md(f"Silenced until {until} by {silence['created_by']}: no toast, no notification")
            )

    return details


def row_actions(container, collector: MetricsCollector, alert: dict) -> None:
    """Acknowledge (or who acknowledged it, and when) and Silence."""
    who = role(collector.settings)
    zone = viewer_zone()
    with container:
        if alert["acknowledged"]:
            by = alert.get("acknowledged_by")
            st.caption(md(f"Acknowledged {clock(alert['acknowledged_at'], zone)}" + (f" by {by}" if by else "")))
        else:
            st.button(
                "Acknowledge",
                key=f"ack_{alert['id']}",
                on_click=_acknowledge,
                args=(collector, alert["id"]),
                disabled=not who.may_change,
                width="stretch",
            )
        silence_form(collector, alert, who, str(alert["id"]))
