"""The ``network`` fields of the node source, declared once: the reference fields (those PRSM
nodes do not report stay None) and what the nodes' management APIs add."""

from __future__ import annotations

from ...fields import COUNTER, GAUGE, TIMESTAMP, Field

NOT_REPORTED = "not reported by PRSM nodes' management APIs: always None from this source"
NODE_NETWORK_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("total_nodes", "1", GAUGE, "Nodes watched (PRSM_NODE_URLS), up or down"),
    Field("active_nodes", "1", GAUGE, "Watched nodes whose /status answered on their latest poll"),
    Field("total_connections", "1", GAUGE, "Peer connections of the nodes that are up, each pair counted once"),
    Field("total_messages", "1", COUNTER, f"Messages delivered: {NOT_REPORTED}"),
    Field("consensus_proposals", "1", COUNTER, f"Consensus proposals: {NOT_REPORTED}"),
    Field("average_latency", "ms", GAUGE, "DHT query latency p50 (nodes' rolling window), mean over the nodes"),
    Field("message_rate", "messages/s", GAUGE, f"Messages per second: {NOT_REPORTED}"),
    Field("p95_latency", "ms", GAUGE, "DHT query latency p95 (nodes' rolling window), the highest of the nodes"),
    Field("inbound_connections", "1", GAUGE, "Inbound peer connections, summed over the nodes (p2p metrics)"),
    Field("outbound_connections", "1", GAUGE, "Outbound peer connections, summed over the nodes (p2p metrics)"),
    Field("peer_evictions", "1", GAUGE, "Peers evicted by the nodes' liveness monitors, their counters summed"),
)
UNREPORTED_FIELDS = ("total_messages", "consensus_proposals", "message_rate")
