"""The HTTP API, served on the dashboard's own port (see ``streamlit_app.py``).

``routes()`` and ``middleware(settings)`` go into ``st.App(__file__, routes=..., middleware=...)``;
``build_app()`` makes a plain Starlette app with the same routes and middleware (tests,
benchmarks, embedding). Routes reach the one process-wide collector through
:mod:`prsm_monitor.core.shared`, never through ``st.cache_resource``.

Endpoints (all JSON unless said otherwise; errors are JSON, see :mod:`.http`):

- ``GET /api``: this list.
- ``GET /api/metrics``: ``get_latest_metrics()``.
- ``GET /api/historical/{component}?minutes=60&points=N&format=json|csv`` (``duration`` is an
  alias of ``minutes``).
- ``GET /api/alerts?level=&component=&since=&active=true&limit=``.
- ``GET /api/settings``, ``POST /api/settings`` (JSON body): thresholds, interval, history.
- ``GET /api/notifications?status=&limit=``: incidents, the delivery log and the routes.
- ``GET /api/fleet``: this instance and the others it watches (:mod:`prsm_monitor.fleet.summary`).
- ``GET /api/stream``: Server-Sent Events ``metrics_update`` and ``alert``.
- ``GET /health[?strict=true]``: 200 while the collector ticks, 503 when it stopped or stalled.
- ``GET /metrics[?detail=full]``: Prometheus text exposition.
- ``GET/POST/DELETE /api/silences``, ``POST /api/alerts/{id}/ack``: see :mod:`.silences`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..anonymize import anonymize_frame, shown, shown_text
from ..core import shared
from ..core.collector import MetricsCollector
from ..fields import COMPONENTS, LEVELS
from ..fleet import fleet_of, prometheus_fleet_of
from ..fleet.summary import fleet_summary
from ..health import health_report, starting_report, version_facts
from ..notify.delivery_log import STATUSES
from ..notify.view import notifications_view
from ..settings.model import Settings
from ..settings.values import ConfigError
from .auth import ApiCORS, TokenAuth, TokenSource
from .cache import PerVersion
from .exposition import Exposition
from .guard import ApiGuard, HostPolicy, WriteGuard, apply_to_streamlit
from .historical import HISTORY_COMPONENTS, history_index
from .http import ALL_METHODS, SERVED_ROOTS, ApiError, JSONResponse, Query, bad_parameter, dumps, echo
from .incidents import ENDPOINTS as INCIDENT_ENDPOINTS
from .incidents import IncidentRoutes
from .settings import json_body, settings_changes, settings_view
from .silences import ENDPOINTS as SILENCE_ENDPOINTS
from .silences import SilenceRoutes, actor
from .stream import IDLE_TIMEOUT_SECONDS, EventHub, EventStream, frame

log = logging.getLogger(__name__)

MAX_MINUTES = 366 * 24 * 60  # a year and a day
MAX_POINTS = 100_000  # rows in one historical answer; longer windows are downsampled
MAX_EPOCH = 253_402_300_799  # 9999-12-31

ENDPOINTS = {
    "GET /api/metrics": "latest metrics of every component, the last 10 alert events and the active alerts; "
    "anonymize=true",
    "GET /api/historical/": "the components /api/historical/{component} answers for, their fields and parameters",
    "GET /api/historical/{component}": "history of system, network, ai or collector; "
    "minutes (default 60; alias duration), points (downsample), format=json|csv, anonymize=true",
    "GET /api/alerts": "alert events and active alerts; level, component, since (epoch s), active=true, limit, "
    "anonymize=true",
    "GET /api/settings": "thresholds, collection interval and history size",
    "POST /api/settings": 'change them: {"thresholds": {"cpu": {"warning": 70, "critical": 90}}, '
    '"collection_interval": 1.0, "max_history": 1000}',
    "GET /api/notifications": "incidents (grouped alerts), the delivery log (sent, failed and why) and the routes; "
    "status=queued|retrying|sent|failed|dropped, limit",
    "GET /api/fleet": "this instance and every other it watches (PRSM_INSTANCES, and those its Prometheus "
    "scrapes): status, age of the last answer, CPU, memory, nodes, models, active alerts by level",
    "GET /api/stream": "Server-Sent Events: metrics_update each tick, alert for each alert event",
    "GET /health": "200 while the collector ticks, 503 when it stopped or stalled; strict=true: 503 on critical",
    "GET /metrics": "Prometheus text exposition; detail=full adds per-link and per-model-instance series; "
    "anonymize=true",
    **SILENCE_ENDPOINTS,
    **INCIDENT_ENDPOINTS,
}


class SharedCollector:
    """The process-wide collector of :mod:`prsm_monitor.core.shared`."""

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


def _endpoint(handler: Callable, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Answer a method outside ``methods`` (HEAD goes with GET) with a JSON 405, an
    :class:`ApiError` as its JSON and any other failure as a JSON 500."""
    allowed = (*methods, "HEAD") if "GET" in methods else methods

    async def endpoint(request: Request):
        if request.method not in allowed:
            return ApiError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {echo(request.url.path)!r}: use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            ).response()
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

    def __init__(self, provider=None, idle_timeout: float = IDLE_TIMEOUT_SECONDS):
        self.provider = provider or SharedCollector()
        self.idle_timeout = idle_timeout  # an event-stream client that reads nothing this long is dropped
        self.hub = EventHub(self.provider.get)
        self.exposition = Exposition(self.provider.get)
        self.latest_body = PerVersion(lambda collector: dumps(shown(collector, collector.get_latest_metrics())))
        self.health_facts = PerVersion(version_facts)  # /health: only the clock is read per request
        self._starting = None  # the collector's creation, started by /health while none exists
        self._failed: Exception | None = None  # why the last creation failed (answered until one works)
        self.routes: list[BaseRoute] = [  # every method reaches the endpoint, which answers a JSON 405
            Route("/api", _endpoint(self.index), methods=ALL_METHODS),
            Route("/api/metrics", _endpoint(self.metrics), methods=ALL_METHODS),
            Route("/api/historical/", _endpoint(self.historical_index), methods=ALL_METHODS),  # the guide's URL
            Route("/api/historical/{component}", _endpoint(self.historical), methods=ALL_METHODS),
            Route("/api/alerts", _endpoint(self.alerts), methods=ALL_METHODS),
            Route("/api/settings", _endpoint(self.settings, ("GET", "POST")), methods=ALL_METHODS),
            Route("/api/notifications", _endpoint(self.notifications), methods=ALL_METHODS),
            Route("/api/fleet", _endpoint(self.fleet), methods=ALL_METHODS),
            Route("/api/stream", _endpoint(self.stream), methods=ALL_METHODS),
            Route("/health", _endpoint(self.health), methods=ALL_METHODS),
            Route("/metrics", _endpoint(self.prometheus), methods=ALL_METHODS),
            *SilenceRoutes(self.collector).routes(_endpoint, ALL_METHODS),
            *IncidentRoutes(self.collector).routes(_endpoint, ALL_METHODS),
            *not_found_routes(),
        ]

    async def collector(self) -> MetricsCollector:
        """The running collector; creating one (seconds, with the demo network) off the event loop."""
        current = self.provider.current()
        if current is not None and current.running:
            return current
        return await self._created()

    async def _created(self) -> MetricsCollector:
        """The provider's collector, created if need be; a setting found bad only then (a
        ``[instances.<name>]`` token in the secrets) answers 503 as a bad variable does."""
        try:
            return await run_in_threadpool(self.provider.get)
        except ConfigError as error:
            raise self._config_error(error) from None

    @staticmethod
    def _config_error(error: ConfigError) -> ApiError:
        return ApiError(
            503,
            "configuration_error",
            f"the monitor is not running: {error}",
            headers={"Cache-Control": "no-cache"},
            setting=error.variable,
            value=echo(error.value),
            expected=error.expected,
        )

    # -- endpoints ------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        Query(request.query_params, ())
        return JSONResponse({"endpoints": ENDPOINTS})

    async def metrics(self, request: Request) -> Response:
        asked = Query(request.query_params, ("anonymize",)).boolean("anonymize", False)
        collector = await self.collector()
        if asked and not collector.settings.anonymize:  # PRSM_ANONYMIZE: the cached body is anonymized
            body = await run_in_threadpool(lambda: dumps(shown(collector, collector.get_latest_metrics(), True)))
            return Response(body, media_type="application/json")
        body = self.latest_body.cached(collector)
        if body is None:  # once per tick or alert: encode off the event loop
            body = await run_in_threadpool(self.latest_body.get, collector)
        return Response(body, media_type="application/json")

    async def historical_index(self, request: Request) -> Response:
        Query(request.query_params, ())
        return JSONResponse(history_index(await self.collector()))

    async def historical(self, request: Request) -> Response:
        component = request.path_params["component"]
        if component not in HISTORY_COMPONENTS and component not in (await self.collector()).fields:
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
        query = Query(request.query_params, ("level", "component", "since", "active", "limit", "anonymize"))
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
        now = time.time()
        for alert in active:  # a silenced alert is listed, with the silence that mutes it
            silence = collector.silences.silenced(alert, now)
            alert["silenced_by"] = silence["id"] if silence else None
        if active_only:
            alerts = active[:limit] if limit else active
        else:
            alerts = collector.get_alerts(level=level, component=component, since=since, limit=limit)
        body = {"alerts": alerts, "active": active, "count": len(alerts)}
        return JSONResponse(shown(collector, body, query.boolean("anonymize", False)))

    async def settings(self, request: Request) -> Response:
        Query(request.query_params, ())
        collector = await self.collector()
        if request.method == "POST":
            changes = settings_changes(await json_body(request))
            try:
                collector.configure(**changes, actor=actor(request, None))  # the log names who
            except ConfigError as error:
                raise bad_parameter(error.variable, error.value, error.expected) from None
        return JSONResponse(settings_view(collector))

    async def fleet(self, request: Request) -> Response:
        Query(request.query_params, ())
        collector = await self.collector()
        summary = fleet_summary(collector, fleet_of(collector), prometheus_fleet_of(collector), time.time())
        return JSONResponse(summary)

    async def notifications(self, request: Request) -> Response:
        query = Query(request.query_params, ("status", "limit"))
        status = query.choice("status", None, STATUSES)
        limit = query.number("limit", None, low=1, high=MAX_POINTS, integer=True)
        collector = await self.collector()
        return JSONResponse(await run_in_threadpool(notifications_view, collector.notifier, status, limit))

    async def stream(self, request: Request):
        Query(request.query_params, ())
        last = last_event_id(request.headers.get("last-event-id"))
        if request.method == "HEAD":  # the headers a GET would get, at once, without a slot
            return Response(headers=dict((k.decode(), v.decode()) for k, v in EventStream.HEADERS))
        collector = await self.collector()
        replay = [frame("metrics_update", shown(collector, collector.get_latest_metrics()))]
        if last is not None:  # a reconnecting EventSource: the alert events it missed
            replay.extend(frame("alert", shown(collector, e), e["id"]) for e in collector.get_alerts(since_id=last))
        return EventStream(self.hub, replay, idle_timeout=self.idle_timeout)

    async def health(self, request: Request) -> Response:
        """Answers at once, even while the collector is being created (``starting``); what
        changes only with a tick comes from the per-version cache, as ``/api/metrics`` does."""
        strict = Query(request.query_params, ("strict",)).boolean("strict", False)
        collector = self.provider.current()
        if collector is None:
            collector = self._creation()
        if collector is None:
            status, body = starting_report(time.time(), strict)
        else:
            facts = self.health_facts.cached(collector)
            if facts is None:  # once per tick or alert: computed off the event loop
                facts = await run_in_threadpool(self.health_facts.get, collector)
            status, body = health_report(collector, time.time(), strict, facts)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})

    def _creation(self) -> MetricsCollector | None:
        """The collector once its creation (begun here on a worker thread, if nobody began it)
        has finished; None while it runs. A creation that failed is tried again in the
        background, and its error (a bad setting: 503 as in :meth:`_created`) is the answer
        until one succeeds."""
        task = self._starting
        if task is not None and task.done():
            self._starting = None
            if task.exception() is None:
                self._failed = None
                return task.result()
            self._failed = task.exception()
        if self._starting is None:
            self._starting = asyncio.ensure_future(run_in_threadpool(self.provider.get))
        if isinstance(self._failed, ConfigError):
            raise self._config_error(self._failed)
        if self._failed is not None:
            raise self._failed
        return None

    async def prometheus(self, request: Request) -> Response:
        query = Query(request.query_params, ("detail", "anonymize"))
        detail = query.choice("detail", "basic", ("basic", "full"))
        asked = query.boolean("anonymize", False)
        collector = await self.collector()
        body, content_type = await self.exposition.render(
            collector, detail == "full", request.headers.get("accept", "")
        )
        if asked or collector.settings.anonymize:  # label values: node and model names, addresses
            body = (await run_in_threadpool(shown_text, collector, body.decode(), True)).encode()
        return Response(body, headers={"Content-Type": content_type})


def not_found_routes() -> list[BaseRoute]:
    """JSON 404s for any other path under ``/api``, ``/health`` and ``/metrics``."""

    async def not_found(request: Request) -> Response:
        return ApiError(
            404, "not_found", f"no API endpoint at {echo(request.url.path)!r}", endpoints=sorted(ENDPOINTS)
        ).response()

    return [Route(f"{root}/{{rest:path}}", not_found, methods=ALL_METHODS) for root in SERVED_ROOTS]


LAST_EVENT_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only ("²" is a digit to str.isdigit)


def last_event_id(value: str | None) -> int | None:
    """The ``Last-Event-ID`` header as an alert event id; empty means none; else a 400."""
    if value is None or value.strip() == "":
        return None
    if not LAST_EVENT_ID.fullmatch(value.strip()):
        raise bad_parameter("Last-Event-ID", value, "the id of an alert event (up to 18 digits 0-9), or nothing")
    return int(value.strip())


# -- wiring ---------------------------------------------------------------------------------
def routes(provider=None) -> list[BaseRoute]:
    """The API's routes for ``st.App(routes=...)``: a fresh :class:`Api` (and Prometheus
    registry) each call; nothing is registered globally. ``provider`` defaults to the
    process-wide collector."""
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
    provider = FixedCollector(collector) if collector is not None else None
    return Starlette(routes=routes(provider), middleware=middleware(settings))
