"""What a notification says: plain text, one line per alert with the value now, the
threshold, for how long, and the context its details carry (runbook, description, node)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..alerts.incident_link import incident_url
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
class Message:
    title: str
    body: str
    level: str  # the incident's level
    resolved: bool = False


def duration(seconds: float) -> str:
    """``45s``, ``3m 20s``, ``2h 5m``, ``1d 3h``."""
    seconds = max(0, int(seconds))
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if seconds >= size:
            rest = (seconds % size) // sub_size
            return f"{seconds // size}{unit}" + (f" {rest}{sub}" if rest else "")
    return f"{seconds}s"


def utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def number(value, unit: str = "") -> str:
    """``value`` with its ``unit`` (``92.3%``, ``130 ms``; none for ratios)."""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text + ("" if unit in ("", "1") else unit if unit == "%" else f" {unit}")


def _shown(key: str, value) -> str:
    """A detail's value; times (``down_since``, ``*_at``) in UTC."""
    if isinstance(value, (int, float)) and (key.endswith("since") or key.endswith("_at")) and value > 1e9:
        return utc(value)
    return number(value)


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
        facts.insert(0, f"value now {number(d['value'], unit)}")
    if d.get("threshold") is not None:
        facts.insert(1 if d.get("value") is not None else 0, f"threshold {number(d['threshold'], unit)}")
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
    incident: Incident, members: list[Member], reason: str, now: float, source: str, context: dict | None = None
) -> Message:
    """The message for ``incident`` telling ``members`` (the alerts this route gets);
    ``context`` maps an alert id to lines of context for it."""
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
    if link := incident_url(incident.id):  # PRSM_PUBLIC_URL set: the incident page
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
