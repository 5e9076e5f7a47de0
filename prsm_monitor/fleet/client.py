"""HTTP reads from another prsm-monitor's API: one persistent connection, a timeout, and
failures sorted into what a person can act on (unreachable, token refused, not our API)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import urllib.parse

UNREACHABLE = "unreachable"  # no connection, or no answer within the timeout
UNAUTHORIZED = "unauthorized"  # HTTP 401: no token, or the wrong one
BAD_ANSWER = "bad_answer"  # an answer, but not the API's JSON (another status, another program)


class InstanceError(Exception):
    """A read from an instance failed; ``kind`` is one of the constants above and ``str()``
    says in one line what happened (never a stack trace, never the token)."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


class InstanceClient:
    """GETs JSON from ``url`` (an instance's base URL) over one keep-alive connection.

    ``timeout`` bounds the connect and each read, in seconds. Calls are serialised by a lock:
    give each caller that must not wait for another (the poller, a page) its own client."""

    def __init__(self, name: str, url: str, token: str | None = None, timeout: float = 2.0):
        parts = urllib.parse.urlsplit(url)
        self.name = name
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": "prsm-monitor-fleet"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._has_token = bool(token)
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def get_json(self, path: str, params: dict | None = None) -> dict:
        """The JSON object at ``path`` (with query ``params``); :class:`InstanceError` otherwise."""
        target = self._base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with self._lock:
            status, body = self._request(target)
        if status == 401:
            if self._has_token:
                why = f"refused the token (HTTP 401): check [instances.{self.name}] token in .streamlit/secrets.toml"
            else:
                why = f"asks for a token (HTTP 401): set [instances.{self.name}] token in .streamlit/secrets.toml"
            raise InstanceError(UNAUTHORIZED, f"Instance {self.name} {why}", 401)
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            value = None
        if status != 200:
            said = value.get("message") if isinstance(value, dict) else None
            detail = f": {str(said)[:200]}" if said else ""
            raise InstanceError(BAD_ANSWER, f"Instance {self.name} answered HTTP {status} at {path}{detail}", status)
        if not isinstance(value, dict):
            raise InstanceError(
                BAD_ANSWER, f"Instance {self.name} did not answer JSON at {path}: is {self.url} a prsm-monitor?", status
            )
        return value

    def _request(self, target: str) -> tuple[int, bytes]:
        """One GET; a dropped keep-alive connection is retried once on a new one."""
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request("GET", target, headers=self._headers)
                response = connection.getresponse()
                body = response.read()
                if response.will_close:
                    self._drop()
                return response.status, body
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop()
                if attempt == 2:
                    raise self._unreachable(error) from None
            except (OSError, http.client.HTTPException) as error:
                self._drop()
                raise self._unreachable(error) from None
        raise AssertionError("unreachable")  # the loop returns or raises

    def _unreachable(self, error: Exception) -> InstanceError:
        if isinstance(error, (socket.timeout, TimeoutError)):
            why = f"no answer within {self.timeout:g} s"
        elif isinstance(error, ssl.SSLError):
            why = f"TLS failed: {error.reason or error}"
        elif isinstance(error, socket.gaierror):
            why = f"cannot resolve {self._host}"
        else:
            why = str(error) or type(error).__name__
        return InstanceError(UNREACHABLE, f"Instance {self.name} is unreachable: {why}")
