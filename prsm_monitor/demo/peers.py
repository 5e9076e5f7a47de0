"""What a demo node knows of the others: the timing and limits the nodes of a network share
(:class:`NodeConfig`), who belongs and where each listens (:class:`Directory`), and its side of
each link (:class:`Link`)."""

from __future__ import annotations

from dataclasses import dataclass

from .leak import DEFAULT_LIMIT_MB
from .protocol import MAX_FRAME, Connection


@dataclass(frozen=True)
class NodeConfig:
    """Timing and limits shared by the nodes of a network (seconds unless noted)."""

    heartbeat: float = 1.0  # between pings on every link
    link_timeout: float = 3.0  # without any frame before a link counts as down
    consensus_timeout: float = 2.0  # a proposal without quorum by then is rejected
    inference_timeout: float = 5.0  # a request without an answer by then has failed
    queue_limit: int = 100  # inference requests waiting per node; more are rejected
    service_scale: float = 1.0  # multiplies every model's service_time
    max_frame: int = MAX_FRAME  # bytes
    history: int = 20  # recent floods and proposals kept for the report
    memory_limit_mb: float = DEFAULT_LIMIT_MB  # a node holding this much is stopped (out of memory)


class Directory:
    """Who belongs to the network, where each node listens and who is running: the demo's
    stand-in for a membership service. Consensus sizes its quorum from ``running``."""

    def __init__(self):
        self.addresses: dict[str, tuple[str, int]] = {}
        self.peers: dict[str, tuple[str, ...]] = {}
        self.models: dict[str, tuple[str, ...]] = {}
        self.running: set[str] = set()


class Link:
    """This node's side of one link (mutable, loop thread only)."""

    __slots__ = ("peer", "outgoing", "conn", "connecting", "up", "last_heard", "rtt_last", "rtt_sum", "rtt_count")
    __slots__ += ("frames_in", "frames_out", "connected_at")

    def __init__(self, peer: str, outgoing: bool):
        self.peer = peer
        self.outgoing = outgoing
        self.conn: Connection | None = None
        self.connecting = False
        self.up = False
        self.last_heard = 0.0
        self.rtt_last: float | None = None
        self.rtt_sum = 0.0
        self.rtt_count = 0
        self.frames_in = 0
        self.frames_out = 0
        self.connected_at: float | None = None  # wall time the link last came up

    def record_rtt(self, ms: float) -> None:
        """A pong's round trip, in milliseconds."""
        self.rtt_last = ms
        self.rtt_sum += ms
        self.rtt_count += 1
