"""The fields of the PRSM source, declared once: the ``network`` and ``ai`` records, the
per-node and per-model drill-down series, and the rows and distributions those records
carry (exporters label them from :data:`ROWS` and :data:`DISTRIBUTIONS`)."""

from __future__ import annotations

from ...fields import COUNTER, GAUGE, TIMESTAMP, Distribution, Field, Rows

NETWORK_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("total_nodes", "1", GAUGE, "Nodes in the network directory, up or down"),
    Field("active_nodes", "1", GAUGE, "Nodes that answered in the latest report"),
    Field("total_connections", "1", GAUGE, "Live links: both ends up and hearing each other"),
    Field("total_messages", "1", COUNTER, "Frames delivered between nodes, each counted once (by its receiver)"),
    Field("consensus_proposals", "1", COUNTER, "Consensus proposals made"),
    Field("average_latency", "ms", GAUGE, "Mean heartbeat round-trip time over all links, windowed"),
    Field("message_rate", "messages/s", GAUGE, "Frames delivered per second, windowed"),
    Field("p95_latency", "ms", GAUGE, "95th percentile heartbeat round trip (histogram estimate), windowed"),
    Field("configured_links", "1", GAUGE, "Links of the topology, live or not"),
    Field("bytes_rate", "B/s", GAUGE, "Bytes delivered per second, windowed"),
    Field("bad_frames", "1", COUNTER, "Malformed or oversized frames (each closed its connection)"),
    Field("dropped_frames", "1", COUNTER, "Frames dropped by node firewalls (partitions)"),
    Field("gossip_messages", "1", COUNTER, "Flooded messages first received by a node (gossip, proposals, commits)"),
    Field("gossip_propagation_ms", "ms", GAUGE, "Time until a flood reached every active node, mean, windowed"),
    Field("gossip_coverage", "1", GAUGE, "Share of active nodes a flood reached, mean, windowed (0..1)"),
    Field("consensus_votes", "1", COUNTER, "Votes cast on proposals"),
    Field("consensus_commits", "1", COUNTER, "Proposals committed at quorum"),
    Field("consensus_rejections", "1", COUNTER, "Proposals rejected at timeout without quorum"),
    Field(
        "consensus_rejection_rate",
        "1",
        GAUGE,
        "Rejected share of the proposals decided (committed or rejected), windowed (0..1)",
    ),
    Field("average_commit_time_ms", "ms", GAUGE, "Proposal to quorum, mean of commits, windowed"),
    Field("window_seconds", "s", GAUGE, "History the windowed values cover"),
)
AI_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("total_models", "1", GAUGE, "Model instances deployed on the network's nodes"),
    Field("active_models", "1", GAUGE, "Model instances on nodes that are up"),
    Field("total_inferences", "1", COUNTER, "Inference requests completed (answered or failed)"),
    Field("successful_inferences", "1", COUNTER, "Requests answered validly before their deadline"),
    Field("average_inference_time", "s", GAUGE, "Submission to answer of successful requests, mean, windowed"),
    Field("average_confidence", "1", GAUGE, "Top-class probability of classifier answers, mean, windowed (0..1)"),
    Field("success_rate", "1", GAUGE, "Successful share of completed requests, windowed (0..1)"),
    Field("failed_inferences", "1", COUNTER, "Requests that failed (timeout, rejected, expired, no route, error)"),
    Field("inference_rate", "requests/s", GAUGE, "Requests completed per second, windowed"),
    Field("p50_inference_time", "s", GAUGE, "Median time of successful requests (histogram estimate), windowed"),
    Field(
        "p95_inference_time", "s", GAUGE, "95th percentile time of successful requests (histogram estimate), windowed"
    ),
    Field("timeouts", "1", COUNTER, "Requests without an answer by their deadline"),
    Field("rejections", "1", COUNTER, "Requests refused by a full host queue"),
    Field("expirations", "1", COUNTER, "Requests whose deadline passed while queued at the host"),
    Field("no_route", "1", COUNTER, "Requests with no reachable host of their model"),
    Field("accuracy", "1", GAUGE, "Classifier answers equal to the true label, windowed (0..1)"),
    Field("mean_absolute_error", "1", GAUGE, "Regressor answers' absolute error, mean, windowed"),
    Field(
        "input_drift",
        "1",
        GAUGE,
        "Models' inputs against their training inputs, in standard errors (about 1 as trained), windowed",
    ),
    Field("queue_length", "1", GAUGE, "Requests waiting in host queues, all nodes"),
    Field("window_seconds", "s", GAUGE, "History the windowed values cover"),
)
NODE_ROW_KEYS = (
    "name",
    "address",
    "status",
    "down_since",
    "models",
    "links_total",
    "links_up",
    "incarnation",
    "uptime_s",
    "latency_ms",
    "latency_p95_ms",
    "message_rate",
    "messages_in",
    "messages_out",
    "bad_frames",
    "dropped_frames",
    "queue_length",
    "queue_limit",
    "memory_mb",
    "memory_percent",
    "inferences_served",
    "routes",
    "registry_version",
    "delay_ms",
    "blocked_peers",
)
MODEL_ROW_KEYS = (
    "node",
    "model",
    "status",
    "framework",
    "type",
    "architecture",
    "parameters",
    "service_time_s",
    "inferences",
    "requests_window",
    "success_rate",
    "p50_time_s",
    "p95_time_s",
    "mean_confidence",
    "input_scale",
)
# Drill-down histories: one series per node ("node:<name>") and per model ("model:<name>").
NODE_SERIES: tuple[Field, ...] = (
    TIMESTAMP,
    Field("up", "1", GAUGE, "1 while the node answers, 0 while it is down"),
    Field("latency_ms", "ms", GAUGE, "Mean heartbeat round trip on the node's links, windowed"),
    Field("latency_p95_ms", "ms", GAUGE, "95th percentile round trip on the node's links, windowed"),
    Field("message_rate", "messages/s", GAUGE, "Frames the node received per second, windowed"),
    Field("links_up", "1", GAUGE, "The node's links that are up"),
    Field("queue_length", "1", GAUGE, "Inference requests waiting at the node"),
    Field("memory_percent", "%", GAUGE, "Memory the node holds, of its memory limit"),
)
MODEL_SERIES: tuple[Field, ...] = (
    TIMESTAMP,
    Field("live_hosts", "1", GAUGE, "Nodes hosting the model that are up"),
    Field("inferences", "1", GAUGE, "Requests for the model completed in the window"),
    Field("success_rate", "1", GAUGE, "Successful share of the model's requests, windowed (0..1)"),
    Field("average_time_s", "s", GAUGE, "Mean time of the model's successful requests, windowed"),
    Field("mean_confidence", "1", GAUGE, "Mean top-class probability (classifiers), windowed (0..1)"),
    Field("mean_absolute_error", "1", GAUGE, "Mean absolute error (regressors), windowed"),
    Field("input_scale", "1", GAUGE, "RMS of its inputs standardised by its training inputs (1 as trained), windowed"),
)
FAILURE_FIELDS = {"timeout": "timeouts", "rejected": "rejections", "expired": "expirations", "no_route": "no_route"}

_UP = "1 while it is up (answered the latest report), else 0"
ROWS: tuple[Rows, ...] = (
    Rows(
        "network",
        "nodes",
        "network_node",
        (("node", "name"),),
        (
            Field("up", "1", GAUGE, f"Node: {_UP}"),
            Field("latency_ms", "ms", GAUGE, "Node: mean heartbeat round trip of its links, windowed"),
            Field("message_rate", "messages/s", GAUGE, "Node: frames received per second, windowed"),
            Field("queue_length", "1", GAUGE, "Node: inference requests waiting in its queue"),
            Field("memory_percent", "%", GAUGE, "Node: memory it holds, of its memory limit"),
            Field("inferences_served", "1", COUNTER, "Node: inference requests its models served"),
        ),
    ),
    Rows(
        "network",
        "nodes",
        "network_node",
        (("node", "name"),),
        (
            Field("uptime_s", "s", GAUGE, "Node: time since it (re)started"),
            Field("links_up", "1", GAUGE, "Node: its links that are up"),
            Field("links_total", "1", GAUGE, "Node: its configured links"),
            Field("latency_p95_ms", "ms", GAUGE, "Node: 95th percentile heartbeat round trip, windowed"),
            Field("messages_in", "1", COUNTER, "Node: frames received since it started"),
            Field("messages_out", "1", COUNTER, "Node: frames sent since it started"),
            Field("bad_frames", "1", COUNTER, "Node: malformed or oversized frames received"),
            Field("dropped_frames", "1", COUNTER, "Node: frames its firewall dropped"),
            Field("routes", "1", GAUGE, "Node: models it knows a route to"),
            Field("delay_ms", "ms", GAUGE, "Node: injected network delay (demo fault)"),
        ),
        full=True,
    ),
    Rows(
        "network",
        "edges",
        "network_link",
        (("source", "source"), ("target", "target")),
        (
            Field("up", "1", GAUGE, "Link: 1 while both ends are up and hear each other, else 0"),
            Field("latency_ms", "ms", GAUGE, "Link: mean heartbeat round trip from both ends, windowed"),
        ),
        full=True,
    ),
    Rows(
        "ai",
        "models",
        "ai_model_instance",
        (("node", "node"), ("model", "model")),
        (
            Field("up", "1", GAUGE, f"Model instance: {_UP}"),
            Field("parameters", "1", GAUGE, "Model instance: number of parameters"),
            Field("inferences", "1", COUNTER, "Model instance: requests served since its host started"),
            Field("success_rate", "1", GAUGE, "Model instance: served share of its requests, windowed (0..1)"),
            Field("p50_time_s", "s", GAUGE, "Model instance: median request time, windowed"),
            Field("p95_time_s", "s", GAUGE, "Model instance: 95th percentile request time, windowed"),
            Field("mean_confidence", "1", GAUGE, "Model instance: mean top-class probability, windowed (0..1)"),
            Field("input_scale", "1", GAUGE, "Model instance: RMS of its standardised inputs (1 as trained), windowed"),
        ),
        full=True,
    ),
    Rows(
        "ai",
        "model_summary",
        "ai_model",
        (("model", "model"),),
        (
            Field("live_hosts", "1", GAUGE, "Model: hosts that are up"),
            Field("success_rate", "1", GAUGE, "Model: successful share of requests seen by clients, windowed (0..1)"),
            Field("average_time_s", "s", GAUGE, "Model: mean time of successful requests, windowed"),
            Field("mean_confidence", "1", GAUGE, "Model: mean top-class probability, windowed (0..1)"),
            Field("input_scale", "1", GAUGE, "Model: RMS of its standardised inputs (1 as trained), windowed"),
        ),
    ),
    Rows(
        "ai",
        "model_summary",
        "ai_model",
        (("model", "model"),),
        (
            Field("hosts", "1", GAUGE, "Model: nodes that host it"),
            Field("accuracy", "1", GAUGE, "Model: classifier answers equal to the true label, windowed (0..1)"),
            Field("mean_absolute_error", "1", GAUGE, "Model: regressor answers' mean absolute error, windowed"),
            Field("drift", "1", GAUGE, "Model: injected input drift (demo fault)"),
        ),
        full=True,
    ),
)

DISTRIBUTIONS: tuple[Distribution, ...] = (
    Distribution("ai", "models_by_name", "ai_model_instances", "model", "Model instances deployed, by model", False),
    Distribution(  # distribution_by_framework holds the same counts: exported once
        "ai", "model_distribution", "ai_framework_instances", "framework", "Model instances, by framework", True
    ),
    Distribution("ai", "distribution_by_type", "ai_type_instances", "type", "Model instances, by type", True),
    Distribution(
        "ai",
        "distribution_by_architecture",
        "ai_architecture_instances",
        "architecture",
        "Model instances, by architecture",
        True,
    ),
)
