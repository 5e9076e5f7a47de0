"""Access control for the API: a bearer token compared in constant time, and CORS.

Both are plain ASGI middleware that only look at the API's paths (``/api``, ``/metrics``, and
everything under them and, when asked, ``/health``); the dashboard's own paths pass untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .http import ApiError, is_health_path, is_served_path

log = logging.getLogger(__name__)

REALM = 'Bearer realm="prsm-monitor"'
VERIFIED = "prsm_token_verified"  # key in the ASGI scope's state: TokenAuth checked the token


def token_verified(scope: Scope) -> bool:
    """Did :class:`TokenAuth` verify this request's bearer token (not merely see a header)?"""
    state = scope.get("state")
    return bool(state and state.get(VERIFIED))


class TokenSource:
    """The API token: ``PRSM_API_TOKEN`` when set, else ``api_token`` from ``st.secrets``.

    The secrets are read once, on the first request (when the Streamlit runtime has loaded
    them); change the secret and restart to apply. None means the API is open.
    """

    def __init__(self, token: str | None):
        self._token = token
        self._resolved = token is not None

    def get(self) -> str | None:
        if not self._resolved:
            self._token = _secrets_token()
            self._resolved = True
        return self._token


def _secrets_token() -> str | None:
    try:
        from streamlit.runtime.secrets import secrets_singleton

        if not secrets_singleton.load_if_toml_exists():
            return None
        value = secrets_singleton.get("api_token")
    except Exception:  # noqa: BLE001 - no secrets, or no Streamlit: the API is open
        return None
    if value is None or str(value).strip() == "":
        return None
    return str(value)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def authorized(header: bytes | None, token: str) -> bool:
    """Does an ``Authorization`` header value carry ``token``? Constant time in the token.

    Both sides are hashed first, so neither the content nor the length of the token
    shows in the time taken."""
    if not header:
        return False
    scheme, _, given = header.partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(_digest(given.strip()), _digest(token.encode()))


class TokenAuth:
    """Answer 401 JSON to API requests without ``Authorization: Bearer <token>``.

    ``/health`` is protected only with ``health=True``. The token is never logged nor
    repeated in a response."""

    def __init__(self, app: ASGIApp, tokens: TokenSource, health: bool = False):
        self.app = app
        self.tokens = tokens
        self.health = health

    def protects(self, path: str) -> bool:
        return is_served_path(path) and (self.health or not is_health_path(path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.protects(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = self.tokens.get()
        if token is None:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if authorized(header, token):
            scope.setdefault("state", {})[VERIFIED] = True  # the identity the audit log may name
            await self.app(scope, receive, send)
            return
        if header is None:
            message = "this endpoint needs the header 'Authorization: Bearer <token>' (the PRSM_API_TOKEN)"
            challenge = REALM
        else:
            message = "the bearer token is missing or wrong"
            challenge = f'{REALM}, error="invalid_token"'
        error = ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})
        await error.response()(scope, receive, send)


class ApiCORS:
    """CORS for the API (and ``/health``) for ``origins`` only; other paths are untouched,
    so the dashboard keeps Streamlit's own policy. Preflight requests are answered here,
    before the token check (browsers send them without credentials). With ``*`` among the
    origins, only reads are allowed (and :class:`~.guard.WriteGuard` refuses cross-origin writes)."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]):
        self.app = app
        origins = list(origins)
        reads = ["GET", "HEAD", "OPTIONS"]
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=reads if "*" in origins else [*reads, "POST"],  # "*": never a write
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "Accept"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_served_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers:
            response = self.cors.preflight_response(request_headers=headers)
            if response.status_code != 200:  # a refusal as JSON, like every other API error
                kept = {
                    k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")
                }
                reason = response.body.decode()
                message = f"{reason}: this origin, method or header may not call the API from a browser"
                response = ApiError(400, "cors_refused", message, headers=kept).response()
            await response(scope, receive, send)
            return
        await self.cors(scope, receive, send)
