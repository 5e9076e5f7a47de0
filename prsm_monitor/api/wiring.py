"""How the API goes into a server: ``routes()`` and ``middleware(settings)`` for
``st.App(__file__, routes=..., middleware=...)``; ``build_app()``, a plain Starlette app with
the same routes and middleware (tests, benchmarks, embedding); ``unavailable(error)``, what a
process whose settings are bad serves instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..settings.model import Settings
from ..settings.values import ConfigError
from .auth import ApiCORS, TokenAuth, TokenSource
from .guard import ApiGuard, HostPolicy, WriteGuard, apply_to_streamlit
from .http import ALL_METHODS, SERVED_ROOTS, JSONResponse, echo

if TYPE_CHECKING:
    from ..core.collector import MetricsCollector


def routes(provider=None) -> list[BaseRoute]:
    """The API's routes for ``st.App(routes=...)``: a fresh :class:`Api` (and Prometheus
    registry) each call; nothing is registered globally. ``provider`` defaults to the
    process-wide collector."""
    from .routes import Api  # on use, for start-up cost: middleware() serves the port before the routes load

    return Api(provider).routes


def middleware(settings: Settings | None = None) -> list[Middleware]:
    """The API's middleware for ``st.App(middleware=...)``, outermost first: paths and ``Host``
    (:class:`~.guard.ApiGuard`); with ``PRSM_CORS_ORIGINS``, CORS for those origins; the token
    (``PRSM_API_TOKEN`` or the ``api_token`` secret); who may write
    (:class:`~.guard.WriteGuard`). ``settings`` default to the environment (a bad value raises
    ConfigError). The same Host names go to Streamlit's ``server.allowedHosts``, for the
    dashboard's own websocket. TCP_NODELAY is set by the server's lifespan (:mod:`.lifecycle`)."""
    settings = settings if settings is not None else Settings.from_env()
    tokens = TokenSource(settings.api_token)
    hosts = HostPolicy.from_settings(settings)
    apply_to_streamlit(hosts)
    stack = [Middleware(ApiGuard, hosts=hosts)]
    if settings.cors_origins:
        stack.append(Middleware(ApiCORS, origins=settings.cors_origins))
    stack.append(Middleware(TokenAuth, tokens=tokens, health=settings.health_auth))
    stack.append(
        Middleware(WriteGuard, tokens=tokens, origins=settings.cors_origins, operators=settings.operators_configured)
    )
    return stack


def unavailable(error: ConfigError) -> tuple[list[BaseRoute], list[Middleware]]:
    """Routes and middleware for a process whose settings are bad: every API path and
    Socket.IO's answer a JSON 503 naming the setting (so ``curl -f /health`` fails), never the
    dashboard's page, and nothing else; the pages show the same error."""
    body = {
        "error": "configuration_error",
        "status": 503,
        "message": f"the monitor is not running: {error}",
        "setting": error.variable,
        "value": echo(error.value),  # a secret's value is never kept: it shows as <hidden>
        "expected": error.expected,
    }

    async def closed(request: Request) -> Response:
        return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-cache"})

    roots = (*SERVED_ROOTS, "/socket.io")  # a Socket.IO client's connect fails with the same answer
    paths = [p for root in roots for p in (root, f"{root}/{{rest:path}}")]
    return [Route(p, closed, methods=ALL_METHODS) for p in paths], [Middleware(ApiGuard)]


def build_app(settings: Settings | None = None, collector: MetricsCollector | None = None) -> Starlette:
    """A plain Starlette app with the API alone: the same routes and middleware as the
    dashboard's, serving ``collector`` (default: the process-wide one)."""
    from .providers import FixedCollector  # on use, for start-up cost (see routes())

    provider = FixedCollector(collector) if collector is not None else None
    return Starlette(routes=routes(provider), middleware=middleware(settings))
