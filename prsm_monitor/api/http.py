"""HTTP plumbing shared by the API's routes: JSON bodies, JSON errors, query parameters.

Every error the API answers is JSON of one shape::

    {"error": "bad_parameter", "status": 400, "message": "minutes='-1' is invalid: expected ...",
     "parameter": "minutes", "value": "-1", "expected": "..."}

``parameter``, ``value`` and ``expected`` are present when one input was wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

from starlette.responses import Response

from ..settings.values import parse_boolean

MAX_ECHO = 200  # characters of a bad value repeated in an error body
SERVED_ROOTS = ("/api", "/health", "/metrics")  # the API answers these paths and everything under them
# The methods the API's routes answer (each route a JSON 405 for those it does not take); any
# other (TRACE, CONNECT, a lower-case "get": methods are case-sensitive) is a JSON 405 before routing.
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def is_served_path(path: str) -> bool:
    """Is ``path`` the API's (answered with JSON, errors included) rather than the dashboard's?

    A root, anything under it, and a root followed by a character no page name has
    (``/metrics%00``, ``/api.json``): a letter, digit, ``-`` or ``_`` after it is a page's."""
    for root in SERVED_ROOTS:
        if path.startswith(root):
            rest = path[len(root) :]
            if not rest or not (rest[0].isalnum() or rest[0] in "-_"):
                return True
    return False


def is_health_path(path: str) -> bool:
    return path == "/health" or path.startswith("/health/")


def _default(value):
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _finite(value):
    """``value`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(data) -> bytes:
    """Compact JSON; NaN and infinities become null."""
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_default)
    except ValueError:
        text = json.dumps(_finite(data), separators=(",", ":"), allow_nan=False, default=_default)
    return text.encode()


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content) -> bytes:
        return dumps(content)


class ApiError(Exception):
    """An error answered as JSON with ``status``; ``extra`` keys are added to the body."""

    def __init__(self, status: int, error: str, message: str, headers: Mapping[str, str] | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"error": error, "status": status, "message": message, **extra}
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def echo(value: object) -> object:
    """A user's value as it may be repeated in an error body: a string, number, bool or None
    as it is unless long; anything else as a shortened text."""
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, int) and abs(value) < 10**18:
        return value
    if not isinstance(value, str):
        value = _short_repr(value)
    return value[:MAX_ECHO] + "…" if len(value) > MAX_ECHO else value


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int beyond the digit limit, a structure too deep
        text = f"<{type(value).__name__}>"
    return text


def bad_parameter(name: str, value: object, expected: str, status: int = 400) -> ApiError:
    """The error of one bad input. A name the user chose (a JSON key) that is empty or not
    printable shows as its repr, so the message stays one line."""
    value = echo(value)
    shown = name if name and name.isprintable() else repr(name)
    return ApiError(
        status,
        "bad_parameter" if status == 400 else "not_found",
        f"{shown}={value!r} is {'invalid' if status == 400 else 'unknown'}: expected {expected}",
        parameter=name,
        value=value,
        expected=expected,
    )


class Query:
    """Typed, validated access to a request's query parameters.

    Unknown parameters are an error (a typo must not be silently ignored); names that
    start with ``_`` (cache busters) are allowed.
    """

    def __init__(self, params: Mapping[str, str], allowed: Iterable[str]):
        self.params = params
        allowed = tuple(allowed)
        for name in params:
            if name not in allowed and not name.startswith("_"):
                expected = f"one of {', '.join(allowed)}" if allowed else "no query parameters"
                raise ApiError(
                    400,
                    "bad_parameter",
                    f"unknown query parameter {echo(name)!r}: expected {expected}",
                    parameter=echo(name),
                    value=echo(params[name]),
                    expected=expected,
                )

    def raw(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None or value.strip() == "" else value

    def number(
        self,
        name: str,
        default: float | None,
        *,
        low: float,
        high: float,
        low_open: bool = False,
        integer: bool = False,
        what: str = "",
    ) -> float | None:
        raw = self.raw(name)
        if raw is None:
            return default
        kind = ("a whole number" if integer else "a number") + (f" of {what}" if what else "")
        expected = f"{kind} {'greater than' if low_open else 'from'} {low:g}" + (
            f" and at most {high:g}" if low_open else f" to {high:g}"
        )
        try:
            value = float(raw)
        except ValueError:
            raise bad_parameter(name, raw, expected) from None
        if (
            not math.isfinite(value)
            or value < low
            or (low_open and value == low)
            or value > high
            or (integer and not value.is_integer())
        ):
            raise bad_parameter(name, raw, expected)
        return int(value) if integer else value

    def choice(self, name: str, default: str | None, choices: Iterable[str]) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return default
        choices = tuple(choices)
        if raw.strip().lower() not in choices:
            raise bad_parameter(name, raw, f"one of {', '.join(choices)}")
        return raw.strip().lower()

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        value = parse_boolean(raw)
        if value is None:
            raise bad_parameter(name, raw, "true or false")
        return value
