"""The ``network`` record of the node source, from the latest reading of every watched node."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..prsm.fields import NODE_ROW_KEYS
from .fields import NODE_NETWORK_FIELDS, UNREPORTED_FIELDS
from .reading import NodeReading

LATENCY_KIND = "DHT query latency"


def node_name(url: str, reading: NodeReading | None) -> str:
    """What a node is called: its display name, its node id, or its URL's host:port."""
    if reading is not None and reading.up:
        return reading.display_name or reading.node_id or urlsplit(url).netloc
    return urlsplit(url).netloc or url


def _sum(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(sum(values)) if values else None


def dht_latency(reading: NodeReading) -> tuple[float | None, float | None]:
    """(p50, p95) ms; None when not reported. PRSM's collector reports 0 for both while it has
    no DHT query in its window: that is "no measurement", not a latency of 0 ms."""
    p50, p95 = reading.dht_p50_ms, reading.dht_p95_ms
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
        elif r.connected_count is not None:
            reported = True
            counted += r.connected_count
    return (len(pairs) + counted if reported else None), pairs


def node_row(url: str, name: str, reading: NodeReading | None, down_since: float | None) -> dict:
    row = dict.fromkeys(NODE_ROW_KEYS)  # the same keys as the demo's rows: None = not reported
    row.update(name=name, address=url, status="up" if reading and reading.up else "down", down_since=down_since)
    row.update(models=[], links_up=0, links_total=None)
    if reading is None or not reading.up:
        row["error"] = reading.error if reading else "not polled yet"
        return row
    p50, p95 = dht_latency(reading)
    row.update(
        node_id=reading.node_id,
        roles=list(reading.roles),
        uptime_s=reading.uptime_s,
        links_up=reading.connected_count,
        links_total=reading.known_count,
        latency_ms=p50,
        latency_p95_ms=p95,
        inbound=reading.inbound,
        outbound=reading.outbound,
        problems=list(reading.problems),
    )
    return row


def network_record(
    readings: dict[str, NodeReading | None], names: dict[str, str], now: float, down_since: dict
) -> dict:
    """``readings``: url -> latest reading (None: not polled yet); ``names``: url -> name;
    ``down_since`` (url -> first time seen down) is kept up to date here."""
    up = [r for r in readings.values() if r is not None and r.up]
    for url, reading in readings.items():
        if reading is not None and reading.up:
            down_since.pop(url, None)
        else:
            down_since.setdefault(url, now)
    total, pairs = connections(up)
    ids = {r.node_id: names[r.url] for r in up if r.node_id}
    edges = sorted(
        {tuple(sorted(ids[i] for i in pair)) for pair in pairs if all(i in ids for i in pair)},
    )
    latencies = [dht_latency(r) for r in up]
    p50s = [p50 for p50, _ in latencies if p50 is not None]
    p95s = [p95 for _, p95 in latencies if p95 is not None]
    record = {
        "timestamp": now,
        "total_nodes": len(readings),
        "active_nodes": len(up),
        "total_connections": total,
        "average_latency": sum(p50s) / len(p50s) if p50s else None,
        "p95_latency": max(p95s) if p95s else None,
        "inbound_connections": _sum(r.inbound for r in up),
        "outbound_connections": _sum(r.outbound for r in up),
        "peer_evictions": _sum(r.evictions for r in up),
        **dict.fromkeys(UNREPORTED_FIELDS),
    }
    record["not_reported"] = [f.name for f in NODE_NETWORK_FIELDS[1:] if record[f.name] is None]
    record.update(
        source="nodes",
        latency_kind=LATENCY_KIND,
        window_seconds=None,
        nodes=[node_row(url, names[url], r, down_since.get(url)) for url, r in readings.items()],
        edges=[{"source": a, "target": b, "up": True, "latency_ms": None, "last_ms": None} for a, b in edges],
        consensus_history=[],
        faults={},
    )
    return record
