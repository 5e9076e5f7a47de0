"""The report of a demo node: a frozen :class:`~prsm_monitor.sources.prsm.report.NodeStats`
of its current incarnation (counters, links, floods, consensus, models, gateway, memory),
the schema the PRSM source reads."""

from __future__ import annotations

import time

from ..sources.prsm.report import LinkStats, NodeStats


def node_stats(node) -> NodeStats:
    """``node``'s report, read on the network's event loop."""
    now = node.loop.time()
    links = tuple(
        LinkStats(
            link.peer,
            link.up and link.conn is not None and now - link.last_heard <= node.config.link_timeout,
            link.outgoing,
            link.rtt_last,
            link.rtt_sum,
            link.rtt_count,
            link.frames_in,
            link.frames_out,
        )
        for link in node.links.values()
    )
    c = node.consensus
    return NodeStats(
        name=node.name,
        address=f"{node.host}:{node.port}",
        incarnation=node.incarnation,
        started=node.started,
        timestamp=time.time(),
        frames_in=node.frames_in,
        frames_out=node.frames_out,
        bytes_in=node.bytes_in,
        bytes_out=node.bytes_out,
        frames_in_by_type=dict(node.frames_in_by_type),
        bad_frames=node.bad_frames,
        oversized_frames=node.oversized_frames,
        dropped_frames=node.dropped_frames,
        connections_accepted=node.connections_accepted,
        connect_failures=node.connect_failures,
        delay_ms=node.delay * 1000.0,
        blocked_peers=tuple(sorted(node.blocked)),
        links=links,
        rtt_ms=node.rtt.snapshot(),
        floods_originated=node.floods.originated,
        floods_received=node.floods.received,
        flood_duplicates=node.floods.duplicates,
        recent_floods=tuple(node.floods.recent),
        proposals=c.proposals,
        votes_cast=c.votes_cast,
        commits=c.commits,
        rejections=c.rejections,
        commit_time_ms_sum=c.commit_time_ms_sum,
        commits_applied=c.commits_applied,
        consensus=c.records(),
        queue_length=len(node.host_service.queue),
        queue_limit=node.config.queue_limit,
        routes=node.routing.hops(),
        models=node.host_service.stats(),
        gateway=node.gateway.stats(),
        memory_bytes=node.memory.memory_bytes,
        memory_limit_bytes=node.memory.limit_bytes,
    )
