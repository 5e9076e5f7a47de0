"""What an alert's row says besides its message: the value now against its threshold, for how
long, and the context that helps (the top processes for CPU and memory, the node and its links
for the network, the model and its host for AI). Pure functions of the alert and the latest
records, so the page, the API and notifications can say the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..settings.durations import duration
from ..units import value_text

since = duration  # how long an alert has held, in the words every page uses
SHOWN = 3  # processes, links or models named in a context line


_number = value_text  # every value with its unit, one way (prsm_monitor.units)


def facts(alert: Mapping, now: float) -> str:
    """``now 92.3 · threshold 80 · for 12 min`` (the value and threshold when the alert has them)."""
    details = alert.get("details") or {}
    parts = []
    if "value" in details:
        parts.append(f"now {_number(details['value'], details.get('unit', ''))}")
    if details.get("threshold") is not None:
        parts.append(f"threshold {_number(details['threshold'], details.get('unit', ''))}")
    parts.append(f"for {since(now - alert.get('started', now))}")
    return " · ".join(parts)


def context(alert: Mapping, latest: Mapping, processes: Sequence[Mapping] = ()) -> list[str]:
    """Lines of context for ``alert`` from ``latest`` (``get_latest_metrics()``) and, for
    CPU and memory, ``processes`` (:func:`~prsm_monitor.sources.system.top_processes`)."""
    details = alert.get("details") or {}
    field = details.get("field", "")
    network, ai = latest.get("network") or {}, latest.get("ai") or {}
    host = details.get("series", "system") == "system" and not details.get("node")  # the machine itself
    if field == "cpu_percent" and processes and host:
        top = sorted(processes, key=lambda p: -(p.get("cpu_percent") or 0))[:SHOWN]
        return ["Top CPU: " + ", ".join(f"{p['name']} (pid {p['pid']}) {p['cpu_percent']:.0f}%" for p in top)]
    if field == "memory_percent" and processes and host:  # not node-0's memory: the node's own context
        top = sorted(processes, key=lambda p: -(p.get("memory_mb") or 0))[:SHOWN]
        return ["Top memory: " + ", ".join(f"{p['name']} (pid {p['pid']}) {p['memory_mb']:.0f} MB" for p in top)]
    if details.get("node"):
        return _node(details["node"], network)
    if details.get("model"):
        return _models(ai, details["model"], field)
    if alert.get("component") == "network":
        return _links(network)
    if alert.get("component") == "ai":
        return _models(ai, None, field)
    return []


def _node(name: str, network: Mapping) -> list[str]:
    row = next((n for n in network.get("nodes", ()) if n.get("name") == name), None)
    if row is None:
        return []
    edges = [e for e in network.get("edges", ()) if name in (e.get("source"), e.get("target"))]
    peers = [
        f"{e['target'] if e['source'] == name else e['source']} ({'up' if e.get('up') else 'down'})" for e in edges
    ]
    models = ", ".join(row.get("models") or ()) or "none"
    links = f"links {row.get('links_up')}/{row.get('links_total')} up"
    lines = [f"Node {name} at {row.get('address')}: {row.get('status')}, {links}"]
    if peers:
        lines.append("Links: " + ", ".join(peers))
    lines.append(f"Hosts: {models}")
    return lines


def _links(network: Mapping) -> list[str]:
    edges = [e for e in network.get("edges", ()) if e.get("latency_ms") is not None or not e.get("up")]
    if not edges:
        return []
    slow = sorted(edges, key=lambda e: (bool(e.get("up")), -(e.get("latency_ms") or 0)))[:SHOWN]
    described = [
        f"{e['source']} ↔ {e['target']} " + (f"{e['latency_ms']:.0f} ms" if e.get("up") else "down") for e in slow
    ]
    down = [n["name"] for n in network.get("nodes", ()) if n.get("status") == "down"]
    lines = ["Slowest links: " + ", ".join(described)]
    if down:
        lines.append("Nodes down: " + ", ".join(down))
    return lines


_WORST = {  # field -> (model row key, worst first when sorted by (sign * value), label, format)
    "average_confidence": ("mean_confidence", 1, "confidence", "{:.2f}"),
    "average_inference_time": ("p95_time_s", -1, "p95 time", "{:.2f} s"),
    "success_rate": ("success_rate", 1, "success", "{:.0%}"),
}


def _models(ai: Mapping, model: str | None, field: str) -> list[str]:
    rows = [r for r in ai.get("models", ()) if model is None or r.get("model") == model]
    key, sign, label, fmt = _WORST.get(field, ("success_rate", 1, "success", "{:.0%}"))
    rated = [r for r in rows if r.get(key) is not None]
    if not rated:
        return []
    worst = sorted(rated, key=lambda r: sign * r[key])[:SHOWN]
    return ["Worst models: " + ", ".join(f"{r['model']} on {r['node']} {label} {fmt.format(r[key])}" for r in worst)]
