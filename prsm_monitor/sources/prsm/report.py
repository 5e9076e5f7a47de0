"""The report schema of the PRSM source: what each PRSM node reports, written down once.

The demo network (:mod:`prsm_monitor.demo`) produces it; an adapter to a real network would
produce the same, without importing the demo.

A node reports a :class:`NodeStats`. Its numbers are **cumulative** counters since that
node's start (its ``incarnation``; a restart is a new incarnation counting from zero) unless
a field says *gauge* (an instantaneous value). Distributions are cumulative histograms with
fixed buckets (:class:`HistogramSnapshot`). A consumer gets rates and windowed averages by
subtracting an earlier report of the same incarnation, as with Prometheus counters, so a
missed poll loses nothing. :func:`flatten` lists every counter under a stable key for that.

``as_dict()`` gives the JSON-able shape; a real PRSM node could serve exactly this, and the
monitor's source (:mod:`prsm_monitor.sources.prsm`) would work unchanged. A whole network is
reported as a :class:`NetworkReport`: the directory of nodes (who should exist) and the stats
of the nodes that answered.

Units: times in ``*_ms`` fields are milliseconds, in ``*_s`` fields seconds; ``timestamp``,
``started`` and ``sent`` are Unix epoch seconds.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import deque
from dataclasses import asdict, dataclass, field

SCHEMA_VERSION = 1
RTT_BUCKETS_MS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0)
TIME_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0)


RECENT = 1024  # observations a histogram keeps as they were, with their time, for exact quantiles


def _time(observation) -> float:
    return observation[0]


class Histogram:
    """A cumulative histogram being filled (inside a node). ``counts[i]`` counts values
    ``<= bounds[i]`` and above the previous bound; the last count is for values above every bound.
    The latest :data:`RECENT` observations are kept too, each with its time: a window's
    percentile is then computed from the samples themselves, not guessed inside a bucket (a
    p95 of 473 ms when every link was at most 301 ms, inside the 300-500 ms bucket). They are
    kept in time order (an observation given an earlier ``at`` than the latest goes in its
    place), so a window's samples are a tail of them (:func:`sample_quantiles`)."""

    __slots__ = ("bounds", "counts", "sum", "count", "recent")

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.count = 0
        self.recent: deque[tuple[float, float]] = deque(maxlen=RECENT)

    def observe(self, value: float, at: float | None = None) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1
        t = time.time() if at is None else at
        recent = self.recent
        if recent and t < recent[-1][0]:  # out of time order (a given ``at``, a clock stepped back)
            i = bisect.bisect_right(recent, t, key=_time)
            if len(recent) == recent.maxlen:
                if i == 0:  # older than every kept one: not among the latest
                    return
                recent.popleft()
                i -= 1
            recent.insert(i, (t, value))
        else:
            recent.append((t, value))

    def snapshot(self) -> HistogramSnapshot:
        return HistogramSnapshot(self.bounds, tuple(self.counts), self.sum, self.count, tuple(self.recent))


@dataclass(frozen=True)
class HistogramSnapshot:
    """A histogram's cumulative counts at one moment (see :class:`Histogram`), and its latest
    observations as ``(time, value)`` pairs in time order (empty from a producer that keeps none)."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float
    count: int
    recent: tuple[tuple[float, float], ...] = ()


def sample_quantiles(snapshots, since: float, *qs: float) -> list[float | None] | None:
    """The ``qs`` quantiles of the observations made after ``since`` in ``snapshots`` (linear
    between order statistics, as NumPy's default); None when the snapshots keep no
    observations at all (then only the buckets can tell), a list of None for an empty window.

    A snapshot's ``recent`` is in time order, so the window's observations are the tail after
    the last time ``<= since``, found by bisection instead of reading all :data:`RECENT` of them."""
    kept = [h.recent for h in snapshots if h is not None and h.recent]
    if not kept:
        return None
    values = []
    for recent in kept:
        values.extend(v for _, v in recent[bisect.bisect_right(recent, since, key=_time) :])
    if not values:
        return [None] * len(qs)
    values.sort()
    return [linear_quantile(values, q) for q in qs]


def linear_quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``ordered`` (sorted, not empty), computed as
    ``numpy.quantile(ordered, q)`` computes it (its default ``linear`` method, the same float
    operations), without building an array for the few dozen values of a window."""
    last = len(ordered) - 1
    at = last * q
    if at >= last:
        return float(ordered[last])
    low = math.floor(at)
    a, b, t = ordered[low], ordered[low + 1], at - low
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def quantile(bounds, counts, q: float) -> float | None:
    """The ``q`` quantile (0..1) of histogram counts, interpolated linearly inside its bucket
    (the first bucket starts at 0; the overflow bucket reports the last bound). None if empty."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = q * total
    seen = 0.0
    for i, n in enumerate(counts):
        if n > 0 and seen + n >= rank:
            if i == len(bounds):
                return float(bounds[-1])
            low = 0.0 if i == 0 else bounds[i - 1]
            return low + (bounds[i] - low) * max(0.0, rank - seen) / n
        seen += n
    return float(bounds[-1])


@dataclass(frozen=True)
class LinkStats:
    """One link of the node, to ``peer``. ``up`` (gauge): a frame arrived within the link timeout."""

    peer: str
    up: bool
    outgoing: bool  # this node opened the connection
    rtt_last_ms: float | None  # gauge: the latest heartbeat round trip
    rtt_sum_ms: float  # heartbeat round trips measured by this node on this link
    rtt_count: int
    frames_in: int
    frames_out: int


@dataclass(frozen=True)
class ModelStats:
    """One model hosted by the node, seen from the host: a request *arrives*, then is *served*
    (answered), *rejected* (queue full), *expired* (its deadline passed while queued) or ends
    in an *error* (the model refused the input)."""

    name: str
    framework: str
    architecture: str
    kind: str  # classifier | regressor
    parameters: int
    service_time_s: float  # configured accelerator time per request
    requests: int
    served: int
    rejected: int
    expired: int
    errors: int
    time_s: HistogramSnapshot  # arrival to answer of served requests (queueing + service), s
    confidence_sum: float  # top-class probability of served classifier answers
    confidence_count: int
    input_energy_sum: float = 0.0  # served inputs' mean squared standardised feature (1 as trained)
    input_energy_sd: float = 0.0  # its spread per input over the training inputs


@dataclass(frozen=True)
class GatewayModelStats:
    """Requests this node submitted for one model name, as the client sees them."""

    model: str
    completed: int  # answered or failed
    succeeded: int  # a valid answer before the deadline
    time_sum_s: float  # end-to-end time of the successes
    confidence_sum: float  # classifier successes only
    confidence_count: int
    correct: int  # classifier answers equal to the true label
    abs_error_sum: float  # regressor answers: |prediction - true value|
    regressions: int


@dataclass(frozen=True)
class GatewayStats:
    """The node as a client: inference requests the workload driver submitted through it.

    A request *completes* when its answer arrives or it fails; ``failed`` counts failures by
    reason: ``timeout`` (no answer by the deadline), ``rejected`` (host queue full),
    ``expired`` (deadline passed in a queue), ``no_route`` (no reachable host), ``error``."""

    submitted: int
    pending: int  # gauge: submitted, not completed yet
    completed: int
    succeeded: int
    failed: dict[str, int]
    time_s: HistogramSnapshot  # submission to answer of every answer, late ones (timed out) included, s
    confidence_sum: float
    confidence_count: int
    models: tuple[GatewayModelStats, ...]


@dataclass(frozen=True)
class FloodRecord:
    """A flooded message as this node first received it: ``delay_ms`` = arrival - ``sent``."""

    id: str
    kind: str  # announce | propose | commit
    origin: str
    sent: float
    delay_ms: float


@dataclass(frozen=True)
class ConsensusRecord:
    """A proposal this node made; ``outcome`` is pending, committed or rejected (timeout)."""

    id: str
    proposer: str
    started: float
    quorum: int
    live_nodes: int
    votes: int
    outcome: str
    time_to_commit_ms: float | None


@dataclass(frozen=True)
class NodeStats:
    """Everything one node reports. Counters are cumulative for this incarnation."""

    name: str
    address: str  # host:port it listens on
    incarnation: int
    started: float
    timestamp: float  # when this report was taken
    # transport
    frames_in: int  # valid frames received (each frame is counted once, by its receiver)
    frames_out: int
    bytes_in: int
    bytes_out: int
    frames_in_by_type: dict[str, int]
    bad_frames: int  # malformed or oversized: the connection was closed
    oversized_frames: int
    dropped_frames: int  # refused by the node's firewall (partition), in or out
    connections_accepted: int
    connect_failures: int
    delay_ms: float  # gauge: egress delay configured on the node's interface
    blocked_peers: tuple[str, ...]  # gauge: peers the node's firewall cuts off
    links: tuple[LinkStats, ...]
    rtt_ms: HistogramSnapshot  # heartbeat round trips on all links, ms
    # gossip
    floods_originated: int
    floods_received: int  # first copies
    flood_duplicates: int  # later copies, dropped
    recent_floods: tuple[FloodRecord, ...]  # gauge: the latest first receipts
    # consensus
    proposals: int
    votes_cast: int
    commits: int  # own proposals that reached quorum
    rejections: int  # own proposals that timed out
    commit_time_ms_sum: float  # proposal to quorum, own commits
    commits_applied: int  # commits learned from anyone (the registry's version)
    consensus: tuple[ConsensusRecord, ...]  # gauge: own recent proposals
    # inference
    queue_length: int  # gauge
    queue_limit: int
    routes: dict[str, int]  # gauge: model -> hops to the nearest reachable host
    models: tuple[ModelStats, ...]
    gateway: GatewayStats
    schema: int = SCHEMA_VERSION
    memory_bytes: int = 0  # gauge: bytes the node holds (0: not reported)
    memory_limit_bytes: int = 0  # gauge: its memory limit (0: none known)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NodeInfo:
    """A directory entry: a node that belongs to the network, up or not."""

    name: str
    address: str
    peers: tuple[str, ...]  # configured links
    models: tuple[str, ...]


@dataclass(frozen=True)
class NetworkReport:
    """The whole network at one moment. ``stats`` holds the nodes that answered; a directory
    entry without stats is a node that is down. ``faults`` describes what a presenter injected
    (settings, not measurements)."""

    timestamp: float
    directory: dict[str, NodeInfo]
    stats: dict[str, NodeStats]
    faults: dict = field(default_factory=dict)


def _hist(prefix: tuple, h: HistogramSnapshot, out: dict) -> None:
    if h.count:
        for i, n in enumerate(h.counts):
            if n:
                out[(*prefix, i)] = n
        out[(*prefix, "sum")] = h.sum
        out[(*prefix, "count")] = h.count


MODEL_COUNTERS = ("requests", "served", "rejected", "expired", "errors", "confidence_sum", "confidence_count")
MODEL_COUNTERS += ("input_energy_sum",)


def flatten(s: NodeStats) -> dict[tuple, float]:
    """Every cumulative counter of one report under a stable tuple key (gauges left out).

    Histogram buckets and models that are still zero are left out too: a missing key is 0."""
    out: dict[tuple, float] = {}
    for name in ("frames_in", "frames_out", "bytes_in", "bytes_out", "bad_frames", "dropped_frames", "floods_received"):
        out[(name,)] = getattr(s, name)
    for name in ("proposals", "votes_cast", "commits", "rejections", "commit_time_ms_sum", "commits_applied"):
        out[(name,)] = getattr(s, name)
    _hist(("rtt",), s.rtt_ms, out)
    for link in s.links:
        out[("link", link.peer, "sum")] = link.rtt_sum_ms
        out[("link", link.peer, "count")] = link.rtt_count
    for m in s.models:
        if m.requests:
            for name in MODEL_COUNTERS:
                out[("model", m.name, name)] = getattr(m, name)
            _hist(("model", m.name, "time"), m.time_s, out)
    g = s.gateway
    out[("gw", "completed")] = g.completed
    out[("gw", "succeeded")] = g.succeeded
    out[("gw", "confidence_sum")] = g.confidence_sum
    out[("gw", "confidence_count")] = g.confidence_count
    for reason, n in g.failed.items():
        out[("gw", "failed", reason)] = n
    _hist(("gw", "time"), g.time_s, out)
    for m in g.models:
        for name in ("completed", "succeeded", "time_sum_s", "confidence_sum", "confidence_count", "correct"):
            out[("gwm", m.model, name)] = getattr(m, name)
        out[("gwm", m.model, "abs_error_sum")] = m.abs_error_sum
        out[("gwm", m.model, "regressions")] = m.regressions
    return out
