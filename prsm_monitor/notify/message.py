"""The render stage: what a notification says. Plain text, one line per alert with the value
now, the threshold, for how long, and the context its details carry (runbook, description,
node); for channels that take alerts rather than text (Alertmanager), the alerts' states."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..alerts.incident_link import incident_url
from ..fields import LEVELS
from ..settings.durations import duration
from ..units import value_text
from .grouping import Incident, Member

_KNOWN = {"rule", "field", "value", "threshold", "unit", "transition", "runbook_url", "description", "was"} | {
    "series",  # an anomaly's: its message names it, and says its normal band (low, high)
    "alertname",
    "low",
    "high",
}
_HEADINGS = {
    "firing": "FIRING",
    "changed": "FIRING",
    "repeat": "STILL FIRING",
    "resolved": "RESOLVED",
    "escalation": "ESCALATED",
}


@dataclass(frozen=True)
class AlertState:
    """An alert as a channel that takes alerts is told it: firing (until ``ends_at``, ahead of
    now, unless told again), or ended at ``ends_at``."""

    alert: dict  # an active alert as the log has it: id, key, level, component, message, details, started
    ends_at: float
    firing: bool


@dataclass(frozen=True)
class Message:
    """A rendered notification: what every channel is given."""

    title: str
    body: str
    level: str  # the incident's level
    resolved: bool = False
    alerts: tuple[AlertState, ...] = ()  # for channels that take alerts (Alertmanager)
    source: str = ""  # the monitor it comes from (host:port), when ``alerts`` are given
    at: float = 0.0  # when it was rendered, when ``alerts`` are given


def utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _shown(key: str, value) -> str:
    """A detail's value; times (``down_since``, ``*_at``) in UTC."""
    if isinstance(value, (int, float)) and (key.endswith("since") or key.endswith("_at")) and value > 1e9:
        return utc(value)
    return value_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def alert_lines(member: Member, now: float, context: list[str] | None = None) -> list[str]:
    """An alert: its level, component and message; the value now, the threshold and for how
    long; its description; the ``context`` lines given (else the rest of its details); its
    runbook."""
    d = member.details
    unit = str(d.get("unit") or "")
    head = f"- {member.level.upper()} {member.component}: {member.message}"
    if member.firing:
        facts = [f"for {duration(now - member.fired_at)} (since {utc(member.fired_at)})"]
    else:
        facts = [f"ended {utc(member.ended_at)} after {duration(member.ended_at - member.fired_at)}"]
    if d.get("value") is not None:
        facts.insert(0, f"value now {value_text(d['value'], unit)}")
    if d.get("threshold") is not None:
        facts.insert(1 if d.get("value") is not None else 0, f"threshold {value_text(d['threshold'], unit)}")
    lines = [head, "  " + ", ".join(facts)]
    if d.get("description"):
        lines.append(f"  {d['description']}")
    if context:
        lines.extend(f"  {line}" for line in context)
    else:
        rest = [f"{k}: {_shown(k, v)}" for k, v in d.items() if k not in _KNOWN and not isinstance(v, (dict, list))]
        if rest:
            lines.append(f"  context: {', '.join(rest)}")
    if d.get("runbook_url"):
        lines.append(f"  runbook: {d['runbook_url']}")
    return lines


def render(
    incident: Incident,
    members: list[Member],
    reason: str,
    now: float,
    source: str,
    context: dict | None = None,
    public_url: str | None = None,
) -> Message:
    """The message for ``incident`` telling ``members`` (the alerts this route gets);
    ``context`` maps an alert id to lines of context for it; with ``public_url`` (the
    dashboard's address) it links the incident's page."""
    resolved = reason == "resolved"
    firing = [m for m in members if m.firing]
    heading = _HEADINGS.get(reason, reason.upper())
    count = f":{len(firing)}" if firing else ""
    title = f"[{heading}{count}] {incident.title}"
    state = (
        f"resolved {utc(incident.ended_at)} after {duration(incident.ended_at - incident.started)}"
        if resolved and incident.ended_at
        else f"firing since {utc(incident.started)} (for {duration(now - incident.started)})"
    )
    lines = [f"Incident #{incident.id} on {source}: {state}."]
    if link := incident_url(public_url, incident.id):  # PRSM_PUBLIC_URL set: the incident page
        lines.append(f"Incident page: {link}")
    if incident.labels:
        lines.append("Grouped by " + ", ".join(f"{k}={v}" for k, v in incident.labels.items()) + ".")
    lines.append(f"{len(firing)} firing, {len(members) - len(firing)} resolved:")
    said: set[tuple[str, ...]] = set()  # context lines already in this message (a node's, for its models too)
    for member in sorted(members, key=lambda m: (not m.firing, m.fired_at)):
        extra = tuple((context or {}).get(member.alert_id) or ())
        if extra and extra in said:
            extra = ("(context as above)",)
        said.add(extra)
        lines.extend(alert_lines(member, now, list(extra)))
    return Message(title, "\n".join(lines), incident.level, resolved)


def render_escalation(member: Member, since: float, now: float, source: str, context: list[str] | None) -> Message:
    """A critical alert nobody acknowledged since ``since`` (when it became critical)."""
    body = "\n".join(
        [
            f"Not acknowledged {duration(now - since)} after it became critical ({utc(since)}), on {source}:",
            *alert_lines(member, now, context),
        ]
    )
    return Message(f"[ESCALATED] {member.message}", body, "critical")


def render_alerts(states: list[AlertState], now: float, source: str) -> Message:
    """Alerts' states, for a channel that takes alerts (titled for the delivery log)."""
    lines = [
        f"- {'FIRING' if s.firing else 'RESOLVED'} {s.alert['level']} {s.alert['component']}: {s.alert['message']}"
        for s in states
    ]
    firing = sum(s.firing for s in states)
    levels = [s.alert["level"] for s in states if s.firing] or ["info"]
    return Message(
        f"{firing} firing, {len(states) - firing} resolved",
        "\n".join(lines),
        max(levels, key=LEVELS.index),
        resolved=not firing,
        alerts=tuple(states),
        source=source,
        at=now,
    )
