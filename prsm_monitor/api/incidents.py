"""``GET /api/incidents`` and ``GET /api/incidents/{id}``: the incidents the notifier grouped,
and one incident's whole story (:mod:`prsm_monitor.alerts.incident_timeline`).

- ``GET /api/incidents``: ``{"incidents": [{id, title, cause, level, start, end, state,
  counts}], "count"}``, newest first.
- ``GET /api/incidents/{id}``: the incident with its ``timeline`` (each entry with its
  ``time``, epoch seconds, and its ``kind``), times to detect and acknowledge, affected nodes
  and models and the fields its alerts judged. An id that is not a whole number is a 400, an
  incident not remembered a 404.

Both take ``anonymize=true``; with ``PRSM_ANONYMIZE`` on they are always anonymized.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..alerts.incident_timeline import incident_list, incident_record
from ..anonymize import shown
from ..notify.view import notifications_view
from .http import JSONResponse, Query, bad_parameter

ENDPOINTS = {
    "GET /api/incidents": "incidents (alerts grouped by cause), newest first: id, title, cause, start, end, state, "
    "counts; anonymize=true",
    "GET /api/incidents/{id}": "one incident: its timeline (fault, first abnormal value, alerts, acknowledgements, "
    "silences, notifications), time to detect and to acknowledge, nodes and models; anonymize=true",
}


def incident_id(raw: str) -> int:
    """The path's id as a whole number, else a 400 naming it."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise bad_parameter("id", raw, "the id of an incident (a whole number from 1; GET /api/incidents lists them)")
    return int(raw)


class IncidentRoutes:
    """The routes; ``collector`` is the API's coroutine that returns the running collector."""

    def __init__(self, collector: Callable):
        self.collector = collector

    def routes(self, endpoint: Callable, methods: list[str]) -> list[Route]:
        return [
            Route("/api/incidents", endpoint(self.incidents), methods=methods),
            Route("/api/incidents/{incident_id}", endpoint(self.incident), methods=methods),
        ]

    async def incidents(self, request: Request) -> Response:
        asked = Query(request.query_params, ("anonymize",)).boolean("anonymize", False)
        collector = await self.collector()
        items = await run_in_threadpool(lambda: incident_list(notifications_view(collector.notifier)))
        return JSONResponse(shown(collector, {"incidents": items, "count": len(items)}, asked))

    async def incident(self, request: Request) -> Response:
        asked = Query(request.query_params, ("anonymize",)).boolean("anonymize", False)
        wanted = incident_id(request.path_params["incident_id"])
        collector = await self.collector()
        record = await run_in_threadpool(
            lambda: incident_record(collector, notifications_view(collector.notifier), wanted)
        )
        if record is None:
            raise bad_parameter("id", wanted, "the id of an incident (GET /api/incidents lists them)", status=404)
        return JSONResponse(shown(collector, record, asked))
