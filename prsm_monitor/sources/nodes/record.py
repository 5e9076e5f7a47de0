"""The ``network`` and ``ai`` records of the node source, from the latest reading of every
watched node (see :mod:`.fields` for what each value is)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..prsm.fields import NODE_ROW_KEYS
from .fields import AI_UNREPORTED, NODE_AI_FIELDS, NODE_NETWORK_FIELDS, UNREPORTED_FIELDS, VALUES
from .reading import NodeReading
from .window import Window

LATENCY_KIND = "DHT query latency"


def address(url: str) -> str:
    """``host:port/path`` of a node URL, without user name or password."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path.rstrip('/')}"


def node_name(url: str, reading: NodeReading | None) -> str:
    """What a node is called: its display name, its node id, or its address."""
    if reading is not None and reading.up:
        return reading.display_name or reading.node_id or address(url)
    return address(url)


def _sum(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(sum(values)) if values else None


def _combine(how: str, values) -> float | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"sum": sum, "min": min, "max": max}[how](values)


def dht_latency(reading: NodeReading) -> tuple[float | None, float | None]:
    """(p50, p95) ms; None when not reported. PRSM's collector reports 0 for both while it has
    no DHT query in its window: that is "no measurement", not a latency of 0 ms."""
    p50, p95 = reading.metrics.get("dht_p50_ms"), reading.metrics.get("dht_p95_ms")
    if p50 == 0 and p95 in (0, None):
        return None, None
    return p50, p95


def connections(readings: list[NodeReading]) -> tuple[int | None, set[frozenset]]:
    """Peer connections of the nodes that are up: pairs from ``/peers`` lists, counted once
    when both ends report them; a node that gives only a count adds its count. None when no
    node reports either."""
    pairs: set[frozenset] = set()
    counted = 0
    reported = False
    for r in readings:
        me = r.node_id or r.url
        if r.peers is not None:
            reported = True
            pairs.update(frozenset((me, p.peer_id)) for p in r.peers if p.peer_id != me)
        elif r.values.get("peers_connected") is not None:
            reported = True
            counted += int(r.values["peers_connected"])
    return (len(pairs) + counted if reported else None), pairs


def used_percent(values: dict) -> float | None:
    pledged, used = values.get("storage_pledged_gb"), values.get("storage_used_gb")
    return 100.0 * used / pledged if pledged and used is not None else None


def node_row(url: str, name: str, reading: NodeReading | None, state: dict) -> dict:
    """One node's row. ``state``: ``down_since``, ``age_s`` (of its latest answer) and
    ``stale`` (no answer for several polls), kept by the source."""
    row = dict.fromkeys(NODE_ROW_KEYS)  # the same keys as the demo's rows: None = not reported
    row.update(dict.fromkeys(v.key for v in VALUES))
    up = reading is not None and reading.up and not state["stale"]
    row.update(name=name, address=address(url), status="up" if up else "down", models=[], links_up=0)
    row.update(down_since=state["down_since"], age_s=state["age_s"], stale=state["stale"], up=1.0 if up else 0.0)
    if reading is None or not reading.up:
        row["error"] = reading.error if reading else "not polled yet"
        return row
    if state["stale"]:
        row["error"] = f"no answer for {state['age_s']:.0f} s (stale)"
    p50, p95 = dht_latency(reading)
    row.update(reading.values)
    row.update(
        node_id=reading.node_id,
        roles=list(reading.roles),
        links_up=reading.values.get("peers_connected"),
        links_total=reading.values.get("peers_known"),
        latency_ms=p50,
        latency_p95_ms=p95,
        storage_used_percent=used_percent(reading.values),
        unreported=list(reading.unreported),
        problems=list(reading.problems),
    )
    return row


def records(readings: dict[str, NodeReading | None], names: dict[str, str], states: dict, window: Window, now):
    """``{"network": ..., "ai": ...}``. ``readings``: url -> latest reading (None: not polled
    yet); ``names``: url -> name; ``states``: url -> :func:`node_row` state; ``window`` holds
    the values the windowed fields need (fed by the source at each reading)."""
    rows = [node_row(url, names[url], r, states[url]) for url, r in readings.items()]
    up = [r for url, r in readings.items() if r is not None and r.up and not states[url]["stale"]]
    up_rows = [row for row in rows if row["status"] == "up"]
    total, pairs = connections(up)
    ids = {r.node_id: names[r.url] for r in up if r.node_id}
    edges = sorted({tuple(sorted(ids[i] for i in pair)) for pair in pairs if all(i in ids for i in pair)})
    latencies = [dht_latency(r) for r in up]
    p50s = [p50 for p50, _ in latencies if p50 is not None]
    p95s = [p95 for _, p95 in latencies if p95 is not None]
    combined = {
        v.field or v.key: _combine(v.total, (row[v.key] for row in up_rows)) for v in VALUES if v.total is not None
    }
    urls = [url for url, r in readings.items() if r is not None and r.up and not states[url]["stale"]]
    network = {
        "timestamp": now,
        "total_nodes": len(readings),
        "active_nodes": len(up),
        "stale_nodes": sum(1 for s in states.values() if s["stale"]),
        "total_connections": total,
        "average_latency": sum(p50s) / len(p50s) if p50s else None,
        "p95_latency": max(p95s) if p95s else None,
        "inbound_connections": _sum(r.metrics.get("inbound") for r in up),
        "outbound_connections": _sum(r.metrics.get("outbound") for r in up),
        "peer_evictions": _sum(r.metrics.get("evictions") for r in up),
        **dict.fromkeys(UNREPORTED_FIELDS),
        **{k: v for k, v in combined.items() if k in {f.name for f in NODE_NETWORK_FIELDS}},
        "min_peers": _combine("min", (row["peers_connected"] for row in up_rows)),
        "storage_used_percent": _combine("max", (row["storage_used_percent"] for row in up_rows)),
        "balance_change": _combine("min", (window.change(u, "ftns_balance") for u in urls)),
        "ledger_discrepancies_recent": _sum(window.increase(u, "ledger_discrepancies") for u in urls),
    }
    finished = [(window.increase(u, "jobs_completed"), window.increase(u, "jobs_failed")) for u in urls]
    done = sum((c or 0) + (f or 0) for c, f in finished)
    ai = {
        "timestamp": now,
        **dict.fromkeys(AI_UNREPORTED),
        **{k: v for k, v in combined.items() if k in {f.name for f in NODE_AI_FIELDS}},
        "job_failure_share": sum(f or 0 for _, f in finished) / done if done else None,
        "consensus_disagreements": _sum(
            _sum((window.increase(u, "consensus_failed"), window.increase(u, "disputed_results"))) for u in urls
        ),
    }
    network["not_reported"] = [f.name for f in NODE_NETWORK_FIELDS[1:] if network[f.name] is None]
    ai["not_reported"] = [f.name for f in NODE_AI_FIELDS[1:] if ai[f.name] is None]
    network.update(
        source="nodes",
        latency_kind=LATENCY_KIND,
        window_seconds=None,
        nodes=rows,
        edges=[{"source": a, "target": b, "up": True, "latency_ms": None, "last_ms": None} for a, b in edges],
        consensus_history=[],
        faults={},
    )
    ai.update(
        source="nodes",
        model_distribution={},
        models=[],
        model_summary=[],
        jobs_by_node=[
            {"node": row["name"], "status": row["status"]}
            | {v.key: row[v.key] for v in VALUES if v.component == "ai" or v.key.endswith("_pct")}
            for row in rows
        ],
    )
    return {"network": network, "ai": ai}
