"""Silences and acknowledgements over HTTP.

- ``GET /api/silences[?status=active|pending|expired]``: the silences, live ones first.
- ``GET /api/silences/{id}``: one silence.
- ``POST /api/silences``: create one from a JSON body ``{"matchers": {"node": "node-0"},
  "duration": "2h"}`` (or ``"ends_at"``: epoch seconds), optional ``starts_at``, ``comment``,
  ``created_by``.
- ``DELETE /api/silences/{id}`` (or ``DELETE /api/silences?id=...``): expire it now.
- ``POST /api/alerts/{id}/ack``: acknowledge an active alert (optional body ``{"by": "..."}``).
  Idempotent: acknowledging it again answers 200 with ``"already_acknowledged": true`` and
  changes and logs nothing (the first acknowledgement's time and name stay).

Writes pass the API's :class:`~.guard.WriteGuard` like every write. Who did it is the
body's ``created_by`` / ``by`` (default ``API client``), with how the request was allowed:
``token`` only when :class:`~.auth.TokenAuth` verified one, else ``this machine`` (a bearer
header sent to an API with no token configured proves nothing): it goes into the alert log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..alerts.log import Ack
from ..alerts.silences import MAX_NAME, check_duration
from ..settings.values import ConfigError
from .auth import token_verified
from .http import JSONResponse, Query, bad_parameter, echo
from .settings import json_body

STATUSES = ("active", "pending", "expired")
SILENCE_KEYS = ("matchers", "duration", "ends_at", "starts_at", "comment", "created_by")
ENDPOINTS = {
    "GET /api/silences": "silences, live ones first; status=active|pending|expired",
    "POST /api/silences": 'create one: {"matchers": {"node": "node-0"}, "duration": "2h", "comment": "..."} '
    '(matchers: component, rule, level, node, model; or "ends_at" in epoch s)',
    "DELETE /api/silences/{id}": "expire a silence now",
    "POST /api/alerts/{id}/ack": "acknowledge an active alert (again: 200, already_acknowledged, nothing logged)",
}


def actor(request: Request, given, field: str = "created_by") -> str:
    """Who made a change through the API: the name the body gives, and how the request was let in."""
    if given is not None and (
        not isinstance(given, str) or not given.strip() or len(given) > MAX_NAME or not given.isprintable()
    ):
        raise bad_parameter(field, echo(given), f"a name of 1 to {MAX_NAME} printable characters on one line")
    via = "token" if token_verified(request.scope) else "this machine"
    return f"{given.strip() if given else 'API client'} (API, {via})"


def _body(value, keys: tuple[str, ...]) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise bad_parameter("body", echo(value), f"a JSON object with any of {', '.join(keys)}")
    for key in value:
        if key not in keys:
            raise bad_parameter(echo(key), value[key], f"a field, one of {', '.join(keys)}")
    return value


class SilenceRoutes:
    """The routes; ``collector`` is the API's coroutine that returns the running collector."""

    def __init__(self, collector: Callable):
        self.collector = collector

    def routes(self, endpoint: Callable, methods: list[str]) -> list[Route]:
        return [
            Route("/api/silences", endpoint(self.silences, ("GET", "POST", "DELETE")), methods=methods),
            Route("/api/silences/{silence_id}", endpoint(self.silence, ("GET", "DELETE")), methods=methods),
            Route("/api/alerts/{alert_id}/ack", endpoint(self.ack, ("POST",)), methods=methods),
        ]

    async def silences(self, request: Request) -> Response:
        if request.method == "DELETE":
            silence_id = Query(request.query_params, ("id",)).raw("id")
            if silence_id is None:
                raise bad_parameter("id", None, "the id of the silence to expire (or DELETE /api/silences/{id})")
            return await self._expire(request, silence_id)
        if request.method == "POST":
            Query(request.query_params, ())
            return await self._create(request)
        wanted = Query(request.query_params, ("status",)).choice("status", None, STATUSES)
        collector = await self.collector()
        silences = [s for s in collector.silences.list(time.time()) if wanted is None or s["status"] == wanted]
        return JSONResponse({"silences": silences, "count": len(silences)})

    async def silence(self, request: Request) -> Response:
        Query(request.query_params, ())
        silence_id = request.path_params["silence_id"]
        if request.method == "DELETE":
            return await self._expire(request, silence_id)
        found = (await self.collector()).silences.get(silence_id, time.time())
        if found is None:
            raise bad_parameter("id", silence_id, "the id of a silence (GET /api/silences lists them)", status=404)
        return JSONResponse(found)

    async def _create(self, request: Request) -> Response:
        body = _body(await json_body(request), SILENCE_KEYS)
        if ("duration" in body) == ("ends_at" in body):
            raise bad_parameter(
                "duration", body.get("duration"), 'either "duration" (like "2h") or "ends_at" (epoch seconds), not both'
            )
        collector = await self.collector()
        now = time.time()
        who = actor(request, body.get("created_by"))
        try:
            ends_at = body.get("ends_at")
            if "duration" in body:
                start = body.get("starts_at")
                base = start if isinstance(start, (int, float)) and not isinstance(start, bool) else now
                ends_at = base + check_duration(body["duration"])
            silence = collector.silences.create(
                body.get("matchers"),
                ends_at,
                starts_at=body.get("starts_at"),
                comment=body.get("comment"),
                created_by=who,
                now=now,
            )
        except ConfigError as error:
            raise bad_parameter(error.variable, error.value, error.expected) from None
        return JSONResponse(silence, status_code=201)

    async def _expire(self, request: Request, silence_id: str) -> Response:
        collector = await self.collector()
        who = actor(request, None)
        expired = collector.silences.expire(silence_id, by=who, now=time.time())
        if expired is None:
            raise bad_parameter("id", silence_id, "the id of a silence (GET /api/silences lists them)", status=404)
        return JSONResponse(expired)

    async def ack(self, request: Request) -> Response:
        Query(request.query_params, ())
        raw = request.path_params["alert_id"]
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise bad_parameter("id", raw, "the id of an active alert (a whole number; GET /api/alerts?active=true)")
        body = await json_body(request) if request.headers.get("content-type") else None
        body = _body(body, ("by",))
        who = actor(request, body.get("by"), "by")
        collector = await self.collector()
        done = collector.acknowledge(int(raw), who)
        if not done:
            raise bad_parameter("id", int(raw), "the id of an active alert (GET /api/alerts?active=true)", status=404)
        alert = next((a for a in collector.get_active_alerts() if a["id"] == int(raw)), None)
        already = done is Ack.ALREADY  # idempotent: 200, nothing changed, nothing logged
        return JSONResponse(
            {"acknowledged": True, "already_acknowledged": already, "message": done.value, "alert": alert}
        )
