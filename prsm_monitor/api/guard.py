"""What the API checks before any route runs: a sane path, a known ``Host``, and who may write.

- **Paths.** NUL and other control characters, backslashes, empty segments (an encoded
  ``/``) and ``.`` or ``..`` segments under ``/api``, ``/health`` and ``/metrics`` get a JSON
  400 here, before Streamlit's own path filter would answer a bare text one.
- **Host** (against DNS rebinding, where a web page's own name is made to point at this
  machine): a name must be ``localhost``, the configured address (``PRSM_DASHBOARD_HOST`` or
  Streamlit's ``server.address``) or match ``PRSM_ALLOWED_HOSTS``; IP addresses pass (a
  rebinding attack needs a name). Others get a JSON 400. The dashboard's own websocket
  (``/_stcore/stream``) follows the same names through Streamlit's ``server.allowedHosts``
  (:func:`apply_to_streamlit`); Streamlit matches names exactly, so there the IP addresses are
  this machine's own, and another one (a NAT or port mapping) goes into ``PRSM_ALLOWED_HOSTS``.
- **Methods**: one the API does not know (``TRACE``, ``CONNECT``, a lower-case ``get``:
  methods are case-sensitive) gets a JSON 405, like a known method a route does not take.
- **Writes** (any method but GET, HEAD and OPTIONS): without an API token, only from a
  loopback client that no proxy forwarded; with one, the token is checked by
  :class:`~.auth.TokenAuth` first. When operators are configured (``PRSM_OPERATORS`` or
  ``PRSM_OPERATOR_PASSWORD``: a shared deployment where the pages keep changes for
  operators), every write needs the token, from this machine too. A write from a web page on another origin is refused
  unless ``PRSM_CORS_ORIGINS`` names that origin (with ``*`` in it, no cross-origin write at all).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import psutil
from starlette.types import ASGIApp, Receive, Scope, Send

from .auth import TokenSource
from .http import ALL_METHODS, ApiError, echo, is_served_path

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORWARDING_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


def path_problem(path: str) -> str | None:
    """Why ``path`` (decoded) is refused, or None."""
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return "the path contains a control character"
    if "\\" in path:
        return "the path contains a backslash"
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        return "the path contains a '.' or '..' segment"
    if any(s == "" for s in segments[:-1]):
        return "the path contains an empty segment (an encoded or doubled '/')"
    return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def host_name(host: str) -> str:
    """The name part of a ``Host`` value, lower-case, without port, brackets or a final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    if name and port.isdigit():
        host = name
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _streamlit_address() -> str | None:
    try:
        from streamlit import config

        return config.get_option("server.address")
    except Exception:  # noqa: BLE001 - no Streamlit: only the settings count
        return None


class HostPolicy:
    """Which ``Host`` names the API answers to (see the module's docstring)."""

    def __init__(self, configured: Iterable[str | None], allowed: Iterable[str] = ()):
        names = {host_name(n) for n in configured if n and n.strip()}
        self.names = {n for n in names if n and not _is_ip(n) and n not in ("0.0.0.0", "::")}
        self.allowed = tuple(a.lower().rstrip(".") for a in allowed)

    @classmethod
    def from_settings(cls, settings) -> HostPolicy:
        return cls((settings.host, _streamlit_address()), settings.allowed_hosts)

    def allows(self, host: str) -> bool:
        name = host_name(host)
        if not name or _is_ip(name) or name == "localhost" or name.endswith(".localhost") or name in self.names:
            return True
        for pattern in self.allowed:
            if pattern == "*" or name == pattern.lstrip(".") or (pattern.startswith(".") and name.endswith(pattern)):
                return True
        return False

    def streamlit_hosts(self, addresses: Iterable[str]) -> list[str]:
        """These rules as Streamlit's ``server.allowedHosts`` (exact names and ``*.`` suffixes),
        with ``addresses`` (this machine's) standing in for "any IP address"."""
        hosts = {"localhost", "*.localhost", *self.names, *addresses}
        for pattern in self.allowed:
            if pattern == "*":
                return ["*"]
            hosts.update((pattern[1:], "*" + pattern) if pattern.startswith(".") else (pattern,))
        return sorted(h for h in hosts if h)


def machine_addresses() -> list[str]:
    """The IP addresses of this machine's interfaces, loopback included."""
    found = {"127.0.0.1", "::1"}
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                found.add(address.address.split("%")[0])  # an IPv6 scope (fe80::1%eth0) is not in a Host
    return sorted(found)


def apply_to_streamlit(policy: HostPolicy) -> list[str] | None:
    """Set Streamlit's ``server.allowedHosts`` (read on each websocket connection) to ``policy``'s
    names, added to any that ``.streamlit/config.toml`` lists; ``*`` there is kept as it is.
    Returns the list set (None without Streamlit)."""
    try:
        from streamlit import config
    except ImportError:  # the API on its own (build_app): no dashboard socket to guard
        return None
    configured = list(config.get_option("server.allowedHosts") or [])
    if "*" in configured:
        return configured
    hosts = policy.streamlit_hosts(machine_addresses())
    hosts = ["*"] if "*" in hosts else sorted(set(configured) | set(hosts))
    config.set_option("server.allowedHosts", hosts, "prsm_monitor.api.guard (PRSM_ALLOWED_HOSTS)")
    log.info("the dashboard's websocket answers the Host names %s", ", ".join(hosts))
    return hosts


class ApiGuard:
    """A JSON 400 for unsafe paths and, with a :class:`HostPolicy`, for unknown ``Host`` names."""

    def __init__(self, app: ASGIApp, hosts: HostPolicy | None = None):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_served_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ALL_METHODS:
            error = ApiError(
                405,
                "method_not_allowed",
                f"{echo(scope['method'])!r} is not a method this API answers (methods are case-sensitive): "
                f"use {', '.join(ALL_METHODS)}",
                headers={"Allow": ", ".join(ALL_METHODS)},
            )
            await error.response()(scope, receive, send)
            return
        problem = path_problem(scope["path"])
        if problem:
            await ApiError(400, "bad_path", f"{problem}: {echo(scope['path'])!r}").response()(scope, receive, send)
            return
        host = (_header(scope, b"host") or b"").decode("latin-1")
        if self.hosts is not None and not self.hosts.allows(host):
            error = ApiError(
                400,
                "bad_host",
                f"Host {echo(host)!r} is not a name this monitor answers to: add it to PRSM_ALLOWED_HOSTS",
                parameter="Host",
                value=echo(host),
                expected="localhost, an IP address, the configured address, or a name in PRSM_ALLOWED_HOSTS",
            )
            await error.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def is_loopback(client) -> bool:
    """Is an ASGI ``client`` (host, port) on this machine? None (a Unix socket) counts as local."""
    if client is None:
        return True
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _origin_key(url: str) -> tuple[str, int] | None:
    """(host, port) of an origin or of ``scheme://`` + a Host value; None when it has neither."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname and port else None


class WriteGuard:
    """Refuses writes (403 JSON) that the configuration does not allow; see the module's docstring.

    Runs after :class:`~.auth.TokenAuth`, so with a token configured a write has already shown it."""

    def __init__(self, app: ASGIApp, tokens: TokenSource, origins: Iterable[str] = (), operators: bool = False):
        self.app = app
        self.tokens = tokens
        self.operators = operators  # operators configured: writes need the token, from anywhere
        origins = frozenset(origins)
        self.origins = frozenset() if "*" in origins else origins  # "*": no cross-origin write at all

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or not is_served_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        problem = self.problem(scope)
        if problem:
            await ApiError(403, "forbidden", problem).response()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def problem(self, scope: Scope) -> str | None:
        origin = _header(scope, b"origin")
        if origin is not None:
            text = origin.decode("latin-1")
            host = (_header(scope, b"host") or b"").decode("latin-1")
            scheme = scope.get("scheme", "http")
            same = _origin_key(text) is not None and _origin_key(text) == _origin_key(f"{scheme}://{host}")
            if not same and text not in self.origins:
                return (
                    f"a write from a web page on {echo(text)!r} is refused: only the dashboard's own origin and "
                    "origins listed by name in PRSM_CORS_ORIGINS may write"
                )
        if self.tokens.get() is not None:
            return None  # TokenAuth has checked it
        if self.operators:
            return (
                "operators are configured (PRSM_OPERATORS or PRSM_OPERATOR_PASSWORD), so writes need "
                "PRSM_API_TOKEN (Authorization: Bearer <token>), from this machine too"
            )
        forwarded = any(_header(scope, name) is not None for name in FORWARDING_HEADERS)
        if not is_loopback(scope.get("client")) or forwarded:
            return (
                "writes need PRSM_API_TOKEN (Authorization: Bearer <token>); without a token only this "
                "machine may write (a loopback client, not forwarded by a proxy)"
            )
        return None
