"""HTTP reads from another prsm-monitor's API over the shared outside client
(:mod:`prsm_monitor.outside.http`: a total deadline per request, a size cap, no redirects,
redacted messages), with failures sorted into what a person can act on (unreachable, token
refused, not our API)."""

from __future__ import annotations

from .. import redact
from ..outside.http import Client, OutsideError

UNREACHABLE = "unreachable"  # no connection, or no whole answer within the deadline
UNAUTHORIZED = "unauthorized"  # HTTP 401: no token, or the wrong one
BAD_ANSWER = "bad_answer"  # an answer, but not the API's JSON (another status, a redirect, too large)

MAX_BYTES = 8 * 1024 * 1024  # an /api/metrics or a history answer: a few hundred KiB in practice
_KINDS = {"unreachable": UNREACHABLE, "timeout": UNREACHABLE}  # every other outside kind is a bad answer


class InstanceError(Exception):
    """A read from an instance failed; ``kind`` is one of the constants above and ``str()``
    says in one line what happened (never a stack trace, never the token nor a password)."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(redact.text(message))
        self.kind = kind
        self.status = status


class InstanceClient:
    """GETs JSON from ``url`` (an instance's base URL) over one keep-alive connection.

    ``timeout`` is each request's total deadline (connect, headers and body), in seconds.
    Calls are serialised: give each caller that must not wait for another (the poller, a
    page) its own client. ``url`` is the address as it may be shown (password hidden)."""

    def __init__(self, name: str, url: str, token: str | None = None, timeout: float = 2.0):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = Client(url, deadline=timeout, max_bytes=MAX_BYTES, headers=headers)
        self.name = name
        self.url = self._client.shown
        self._has_token = bool(token)
        self._secrets = (token,) if token else ()
        self.timeout = timeout

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, params: dict | None = None) -> dict:
        """The JSON object at ``path`` (with query ``params``); :class:`InstanceError` otherwise."""
        try:
            answer = self._client.get(path, params)
        except OutsideError as error:
            kind = _KINDS.get(error.kind, BAD_ANSWER)
            said = (
                f"Instance {self.name} is unreachable: {error}"
                if kind == UNREACHABLE
                else f"Instance {self.name}: {error}"
            )
            raise InstanceError(kind, self._said(said), error.status) from None
        status = answer.status
        if status == 401:
            if self._has_token:
                why = f"refused the token (HTTP 401): check [instances.{self.name}] token in .streamlit/secrets.toml"
            else:
                why = f"asks for a token (HTTP 401): set [instances.{self.name}] token in .streamlit/secrets.toml"
            raise InstanceError(UNAUTHORIZED, f"Instance {self.name} {why}", 401)
        try:
            value = answer.json()
        except OutsideError:
            value = None
        if status != 200:
            said = value.get("message") if isinstance(value, dict) else None
            detail = f": {str(said)[:200]}" if said else ""
            message = f"Instance {self.name} answered HTTP {status} at {path}{detail}"
            raise InstanceError(BAD_ANSWER, self._said(message), status)
        if not isinstance(value, dict):
            raise InstanceError(
                BAD_ANSWER, f"Instance {self.name} did not answer JSON at {path}: is {self.url} a prsm-monitor?", status
            )
        return value

    def _said(self, message: str) -> str:
        """``message`` without the token, should a server have echoed it."""
        return redact.text(message, self._secrets)


__all__ = ["BAD_ANSWER", "UNAUTHORIZED", "UNREACHABLE", "InstanceClient", "InstanceError"]
