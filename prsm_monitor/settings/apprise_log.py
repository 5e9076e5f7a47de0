"""Apprise's own log lines without the secrets of the URLs it was given.

Apprise logs the URLs it loads (``Loaded JSON URL: json://bob:****@host/hook?+Authorization=
Bearer <token>``), the endpoints it posts to (``https://hooks.slack.com/services/<A>/<B>/<C>``)
and its socket errors (``with url: /services/<A>/<B>/<C>``), some at DEBUG, some at WARNING;
urllib3, which it posts through, logs each request's path at DEBUG.
:data:`FILTER`, attached to the ``apprise`` logger when this module is imported, rewrites each
such record: every URL redacted (:mod:`prsm_monitor.redact`) and every secret of a URL
registered with :func:`remember` (its user name and password, its opaque path segments, the
values of its secret or header parameters) masked wherever it appears.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse

from .. import redact

MIN_SECRET = 4  # shorter parts are not masked one by one (they would mask ordinary words)
AUTH_SCHEMES = {"bearer", "basic", "token", "digest"}  # the words before a credential in a header
MIN_TOKEN = 12  # a path segment or word this long in a token-bearing place counts as a secret, digits or not


def secrets_of(url: str) -> set[str]:
    """The parts of ``url`` that may be secrets (see the module doc)."""
    try:
        parts = urllib.parse.urlsplit(url)
        found = {parts.username or "", parts.password or ""}
    except ValueError:
        return {url}
    http = parts.scheme.lower() in redact.HTTP_SCHEMES
    host = parts.netloc.rpartition("@")[2].partition(":")[0]  # as written: hostname is lower-cased
    if not http and "." not in host:  # slack://TokenA/...: the "host" is a token
        found.add(host)
    for segment in parts.path.split("/"):
        segment = urllib.parse.unquote(segment)
        if redact.OPAQUE.match(segment) or (not http and len(segment) >= MIN_TOKEN):
            found.add(segment)
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if redact.SECRET_NAMES.search(key) or key.startswith(("+", "-")):
            found.add(value)  # "Bearer <token>": the whole value, and the token alone
            found.update(w for w in value.split() if w.lower() not in AUTH_SCHEMES)
    return {s for s in found if len(s) >= MIN_SECRET}


class RedactingFilter(logging.Filter):
    """Rewrites records whose message holds a URL or a remembered secret."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def remember(self, url: str) -> None:
        with self._lock:
            self._secrets = tuple(sorted(set(self._secrets) | secrets_of(url), key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact.text(message, self._secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


FILTER = RedactingFilter()
# Apprise's own logger, and the one of urllib3 (which Apprise posts through): at DEBUG it logs
# each request line, path included ("POST /services/<A>/<B>/<C> HTTP/1.1"). A logger's filter
# sees only the records of that very logger, so each is named.
for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(FILTER)


def remember(url: str) -> None:
    """Mask the secrets of ``url`` in Apprise's log lines from now on."""
    FILTER.remember(url)
