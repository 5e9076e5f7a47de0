"""The one HTTP client for every outside read.

Every request has a **total deadline** (connect, headers and body together: a peer that drips
one byte a second is cut when the deadline passes, not when it stops), a **size cap** on the
body, **no redirects** (a 3xx is an error naming where it pointed), and error messages whose
URLs are redacted (:mod:`prsm_monitor.redact`). Built on :mod:`http.client`; the deadline is
kept by one shared watchdog thread that shuts a late request's socket, which wakes its
blocked read.
"""

from __future__ import annotations

import base64
import heapq
import http.client
import itertools
import json
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass

from .. import redact

USER_AGENT = "prsm-monitor"
MAX_BYTES = 4 * 1024 * 1024

UNREACHABLE = "unreachable"  # no connection, or refused, reset, unresolvable
TIMEOUT = "timeout"  # the total deadline passed
TOO_LARGE = "too_large"  # the body is over the cap
REDIRECT = "redirect"  # a 3xx answer: not followed
STATUS = "status"  # an answer with another status than asked for
BAD_BODY = "bad_body"  # not the JSON expected


class OutsideError(Exception):
    """A read from outside failed. ``kind`` is one of the constants above, ``status`` the HTTP
    status when there was one, and ``str()`` one line with every URL in it redacted."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(redact.text(message))
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        """The body as JSON; :class:`OutsideError` (``bad_body``) when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise OutsideError(BAD_BODY, "the answer is not JSON", self.status) from None


class _Watched:
    """What the watchdog shuts for one request: its connection's socket, and the socket taken
    when the request was sent (http.client hands that to the response and drops it from the
    connection when the answer closes the connection: HTTP/1.0, ``Connection: close``)."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float):
        self.connection = connection
        self.deadline = deadline  # time.monotonic()
        self.sock: socket.socket | None = None


class _Watchdog:
    """One daemon thread that shuts the sockets of requests whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watched]] = []
        self._done: set[int] = set()
        self._ids = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, watched: _Watched) -> int:
        with self._wake:
            ticket = next(self._ids)
            heapq.heappush(self._heap, (deadline, ticket, watched))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="prsm-http-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()
            return ticket

    def release(self, ticket: int) -> None:
        with self._wake:
            self._done.add(ticket)

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._heap and self._heap[0][1] in self._done:
                    self._done.discard(heapq.heappop(self._heap)[1])
                if not self._heap:
                    self._wake.wait()
                    continue
                deadline, ticket, watched = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                _shut(watched)


def _shut(watched: _Watched) -> None:
    for sock in {id(s): s for s in (watched.sock, watched.connection.sock) if s is not None}.values():
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_WATCHDOG = _Watchdog()


class Client:
    """Requests to one origin (``base_url``, its path a prefix) over one keep-alive connection.

    Calls are serialised by a lock: a caller that must not wait for another gets its own client.
    ``deadline`` (seconds) bounds each request as a whole; ``max_bytes`` its body.
    Userinfo in ``base_url`` (``http://user:pw@host``) becomes HTTP Basic authentication."""

    def __init__(
        self, base_url: str, *, deadline: float = 2.0, max_bytes: int = MAX_BYTES, headers: dict[str, str] | None = None
    ):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{redact.url(base_url)}: expected an http:// or https:// URL with a host")
        self.url = base_url
        self.shown = redact.url(base_url)  # the URL as it may be shown
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json, */*", **(headers or {})}
        if parts.username is not None:
            pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._headers.setdefault("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            if self._https:
                self._connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        else:
            self._connection.timeout = timeout
            if self._connection.sock is not None:
                self._connection.sock.settimeout(timeout)
        return self._connection

    def get(self, path: str, params: dict | None = None, *, deadline: float | None = None) -> Answer:
        return self.request("GET", path, params=params, deadline=deadline)

    def get_json(self, path: str, params: dict | None = None, *, deadline: float | None = None):
        """The JSON of a 200 answer to GET ``path``; :class:`OutsideError` for anything else."""
        answer = self.get(path, params, deadline=deadline)
        if answer.status != 200:
            raise OutsideError(STATUS, f"{self.shown}{path} answered HTTP {answer.status}", answer.status)
        return answer.json()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        deadline: float | None = None,
    ) -> Answer:
        """One request. Any status is returned (a 3xx raises ``redirect``); a connection
        dropped between keep-alive requests is retried once on a new one, within the deadline."""
        target = self._prefix + path + ("?" + urllib.parse.urlencode(params) if params else "")
        budget = self.deadline if deadline is None else deadline
        end = time.monotonic() + budget
        with self._lock:
            for attempt in (1, 2):
                left = end - time.monotonic()
                if left <= 0:
                    raise self._late(path, budget)
                connection = self._connect(left)
                watched = _Watched(connection, end)
                ticket = _WATCHDOG.watch(end, watched)
                try:
                    answer = self._exchange(connection, watched, method, target, body, headers)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                    self._drop()
                    if time.monotonic() >= end:
                        raise self._late(path, budget) from None
                    if attempt == 2:
                        raise self._unreachable(path, error) from None
                    continue
                except OutsideError:
                    self._drop()
                    raise
                except (OSError, http.client.HTTPException) as error:
                    self._drop()
                    if time.monotonic() >= end or isinstance(error, (socket.timeout, TimeoutError)):
                        raise self._late(path, budget) from None
                    raise self._unreachable(path, error) from None
                finally:
                    _WATCHDOG.release(ticket)
                if time.monotonic() >= end:  # the watchdog shut the socket: what was read is cut short
                    self._drop()
                    raise self._late(path, budget)
                if 300 <= answer.status < 400:
                    where = answer.headers.get("location", "?")
                    raise OutsideError(
                        REDIRECT,
                        f"{self.shown}{path} redirected (HTTP {answer.status}) to {where}: not followed",
                        answer.status,
                    )
                return answer
        raise AssertionError("unreachable")  # the loop returns or raises

    def _exchange(self, connection, watched: _Watched, method, target, body, headers) -> Answer:
        connection.request(method, target, body=body, headers={**self._headers, **(headers or {})})
        watched.sock = connection.sock  # kept: a closing answer takes it from the connection
        if time.monotonic() >= watched.deadline:  # the watchdog came before the socket was kept
            _shut(watched)
        response = connection.getresponse()
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise OutsideError(TOO_LARGE, f"{self.shown}{target}: answer of {declared} bytes, over {self.max_bytes}")
        data = response.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise OutsideError(TOO_LARGE, f"{self.shown}{target}: answer over {self.max_bytes} bytes")
        if declared and declared.isdigit() and len(data) < int(declared):
            raise http.client.IncompleteRead(data, int(declared) - len(data))
        if response.will_close or not response.isclosed():
            self._drop()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def _late(self, path: str, budget: float) -> OutsideError:
        return OutsideError(TIMEOUT, f"{self.shown}{path}: no whole answer within {budget:g} s")

    def _unreachable(self, path: str, error: Exception) -> OutsideError:
        if isinstance(error, ssl.SSLError):
            why = f"TLS failed: {error.reason or error}"
        elif isinstance(error, socket.gaierror):
            why = f"cannot resolve {self._host}"
        else:
            why = str(error) or type(error).__name__
        return OutsideError(UNREACHABLE, f"{self.shown}{path}: no answer ({why})")


def fetch(
    url: str,
    *,
    deadline: float = 2.0,
    max_bytes: int = MAX_BYTES,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request to ``url`` on a connection of its own (closed afterwards)."""
    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    client = Client(base, deadline=deadline, max_bytes=max_bytes, headers=headers)
    try:
        return client.request(method, path, body=body)
    finally:
        client.close()
