"""Socket.IO on the dashboard's port, at ``/socket.io/``: the guide's real-time client
(``io("http://host:port")`` with ``metrics_update`` and ``alert`` events) works unchanged.

A python-socketio ASGI server sits in the middleware stack and takes the ``/socket.io/``
paths (HTTP long-polling and WebSocket); everything else goes on to the dashboard and the API.
Its events come from the SSE stream's :class:`~.stream.EventHub`, one producer for both: while
at least one client is connected, the server is a listener of the hub and gets each tick's
events on the collector's thread, encodes each once there, and broadcasts them on the event
loop (``metrics_update`` each tick, ``alert`` for each alert event).

Who may connect is what the API allows readers: the ``Host`` must be one the API answers to
(:class:`~.guard.HostPolicy`), a browser page must be on the dashboard's own origin or one of
``PRSM_CORS_ORIGINS``, and with an API token set the client must show it, as
``io(url, {auth: {token}})`` or an ``Authorization: Bearer`` header; otherwise the connection
is refused with ``{"error", "message"}`` (the client's ``connect_error``).

The JavaScript client is served at ``/socket.io/socket.io.js`` (as Socket.IO servers usually
do; python-socketio cannot), so a page of the dashboard's own origin loads it with
``<script src="/socket.io/socket.io.js">``: ``static/socket.io.min.js`` is socket.io-client
4.8.4's ``dist/socket.io.min.js`` from npm, unchanged (MIT, its licence beside it; sha256
d5d79a35039e860b32bdef4795528b05c2f788d4b2d9dacc913120e2878f7b3f), the version
``tests/js/package.json`` pins for the browser tests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable
from pathlib import Path

import socketio
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings.model import Settings
from .auth import TokenSource, authorized
from .guard import HostPolicy
from .http import dumps
from .stream import EventHub

PATH = "socket.io"
MAX_CLIENTS = 1024  # connected at once; more are refused
MAX_MESSAGE = 64 * 1024  # bytes a client may send in one message (it has nothing to send)
# Between pings: a long-poll is answered at least this often, so a server stop waits at most
# this long for a polling client (python-socketio's default is 25 s). A pong may take the
# default 20 s: a busy client is not dropped.
PING_SECONDS = 5.0
PING_TIMEOUT_SECONDS = 20.0
CLIENT_VERSION = "4.8.4"  # socket.io-client, as tests/js/package.json pins it
CLIENT_SCRIPT = Path(__file__).resolve().parent / "static" / "socket.io.min.js"
CLIENT_PATHS = (f"/{PATH}/socket.io.js", f"/{PATH}/socket.io.min.js")
CLIENT_CACHE = "public, max-age=604800"  # a week; the ETag names the version


class Encoded:
    """JSON text encoded once on the collector's thread, spliced into every packet as it is."""

    __slots__ = ("text",)

    def __init__(self, data):
        self.text = dumps(data).decode()


class PacketJson:
    """The ``json`` python-socketio encodes packets with: :func:`~.http.dumps` (numpy numbers,
    NaN as null) and :class:`Encoded` payloads kept as they are."""

    @staticmethod
    def dumps(obj, **_options) -> str:
        if isinstance(obj, list) and any(isinstance(item, Encoded) for item in obj):
            return "[" + ",".join(i.text if isinstance(i, Encoded) else dumps(i).decode() for i in obj) + "]"
        return dumps(obj).decode()

    loads = staticmethod(json.loads)


def _origin_of(environ: dict) -> str:
    return f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"


class SocketIOServer:
    """The Socket.IO server and its bridge from the hub (see the module doc)."""

    def __init__(
        self,
        hub: EventHub,
        tokens: TokenSource,
        hosts: HostPolicy | None = None,
        origins: Iterable[str] = (),
        max_clients: int = MAX_CLIENTS,
    ):
        self.hub = hub
        self.tokens = tokens
        self.hosts = hosts
        self.origins = frozenset(origins)
        self.max_clients = max_clients
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=self._origin_allowed,
            json=PacketJson,
            max_http_buffer_size=MAX_MESSAGE,
            ping_interval=PING_SECONDS,
            ping_timeout=PING_TIMEOUT_SECONDS,
        )
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self._release_polls_on_close()
        self._sids: set[str] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _release_polls_on_close(self) -> None:
        """Answer a closed session's held long-poll at once. python-engineio leaves it waiting
        for ``ping_interval + ping_timeout`` when the client closed (or was refused), and a
        server stop waits for it (uvicorn finishes every request first)."""
        eio = self.sio.eio
        forward = eio.handlers["disconnect"]

        async def on_close(eio_sid, *args):
            await forward(eio_sid, *args)
            session = eio.sockets.get(eio_sid)
            if session is not None:
                session.queue.put_nowait(None)  # poll() answers "no packets" and the GET ends

        eio.on("disconnect", on_close)

    @property
    def clients(self) -> int:
        return len(self._sids)

    def asgi(self, other: ASGIApp | None = None) -> ASGIApp:
        """The ASGI app: ``/socket.io/`` here, everything else to ``other``."""
        return socketio.ASGIApp(self.sio, other_asgi_app=other, socketio_path=PATH)

    # -- who may connect --------------------------------------------------------------------
    def _origin_allowed(self, origin: str | None, environ: dict) -> bool:
        return origin is None or origin == _origin_of(environ) or "*" in self.origins or origin in self.origins

    def refusal(self, environ: dict, auth) -> dict | None:
        """Why a connection is refused (``{"error", "message"}``), or None."""
        host = environ.get("HTTP_HOST", "")
        if self.hosts is not None and not self.hosts.allows(host):
            return {
                "error": "bad_host",
                "message": f"Host {host[:100]!r} is not a name this monitor answers to: add it to PRSM_ALLOWED_HOSTS",
            }
        token = self.tokens.get()
        if token is None:
            return None
        given = auth.get("token") if isinstance(auth, dict) else None
        header = f"Bearer {given}".encode() if isinstance(given, str) else None
        header = header or environ.get("HTTP_AUTHORIZATION", "").encode("latin-1") or None
        if authorized(header, token):
            return None
        return {
            "error": "unauthorized",
            "message": "this server needs the API token: io(url, {auth: {token}}) or 'Authorization: Bearer <token>'",
        }

    async def _connect(self, sid: str, environ: dict, auth=None) -> None:
        refusal = self.refusal(environ, auth)
        if refusal is None and len(self._sids) >= self.max_clients:
            refusal = {"error": "too_many_clients", "message": f"at most {self.max_clients} Socket.IO clients"}
        if refusal is not None:
            raise socketio.exceptions.ConnectionRefusedError(refusal["message"], refusal)  # JS: err.data
        self._loop = asyncio.get_running_loop()
        with self._lock:
            self._sids.add(sid)
            first = len(self._sids) == 1
        if first:  # off the loop: the first look-up of the collector may create it (seconds)
            await asyncio.to_thread(self.hub.listen, self.on_events)

    async def _disconnect(self, sid: str, *_reason) -> None:
        with self._lock:
            self._sids.discard(sid)
            last = not self._sids
        if last:
            self.hub.unlisten(self.on_events)

    # -- the events -------------------------------------------------------------------------
    def on_events(self, events: list[tuple]) -> None:
        """Hub listener (the collector's thread): encode once, broadcast on the event loop."""
        loop = self._loop
        if loop is None:
            return
        encoded = [(name, Encoded(data)) for name, data, _ in events]
        try:
            loop.call_soon_threadsafe(lambda: loop.create_task(self.broadcast(encoded)))
        except RuntimeError:  # the loop has closed: the server is stopping
            pass

    async def broadcast(self, encoded: list[tuple[str, Encoded]]) -> None:
        for name, payload in encoded:
            await self.sio.emit(name, payload)


class SocketIOMount:
    """Middleware: ``/socket.io/`` to the Socket.IO server (its client script served here),
    the rest to the app."""

    def __init__(self, app: ASGIApp, server: SocketIOServer):
        self.asgi = server.asgi(app)
        self.script = CLIENT_SCRIPT.read_bytes()
        self.etag = f'"socket.io-client-{CLIENT_VERSION}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in CLIENT_PATHS and scope["method"] in ("GET", "HEAD"):
            await self.client_script(scope)(scope, receive, send)
            return
        await self.asgi(scope, receive, send)

    def client_script(self, scope: Scope) -> Response:
        headers = {"Cache-Control": CLIENT_CACHE, "ETag": self.etag, "X-Content-Type-Options": "nosniff"}
        if_none_match = dict(scope["headers"]).get(b"if-none-match", b"").decode("latin-1")
        if self.etag in (tag.strip() for tag in if_none_match.split(",")):
            return Response(status_code=304, headers=headers)
        body = self.script if scope["method"] == "GET" else b""
        response = Response(body, media_type="application/javascript; charset=utf-8", headers=headers)
        if scope["method"] == "HEAD":
            response.headers["content-length"] = str(len(self.script))
        return response


def socketio_middleware(api, settings=None) -> Middleware:
    """The Socket.IO middleware for ``st.App(middleware=[...])``, fed by ``api``'s event hub
    (an :class:`~.routes.Api`); ``settings`` default to the environment (a bad value raises
    ConfigError). The server is kept as ``api.socketio``."""

    settings = settings if settings is not None else Settings.from_env()
    tokens = TokenSource(settings.api_token)
    server = SocketIOServer(api.hub, tokens, HostPolicy.from_settings(settings), settings.cors_origins)
    api.socketio = server
    return Middleware(SocketIOMount, server=server)
