"""What the node source reads from a PRSM 1.7.0 node and the fields it reports, declared once.

:data:`VALUES` is the table of per-node values: where each sits in the node's ``/status``
(``prsm/node/node.py`` ``get_status``) or another route, its unit, the range a real value can
take (anything outside, or not a finite number, is refused: None and a problem on the node's
row) and how the network record combines the nodes' values. The ``network`` and ``ai`` fields
and the per-node rows are derived from it, so a value is named in one place only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...fields import COUNTER, GAUGE, TIMESTAMP, Field, Rows

BIG = 1e12  # no count or amount of a real node comes near this
NOT_REPORTED = "not reported by PRSM 1.7.0 nodes' management APIs: always None from this source"


@dataclass(frozen=True)
class Value:
    """One per-node value. ``path``: keys into the JSON of ``route``; ``total``: how the
    network record combines the nodes' values (``sum``, ``min``, ``max``; None: per node only),
    under ``field`` (default: ``key``); ``component``: where the combined field goes."""

    key: str
    route: str
    path: tuple[str, ...]
    unit: str
    kind: str
    help: str
    low: float = 0.0
    high: float = BIG
    total: str | None = "sum"
    component: str = "network"
    field: str | None = None
    absent_is_zero: bool = False  # a count in a {status: count} map: no key means none


def _v(key, path, unit, kind, help, route="/status", **options) -> Value:
    return Value(key, route, tuple(path.split(".")), unit, kind, help, **options)


VALUES: tuple[Value, ...] = (
    # network: peers, bootstrap, uptime
    _v("peers_connected", "peers.connected", "1", GAUGE, "Peers connected (transport)"),
    _v("peers_known", "peers.known", "1", GAUGE, "Peers known (discovery)"),
    _v("bootstrap_connected", "peers.bootstrap.connected_count", "1", GAUGE, "Bootstrap peers reached"),
    _v(
        "bootstrap_degraded",
        "peers.bootstrap.degraded_mode",
        "1",
        GAUGE,
        "Nodes in degraded mode (no bootstrap peer reached at start), 1 per node",
        high=1.0,
    ),
    _v("uptime_s", "uptime_seconds", "s", GAUGE, "Time since the node started", total="min", field="min_uptime_s"),
    # economy
    _v("ftns_balance", "ftns_balance", "FTNS", GAUGE, "FTNS balance of the node's wallet", low=-BIG),
    _v(
        "transactions",
        "count",
        "1",
        GAUGE,
        "Transactions in the wallet's history (the route lists at most 200)",
        route="/transactions?limit=200",
    ),
    _v("ledger_txs_broadcast", "ledger_sync.txs_broadcast", "1", COUNTER, "Ledger transactions broadcast"),
    _v("ledger_txs_received", "ledger_sync.txs_received", "1", COUNTER, "Ledger transactions received"),
    _v("ledger_txs_rejected", "ledger_sync.txs_rejected", "1", COUNTER, "Ledger transactions rejected"),
    _v("ledger_reconciliations", "ledger_sync.reconciliations_run", "1", COUNTER, "Ledger reconciliations run"),
    _v("ledger_discrepancies", "ledger_sync.discrepancies_found", "1", COUNTER, "Ledger discrepancies found"),
    _v("escrow_locked_ftns", "escrow.total_locked_ftns", "FTNS", GAUGE, "FTNS locked in payment escrows"),
    _v("escrows", "escrow.total_escrows", "1", COUNTER, "Payment escrows opened"),
    _v("settlement_queue", "batch_settlement.queue_size", "1", GAUGE, "Transfers waiting for batch settlement"),
    _v("settlement_pending_ftns", "batch_settlement.pending_amount", "FTNS", GAUGE, "FTNS waiting for settlement"),
    _v("settled_ftns", "batch_settlement.total_settled", "FTNS", COUNTER, "FTNS settled on chain"),
    _v(
        "staked_ftns",
        "total_staked",
        "FTNS",
        GAUGE,
        "FTNS staked by the node (1.7.0 answers /staking/status with HTTP 500: not reported)",
        route="/staking/status",
    ),
    # storage
    _v("storage_pledged_gb", "storage.pledged_gb", "GB", GAUGE, "Storage pledged"),
    _v("storage_used_gb", "storage.used_gb", "GB", GAUGE, "Storage used"),
    _v("storage_available_gb", "storage.available_gb", "GB", GAUGE, "Storage still available"),
    _v("pinned_cids", "storage.pinned_cids", "1", GAUGE, "Content pinned (CIDs)"),
    _v("challenges_passed", "storage.challenge_stats.successful_proofs", "1", COUNTER, "Storage proofs passed"),
    _v("challenges_failed", "storage.challenge_stats.failed_proofs", "1", COUNTER, "Storage proofs failed"),
    _v("challenges_expired", "storage.challenge_stats.expired_challenges", "1", COUNTER, "Storage challenges expired"),
    _v("indexed_cids", "content_index.indexed_cids", "1", GAUGE, "Content the node's index knows (CIDs)"),
    # compute: the requester side (jobs this node submitted) ...
    _v("jobs_submitted", "compute_requester.total_submitted", "1", COUNTER, "Jobs submitted", component="ai"),
    _v(
        "jobs_pending",
        "compute_requester.by_status.pending",
        "1",
        GAUGE,
        "Submitted jobs pending",
        component="ai",
        absent_is_zero=True,
    ),
    _v(
        "jobs_running",
        "compute_requester.by_status.running",
        "1",
        GAUGE,
        "Submitted jobs running",
        component="ai",
        absent_is_zero=True,
    ),
    _v(
        "jobs_completed",
        "compute_requester.by_status.completed",
        "1",
        COUNTER,
        "Jobs completed",
        component="ai",
        absent_is_zero=True,
    ),
    _v(
        "jobs_failed",
        "compute_requester.by_status.failed",
        "1",
        COUNTER,
        "Jobs failed",
        component="ai",
        absent_is_zero=True,
    ),
    _v("ftns_spent", "compute_requester.total_ftns_spent", "FTNS", COUNTER, "FTNS paid for jobs", component="ai"),
    # ... and the provider side (jobs this node ran for others)
    _v("jobs_active", "compute.active_jobs", "1", GAUGE, "Jobs running for other nodes", component="ai"),
    _v("jobs_served", "compute.completed_jobs", "1", COUNTER, "Jobs run for other nodes", component="ai"),
    _v("job_slots", "compute.capacity.concurrent_slots", "1", GAUGE, "Concurrent job slots", component="ai"),
    _v("cpu_cores_allocated", "compute.capacity.cpu_cores_allocated", "1", GAUGE, "CPU cores offered", component="ai"),
    _v("memory_gb_allocated", "compute.capacity.memory_gb_allocated", "GB", GAUGE, "Memory offered", component="ai"),
    _v("cpu_allocation_pct", "compute.allocation.cpu_pct", "%", GAUGE, "CPU share offered", high=100, total=None),
    _v("memory_allocation_pct", "compute.allocation.memory_pct", "%", GAUGE, "RAM share offered", high=100, total=None),
    # result consensus
    _v("consensus_started", "consensus.consensus_started", "1", COUNTER, "Result consensus rounds", component="ai"),
    _v("consensus_reached", "consensus.consensus_reached", "1", COUNTER, "Rounds that agreed", component="ai"),
    _v("consensus_failed", "consensus.consensus_failed", "1", COUNTER, "Rounds that disagreed", component="ai"),
    _v("disputed_results", "consensus.disputed_results", "1", COUNTER, "Results disputed", component="ai"),
)
VALUES_BY_KEY = {v.key: v for v in VALUES}
ROUTES = tuple(dict.fromkeys(v.route for v in VALUES if v.route != "/status"))  # besides /status and /peers

# Derived by the source over its own window (see window.py), per node and for the network.
WINDOW_SECONDS = 600.0
DERIVED: tuple[Field, ...] = (
    Field("min_peers", "1", GAUGE, "Peers connected to the node that has the fewest (of the nodes up)"),
    Field("storage_used_percent", "%", GAUGE, "Storage used of pledged, the fullest node"),
    Field("balance_change", "FTNS", GAUGE, "FTNS balance change over 10 min, the node that lost most"),
    Field("ledger_discrepancies_recent", "1", GAUGE, "Ledger discrepancies found in the last 10 min, all nodes"),
)
AI_DERIVED: tuple[Field, ...] = (
    Field("job_failure_share", "1", GAUGE, "Failed share of the jobs finished in the last 10 min, all nodes (0..1)"),
    Field("consensus_disagreements", "1", GAUGE, "Result consensus failures and disputes in the last 10 min"),
)


def _combined(component: str) -> tuple[Field, ...]:
    return tuple(
        Field(v.field or v.key, v.unit, v.kind if v.total == "sum" else GAUGE, f"{v.help}, {v.total} over the nodes")
        for v in VALUES
        if v.component == component and v.total
    )


NODE_NETWORK_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("total_nodes", "1", GAUGE, "Nodes watched (PRSM_NODE_URLS), up or down"),
    Field("active_nodes", "1", GAUGE, "Watched nodes whose /status answered on their latest poll"),
    Field("stale_nodes", "1", GAUGE, "Watched nodes whose latest answer is older than a few polls"),
    Field("total_connections", "1", GAUGE, "Peer connections of the nodes that are up, each pair counted once"),
    Field("total_messages", "1", COUNTER, f"Messages delivered: {NOT_REPORTED}"),
    Field("consensus_proposals", "1", COUNTER, f"Consensus proposals: {NOT_REPORTED}"),
    Field("average_latency", "ms", GAUGE, "DHT query latency p50 (p2p metrics), mean over the nodes"),
    Field("message_rate", "messages/s", GAUGE, f"Messages per second: {NOT_REPORTED}"),
    Field("p95_latency", "ms", GAUGE, "DHT query latency p95 (p2p metrics), the highest of the nodes"),
    Field("inbound_connections", "1", GAUGE, "Inbound peer connections, summed over the nodes (p2p metrics)"),
    Field("outbound_connections", "1", GAUGE, "Outbound peer connections, summed over the nodes (p2p metrics)"),
    Field("peer_evictions", "1", GAUGE, "Peers evicted by the nodes' liveness monitors (p2p metrics), summed"),
    *_combined("network"),
    *DERIVED,
)
UNREPORTED_FIELDS = ("total_messages", "consensus_proposals", "message_rate")

NODE_AI_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    *(
        Field(name, unit, kind, f"{what}: {NOT_REPORTED} (they run compute jobs, not named models)")
        for name, unit, kind, what in (
            ("total_models", "1", GAUGE, "Models deployed"),
            ("active_models", "1", GAUGE, "Models up"),
            ("total_inferences", "1", COUNTER, "Inference requests"),
            ("successful_inferences", "1", COUNTER, "Successful inference requests"),
            ("average_inference_time", "s", GAUGE, "Inference time"),
            ("average_confidence", "1", GAUGE, "Confidence"),
            ("success_rate", "1", GAUGE, "Inference success rate"),
        )
    ),
    *_combined("ai"),
    *AI_DERIVED,
)
AI_UNREPORTED = tuple(f.name for f in NODE_AI_FIELDS[1:8])

ROW_FIELDS: tuple[Field, ...] = tuple(Field(v.key, v.unit, v.kind, f"Node: {v.help}") for v in VALUES) + (
    Field("up", "1", GAUGE, "Node: 1 while its /status answers, else 0"),
)
ROWS: tuple[Rows, ...] = (Rows("network", "nodes", "node", (("node", "name"),), ROW_FIELDS),)
