"""``GET /api/historical/`` (the components it answers for, their fields and parameters) and
``GET /api/historical/{component}?minutes=60&points=N&format=json|csv&anonymize=true``
(``duration`` is an alias of ``minutes``): one component's history, downsampled to
``points`` rows at most; an unknown component is a 404."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..anonymize import anonymize_frame
from .historical import HISTORY_COMPONENTS, history_index
from .http import JSONResponse, Query, bad_parameter, dumps

MAX_MINUTES = 366 * 24 * 60  # a year and a day
MAX_POINTS = 100_000  # rows in one historical answer; longer windows are downsampled

ENDPOINTS = {
    "GET /api/historical/": "the components /api/historical/{component} answers for, their fields and parameters",
    "GET /api/historical/{component}": "history of system, network, ai or collector; "
    "minutes (default 60; alias duration), points (downsample), format=json|csv, anonymize=true",
}


class HistoryRoutes:
    """The routes; ``collector`` is the API's coroutine that returns the running collector."""

    def __init__(self, collector: Callable):
        self.collector = collector

    def routes(self, endpoint: Callable, methods: list[str]) -> list[Route]:
        return [
            Route("/api/historical/", endpoint(self.historical_index), methods=methods),  # the guide's URL
            Route("/api/historical/{component}", endpoint(self.historical), methods=methods),
        ]

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
