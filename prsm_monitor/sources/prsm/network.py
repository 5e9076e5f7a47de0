"""The ``network`` record of the PRSM source: totals, windowed latency and rates, one row per
node, one per link, and recent consensus rounds."""

from __future__ import annotations

from .fields import NODE_ROW_KEYS
from .report import RTT_BUCKETS_MS, NetworkReport, NodeStats
from .window import ALL, CounterWindow, ratio

MIB = 1024.0 * 1024.0


def network_record(
    win: CounterWindow, report: NetworkReport, now: float, *, down_since: dict, consensus: list, flood_settle: float
) -> dict:
    """``down_since`` (node -> first time seen down) is kept up to date here."""
    edges = link_rows(win, report)
    floods = flood_means(report, win.window, flood_settle)
    return {
        "timestamp": now,
        "total_nodes": len(report.directory),
        "active_nodes": len(report.stats),
        "total_connections": sum(1 for e in edges if e["up"]),
        "total_messages": win.total("frames_in"),
        "consensus_proposals": win.total("proposals"),
        "average_latency": win.mean((ALL, "rtt", "sum"), (ALL, "rtt", "count")),
        "message_rate": win.rate(ALL, "frames_in"),
        "p95_latency": win.quantiles(
            (ALL, "rtt"), RTT_BUCKETS_MS, 0.95, samples=[s.rtt_ms for s in report.stats.values()]
        )[0],
        "configured_links": len(edges),
        "bytes_rate": win.rate(ALL, "bytes_in"),
        "bad_frames": win.total("bad_frames"),
        "dropped_frames": win.total("dropped_frames"),
        "gossip_messages": win.total("floods_received"),
        "gossip_propagation_ms": floods[0],
        "gossip_coverage": floods[1],
        "consensus_votes": win.total("votes_cast"),
        "consensus_commits": win.total("commits"),
        "consensus_rejections": win.total("rejections"),
        "consensus_rejection_rate": ratio(win.w(ALL, "rejections"), win.w(ALL, "rejections") + win.w(ALL, "commits")),
        "average_commit_time_ms": win.mean((ALL, "commit_time_ms_sum"), (ALL, "commits")),
        "window_seconds": win.span(),
        "nodes": [node_row(win, report, name, now, down_since) for name in report.directory],
        "edges": edges,
        "consensus_history": consensus,
        "faults": dict(report.faults),
    }


def node_row(win: CounterWindow, report: NetworkReport, name: str, now: float, down_since: dict) -> dict:
    info = report.directory[name]
    s: NodeStats | None = report.stats.get(name)
    if s is None:
        down_since.setdefault(name, now)
    else:
        down_since.pop(name, None)
    row = dict.fromkeys(NODE_ROW_KEYS)  # the same keys whether up or down: None = not known
    row.update(
        name=name,
        address=info.address,
        status="up" if s else "down",
        down_since=down_since.get(name),
        models=list(info.models),
        links_total=len(info.peers),
        links_up=0,
    )
    if s is None:
        return row
    row.update(
        incarnation=s.incarnation,
        uptime_s=s.timestamp - s.started,
        links_up=sum(1 for link in s.links if link.up),
        latency_ms=win.mean((name, "rtt", "sum"), (name, "rtt", "count")),
        latency_p95_ms=win.quantiles((name, "rtt"), RTT_BUCKETS_MS, 0.95, samples=[s.rtt_ms])[0],
        message_rate=win.rate(name, "frames_in"),
        messages_in=s.frames_in,
        messages_out=s.frames_out,
        bad_frames=s.bad_frames,
        dropped_frames=s.dropped_frames,
        queue_length=s.queue_length,
        queue_limit=s.queue_limit,
        memory_mb=s.memory_bytes / MIB if s.memory_limit_bytes else None,
        memory_percent=100.0 * s.memory_bytes / s.memory_limit_bytes if s.memory_limit_bytes else None,
        inferences_served=sum(m.served for m in s.models),
        routes=len(s.routes),
        registry_version=s.commits_applied,
        delay_ms=s.delay_ms,
        blocked_peers=list(s.blocked_peers),
    )
    return row


def link_rows(win: CounterWindow, report: NetworkReport) -> list[dict]:
    """Each configured link once, with its windowed mean round trip from both ends."""
    out = []
    for a, info in report.directory.items():
        for b in info.peers:
            if a > b:
                continue
            ends = [(report.stats.get(x), y) for x, y in ((a, b), (b, a))]
            links = [next((lk for lk in s.links if lk.peer == y), None) if s else None for s, y in ends]
            total = win.w(a, "link", b, "sum") + win.w(b, "link", a, "sum")
            count = win.w(a, "link", b, "count") + win.w(b, "link", a, "count")
            last = [lk.rtt_last_ms for lk in links if lk is not None and lk.rtt_last_ms is not None]
            out.append(
                {
                    "source": a,
                    "target": b,
                    "up": all(lk is not None and lk.up for lk in links),
                    "latency_ms": ratio(total, count),
                    "last_ms": sum(last) / len(last) if last else None,
                }
            )
    return out


def flood_means(report: NetworkReport, window: float, settle: float) -> tuple[float | None, float | None]:
    """(mean propagation ms of complete floods, mean coverage) over floods sent in the last
    ``window`` seconds and at least ``settle`` seconds ago."""
    receipts: dict[str, list] = {}
    cutoff, settled = report.timestamp - window, report.timestamp - settle
    for stats in report.stats.values():
        for f in stats.recent_floods:
            if cutoff <= f.sent <= settled:
                entry = receipts.setdefault(f.id, [f.origin, 0, 0.0])
                entry[1] += 1
                entry[2] = max(entry[2], f.delay_ms)
    others = len(report.stats) - 1
    if not receipts or others < 1:
        return None, None
    coverage = [min(1.0, n / (others if origin in report.stats else others + 1)) for origin, n, _ in receipts.values()]
    complete = [delay for c, (_, _, delay) in zip(coverage, receipts.values(), strict=True) if c >= 1.0]
    return (sum(complete) / len(complete) if complete else None), sum(coverage) / len(coverage)
