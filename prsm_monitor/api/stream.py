"""Server-Sent Events: a ``metrics_update`` event per tick and an ``alert`` event per alert event.

One :class:`EventHub` is a collector plugin while at least one client listens. On the
collector's thread it encodes each tick once and hands the frames to the event loop with
``call_soon_threadsafe``; on the loop each client gets them in its own bounded queue. A
full queue drops its oldest frame, so a slow client loses old updates instead of holding
memory or slowing the collector; a client that disconnects is detached at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from starlette.types import Receive, Scope, Send

from .http import ApiError, dumps
from .tcp import uvicorn_server

QUEUE_SIZE = 64  # frames buffered per client
MAX_CLIENTS = 256
KEEPALIVE_SECONDS = 15.0
_CLOSE = object()  # queued when the client has gone


def frame(event: str, data, event_id: int | None = None) -> bytes:
    """One SSE frame. Compact JSON has no newline, so one ``data:`` line is enough."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + dumps(data) + b"\n\n"


class Client:
    __slots__ = ("loop", "queue", "dropped")

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int):
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def put(self, item) -> None:
        """Queue ``item``; when full, drop the oldest frame (loop thread only)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class EventHub:
    """Fan-out of collector ticks and alert events to SSE clients.

    ``provider()`` returns the collector to listen to (the process-wide one)."""

    def __init__(self, provider: Callable, queue_size: int = QUEUE_SIZE, max_clients: int = MAX_CLIENTS):
        self._provider = provider
        self.queue_size = queue_size
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._clients: set[Client] = set()
        self._collector = None
        self._last_id = 0

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    @property
    def attached(self):
        """The collector this hub is a plugin of (None while nobody listens)."""
        return self._collector

    def subscribe(self) -> Client:
        """A new client on the running loop (raises a 503 ApiError when there are too many)."""
        collector = self._provider()
        client = Client(asyncio.get_running_loop(), self.queue_size)
        with self._lock:
            if len(self._clients) >= self.max_clients:
                raise ApiError(503, "too_many_clients", f"at most {self.max_clients} event streams at a time")
            self._clients.add(client)
            self._attach(collector)
        return client

    def unsubscribe(self, client: Client) -> None:
        with self._lock:
            self._clients.discard(client)
            if not self._clients and self._collector is not None:
                self._collector.remove_plugin(self)
                self._collector = None

    def refresh(self) -> None:
        """Follow the process-wide collector if it was replaced (called now and then)."""
        collector = self._provider()
        with self._lock:
            if self._clients:
                self._attach(collector)

    def _attach(self, collector) -> None:  # with self._lock held
        if self._collector is collector:
            return
        if self._collector is not None:
            self._collector.remove_plugin(self)
        latest = collector.get_alerts(limit=1)
        self._last_id = latest[-1]["id"] if latest else 0
        collector.add_plugin(self)
        self._collector = collector

    # -- the collector's thread -------------------------------------------------------------
    def process(self, metrics: dict) -> None:
        """Plugin hook: encode this tick once and post it to every client's loop."""
        with self._lock:
            collector = self._collector
            loops = {client.loop for client in self._clients}
            since = self._last_id
        if collector is None or not loops:
            return
        frames = [frame("metrics_update", metrics)]
        events = collector.get_alerts(since_id=since)
        if events:
            with self._lock:
                if self._collector is collector:
                    self._last_id = max(self._last_id, events[-1]["id"])
            frames.extend(frame("alert", event, event["id"]) for event in events)
        for loop in loops:
            try:
                loop.call_soon_threadsafe(self._deliver, loop, frames)
            except RuntimeError:  # that loop is closed: its clients are gone
                pass

    # -- the event loop ---------------------------------------------------------------------
    def _deliver(self, loop, frames: list[bytes]) -> None:
        with self._lock:
            clients = [c for c in self._clients if c.loop is loop]
        for client in clients:
            for item in frames:
                client.put(item)


def _server_exiting() -> bool:
    """Has uvicorn been asked to stop? Open event streams would otherwise hold its
    graceful shutdown (Ctrl-C) forever."""
    server = uvicorn_server()
    return bool(server is not None and server.should_exit)


class EventStream:
    """The ASGI response of one SSE client: ``replay`` first, then the client's queue."""

    def __init__(self, hub: EventHub, client: Client, replay: list[bytes], keepalive: float = KEEPALIVE_SECONDS):
        self.hub = hub
        self.client = client
        self.replay = replay
        self.keepalive = keepalive

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.client.put(_CLOSE)
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            first = b"retry: 3000\n\n" + b"".join(self.replay)
            await send({"type": "http.response.body", "body": first, "more_body": True})
            idle = 0.0
            while not _server_exiting():
                try:
                    item = await asyncio.wait_for(self.client.queue.get(), timeout=1.0)
                except TimeoutError:
                    idle += 1.0
                    if idle >= self.keepalive:
                        idle = 0.0
                        self.hub.refresh()
                        await send({"type": "http.response.body", "body": b": keepalive\n\n", "more_body": True})
                    continue
                if item is _CLOSE:
                    return
                idle = 0.0
                await send({"type": "http.response.body", "body": item, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away mid-send
            pass
        finally:
            watcher.cancel()
            self.hub.unsubscribe(self.client)
