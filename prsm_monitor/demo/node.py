"""One PRSM node of the demo: a TCP server on 127.0.0.1, links to peers, heartbeats, gossip.

Each link is one TCP connection, opened by one side (``outgoing``) and introduced by a
``hello`` both ways. Every ``heartbeat`` seconds the node pings each link; the pong gives
the link's round-trip time. A link is *up* while a frame arrived on it within
``link_timeout`` seconds. The opening side reconnects a lost link on its next heartbeat.

Flooded messages (``announce``, ``propose``, ``commit``) are forwarded once to every other
link and de-duplicated by id; the peer a flood first came from is remembered, so votes and
other replies can travel the reverse path. Consensus and inference live in
:mod:`.consensus` and :mod:`.inference`; this module moves frames and keeps the counters.

It is longer than most modules (~470 lines) on purpose: :class:`Node` is one protocol state
machine whose frame handlers, links and counters share its state; split across files, each
handler would reach back into the others' attributes.

Faults are properties of the node: ``delay`` (seconds added to every frame it sends, like
``tc netem`` on its interface) and ``blocked`` (peers its firewall cuts off, both ways:
frames are dropped silently, so the links time out as in a real partition).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass

from ..sources.prsm.report import RTT_BUCKETS_MS, FloodRecord, Histogram, LinkStats, NodeStats
from .consensus import Consensus
from .inference import Gateway, Host
from .leak import DEFAULT_LIMIT_MB, MIB, Memory
from .models import Model
from .protocol import ANONYMOUS_OK, FLOODS, MAX_FRAME, Connection, FrameError, encode
from .routing import RoutingTable


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


class Node:
    """A node hosting ``models``; ``start()``/``stop()`` run on the network's event loop."""

    def __init__(self, name: str, models: dict[str, Model], directory: Directory, config: NodeConfig, seed: int):
        self.name = name
        self.models = models
        self.directory = directory
        self.config = config
        self.rng = random.Random(seed)
        self.host = "127.0.0.1"
        self.port = 0
        self.incarnation = 0
        self.running = False
        self.delay = 0.0
        self.blocked: set[str] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.conns: set[Connection] = set()
        self.api = None  # a NodeApi (node_api.py) when the network serves the management API

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen, then connect to peers and start heartbeats and the inference worker."""
        await self.listen()
        self.activate()

    async def listen(self) -> None:
        """Open the server (on the previous port when possible) as a new incarnation."""
        self.loop = asyncio.get_running_loop()
        self.incarnation += 1
        self._reset()
        try:
            self._server = await self.loop.create_server(self._accepted, self.host, self.port)
        except OSError:  # the old port was taken meanwhile: take a new one
            self._server = await self.loop.create_server(self._accepted, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self.directory.addresses[self.name] = (self.host, self.port)
        self.directory.running.add(self.name)
        self.running = True
        if self.api is not None:
            await self.api.start()

    def activate(self, first_heartbeat: bool = True) -> None:
        """Dial the peers this node connects to, start heartbeats (the first one after a
        random fraction of the period unless ``first_heartbeat``) and the inference worker."""
        self._spawn(self._heartbeats(first_heartbeat))
        self._spawn(self.host_service.worker())
        for link in self.links.values():
            self._maybe_connect(link)

    async def stop(self) -> None:
        """Crash-stop: close the server and every connection, cancel every task and timer."""
        if not self.running:
            return
        self.running = False
        self.directory.running.discard(self.name)
        if self.api is not None:
            await self.api.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._server.close()
        conns = list(self.conns)
        for conn in conns:
            conn.close()
        await asyncio.gather(*(c.closed for c in conns if c.transport is not None))
        await self._server.wait_closed()
        self._server = None
        self.consensus.close()
        self.gateway.close()

    def _reset(self) -> None:
        """Fresh state and zeroed counters for a new incarnation."""
        self.started = time.time()
        self.links = {p: Link(p, outgoing=self.name < p) for p in self.directory.peers.get(self.name, ())}
        self.routing = RoutingTable(self.models)
        self.seen: dict[str, str | None] = {}  # flood id -> the peer it first came from
        self._seen_order: deque[tuple[float, str]] = deque()
        self.recent_floods: deque[FloodRecord] = deque(maxlen=self.config.history)
        self._seq = 0
        self.frames_in = self.frames_out = self.bytes_in = self.bytes_out = 0
        self.frames_in_by_type: dict[str, int] = {}
        self.bad_frames = self.oversized_frames = self.dropped_frames = 0
        self.connections_accepted = self.connect_failures = 0
        self.rtt = Histogram(RTT_BUCKETS_MS)
        self.floods_originated = self.floods_received = self.flood_duplicates = 0
        self.consensus = Consensus(self)
        self.host_service = Host(self)
        self.gateway = Gateway(self)
        base = sum(p.nbytes for m in self.models.values() for p in m.params.values())
        self.memory = Memory(base, int(self.config.memory_limit_mb * MIB))

    def _spawn(self, coro) -> asyncio.Task:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def next_id(self, prefix: str = "") -> str:
        self._seq += 1
        return f"{self.name}/{self.incarnation}/{prefix}{self._seq}"

    # -- connections ----------------------------------------------------------------------
    def _connection(self, outgoing: bool) -> Connection:
        conn = Connection(
            self._on_message, self._on_bad_frame, self._on_lost, outgoing=outgoing, max_frame=self.config.max_frame
        )
        self.conns.add(conn)
        return conn

    def _accepted(self) -> Connection:
        self.connections_accepted += 1
        return self._connection(outgoing=False)

    def _maybe_connect(self, link: Link) -> None:
        if link.outgoing and link.conn is None and not link.connecting and link.peer not in self.blocked:
            link.connecting = True
            self._spawn(self._connect(link))

    async def _connect(self, link: Link) -> None:
        """Dial ``link.peer`` and say hello; ``link.connecting`` stays set until the answer
        (or the connection's end), so a slow answer does not cause a second dial."""
        try:
            host, port = self.directory.addresses[link.peer]
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(lambda: self._connection(outgoing=True), host, port),
                max(self.config.heartbeat, 1.0),
            )
        except (TimeoutError, OSError, KeyError):
            self.connect_failures += 1
            link.connecting = False
            return
        conn.expected = link.peer
        self.send(conn, {"type": "hello", "node": self.name, "incarnation": self.incarnation})

    def _on_lost(self, conn: Connection) -> None:
        self.conns.discard(conn)
        if conn.peer is None and conn.expected in self.links:
            self.links[conn.expected].connecting = False  # dialled, never answered
        link = self.links.get(conn.peer) if conn.peer else None
        if link is not None and link.conn is conn:
            link.conn = None
            if self.running:
                self._link_down(link)

    def _on_bad_frame(self, conn: Connection, error: FrameError) -> None:
        self.bad_frames += 1
        if error.kind == "oversized":
            self.oversized_frames += 1

    # -- frames ---------------------------------------------------------------------------
    def send(self, conn: Connection, message: dict) -> None:
        self.send_bytes(conn, encode(message))

    def send_bytes(self, conn: Connection, data: bytes) -> None:
        """Send one encoded frame, through the firewall and the interface delay."""
        peer = conn.peer
        if peer is not None and peer in self.blocked:
            self.dropped_frames += 1
            return
        self.frames_out += 1
        self.bytes_out += len(data)
        link = self.links.get(peer) if peer else None
        if link is not None:
            link.frames_out += 1
        if self.delay > 0:
            self.loop.call_later(self.delay, conn.write, data)
        else:
            conn.write(data)

    def send_to(self, peer: str, message: dict) -> bool:
        """Send to a peer over its link; False when there is no connection."""
        link = self.links.get(peer)
        if link is None or link.conn is None:
            return False
        self.send(link.conn, message)
        return True

    def _on_message(self, conn: Connection, message: dict, size: int) -> None:
        peer = conn.peer
        if peer is not None and peer in self.blocked:
            self.dropped_frames += 1
            return
        kind = message["type"]
        self.frames_in += 1
        self.bytes_in += size
        self.frames_in_by_type[kind] = self.frames_in_by_type.get(kind, 0) + 1
        link = None
        if peer is not None:
            link = self.links.get(peer)
            if link is not None and link.conn is conn:
                link.frames_in += 1
                link.last_heard = self.loop.time()
                if not link.up:
                    self._link_up(link)
            else:
                link = None
        elif kind not in ANONYMOUS_OK:
            return self._violation(conn, FrameError("malformed", f"{kind} before hello"))
        try:
            self._handlers[kind](self, conn, message, link)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self._violation(conn, FrameError("malformed", f"bad {kind}: {exc!r}"))

    def _violation(self, conn: Connection, error: FrameError) -> None:
        conn.close()
        self._on_bad_frame(conn, error)

    def _on_hello(self, conn: Connection, message: dict, link: Link | None) -> None:
        peer = message["node"]
        if not isinstance(peer, str) or peer == self.name or conn.peer is not None:
            raise ValueError("bad hello")
        if conn.expected is not None and conn.expected != peer:
            raise ValueError(f"dialled {conn.expected}, {peer} answered")
        if peer in self.blocked:  # the firewall refuses the connection
            conn.close()
            return
        link = self.links.get(peer)
        if link is None:  # a peer outside our configured list: accept it as a link
            link = self.links[peer] = Link(peer, outgoing=False)
        old, link.conn = link.conn, conn
        link.connecting = False
        conn.peer = peer
        if old is not None:
            old.close()
        if not conn.outgoing:
            self.send(conn, {"type": "hello", "node": self.name, "incarnation": self.incarnation})
        link.last_heard = self.loop.time()
        self._link_up(link)

    def _on_ping(self, conn: Connection, message: dict, link: Link | None) -> None:
        self.send(conn, {"type": "pong", "seq": message["seq"], "ts": message["ts"]})

    def _on_pong(self, conn: Connection, message: dict, link: Link | None) -> None:
        rtt = (self.loop.time() - float(message["ts"])) * 1000.0
        if not 0.0 <= rtt < 3.6e6:
            raise ValueError(f"impossible round trip {rtt} ms")
        if link is not None:
            link.rtt_last = rtt
            link.rtt_sum += rtt
            link.rtt_count += 1
            self.rtt.observe(rtt)

    def _on_routes(self, conn: Connection, message: dict, link: Link | None) -> None:
        vector = {str(m): int(h) for m, h in message["routes"].items()}
        if link is not None and self.routing.update(link.peer, vector):
            self._advertise()

    # -- links and routing ----------------------------------------------------------------
    def _link_up(self, link: Link) -> None:
        link.up = True
        link.connected_at = time.time()
        self.send(link.conn, {"type": "routes", "routes": self.routing.advertisement(link.peer)})

    def _link_down(self, link: Link) -> None:
        link.up = False
        if self.routing.drop(link.peer):
            self._advertise()

    def _advertise(self) -> None:
        for link in self.links.values():
            if link.up and link.conn is not None:
                self.send(link.conn, {"type": "routes", "routes": self.routing.advertisement(link.peer)})

    async def _heartbeats(self, first: bool) -> None:
        if first:
            self.heartbeat()
        await asyncio.sleep(self.rng.random() * self.config.heartbeat)  # spread the nodes' phases
        while True:
            self.heartbeat()
            await asyncio.sleep(self.config.heartbeat)

    def heartbeat(self) -> None:
        """Ping every link, time out silent ones, reconnect lost ones, forget old floods."""
        now = self.loop.time()
        for link in self.links.values():
            if link.conn is None:
                self._maybe_connect(link)
                continue
            if link.up and now - link.last_heard > self.config.link_timeout:
                self._link_down(link)
            self._seq += 1
            self.send(link.conn, {"type": "ping", "seq": self._seq, "ts": now})
        horizon = now - max(self.config.consensus_timeout, self.config.inference_timeout) * 2
        while self._seen_order and self._seen_order[0][0] < horizon:
            self.seen.pop(self._seen_order.popleft()[1], None)
        self.gateway.forget_before(horizon)
        self.memory.grow(time.time())
        if self.memory.exhausted and self.running:  # out of memory: stopped as the kernel would
            self._killed = self.loop.create_task(self.stop())  # kept: the loop holds tasks weakly

    # -- floods ---------------------------------------------------------------------------
    def flood(self, kind: str, body: dict, flood_id: str | None = None) -> str:
        """Originate a flooded message of ``kind``; returns its id."""
        flood_id = flood_id or self.next_id()
        message = {"type": kind, "id": flood_id, "origin": self.name, "sent": time.time(), **body}
        self.seen[flood_id] = None
        self._seen_order.append((self.loop.time(), flood_id))
        self.floods_originated += 1
        self._forward(message, None)
        return flood_id

    def _forward(self, message: dict, exclude: str | None) -> None:
        data = encode(message)
        for link in self.links.values():
            if link.conn is not None and link.peer != exclude:
                self.send_bytes(link.conn, data)

    def _on_flood(self, conn: Connection, message: dict, link: Link | None) -> None:
        flood_id = message["id"]
        if not isinstance(flood_id, str) or link is None:
            raise ValueError("flood without id or link")
        if flood_id in self.seen:
            self.flood_duplicates += 1
            return
        sent = float(message["sent"])
        self.seen[flood_id] = link.peer
        self._seen_order.append((self.loop.time(), flood_id))
        self.floods_received += 1
        record = FloodRecord(flood_id, message["type"], str(message["origin"]), sent, (time.time() - sent) * 1000.0)
        self.recent_floods.append(record)
        self._forward(message, link.peer)
        if message["type"] == "propose":
            self.consensus.on_propose(message, link)
        elif message["type"] == "commit":
            self.consensus.on_commit(message)

    def _on_vote(self, conn: Connection, message: dict, link: Link | None) -> None:
        self.consensus.on_vote(message)

    def _on_infer(self, conn: Connection, message: dict, link: Link | None) -> None:
        self.gateway.route(message, link.peer)

    def _on_result(self, conn: Connection, message: dict, link: Link | None) -> None:
        self.gateway.on_result(message)

    _handlers = {
        "hello": _on_hello,
        "ping": _on_ping,
        "pong": _on_pong,
        "routes": _on_routes,
        "vote": _on_vote,
        "infer": _on_infer,
        "result": _on_result,
        **dict.fromkeys(FLOODS, _on_flood),
    }

    # -- report ---------------------------------------------------------------------------
    def stats(self) -> NodeStats:
        """A frozen report of this incarnation (see :mod:`.stats` for the schema)."""
        now = self.loop.time()
        links = tuple(
            LinkStats(
                link.peer,
                link.up and link.conn is not None and now - link.last_heard <= self.config.link_timeout,
                link.outgoing,
                link.rtt_last,
                link.rtt_sum,
                link.rtt_count,
                link.frames_in,
                link.frames_out,
            )
            for link in self.links.values()
        )
        c = self.consensus
        return NodeStats(
            name=self.name,
            address=f"{self.host}:{self.port}",
            incarnation=self.incarnation,
            started=self.started,
            timestamp=time.time(),
            frames_in=self.frames_in,
            frames_out=self.frames_out,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            frames_in_by_type=dict(self.frames_in_by_type),
            bad_frames=self.bad_frames,
            oversized_frames=self.oversized_frames,
            dropped_frames=self.dropped_frames,
            connections_accepted=self.connections_accepted,
            connect_failures=self.connect_failures,
            delay_ms=self.delay * 1000.0,
            blocked_peers=tuple(sorted(self.blocked)),
            links=links,
            rtt_ms=self.rtt.snapshot(),
            floods_originated=self.floods_originated,
            floods_received=self.floods_received,
            flood_duplicates=self.flood_duplicates,
            recent_floods=tuple(self.recent_floods),
            proposals=c.proposals,
            votes_cast=c.votes_cast,
            commits=c.commits,
            rejections=c.rejections,
            commit_time_ms_sum=c.commit_time_ms_sum,
            commits_applied=c.commits_applied,
            consensus=c.records(),
            queue_length=len(self.host_service.queue),
            queue_limit=self.config.queue_limit,
            routes=self.routing.hops(),
            models=self.host_service.stats(),
            gateway=self.gateway.stats(),
            memory_bytes=self.memory.memory_bytes,
            memory_limit_bytes=self.memory.limit_bytes,
        )
