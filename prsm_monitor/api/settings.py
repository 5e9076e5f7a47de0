"""The settings as the API shows them, and the body of ``POST /api/settings``: read with a
size and nesting bound, parsed strictly (no NaN or Infinity), and mapped to the keyword
arguments of :meth:`MetricsCollector.configure`, which validates the values."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.requests import Request

from ..core.collector import MetricsCollector
from .http import ApiError, bad_parameter, echo

MAX_BODY = 64 * 1024
MAX_DEPTH = 8  # lists and objects in a settings body nest at most this deep


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
                # how the rule judges the field (read-only here: the rules file sets them)
                "for_seconds": rule.for_seconds,
                "smooth_seconds": rule.smooth_seconds,
                "clear_margin": rule.clear_margin,
            }
            for name, rule in collector.rules.items()
        },
    }


async def json_body(request: Request):
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
        value = json.loads(body, parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "bad_body", f"the body is not valid JSON: {echo(str(error))}") from None
    except RecursionError:
        value = None
        depth = MAX_DEPTH + 1
    else:
        depth = _depth(value)
    if depth > MAX_DEPTH:
        raise ApiError(400, "bad_body", f"the body nests deeper than {MAX_DEPTH} levels")
    return value


def _depth(value) -> int:
    """How deeply lists and objects nest in ``value`` (counted without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


SETTINGS = ("collection_interval", "max_history", "thresholds")


def settings_changes(body) -> dict:
    """The settings a body changes, by name; ``configure`` validates the values."""
    if not isinstance(body, Mapping):
        raise bad_parameter("body", echo(json.dumps(body)), f"a JSON object with any of {', '.join(SETTINGS)}")
    for key in body:
        if key not in SETTINGS:
            raise bad_parameter(echo(key), body[key], f"a setting, one of {', '.join(SETTINGS)}")
    return {key: value for key, value in body.items() if value is not None}
