"""An incident's story: everything that belonged to it, in order, and its times.

Built on read from public results only: the notifier's incidents and delivery log (``view``:
what :func:`~prsm_monitor.notify.view.notifications_view` returns, URLs redacted), the alert log's events
(alerts, acknowledgements, silences and the demo's faults, all logged with their times) and the
store's history (:mod:`.incident_signals`). Each entry is ``{"time", "kind", "text", ...}``;
kinds: ``fault``, ``first_abnormal``, the alert log's ``fired`` / ``escalated`` /
``de-escalated`` / ``error`` / ``anomaly`` / ``forecast`` / ``resolved`` / ``recovered``,
``acknowledged``, ``silenced``, ``unsilenced``, ``fault_cleared``, ``notification`` and
``ended`` (the incident's last alert ended).

Time to detect runs from the fault (with the demo) or else from the first abnormal value to
the first alert; time to acknowledge from the first alert to the first acknowledgement.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ..demo.faults import fault_causes
from .incident_signals import Signal, first_abnormal_values, signals
from .log import CLOSING, OPENING
from .silences import matches

ALERT_KINDS = OPENING | CLOSING
# entries at the same moment: the fault before its effects, the end last; the log's own
# entries keep the log's order (a stable sort)
_RANK = {"fault": 0, "first_abnormal": 1, "ended": 9}


def incident_list(view: Mapping) -> list[dict]:
    """Every incident in ``view`` (the notifier's), newest first: id, title, cause, start, end,
    state and counts (no timeline: cheap)."""
    out = []
    for i in sorted(view["incidents"], key=lambda i: -i["started"]):
        out.append(
            {
                "id": i["id"],
                "title": i["title"],
                "cause": i["cause"],
                "level": i["level"],
                "start": i["started"],
                "end": i["ended_at"],
                "state": "open" if i["open"] else "resolved",
                "counts": {"alerts": len(i["alerts"]), "firing": i["firing"], "notifications": i["notifications"]},
            }
        )
    return out


def _fault_span(events: list[dict], cause: str | None, started: float) -> tuple[dict | None, dict | None]:
    """The fault event that injected ``cause`` (the last before the incident started) and the
    first later one that ended it."""
    if not cause:
        return None, None
    injected, cause_id = None, None
    for e in events:
        if e["timestamp"] > started + 1e-6:
            break
        if (e.get("details") or {}).get("fault"):
            for c in fault_causes(e["details"])[0]:
                if c.title == cause:
                    injected, cause_id = e, c.id
    if injected is None:
        return None, None
    for e in events:
        ends = (
            fault_causes(e["details"])[1] if e["id"] > injected["id"] and (e.get("details") or {}).get("fault") else []
        )
        if any(cause_id[: len(p)] == p for p in ends):
            return injected, e
    return injected, None


def _entry(time_: float, kind: str, text: str, **extra) -> dict:
    return {"time": time_, "kind": kind, "text": text, **{k: v for k, v in extra.items() if v is not None}}


def _alert_label(alert: Mapping) -> dict:
    """What a silence matches an incident alert by (as :func:`.silences.labels` reads it)."""
    return {
        "component": alert["component"],
        "level": alert["level"],
        "key": alert.get("key"),
        "details": alert["details"],
    }


def _log_entries(incident: dict, events: list[dict], until: float) -> list[dict]:
    """The alert log's entries of the incident's alerts, acknowledgements and silences."""
    members = {a["alert_id"]: a for a in incident["alerts"]}
    out = []
    for e in events:
        d = e.get("details") or {}
        if e["kind"] in ALERT_KINDS and e.get("alert_id") in members:
            out.append(_entry(e["timestamp"], e["kind"], e["message"], level=e["level"], alert_id=e["alert_id"]))
        elif e["kind"] == "changed" and d.get("setting") == "acknowledge" and d.get("alert_id") in members:
            out.append(_entry(e["timestamp"], "acknowledged", e["message"], who=d.get("actor"), alert_id=d["alert_id"]))
        elif (
            e["kind"] == "changed" and d.get("setting") == "silence" and incident["started"] <= e["timestamp"] <= until
        ) and any(matches(d.get("matchers") or {}, _alert_label(a)) for a in members.values()):
            kind = "unsilenced" if e["timestamp"] >= d.get("ends_at", float("inf")) else "silenced"
            out.append(_entry(e["timestamp"], kind, e["message"], who=d.get("actor")))
    return out


def _acks_without_event(incident: dict, active: list[dict], logged: set[int]) -> list[dict]:
    """Acknowledgements made without a name (no event logged): from the active alerts."""
    ids = {a["alert_id"] for a in incident["alerts"]}
    return [
        _entry(a["acknowledged_at"], "acknowledged", f"Acknowledged: {a['message']}", alert_id=a["id"])
        for a in active
        if a["id"] in ids and a.get("acknowledged") and a.get("acknowledged_at") and a["id"] not in logged
    ]


def _notification_entries(incident_id: int, deliveries: list[dict]) -> list[dict]:
    out = []
    for d in deliveries:
        if d.get("incident") != incident_id:
            continue
        outcome = {"sent": "delivered", "failed": "failed", "dropped": "dropped (queue full)"}.get(
            d["status"], d["status"]
        )
        why = f": {d['error']}" if d.get("error") and d["status"] != "sent" else ""
        text = f"{d['kind']} notification to route {d['channel']} ({d['target']}) {outcome}{why}"
        when = d.get("sent_at") or d["created"]
        out.append(_entry(when, "notification", text, route=d["channel"], status=d["status"], title=d["title"]))
    return out


def _abnormal_entry(hit: dict) -> dict:
    s: Signal = hit["signal"]
    edge = f"at or above {s.above:g}" if s.above is not None and hit["value"] >= s.above else f"at or below {s.below:g}"
    unit = f" {s.unit}" if s.unit not in ("", "1") else ""
    text = f"First abnormal value: {s.label} = {hit['value']:.4g}{unit} ({edge}{unit})"
    return _entry(
        hit["time"], "first_abnormal", text, series=s.series, field=s.field, value=hit["value"], of_alert=s.alert_id
    )


def affected(incident: dict) -> tuple[list[str], list[str]]:
    """The nodes and models its alerts name (labels, details and anomaly series)."""
    nodes, models = set(), set()
    for a in incident["alerts"]:
        d = a["details"]
        prefix, _, name = str(d.get("series") or "").partition(":")
        nodes |= {d["node"]} if d.get("node") else {name} if prefix == "node" and name else set()
        models |= {d["model"]} if d.get("model") else {name} if prefix == "model" and name else set()
    nodes |= {incident["labels"]["node"]} if incident["labels"].get("node") else set()
    return sorted(nodes), sorted(models)


def incident_record(collector, view: Mapping, incident_id: int, now: float | None = None) -> dict | None:
    """The whole incident as JSON-ready data (None: ``view``, the notifier's, has no such incident)."""
    now = time.time() if now is None else now
    incident = next((i for i in view["incidents"] if i["id"] == incident_id), None)
    if incident is None:
        return None
    events = collector.get_alerts()
    end = incident["ended_at"] if incident["ended_at"] is not None else now
    injected, cleared = _fault_span(events, incident["cause"], incident["started"])
    found = signals(incident["alerts"], collector.rules)
    first_alert = min(a["fired_at"] for a in incident["alerts"])
    hits = first_abnormal_values(collector, found, injected["timestamp"] if injected else None)
    hits = [h for h in hits if not injected or h["time"] >= injected["timestamp"]]
    entries = [_abnormal_entry(h) for h in hits[:1]]  # the first one: the story's first signal
    for e, kind in ((injected, "fault"), (cleared, "fault_cleared")):
        if e is not None:
            entries.append(_entry(e["timestamp"], kind, e["message"], who=(e.get("details") or {}).get("actor")))
    entries += _log_entries(incident, events, end)
    logged = {e["alert_id"] for e in entries if e["kind"] == "acknowledged" and "alert_id" in e}
    entries += _acks_without_event(incident, collector.get_active_alerts(), logged)
    entries += _notification_entries(incident_id, view["deliveries"])
    if incident["ended_at"] is not None:
        count = len(incident["alerts"])
        entries.append(_entry(incident["ended_at"], "ended", f"Incident resolved: its {count} alert(s) ended"))
    entries.sort(key=lambda e: (e["time"], _RANK.get(e["kind"], 5)))
    detected_from = injected["timestamp"] if injected else hits[0]["time"] if hits else None
    acks = [e["time"] for e in entries if e["kind"] == "acknowledged"]
    nodes, models = affected(incident)
    return {
        "id": incident["id"],
        "title": incident["title"],
        "cause": incident["cause"],
        "level": incident["level"],
        "labels": incident["labels"],
        "state": "open" if incident["open"] else "resolved",
        "start": incident["started"],
        "end": incident["ended_at"],
        "duration_s": end - incident["started"],
        "first_alert": first_alert,
        "detected_from": "fault" if injected else "first abnormal value" if hits else None,
        "time_to_detect_s": None if detected_from is None else first_alert - detected_from,
        "time_to_acknowledge_s": min(acks) - first_alert if acks else None,
        "fault": None
        if injected is None
        else {"start": injected["timestamp"], "end": cleared and cleared["timestamp"]},
        "nodes": nodes,
        "models": models,
        "alerts": incident["alerts"],
        "signals": [
            {"series": s.series, "field": s.field, "unit": s.unit, "label": s.label, "above": s.above, "below": s.below}
            for s in found
        ],
        "timeline": entries,
    }
