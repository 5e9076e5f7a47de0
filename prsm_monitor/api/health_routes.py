"""``GET /health[?strict=true]``: 200 while the collector ticks, 503 when it stopped or
stalled (``strict=true``: also on a critical alert); ``starting`` while the collector is
being created, and a bad setting found only then as a JSON 503 (:func:`config_error`).

The body comes from :func:`prsm_monitor.health.health_report`; what changes only with a
tick is taken from a per-version cache, as ``/api/metrics`` does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.collector import MetricsCollector
from ..health import health_report, starting_report, version_facts
from ..per_version import PerVersion
from ..settings.values import ConfigError
from .http import ApiError, JSONResponse, Query, echo

ENDPOINTS = {
    "GET /health": "200 while the collector ticks, 503 when it stopped or stalled; strict=true: 503 on critical",
}


def config_error(error: ConfigError) -> ApiError:
    """The 503 for a setting found bad when the collector is created (a ``[instances.<name>]``
    token in the secrets), naming the setting as a bad variable's answer does."""
    return ApiError(
        503,
        "configuration_error",
        f"the monitor is not running: {error}",
        headers={"Cache-Control": "no-cache"},
        setting=error.variable,
        value=echo(error.value),
        expected=error.expected,
    )


class HealthRoutes:
    """The route and its state; ``provider`` is the API's (``current()`` and ``get()``)."""

    def __init__(self, provider):
        self.provider = provider
        self.facts = PerVersion(version_facts)  # only the clock is read per request
        self._starting = None  # the collector's creation, started by /health while none exists
        self._failed: Exception | None = None  # why the last creation failed (answered until one works)

    def routes(self, endpoint: Callable, methods: list[str]) -> list[Route]:
        return [Route("/health", endpoint(self.health), methods=methods)]

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
            facts = self.facts.cached(collector)
            if facts is None:  # once per tick or alert: computed off the event loop
                facts = await run_in_threadpool(self.facts.get, collector)
            status, body = health_report(collector, time.time(), strict, facts)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})

    def _creation(self) -> MetricsCollector | None:
        """The collector once its creation (begun here on a worker thread, if nobody began it)
        has finished; None while it runs. A creation that failed is tried again in the
        background, and its error (a bad setting: 503, see :func:`config_error`) is the answer
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
            raise config_error(self._failed)
        if self._failed is not None:
            raise self._failed
        return None
