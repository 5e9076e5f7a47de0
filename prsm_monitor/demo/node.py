"""One PRSM node of the demo: a TCP server on 127.0.0.1, links to peers, heartbeats, gossip.

Each link is one TCP connection, opened by one side (``outgoing``) and introduced by a
``hello`` both ways. Every ``heartbeat`` seconds the node pings each link; the pong gives
the link's round-trip time. A link is *up* while a frame arrived on it within
``link_timeout`` seconds. The opening side reconnects a lost link on its next heartbeat.

This module moves frames and keeps the counters; flooded messages are handled by :mod:`.floods`,
consensus and inference by :mod:`.consensus` and :mod:`.inference`; the timing, the directory
and the links' state are in :mod:`.peers`, the report in :mod:`.node_report`.

Faults are properties of the node: ``delay`` (seconds added to every frame it sends, like
``tc netem`` on its interface) and ``blocked`` (peers its firewall cuts off, both ways:
frames are dropped silently, so the links time out as in a real partition).
"""

from __future__ import annotations

import asyncio
import math
import random
import time

from ..sources.prsm.report import RTT_BUCKETS_MS, Histogram, NodeStats
from .consensus import Consensus
from .floods import Floods
from .inference import Gateway, Host
from .leak import MIB, Memory
from .models import Model
from .node_report import node_stats
from .peers import Directory, Link, NodeConfig
from .protocol import ANONYMOUS_OK, FLOODS, Connection, FrameError, encode
from .routing import RoutingTable


async def next_beat(period: float) -> None:
    """Sleep until the loop clock's next multiple of ``period``. Every node's heartbeats and the
    network's periodic work wait on this one grid, so the timers due at the same beat fire in
    one pass of the loop (one wake-up of its thread, and their frames cross the sockets
    together) instead of each at a phase of its own (5-node demo: 46 to 29 wake-ups a second)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    timer = loop.call_at((math.floor(loop.time() / period) + 1) * period, _resolve, done)
    try:
        await done
    finally:
        timer.cancel()


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


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
        self.floods = Floods(self, self.config.history)
        self._seq = 0
        self.frames_in = self.frames_out = self.bytes_in = self.bytes_out = 0
        self.frames_in_by_type: dict[str, int] = {}
        self.bad_frames = self.oversized_frames = self.dropped_frames = 0
        self.connections_accepted = self.connect_failures = 0
        self.rtt = Histogram(RTT_BUCKETS_MS)
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
            link.record_rtt(rtt)
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
        while True:
            await next_beat(self.config.heartbeat)
            self.heartbeat()

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
        self.floods.forget_before(horizon)
        self.gateway.forget_before(horizon)
        self.memory.grow(time.time())
        if self.memory.exhausted and self.running:  # out of memory: stopped as the kernel would
            self._killed = self.loop.create_task(self.stop())  # kept: the loop holds tasks weakly

    # -- floods (see :mod:`.floods`) ---------------------------------------------------------
    def flood(self, kind: str, body: dict, flood_id: str | None = None) -> str:
        """Originate a flooded message of ``kind``; returns its id."""
        return self.floods.originate(kind, body, flood_id)

    def _on_flood(self, conn: Connection, message: dict, link: Link | None) -> None:
        self.floods.received_from(message, link)

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
        """A frozen report of this incarnation (see :func:`.node_report.node_stats`)."""
        return node_stats(self)
