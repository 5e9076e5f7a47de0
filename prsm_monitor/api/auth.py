"""Access control for the API: a bearer token compared in constant time, and CORS.

Both are plain ASGI middleware that only look at the API's paths (``/api``, ``/api/...``,
``/metrics`` and, when asked, ``/health``); the dashboard's own paths pass untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .http import ApiError

log = logging.getLogger(__name__)

REALM = 'Bearer realm="prsm-monitor"'


def is_api_path(path: str) -> bool:
    return path == "/metrics" or path == "/api" or path.startswith("/api/")


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
        return is_api_path(path) or (self.health and path == "/health")

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
    before the token check (browsers send them without credentials)."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]):
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "Accept"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (is_api_path(scope["path"]) or scope["path"] == "/health"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
