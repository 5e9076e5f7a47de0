"""The HTTP API, served on the dashboard's own port (see ``streamlit_app.py``).

``routes()`` and ``middleware(settings)`` go into ``st.App(__file__, routes=..., middleware=...)``;
``build_app()`` makes a plain Starlette app with the same routes and middleware (tests,
benchmarks, embedding). Routes reach the one process-wide collector through
:mod:`prsm_monitor.shared`, never through ``st.cache_resource``.

Endpoints (all JSON unless said otherwise; errors are JSON, see :mod:`.http`):

- ``GET /api``: this list.
- ``GET /api/metrics``: ``get_latest_metrics()``.
- ``GET /api/historical/{component}?minutes=60&points=N&format=json|csv`` (``duration`` is an
  alias of ``minutes``).
- ``GET /api/alerts?level=&component=&since=&active=true&limit=``.
- ``GET /api/settings``, ``POST /api/settings`` (JSON body): thresholds, interval, history.
- ``GET /api/stream``: Server-Sent Events ``metrics_update`` and ``alert``.
- ``GET /health[?strict=true]``: 200 while the collector ticks, 503 when it stopped or stalled.
- ``GET /metrics[?detail=full]``: Prometheus text exposition.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from .. import shared
from ..anonymize import anonymize_frame
from ..collector import MetricsCollector
from ..config import ConfigError, Settings
from ..fields import COMPONENTS, LEVELS
from ..health import health_report
from .auth import ApiCORS, TokenAuth, TokenSource
from .cache import PerVersion
from .exposition import Exposition
from .http import ApiError, JSONResponse, Query, bad_parameter, dumps, echo
from .stream import EventHub, EventStream, frame
from .tcp import NoDelay

log = logging.getLogger(__name__)

HISTORY_COMPONENTS = (*COMPONENTS, "collector")
MAX_MINUTES = 366 * 24 * 60  # a year and a day
MAX_POINTS = 100_000  # rows in one historical answer; longer windows are downsampled
MAX_EPOCH = 253_402_300_799  # 9999-12-31
MAX_BODY = 64 * 1024
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

ENDPOINTS = {
    "GET /api/metrics": "latest metrics of every component, the last 10 alert events and the active alerts",
    "GET /api/historical/{component}": "history of system, network, ai or collector; "
    "minutes (default 60; alias duration), points (downsample), format=json|csv, anonymize=true",
    "GET /api/alerts": "alert events and active alerts; level, component, since (epoch s), active=true, limit",
    "GET /api/settings": "thresholds, collection interval and history size",
    "POST /api/settings": 'change them: {"thresholds": {"cpu": {"warning": 70, "critical": 90}}, '
    '"collection_interval": 1.0, "max_history": 1000}',
    "GET /api/stream": "Server-Sent Events: metrics_update each tick, alert for each alert event",
    "GET /health": "200 while the collector ticks, 503 when it stopped or stalled; strict=true: 503 on critical",
    "GET /metrics": "Prometheus text exposition; detail=full adds per-link and per-model-instance series",
}


class SharedCollector:
    """The process-wide collector of :mod:`prsm_monitor.shared`."""

    @staticmethod
    def current() -> MetricsCollector | None:
        return shared.current_collector()

    @staticmethod
    def get() -> MetricsCollector:
        return shared.get_collector()


class FixedCollector:
    """One given collector (tests, benchmarks, embedding); started and stopped by its owner."""

    def __init__(self, collector: MetricsCollector):
        self.collector = collector

    def current(self) -> MetricsCollector:
        return self.collector

    def get(self) -> MetricsCollector:
        return self.collector


def _endpoint(handler: Callable) -> Callable:
    """Answer an :class:`ApiError` as its JSON and any other failure as a JSON 500."""

    async def endpoint(request: Request):
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()
        except Exception:
            log.exception("API error on %s", request.url.path)
            return ApiError(500, "internal_error", "the server failed to answer; see its log").response()

    endpoint.__name__ = handler.__name__
    return endpoint


class Api:
    """The routes' state: where the collector comes from, the SSE hub, the Prometheus registry."""

    def __init__(self, provider=None):
        self.provider = provider or SharedCollector()
        self.hub = EventHub(self.provider.get)
        self.exposition = Exposition(self.provider.get)
        self.latest_body = PerVersion(lambda collector: dumps(collector.get_latest_metrics()))
        self.routes: list[BaseRoute] = [
            Route("/api", _endpoint(self.index), methods=["GET"]),
            Route("/api/metrics", _endpoint(self.metrics), methods=["GET"]),
            Route("/api/historical/{component}", _endpoint(self.historical), methods=["GET"]),
            Route("/api/alerts", _endpoint(self.alerts), methods=["GET"]),
            Route("/api/settings", _endpoint(self.settings), methods=["GET", "POST"]),
            Route("/api/stream", _endpoint(self.stream), methods=["GET"]),
            Route("/health", _endpoint(self.health), methods=["GET"]),
            Route("/metrics", _endpoint(self.prometheus), methods=["GET"]),
        ]
        self.routes.append(Route("/api/{rest:path}", _endpoint(self.not_found), methods=ALL_METHODS))

    async def collector(self) -> MetricsCollector:
        """The running collector; creating one (seconds, with the demo network) off the event loop."""
        current = self.provider.current()
        if current is not None and current.running:
            return current
        return await run_in_threadpool(self.provider.get)

    # -- endpoints ------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        Query(request.query_params, ())
        return JSONResponse({"endpoints": ENDPOINTS})

    async def not_found(self, request: Request) -> Response:
        for route in self.routes[:-1]:
            match, _ = route.matches(request.scope)
            if match == Match.PARTIAL:
                allowed = sorted(getattr(route, "methods", None) or ())
                raise ApiError(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed on {request.url.path}: use {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
        raise ApiError(404, "not_found", f"no API endpoint at {echo(request.url.path)!r}", endpoints=sorted(ENDPOINTS))

    async def metrics(self, request: Request) -> Response:
        Query(request.query_params, ())
        collector = await self.collector()
        body = self.latest_body.cached(collector)
        if body is None:  # once per tick or alert: encode off the event loop
            body = await run_in_threadpool(self.latest_body.get, collector)
        return Response(body, media_type="application/json")

    async def historical(self, request: Request) -> Response:
        component = request.path_params["component"]
        if component not in HISTORY_COMPONENTS:
            raise bad_parameter("component", component, f"one of {', '.join(HISTORY_COMPONENTS)}", status=404)
        query = Query(request.query_params, ("minutes", "duration", "points", "format", "anonymize"))
        if query.raw("minutes") is not None and query.raw("duration") is not None:
            raise bad_parameter("duration", query.raw("duration"), "either minutes or duration (its alias), not both")
        name = "duration" if query.raw("duration") is not None else "minutes"
        minutes = query.number(name, 60.0, low=0, high=MAX_MINUTES, low_open=True, what="minutes")
        points = query.number("points", None, low=2, high=MAX_POINTS, integer=True)
        fmt = query.choice("format", "json", ("json", "csv"))
        anonymize = query.boolean("anonymize", False)
        collector = await self.collector()
        frame_ = await run_in_threadpool(collector.history, component, minutes, points or MAX_POINTS)
        if anonymize or collector.settings.anonymize:  # PRSM_ANONYMIZE: always
            frame_ = await run_in_threadpool(anonymize_frame, frame_, collector)
        if fmt == "csv":
            return Response(
                frame_.to_csv(index=False),
                media_type="text/csv",
                headers={"Content-Disposition": f'inline; filename="{component}.csv"'},
            )
        fields = {f.name: {"unit": f.unit, "kind": f.kind, "help": f.help} for f in collector.fields.get(component, ())}
        head = dumps(
            {"component": component, "minutes": minutes, "points": points, "count": len(frame_), "fields": fields}
        )
        rows = frame_.to_json(orient="records", double_precision=10).encode() if len(frame_) else b"[]"
        return Response(head[:-1] + b',"data":' + rows + b"}", media_type="application/json")

    async def alerts(self, request: Request) -> Response:
        query = Query(request.query_params, ("level", "component", "since", "active", "limit"))
        level = query.choice("level", None, LEVELS)
        component = query.choice("component", None, COMPONENTS)
        since = query.number("since", None, low=0, high=MAX_EPOCH, what="epoch seconds")
        active_only = query.boolean("active", False)
        limit = query.number("limit", None, low=1, high=MAX_POINTS, integer=True)
        collector = await self.collector()
        active = [
            a
            for a in collector.get_active_alerts()
            if (level is None or a["level"] == level)
            and (component is None or a["component"] == component)
            and (since is None or a["started"] >= since)
        ]
        if active_only:
            alerts = active[:limit] if limit else active
        else:
            alerts = collector.get_alerts(level=level, component=component, since=since, limit=limit)
        return JSONResponse({"alerts": alerts, "active": active, "count": len(alerts)})

    async def settings(self, request: Request) -> Response:
        Query(request.query_params, ())
        collector = await self.collector()
        if request.method == "POST":
            changes = _settings_changes(await _json_body(request))
            try:
                collector.configure(**changes)
            except ConfigError as error:
                raise bad_parameter(error.variable, error.value, error.expected) from None
        return JSONResponse(settings_view(collector))

    async def stream(self, request: Request):
        Query(request.query_params, ())
        collector = await self.collector()
        client = self.hub.subscribe()
        replay = [frame("metrics_update", collector.get_latest_metrics())]
        last = request.headers.get("last-event-id", "")
        if last.isdigit():  # a reconnecting EventSource: the alert events it missed
            replay.extend(frame("alert", e, e["id"]) for e in collector.get_alerts(since_id=int(last)))
        return EventStream(self.hub, client, replay)

    async def health(self, request: Request) -> Response:
        strict = Query(request.query_params, ("strict",)).boolean("strict", False)
        collector = self.provider.current() or await run_in_threadpool(self.provider.get)
        status, body = health_report(collector, time.time(), strict)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})

    async def prometheus(self, request: Request) -> Response:
        detail = Query(request.query_params, ("detail",)).choice("detail", "basic", ("basic", "full"))
        collector = await self.collector()
        body, content_type = await self.exposition.render(
            collector, detail == "full", request.headers.get("accept", "")
        )
        return Response(body, headers={"Content-Type": content_type})


# -- settings -------------------------------------------------------------------------------
def settings_view(collector: MetricsCollector) -> dict:
    return {
        "collection_interval": collector.collection_interval,
        "max_history": collector.store.capacity,
        "thresholds": {
            name: {
                "warning": rule.warning,
                "critical": rule.critical,
                "direction": rule.direction,
                "unit": rule.unit,
                "component": rule.component,
                "field": rule.field,
                "label": rule.label,
            }
            for name, rule in collector.rules.items()
        },
    }


async def _json_body(request: Request):
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the settings as JSON with Content-Type: application/json")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(413, "too_large", f"the body may have at most {MAX_BODY} bytes")

    def no_constant(name):
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        return json.loads(body, parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "bad_body", f"the body is not valid JSON: {error}") from None


SETTINGS = ("collection_interval", "max_history", "thresholds")


def _settings_changes(body) -> dict:
    """The settings a body changes, by name; ``configure`` validates the values."""
    if not isinstance(body, Mapping):
        raise bad_parameter("body", echo(json.dumps(body)), f"a JSON object with any of {', '.join(SETTINGS)}")
    for key in body:
        if key not in SETTINGS:
            raise bad_parameter(key, body[key], f"a setting, one of {', '.join(SETTINGS)}")
    return {key: value for key, value in body.items() if value is not None}


# -- wiring ---------------------------------------------------------------------------------
def routes(provider=None) -> list[BaseRoute]:
    """The API's routes for ``st.App(routes=...)``: a fresh :class:`Api` (and Prometheus
    registry) each call; nothing is registered globally. ``provider`` defaults to the
    process-wide collector."""
    return Api(provider).routes


def middleware(settings: Settings | None = None) -> list[Middleware]:
    """TCP_NODELAY (see :mod:`.api_tcp`), token auth (``PRSM_API_TOKEN`` or the ``api_token`` secret) and, with
    ``PRSM_CORS_ORIGINS``, CORS for those origins, for ``st.App(middleware=...)``.
    ``settings`` default to the environment (a bad value raises ConfigError)."""
    settings = settings if settings is not None else Settings.from_env()
    stack = [Middleware(NoDelay)]
    if settings.cors_origins:
        stack.append(Middleware(ApiCORS, origins=settings.cors_origins))
    stack.append(Middleware(TokenAuth, tokens=TokenSource(settings.api_token), health=settings.health_auth))
    return stack


def build_app(settings: Settings | None = None, collector: MetricsCollector | None = None) -> Starlette:
    """A plain Starlette app with the API alone: the same routes and middleware as the
    dashboard's, serving ``collector`` (default: the process-wide one)."""
    provider = FixedCollector(collector) if collector is not None else None
    return Starlette(routes=routes(provider), middleware=middleware(settings))
