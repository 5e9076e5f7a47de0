"""The port answers first, the API loads after: what ``streamlit_app.py`` gives ``st.App``.

``streamlit run`` imports the entry file inside uvicorn, and uvicorn serves only once that
import and the lifespan's start have returned: whatever the import loads delays the first
answer. The entry file therefore imports this module alone (the settings, the ``Host`` check
and the token middleware: Starlette and the standard library, ~0.1 s), and the API's routes,
the collector, NumPy and Socket.IO (~1 s) load on a thread that the server's lifespan starts
once the port listens (:meth:`Front.lifespan`); the collector is then created on that thread.

Until the API has loaded:

- ``GET /health`` answers 200 ``starting`` (:func:`prsm_monitor.health.starting_report`, as it
  does while the collector is being created), behind the same ``Host`` check and token
  (``PRSM_HEALTH_AUTH``) as ever, since that middleware is built at once;
- every other request (a page, its websocket, the API, Socket.IO) waits for the load, then
  goes where it always went: the API's routes through :class:`Deferred`, Socket.IO through
  :class:`DeferredMount`.

A setting found bad while loading closes the API as a bad variable does (every API path a JSON
503 naming it, :func:`.wiring.unavailable`); any other failure to load is logged and ends the
process, as a failed import of the entry file did.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator

from starlette.datastructures import QueryParams
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ..health import starting_report
from ..settings.model import Settings
from ..settings.values import ConfigError
from .http import SERVED_ROOTS, ApiError, JSONResponse, Query
from .lifecycle import serving
from .wiring import middleware, unavailable

log = logging.getLogger(__name__)


class Front:
    """The light front of one server: ``st.App(__file__, routes=front.routes(),
    middleware=front.middleware(), lifespan=front.lifespan)``."""

    def __init__(self, settings: Settings | None = None, provider=None):
        self.settings = settings if settings is not None else Settings.from_env()  # a bad value raises ConfigError
        self.provider = provider  # the API's (default: the process-wide collector, started once loaded)
        self.loaded = threading.Event()
        self.router: ASGIApp | None = None  # the API's routes (or the closed ones), once loaded
        self.exact: dict[str, Route] = {}  # those without parameters, by path: /health without a second routing
        self.mount: list[Middleware] = []  # Socket.IO, once loaded
        self._ready: asyncio.Event | None = None  # ``loaded`` on the server's event loop
        self._shared = None  # prsm_monitor.core.shared, once loaded with a collector to stop

    def routes(self) -> list[BaseRoute]:
        """Every API path (each root and everything under it) to :class:`Deferred`."""
        endpoint = Deferred(self)
        return [Route(p, endpoint) for root in SERVED_ROOTS for p in (root, f"{root}/{{rest:path}}")]

    def middleware(self) -> list[Middleware]:
        """The API's middleware (``Host``, CORS, token, writes: built now), then Socket.IO's once loaded."""
        return [*middleware(self.settings), Middleware(DeferredMount, front=self)]

    @contextlib.asynccontextmanager
    async def lifespan(self, app) -> AsyncIterator[None]:
        """The server's part (:func:`.lifecycle.serving`), then the load on a thread; at the end
        the collector is closed (its last batch of history committed)."""
        async with serving(app):
            self._ready = asyncio.Event()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._load, args=(loop,), name="prsm-api-load", daemon=True).start()
            try:
                yield
            finally:
                if self._shared is not None:
                    await asyncio.to_thread(self._shared.release_collector)

    async def wait(self) -> None:
        """Until the API has loaded."""
        if not self.loaded.is_set():
            if self._ready is None:  # served without the lifespan (never by streamlit run): load here
                await asyncio.to_thread(self._load, None)
            else:
                await self._ready.wait()

    def _load(self, loop: asyncio.AbstractEventLoop | None) -> None:
        # Function-level imports, for start-up cost: this is the part the port does not wait for.
        try:
            api = importlib.import_module(__package__)
            served = api.Api(self.provider)  # its event hub feeds both /api/stream and Socket.IO at /socket.io/
            self.mount = [api.socketio_middleware(served, self.settings)]
            self.router = Router(served.routes)
            self.exact = {r.path: r for r in served.routes if isinstance(r, Route) and "{" not in r.path}
            shared = importlib.import_module("..core.shared", __package__) if self.provider is None else None
        except ConfigError as error:
            log.error("prsm_monitor: %s", error)
            closed, _ = unavailable(error)
            self.router, shared = Router(closed), None
        except BaseException:
            log.critical("the API could not be loaded", exc_info=True)
            os._exit(1)  # as a failed import of the entry file ends `streamlit run`
        self.loaded.set()
        if loop is not None:
            loop.call_soon_threadsafe(self._ready.set)
        if shared is not None:
            self._shared = shared
            shared.start_in_background()  # the collector: demo network, first tick


class Deferred:
    """The API's paths (an ASGI endpoint): ``GET /health`` says ``starting`` until the API has
    loaded; everything goes to the API's routes once it has."""

    def __init__(self, front: Front):
        self.front = front

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = self.front
        if not front.loaded.is_set() and is_early_health(scope):
            await starting(scope)(scope, receive, send)
            return
        await front.wait()
        route = front.exact.get(scope["path"])
        if route is not None:  # the route Starlette's router would find, without matching them all again
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                await route.handle(scope, receive, send)
                return
        await front.router(scope, receive, send)


class DeferredMount:
    """Middleware: until the API has loaded, only an early ``GET /health`` passes (to
    :class:`Deferred`); then Socket.IO's middleware wraps the rest of the app, as it did when
    built with it."""

    def __init__(self, app: ASGIApp, front: Front):
        self.app = app
        self.front = front
        self.stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not self.front.loaded.is_set():
            if is_early_health(scope):
                await self.app(scope, receive, send)
                return
            await self.front.wait()
        if self.stack is None:
            stack = self.app
            for cls, args, kwargs in reversed(self.front.mount):
                stack = cls(stack, *args, **kwargs)
            self.stack = stack
        await self.stack(scope, receive, send)


def is_early_health(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] == "/health" and scope["method"] in ("GET", "HEAD")


def starting(scope: Scope) -> JSONResponse:
    """``/health`` before the API has loaded: 200 ``starting`` (a bad ``strict`` is a 400, as later)."""
    try:
        strict = Query(QueryParams(scope.get("query_string", b"")), ("strict",)).boolean("strict", False)
    except ApiError as error:
        return error.response()
    status, body = starting_report(time.time(), strict)
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})
