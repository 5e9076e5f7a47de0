"""Server-Sent Events: a ``metrics_update`` event per tick and an ``alert`` event per alert event.

One :class:`EventHub` is a collector plugin while at least one client listens. On the
collector's thread it encodes each tick once and hands the frames to the event loop with
``call_soon_threadsafe``; on the loop each client gets them in its own bounded queue. A
full queue drops its oldest frame, so a slow client loses old updates instead of holding
memory or slowing the collector; a client that disconnects is detached at once, and one
that accepts no frame for :data:`IDLE_TIMEOUT_SECONDS` (it stopped reading) is disconnected.
A client takes one of the :data:`MAX_CLIENTS` slots only while its response runs, and gives it
back however that ends.

The same hub feeds the Socket.IO server (:mod:`.socket_io`): a *listener* gets each tick's
events as ``(name, data, id)`` on the collector's thread, so both transports send the same
``metrics_update`` and ``alert`` events from one producer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from starlette.types import Receive, Scope, Send

from ..anonymize import shown
from .http import ApiError, dumps
from .lifecycle import STOPPING

QUEUE_SIZE = 64  # frames buffered per client
MAX_CLIENTS = 256
KEEPALIVE_SECONDS = 15.0
IDLE_TIMEOUT_SECONDS = 30.0  # a client that accepts no frame for this long is disconnected
_CLOSE = object()  # queued when the client has gone
log = logging.getLogger(__name__)


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
        self._listeners: list[Callable] = []
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
            self._detach_when_idle()

    def listen(self, listener: Callable[[list[tuple]], None]) -> None:
        """Call ``listener(events)`` on the collector's thread after each tick, ``events`` being
        ``(name, data, id)``: one ``("metrics_update", metrics, None)``, then one
        ``("alert", event, event_id)`` per new alert event. Keep it short: it runs on the tick."""
        collector = self._provider()
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)
            self._attach(collector)

    def unlisten(self, listener: Callable) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            self._detach_when_idle()

    def _detach_when_idle(self) -> None:  # with self._lock held
        if not self._clients and not self._listeners and self._collector is not None:
            self._collector.remove_plugin(self)
            self._collector = None

    def refresh(self) -> None:
        """Follow the process-wide collector if it was replaced (called now and then)."""
        collector = self._provider()
        with self._lock:
            if self._clients or self._listeners:
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
        """Plugin hook: encode this tick once and post it to every client's loop; hand the
        events to every listener."""
        with self._lock:
            collector = self._collector
            loops = {client.loop for client in self._clients}
            listeners = list(self._listeners)
            since = self._last_id
        if collector is None or not (loops or listeners):
            return
        events: list[tuple] = [("metrics_update", metrics, None)]
        alerts = collector.get_alerts(since_id=since)
        if alerts:
            with self._lock:
                if self._collector is collector:
                    self._last_id = max(self._last_id, alerts[-1]["id"])
            events.extend(("alert", event, event["id"]) for event in alerts)
        if collector.settings.anonymize:  # PRSM_ANONYMIZE: both transports send the anonymized events
            events = [(name, shown(collector, data), event_id) for name, data, event_id in events]
        for listener in listeners:
            try:
                listener(events)
            except Exception:  # noqa: BLE001 - one listener's failure is not the tick's
                log.exception("event listener %r failed", listener)
        if not loops:
            return
        frames = [frame(*event) for event in events]
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


class EventStream:
    """The ASGI response of one SSE client: ``replay`` first, then the client's queue.

    The client subscribes when the response starts and unsubscribes when it ends, whatever
    ends it (a disconnect, a send that stays blocked for ``idle_timeout``, a server shutdown,
    an error), so a request that never gets this far never holds a slot."""

    HEADERS = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
    ]

    def __init__(
        self,
        hub: EventHub,
        replay: list[bytes],
        keepalive: float = KEEPALIVE_SECONDS,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
    ):
        self.hub = hub
        self.replay = replay
        self.keepalive = keepalive
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            client = self.hub.subscribe()
        except ApiError as error:
            await error.response()(scope, receive, send)
            return
        watcher = asyncio.create_task(_watch(receive, client))
        try:
            await self._stream(client, send)
        except (OSError, TimeoutError):  # the client went away, or stopped reading
            pass
        finally:
            watcher.cancel()
            self.hub.unsubscribe(client)

    async def _send(self, send: Send, body: bytes, more: bool = True) -> None:
        message = {"type": "http.response.body", "body": body, "more_body": more}
        await asyncio.wait_for(send(message), self.idle_timeout)

    async def _stream(self, client: Client, send: Send) -> None:
        await asyncio.wait_for(
            send({"type": "http.response.start", "status": 200, "headers": self.HEADERS}), self.idle_timeout
        )
        await self._send(send, b"retry: 3000\n\n" + b"".join(self.replay))
        idle = 0.0
        while not STOPPING.is_set():  # the server is stopping: an open stream would hold it
            try:
                item = await asyncio.wait_for(client.queue.get(), timeout=1.0)
            except TimeoutError:
                idle += 1.0
                if idle >= self.keepalive:
                    idle = 0.0
                    self.hub.refresh()
                    await self._send(send, b": keepalive\n\n")
                continue
            if item is _CLOSE:
                return
            idle = 0.0
            await self._send(send, item)
        await self._send(send, b"", more=False)


async def _watch(receive: Receive, client: Client) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            client.put(_CLOSE)
            return
