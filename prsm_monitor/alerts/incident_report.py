"""An incident as a post-mortem in Markdown: summary, impact, timeline, time to detect and to
acknowledge, what resolved it, and the fields charted (their data goes in a CSV beside it).

Every piece of untrusted text (alert messages, node and model names, who acted) is escaped
for Markdown, so a name cannot become a link, an image or a table cell of its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def text(value) -> str:
    """``value`` as literal Markdown text in the middle of a line (never at its start, where
    ``#``, ``-`` or ``1.`` would start a block): the characters that open inline code,
    emphasis, links, images, HTML, entities or a table cell escaped, and on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def utc(timestamp: float | None) -> str:
    return "–" if timestamp is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def span(seconds: float | None) -> str:
    """``42.3 s``, ``3 min 20 s``, ``2 h 5 min``; ``–`` for none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def offset(seconds: float) -> str:
    """A time relative to the incident's start: ``+12.4 s``, ``-3.0 s``."""
    return f"{'+' if seconds >= 0 else '-'}{abs(seconds):.1f} s"


def resolution(record: Mapping) -> str:
    """What resolved it, in a sentence, from the timeline."""
    cleared = next((e for e in record["timeline"] if e["kind"] == "fault_cleared"), None)
    if record["state"] == "open":
        return "Not resolved: the incident is still open."
    if cleared is not None:
        after = record["end"] - cleared["time"]
        return f"{text(cleared['text'])} at {utc(cleared['time'])}; the last alert ended {span(after)} later."
    last = [e for e in record["timeline"] if e["kind"] in ("resolved", "recovered")]
    said = text(last[-1]["text"]) if last else "its alerts ended"
    return f"The values went back to normal by themselves: {said} at {utc(record['end'])}."


def summary(record: Mapping) -> str:
    """The incident in two sentences: what started it, what fired, how long it lasted."""
    r = record
    fault = next((e for e in r["timeline"] if e["kind"] == "fault"), None)
    began = f"{text(fault['text'])} at {utc(fault['time'])}" if fault else f"It started at {utc(r['start'])}"
    count = len(r["alerts"])
    first = f"{count} alert{'s' if count != 1 else ''} fired, the first at {utc(r['first_alert'])}"
    lasted = f"lasted {span(r['duration_s'])}" if r["end"] is not None else "is still open"
    return f"{began}. {first}; the incident {lasted}."


def detect_note(record: Mapping) -> str:
    origin = record["detected_from"]
    if origin is None:
        return "unknown (no fault recorded and no stored value past its threshold before the first alert)"
    return f"{span(record['time_to_detect_s'])} (from the {origin} to the first alert, {utc(record['first_alert'])})"


def markdown(record: Mapping, *, source: str = "", csv_name: str | None = None) -> str:
    """The post-mortem of ``record`` (:func:`~.incident_timeline.incident_record`)."""
    r = record
    lines = [f"# Incident {r['id']}: {text(r['title'])}", ""]
    if source:
        lines += [f"Monitored by {text(source)}. Generated {utc(time.time())}.", ""]
    lines += ["## Summary", "", summary(r), ""]
    rows = [
        ("Cause", text(r["cause"]) if r["cause"] else "not known (no demo fault recorded)"),
        ("Severity", r["level"]),
        ("State", r["state"]),
        ("Started", utc(r["start"])),
        ("Ended", utc(r["end"])),
        ("Duration", span(r["duration_s"])),
        ("Time to detect", detect_note(r)),
        (
            "Time to acknowledge",
            span(r["time_to_acknowledge_s"]) if r["time_to_acknowledge_s"] is not None else "not acknowledged",
        ),
    ]
    lines += ["| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows), ""]
    lines += ["## Impact", ""]
    lines.append(f"- Nodes affected: {', '.join(text(n) for n in r['nodes']) or 'none named'}")
    lines.append(f"- Models affected: {', '.join(text(m) for m in r['models']) or 'none named'}")
    firing = sum(a["firing"] for a in r["alerts"])
    lines.append(f"- {len(r['alerts'])} alert(s): {firing} still firing")
    for a in sorted(r["alerts"], key=lambda a: a["fired_at"]):
        ended = f"ended {utc(a['ended_at'])}" if a["ended_at"] is not None else "firing"
        lines.append(
            f"  - {a['level'].upper()} {text(a['component'])}: {text(a['message'])} ({utc(a['fired_at'])}, {ended})"
        )
    lines += ["", "## Timeline", "", "| Time (UTC) | From start | What | Detail |", "| --- | --- | --- | --- |"]
    for e in r["timeline"]:
        who = f" (by {text(e['who'])})" if e.get("who") and e["who"] not in e["text"] else ""
        when = time.strftime("%H:%M:%S", time.gmtime(e["time"])) + f".{int(e['time'] % 1 * 10)}"
        lines.append(f"| {when} | {offset(e['time'] - r['start'])} | {e['kind']} | {text(e['text'])}{who} |")
    lines += ["", "## What resolved it", "", resolution(r), ""]
    if r["signals"]:
        lines += ["## Fields charted", ""]
        for s in r["signals"]:
            test = f", abnormal at or above {s['above']:g}" if s["above"] is not None else ""
            test += f", abnormal at or below {s['below']:g}" if s["below"] is not None else ""
            lines.append(
                f"- {text(s['label'])} ({text(s['series'])} {text(s['field'])}, {text(s['unit'] or 'no unit')}{test})"
            )
        if csv_name:
            lines += ["", f"Their values from a few minutes before to after the incident are in `{csv_name}`."]
        lines.append("")
    return "\n".join(lines)
