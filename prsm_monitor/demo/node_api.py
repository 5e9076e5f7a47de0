"""The demo nodes' management API: each node serves ``/health``, ``/status``, ``/peers`` and
``/metrics`` on its own 127.0.0.1 port, in the shapes of a real PRSM node's API
(``prsm/node/api.py`` of the ``prsm-network`` package), so the node source
(:mod:`prsm_monitor.sources.nodes`) can read the demo exactly as it reads a real network.

The server runs on the demo network's event loop and answers from the node's own state. It
opens when the node starts and closes when it stops (a stopped node does not answer, as a
crashed one would not). What the demo has no counterpart for is left out, never invented:
the demo has no DHT, so ``/metrics`` has no ``p2p_dht_query_latency_*``, and no liveness
monitor that evicts peers, so no ``p2p_peer_evictions_total``.
"""

from __future__ import annotations

import asyncio
import json
import time

from prometheus_client import CollectorRegistry, Gauge, generate_latest

MAX_REQUEST = 8192  # bytes of request line and headers
READ_SECONDS = 5.0  # for the request to arrive
JSON = "application/json"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def live_links(node) -> list:
    """The node's links that are up now (the same test as its stats report)."""
    now = node.loop.time()
    return [
        link
        for link in node.links.values()
        if link.up and link.conn is not None and now - link.last_heard <= node.config.link_timeout
    ]


def _wall(node, loop_time: float) -> float | None:
    """A loop-clock instant as epoch seconds (None for "never")."""
    return time.time() - (node.loop.time() - loop_time) if loop_time else None


def _address(node, peer: str) -> str | None:
    address = node.directory.addresses.get(peer)
    return f"{address[0]}:{address[1]}" if address else None


def status(node, api_port: int) -> dict:
    links = live_links(node)
    models = node.host_service.stats()
    return {
        "node_id": node.name,
        "display_name": node.name,
        "roles": ["compute"] if node.models else [],
        "started": node.running,
        "uptime_seconds": round(time.time() - node.started, 1),
        "p2p_address": f"tcp://{node.host}:{node.port}",
        "api_address": f"http://{node.host}:{api_port}",
        "peers": {"connected": len(links), "known": len(node.links)},
        "compute": {  # the demo's own inference host (not PRSM's compute provider fields)
            "models": sorted(node.models),
            "queue_length": len(node.host_service.queue),
            "requests": sum(m.requests for m in models),
            "served": sum(m.served for m in models),
        },
    }


def peers(node) -> dict:
    connected = [
        {
            "peer_id": link.peer,
            "address": _address(node, link.peer),
            "display_name": link.peer,
            "connected_at": link.connected_at,
            "last_seen": _wall(node, link.last_heard),
            "outbound": link.outgoing,
        }
        for link in live_links(node)
    ]
    known = [
        {
            "node_id": link.peer,
            "address": _address(node, link.peer),
            "display_name": link.peer,
            "last_seen": _wall(node, link.last_heard),
        }
        for link in node.links.values()
    ]
    return {"connected": connected, "known": known, "connected_count": len(connected), "known_count": len(known)}


def metrics(node) -> bytes:
    links = live_links(node)
    registry = CollectorRegistry(auto_describe=False)
    outbound = sum(1 for link in links if link.outgoing)
    for name, value, help_text in (
        ("p2p_connected_peers", len(links), "Current count of connected peers (inbound + outbound)."),
        ("p2p_inbound_connections", len(links) - outbound, "Current count of inbound connections."),
        ("p2p_outbound_connections", outbound, "Current count of outbound connections."),
    ):
        Gauge(name, help_text, registry=registry).set(value)
    return generate_latest(registry)


class NodeApi:
    """The management API of one demo node (see the module doc); ``port`` 0 picks a free one,
    kept across the node's restarts when it can be."""

    def __init__(self, node, port: int = 0):
        self.node = node
        self.port = port
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.node.host}:{self.port}"

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, self.node.host, self.port, limit=MAX_REQUEST)
        except OSError:  # the old port was taken meanwhile
            self._server = await asyncio.start_server(self._serve, self.node.host, 0, limit=MAX_REQUEST)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def answer(self, method: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request."""
        path = path.split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            return 405, JSON, b'{"detail":"Method Not Allowed"}'
        if path == "/health":
            return 200, JSON, json.dumps({"status": "ok", "node_id": self.node.name}).encode()
        if path == "/status":
            return 200, JSON, json.dumps(status(self.node, self.port)).encode()
        if path == "/peers":
            return 200, JSON, json.dumps(peers(self.node)).encode()
        if path == "/metrics":
            return 200, PROMETHEUS, metrics(self.node)
        return 404, JSON, b'{"detail":"Not Found"}'

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
            method, path, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            code, kind, body = self.answer(method, path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, ConnectionError):
            code, kind, body, method = 400, JSON, b'{"detail":"Bad Request"}', "GET"
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}[code]
        headers = f"HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        try:
            writer.write((headers + "Connection: close\r\n\r\n").encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
