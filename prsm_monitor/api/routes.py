"""The HTTP API's routes (:class:`Api`), served on the dashboard's own port (see
``streamlit_app.py``; :mod:`.wiring` puts them and the middleware into a server). Routes reach
the one process-wide collector through :mod:`.providers` (:mod:`prsm_monitor.core.shared`),
never through ``st.cache_resource``.

Endpoints (all JSON unless said otherwise; errors are JSON, see :mod:`.http`):

- ``GET /api``: this list.
- ``GET /api/metrics``: ``get_latest_metrics()``.
- ``GET /api/historical/{component}?minutes=60&points=N&format=json|csv``: see :mod:`.history_routes`.
- ``GET /api/alerts?level=&component=&since=&active=true&limit=``.
- ``GET /api/settings``, ``POST /api/settings`` (JSON body): thresholds, interval, history.
- ``GET /api/notifications?status=&limit=``: incidents, the delivery log and the routes.
- ``GET /api/fleet``: this instance and the others it watches (:mod:`prsm_monitor.fleet.summary`).
- ``GET /api/stream``: Server-Sent Events ``metrics_update`` and ``alert``.
- ``GET /health[?strict=true]``: 200 while the collector ticks, 503 when it stopped or stalled
  (:mod:`.health_routes`).
- ``GET /metrics[?detail=full]``: Prometheus text exposition.
- ``GET/POST/DELETE /api/silences``, ``POST /api/alerts/{id}/ack``: see :mod:`.silences`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..anonymize import shown, shown_text
from ..core.collector import MetricsCollector
from ..fields import COMPONENTS, LEVELS
from ..fleet import fleet_of, prometheus_fleet_of
from ..fleet.summary import fleet_summary
from ..notify.delivery_log import STATUSES
from ..notify.view import notifications_view
from ..per_version import PerVersion
from ..settings.values import ConfigError
from .exposition import Exposition
from .health_routes import ENDPOINTS as HEALTH_ENDPOINTS
from .health_routes import HealthRoutes, config_error
from .history_routes import ENDPOINTS as HISTORY_ENDPOINTS
from .history_routes import MAX_POINTS, HistoryRoutes
from .http import ALL_METHODS, SERVED_ROOTS, ApiError, JSONResponse, Query, bad_parameter, dumps, echo
from .incidents import ENDPOINTS as INCIDENT_ENDPOINTS
from .incidents import IncidentRoutes
from .providers import SharedCollector
from .settings import json_body, settings_changes, settings_view
from .silences import ENDPOINTS as SILENCE_ENDPOINTS
from .silences import SilenceRoutes, actor
from .stream import IDLE_TIMEOUT_SECONDS, EventHub, EventStream, frame

log = logging.getLogger(__name__)

MAX_EPOCH = 253_402_300_799  # 9999-12-31

ENDPOINTS = {
    "GET /api/metrics": "latest metrics of every component, the last 10 alert events and the active alerts; "
    "anonymize=true",
    **HISTORY_ENDPOINTS,
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
    **HEALTH_ENDPOINTS,
    "GET /metrics": "Prometheus text exposition; detail=full adds per-link and per-model-instance series; "
    "anonymize=true",
    **SILENCE_ENDPOINTS,
    **INCIDENT_ENDPOINTS,
}


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
        self.health = HealthRoutes(self.provider)  # /health, and the collector's creation it starts
        self.routes: list[BaseRoute] = [  # every method reaches the endpoint, which answers a JSON 405
            Route("/api", _endpoint(self.index), methods=ALL_METHODS),
            Route("/api/metrics", _endpoint(self.metrics), methods=ALL_METHODS),
            *HistoryRoutes(self.collector).routes(_endpoint, ALL_METHODS),
            Route("/api/alerts", _endpoint(self.alerts), methods=ALL_METHODS),
            Route("/api/settings", _endpoint(self.settings, ("GET", "POST")), methods=ALL_METHODS),
            Route("/api/notifications", _endpoint(self.notifications), methods=ALL_METHODS),
            Route("/api/fleet", _endpoint(self.fleet), methods=ALL_METHODS),
            Route("/api/stream", _endpoint(self.stream), methods=ALL_METHODS),
            *self.health.routes(_endpoint, ALL_METHODS),
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
            raise config_error(error) from None

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
