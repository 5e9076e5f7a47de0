"""The PRSM network and its AI models, read from node statistics.

:class:`PrsmSource` turns a :class:`~prsm_monitor.demo.stats.NetworkReport` (the node
directory plus each answering node's :class:`~prsm_monitor.demo.stats.NodeStats`) into the
``network`` and ``ai`` components. Anything with a ``report()`` method returning such a
report can be watched; :meth:`PrsmSource.from_settings` starts the demo network.

Counters in the records (``kind="counter"``) are cumulative since the source's first
reading; a node restart does not make them go back (counter resets are detected per node
incarnation, as Prometheus does). Averages, percentiles, rates and ratios are **windowed**:
computed from the counters' increase over the last ``window`` seconds of reports (10 s by
default; ``window_seconds`` in the record says how much history it really covered), so a
fault shows within a few seconds and a fixed one clears as its samples leave the window.
Gauges such as ``active_nodes`` describe the latest report (at most one heartbeat old).
"""

from __future__ import annotations

import time
from collections import deque

from ..demo.stats import RTT_BUCKETS_MS, TIME_BUCKETS_S, NetworkReport, NodeStats, flatten, quantile
from ..fields import COUNTER, GAUGE, TIMESTAMP, Field

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
)
MODEL_SERIES: tuple[Field, ...] = (
    TIMESTAMP,
    Field("live_hosts", "1", GAUGE, "Nodes hosting the model that are up"),
    Field("inferences", "1", GAUGE, "Requests for the model completed in the window"),
    Field("success_rate", "1", GAUGE, "Successful share of the model's requests, windowed (0..1)"),
    Field("average_time_s", "s", GAUGE, "Mean time of the model's successful requests, windowed"),
    Field("mean_confidence", "1", GAUGE, "Mean top-class probability (classifiers), windowed (0..1)"),
    Field("mean_absolute_error", "1", GAUGE, "Mean absolute error (regressors), windowed"),
)
FAILURE_FIELDS = {"timeout": "timeouts", "rejected": "rejections", "expired": "expirations", "no_route": "no_route"}
ALL = "*"  # key prefix of network-wide sums


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


class PrsmSource:
    """Network and AI components from a network's reports (see the module doc).

    ``network`` is anything with ``report() -> NetworkReport | None``; with ``owns_network``
    (the default) :meth:`close` also stops it. ``window`` is the averaging window in seconds;
    floods younger than ``flood_settle`` seconds are not judged for propagation yet.
    """

    components = ("network", "ai")
    fields = {"network": NETWORK_FIELDS, "ai": AI_FIELDS}

    def __init__(self, network, *, window: float = 10.0, flood_settle: float = 1.0, owns_network: bool = True):
        self.network = network
        self.window = window
        self.flood_settle = flood_settle
        self.owns_network = owns_network
        self._prev: dict[str, tuple[int, float, dict]] = {}  # node -> (incarnation, started, counters)
        self._totals: dict[tuple, float] = {}  # network-wide counters since the first reading
        self._deltas: deque[tuple[float, dict]] = deque()
        self._window: dict[tuple, float] = {}  # increase of every counter over the window
        self._window_start: float | None = None
        self._seen: float | None = None  # timestamp of the last report taken in
        self._consensus: dict[str, dict] = {}  # proposal id -> latest record
        self._down_since: dict[str, float] = {}
        report = network.report()
        directory = report.directory if report else {}
        models = sorted({m for info in directory.values() for m in info.models})
        self.detail_fields = {f"node:{n}": NODE_SERIES for n in directory} | {
            f"model:{m}": MODEL_SERIES for m in models
        }

    @classmethod
    def from_settings(cls, settings, *, window: float = 10.0, **network_options) -> PrsmSource:
        """Start a demo network of ``settings.demo_nodes`` nodes, ``demo_peers`` links each and
        ``demo_rate`` requests/s, and watch it."""
        from ..demo.network import DemoNetwork

        network = DemoNetwork.from_settings(settings, **network_options)
        return cls(network.start(), window=window)

    # -- the source protocol --------------------------------------------------------------
    def collect(self) -> dict[str, dict]:
        report = self.network.report()
        if report is None:
            raise RuntimeError("the PRSM network is not running or has not reported yet")
        period = getattr(self.network, "stats_period", None)
        age = time.time() - report.timestamp
        if period is not None and age > max(5.0, 5 * period):  # a stalled loop: never show stale numbers
            raise RuntimeError(f"the PRSM network's latest report is {age:.0f} s old")
        if report.timestamp != self._seen:
            self._take(report)
        now = time.time()
        records = {"network": self._network(report, now), "ai": self._ai(report, now)}
        return records | self._details(records, now)

    def _details(self, records: dict, now: float) -> dict[str, dict]:
        """The drill-down series' records, from the rows of the network and ai records."""
        out = {}
        for row in records["network"]["nodes"]:
            out[f"node:{row['name']}"] = {"timestamp": now, "up": 1.0 if row["status"] == "up" else 0.0} | {
                f.name: row.get(f.name) for f in NODE_SERIES[2:]
            }
        for row in records["ai"]["model_summary"]:
            out[f"model:{row['model']}"] = {"timestamp": now} | {f.name: row.get(f.name) for f in MODEL_SERIES[1:]}
        return {component: record for component, record in out.items() if component in self.detail_fields}

    def conditions(self, records: dict):
        """An ``error`` alert per node that is down, asserted while it stays down."""
        for row in (records.get("network") or {}).get("nodes", ()):
            if row["status"] == "down":
                details = {"node": row["name"], "address": row["address"], "down_since": row["down_since"]}
                yield ("error", "network", f"Node {row['name']} is down", details)

    def close(self) -> None:
        if self.owns_network:
            self.network.stop()

    # -- counters and the window ----------------------------------------------------------
    def _take(self, report: NetworkReport) -> None:
        delta: dict[tuple, float] = {}
        for name, stats in report.stats.items():
            flat = flatten(stats)
            prev = self._prev.get(name)
            base = prev[2] if prev and prev[:2] == (stats.incarnation, stats.started) else {}
            for key, value in flat.items():
                d = value - base.get(key, 0)
                if d:
                    if d < 0:  # went back without a new incarnation: a reset after all
                        d = value
                    delta[(name, *key)] = d
                    agg = (ALL, *key)
                    delta[agg] = delta.get(agg, 0) + d
            self._prev[name] = (stats.incarnation, stats.started, flat)
            for record in stats.consensus:
                self._consensus[record.id] = {
                    "id": record.id,
                    "proposer": record.proposer,
                    "started": record.started,
                    "quorum": record.quorum,
                    "live_nodes": record.live_nodes,
                    "votes": record.votes,
                    "outcome": record.outcome,
                    "time_to_commit_ms": record.time_to_commit_ms,
                }
        t = report.timestamp
        for key, d in delta.items():
            if key[0] == ALL:
                self._totals[key] = self._totals.get(key, 0) + d
        if self._seen is None:  # the first report is the baseline: totals only, the window starts here
            self._window_start = t
        else:
            for key, d in delta.items():
                self._window[key] = self._window.get(key, 0) + d
            self._deltas.append((t, delta))
        while len(self._deltas) > 1 and self._deltas[0][0] <= t - self.window:
            self._window_start, old = self._deltas.popleft()
            window = self._window
            for key, d in old.items():
                left = window[key] - d
                if -1e-9 < left < 1e-9:  # back to nothing (float sums leave crumbs)
                    del window[key]
                else:
                    window[key] = left
        self._seen = t
        for old_id in sorted(self._consensus, key=lambda i: self._consensus[i]["started"])[:-50]:
            del self._consensus[old_id]

    def _w(self, *key) -> float:
        return self._window.get(key, 0)

    def _total(self, *key) -> float:
        return self._totals.get((ALL, *key), 0)

    def _span(self) -> float:
        return max(1e-9, (self._seen or 0) - (self._window_start or 0))

    def _rate(self, *key) -> float | None:
        """Increase per second over the window; None before a second report."""
        return self._w(*key) / self._span() if self._deltas else None

    def _quantiles(self, prefix: tuple, bounds, *qs: float) -> list[float | None]:
        if not self._window.get((*prefix, "count")):
            return [None] * len(qs)
        counts = [self._window.get((*prefix, i), 0) for i in range(len(bounds) + 1)]
        return [quantile(bounds, counts, q) for q in qs]

    # -- records --------------------------------------------------------------------------
    def _network(self, report: NetworkReport, now: float) -> dict:
        span = self._span() if self._deltas else 0.0
        stats = report.stats
        edges = self._edges(report)
        floods = self._floods(report)
        return {
            "timestamp": now,
            "total_nodes": len(report.directory),
            "active_nodes": len(stats),
            "total_connections": sum(1 for e in edges if e["up"]),
            "total_messages": self._total("frames_in"),
            "consensus_proposals": self._total("proposals"),
            "average_latency": _ratio(self._w(ALL, "rtt", "sum"), self._w(ALL, "rtt", "count")),
            "message_rate": self._rate(ALL, "frames_in"),
            "p95_latency": self._quantiles((ALL, "rtt"), RTT_BUCKETS_MS, 0.95)[0],
            "configured_links": len(edges),
            "bytes_rate": self._rate(ALL, "bytes_in"),
            "bad_frames": self._total("bad_frames"),
            "dropped_frames": self._total("dropped_frames"),
            "gossip_messages": self._total("floods_received"),
            "gossip_propagation_ms": floods[0],
            "gossip_coverage": floods[1],
            "consensus_votes": self._total("votes_cast"),
            "consensus_commits": self._total("commits"),
            "consensus_rejections": self._total("rejections"),
            "average_commit_time_ms": _ratio(self._w(ALL, "commit_time_ms_sum"), self._w(ALL, "commits")),
            "window_seconds": span,
            "nodes": [self._node_row(report, name, now) for name in report.directory],
            "edges": edges,
            "consensus_history": sorted(self._consensus.values(), key=lambda r: r["started"])[-20:],
            "faults": dict(report.faults),
        }

    def _node_row(self, report: NetworkReport, name: str, now: float) -> dict:
        info = report.directory[name]
        s: NodeStats | None = report.stats.get(name)
        if s is None:
            self._down_since.setdefault(name, now)
        else:
            self._down_since.pop(name, None)
        row = dict.fromkeys(NODE_ROW_KEYS)  # the same keys whether up or down: None = not known
        row.update(
            name=name,
            address=info.address,
            status="up" if s else "down",
            down_since=self._down_since.get(name),
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
            latency_ms=_ratio(self._w(name, "rtt", "sum"), self._w(name, "rtt", "count")),
            latency_p95_ms=self._quantiles((name, "rtt"), RTT_BUCKETS_MS, 0.95)[0],
            message_rate=self._rate(name, "frames_in"),
            messages_in=s.frames_in,
            messages_out=s.frames_out,
            bad_frames=s.bad_frames,
            dropped_frames=s.dropped_frames,
            queue_length=s.queue_length,
            inferences_served=sum(m.served for m in s.models),
            routes=len(s.routes),
            registry_version=s.commits_applied,
            delay_ms=s.delay_ms,
            blocked_peers=list(s.blocked_peers),
        )
        return row

    def _edges(self, report: NetworkReport) -> list[dict]:
        """Each configured link once, with its windowed mean round trip from both ends."""
        out = []
        for a, info in report.directory.items():
            for b in info.peers:
                if a > b:
                    continue
                ends = [(report.stats.get(x), y) for x, y in ((a, b), (b, a))]
                links = [next((lk for lk in s.links if lk.peer == y), None) if s else None for s, y in ends]
                total = self._w(a, "link", b, "sum") + self._w(b, "link", a, "sum")
                count = self._w(a, "link", b, "count") + self._w(b, "link", a, "count")
                last = [lk.rtt_last_ms for lk in links if lk is not None and lk.rtt_last_ms is not None]
                out.append(
                    {
                        "source": a,
                        "target": b,
                        "up": all(lk is not None and lk.up for lk in links),
                        "latency_ms": _ratio(total, count),
                        "last_ms": sum(last) / len(last) if last else None,
                    }
                )
        return out

    def _floods(self, report: NetworkReport) -> tuple[float | None, float | None]:
        """(mean propagation ms of complete floods, mean coverage) over settled floods in the window."""
        receipts: dict[str, list] = {}
        cutoff, settled = report.timestamp - self.window, report.timestamp - self.flood_settle
        for stats in report.stats.values():
            for f in stats.recent_floods:
                if cutoff <= f.sent <= settled:
                    entry = receipts.setdefault(f.id, [f.origin, 0, 0.0])
                    entry[1] += 1
                    entry[2] = max(entry[2], f.delay_ms)
        others = len(report.stats) - 1
        if not receipts or others < 1:
            return None, None
        coverage = [
            min(1.0, n / (others if origin in report.stats else others + 1)) for origin, n, _ in receipts.values()
        ]
        complete = [delay for c, (_, _, delay) in zip(coverage, receipts.values(), strict=True) if c >= 1.0]
        return (sum(complete) / len(complete) if complete else None), sum(coverage) / len(coverage)

    def _ai(self, report: NetworkReport, now: float) -> dict:
        instances = [(name, m) for name, info in report.directory.items() for m in info.models]
        completed, succeeded = self._w(ALL, "gw", "completed"), self._w(ALL, "gw", "succeeded")
        p50, p95 = self._quantiles((ALL, "gw", "time"), TIME_BUCKETS_S, 0.5, 0.95)
        record = {
            "timestamp": now,
            "total_models": len(instances),
            "active_models": sum(1 for name, _ in instances if name in report.stats),
            "total_inferences": self._total("gw", "completed"),
            "successful_inferences": self._total("gw", "succeeded"),
            "average_inference_time": _ratio(self._w(ALL, "gw", "time", "sum"), self._w(ALL, "gw", "time", "count")),
            "average_confidence": _ratio(self._w(ALL, "gw", "confidence_sum"), self._w(ALL, "gw", "confidence_count")),
            "success_rate": _ratio(succeeded, completed),
            "failed_inferences": self._total("gw", "completed") - self._total("gw", "succeeded"),
            "inference_rate": self._rate(ALL, "gw", "completed"),
            "p50_inference_time": p50,
            "p95_inference_time": p95,
            "accuracy": _ratio(self._sum_models(report, "correct"), self._sum_models(report, "confidence_count")),
            "mean_absolute_error": _ratio(
                self._sum_models(report, "abs_error_sum"), self._sum_models(report, "regressions")
            ),
            "queue_length": sum(s.queue_length for s in report.stats.values()),
            "window_seconds": self._span() if self._deltas else 0.0,
        }
        for reason, field_name in FAILURE_FIELDS.items():
            record[field_name] = self._total("gw", "failed", reason)
        record.update(self._distributions(report))
        record["models"] = self._model_rows(report)
        record["model_summary"] = self._model_summary(report)
        return record

    def _sum_models(self, report: NetworkReport, name: str) -> float:
        models = {m for info in report.directory.values() for m in info.models}
        return sum(self._w(ALL, "gwm", m, name) for m in models)

    def _distributions(self, report: NetworkReport) -> dict:
        """Model instances by name, by framework, by type (classifier/regressor) and by architecture."""
        by_name: dict[str, int] = {}
        by: dict[str, dict[str, int]] = {"framework": {}, "kind": {}, "architecture": {}}
        seen_specs = {m.name: m for s in report.stats.values() for m in s.models}
        for info in report.directory.values():
            for model in info.models:
                by_name[model] = by_name.get(model, 0) + 1
                spec = seen_specs.get(model)
                for key in by:
                    value = getattr(spec, key) if spec else "unknown"
                    by[key][value] = by[key].get(value, 0) + 1
        return {
            "model_distribution": dict(sorted(by_name.items())),
            "distribution_by_framework": by["framework"],
            "distribution_by_type": by["kind"],
            "distribution_by_architecture": by["architecture"],
        }

    def _model_rows(self, report: NetworkReport) -> list[dict]:
        """One row per hosted model instance, seen from its host; windowed unless noted."""
        rows = []
        known = {m.name: m for s in report.stats.values() for m in s.models}  # labels of down nodes' models
        for name, info in report.directory.items():
            s = report.stats.get(name)
            hosted = {m.name: m for m in s.models} if s else {}
            for model in info.models:
                m = hosted.get(model)
                row = dict.fromkeys(MODEL_ROW_KEYS)  # the same keys whether up or down
                row.update(node=name, model=model, status="up" if m else "down")
                label = m or known.get(model)
                if label is not None:
                    row.update(framework=label.framework, type=label.kind, architecture=label.architecture)
                    row.update(parameters=label.parameters, service_time_s=label.service_time_s)
                if m is not None:
                    key = (name, "model", model)
                    requests = self._w(*key, "requests")
                    p50, p95 = self._quantiles((*key, "time"), TIME_BUCKETS_S, 0.5, 0.95)
                    row.update(
                        inferences=m.served,  # cumulative, this incarnation
                        requests_window=requests,
                        success_rate=_ratio(self._w(*key, "served"), requests),
                        p50_time_s=p50,
                        p95_time_s=p95,
                        mean_confidence=_ratio(self._w(*key, "confidence_sum"), self._w(*key, "confidence_count")),
                    )
                rows.append(row)
        return rows

    def _model_summary(self, report: NetworkReport) -> list[dict]:
        """One row per model name, seen from the clients (gateways); windowed."""
        drift = report.faults.get("drift", {})
        kinds = {m.name: m.kind for s in report.stats.values() for m in s.models}
        hosts: dict[str, list[str]] = {}
        for name, info in report.directory.items():
            for model in info.models:
                hosts.setdefault(model, []).append(name)
        rows = []
        for model, names in sorted(hosts.items()):
            key = (ALL, "gwm", model)
            completed, succeeded = self._w(*key, "completed"), self._w(*key, "succeeded")
            rows.append(
                {
                    "model": model,
                    "type": kinds.get(model),
                    "hosts": len(names),
                    "live_hosts": sum(1 for n in names if n in report.stats),
                    "inferences": completed,
                    "success_rate": _ratio(succeeded, completed),
                    "average_time_s": _ratio(self._w(*key, "time_sum_s"), succeeded),
                    "mean_confidence": _ratio(self._w(*key, "confidence_sum"), self._w(*key, "confidence_count")),
                    "accuracy": _ratio(self._w(*key, "correct"), self._w(*key, "confidence_count")),
                    "mean_absolute_error": _ratio(self._w(*key, "abs_error_sum"), self._w(*key, "regressions")),
                    "drift": drift.get(model, 0.0),
                }
            )
        return rows
