"""Anonymized exports: host names, IP addresses and node/model names become stable salted hashes.

A name always becomes the same token (``node-3f9a1c20b4``, ``model-...``, ``host-...``,
``ip-...``) for the same salt, so an anonymized export still shows which rows belong
together, but not what they are called. The salt is random, kept in the data directory
(``salt``, created on first use) so that tokens stay the same across restarts; in
memory-only mode it lives as long as the process.

:func:`anonymizer_for` gathers the names a collector knows (its nodes, their addresses, its
models, this machine's host names); :meth:`Anonymizer.frame` applies it to a DataFrame
(column names and text cells; numbers are left alone), :meth:`Anonymizer.value` to JSON-like
data. ``PRSM_ANONYMIZE=true`` applies it to every output of the API (``/api/metrics``,
``/api/historical``, ``/api/alerts``, ``/metrics``, the event stream and Socket.IO's events;
``?anonymize=true`` asks for it per request, see :func:`shown`); the dashboard's CSV/JSON
downloads call :func:`anonymize_frame`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import socket
import threading
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .store.tiered import saved_in

if TYPE_CHECKING:
    import pandas as pd

_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)")  # a port may follow: 10.0.0.1:8080
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")  # in [..] too
_process_salt = secrets.token_bytes(32)
MEMO_SIZE = 50_000  # short texts remembered per anonymizer
_salt_lock = threading.Lock()


class Anonymizer:
    """Replaces ``names`` (``{name: kind}``, kind such as ``node``, ``model``, ``host``) and IP
    addresses in text with ``<kind>-<10 hex digits of HMAC-SHA256(salt, kind:name)>``."""

    def __init__(self, salt: bytes, names: Mapping[str, str] | None = None):
        self.salt = salt
        self.names = {n: k for n, k in (names or {}).items() if n}
        ordered = sorted(self.names, key=len, reverse=True)  # node-10 before node-1
        self._names = re.compile("|".join(rf"(?<![\w-]){re.escape(n)}(?![\w-])" for n in ordered)) if ordered else None
        self._memo: dict[str, str] = {}  # text -> anonymized: keys and labels repeat in every snapshot

    def token(self, value: str, kind: str) -> str:
        digest = hmac.new(self.salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:10]}"

    def text(self, text: str) -> str:
        """``text`` with every known name and every IP address (v4 or v6) replaced."""
        if len(text) > 200:
            return self._text(text)
        done = self._memo.get(text)
        if done is None:
            if len(self._memo) > MEMO_SIZE:
                self._memo.clear()
            done = self._memo[text] = self._text(text)
        return done

    def _text(self, text: str) -> str:
        if self._names is not None:
            text = self._names.sub(lambda m: self.token(m.group(0), self.names[m.group(0)]), text)
        return _IPV6.sub(self._address, _IPV4.sub(self._address, text))

    def _address(self, match: re.Match) -> str:
        try:
            address = ipaddress.ip_address(match.group(0))
        except ValueError:
            return match.group(0)  # a time like 12:30:45 or a version like 1.2.3.400, not an address
        return self.token(address.compressed, "ip")

    def value(self, value):
        """JSON-like data with every string (and mapping key) anonymized."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy with column names and text cells anonymized; numeric columns unchanged."""
        import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

        out = frame.rename(columns=lambda c: self.text(c) if isinstance(c, str) else c)
        for column in out.columns:
            if not pd.api.types.is_numeric_dtype(out[column]):
                out[column] = [self.value(v) for v in out[column]]
        out.attrs = dict(frame.attrs)
        return out


def salt_for(data_dir: str | os.PathLike | None) -> bytes:
    """The salt kept in ``data_dir`` (made on first use), or this process's own."""
    if data_dir is None:
        return _process_salt
    path = Path(data_dir) / "salt"
    with _salt_lock:
        try:
            data = path.read_bytes()
            if len(data) >= 16:
                return data
        except FileNotFoundError:
            pass
        except OSError:
            return _process_salt
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(_process_salt)
        except OSError:
            pass
    return _process_salt


def known_names(collector) -> dict[str, str]:
    """``{name: kind}`` of what the collector has seen: nodes, models, this machine."""
    names: dict[str, str] = {}
    for host in _hosts():
        names[host] = "host"
    latest = {c: collector.latest(c) for c in ("network", "ai")}  # by reference, read only
    for row in (latest.get("network") or {}).get("nodes") or ():
        names[str(row.get("name", ""))] = "node"
    ai = latest.get("ai") or {}
    for model in ai.get("models_by_name") or {}:
        names[str(model)] = "model"
    for row in ai.get("models") or ():
        names[str(row.get("node", ""))] = "node"
        names[str(row.get("model", ""))] = "model"
    for component in collector.fields:  # drill-down series: node:<name>, model:<name>
        kind, _, name = component.partition(":")
        if name and kind in ("node", "model"):
            names[name] = kind
    names.pop("", None)
    return names


def _hosts() -> Iterable[str]:
    found = {socket.gethostname(), socket.getfqdn()}
    return [h for h in found if h and h not in ("localhost", "localhost.localdomain")]


_cached: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # collector -> (version, Anonymizer)
_cache_lock = threading.Lock()


def anonymizer_for(collector) -> Anonymizer:
    """An :class:`Anonymizer` for what ``collector`` knows, salted from its data directory;
    made once per collector version (a tick, an alert event or a settings change)."""
    version = getattr(collector, "version", None)
    with _cache_lock:
        cached = _cached.get(collector)
    if cached is not None and version is not None and cached[0] == version:
        return cached[1]
    salt, names = salt_for(saved_in(collector.store)), known_names(collector)
    if cached is not None and cached[1].salt == salt and cached[1].names == names:
        anonymizer = cached[1]  # the same names: keep its compiled pattern and what it remembers
    else:
        anonymizer = Anonymizer(salt, names)
    with _cache_lock:
        _cached[collector] = (version, anonymizer)
    return anonymizer


def is_on(collector, asked: bool = False) -> bool:
    """Whether an output for ``collector`` is anonymized: asked for (``?anonymize=true``) or
    ``PRSM_ANONYMIZE`` on."""
    return asked or bool(getattr(collector.settings, "anonymize", False))


def shown(collector, data, asked: bool = False):
    """``data`` (JSON-like) as an output shows it: anonymized when :func:`is_on`, else as it is."""
    return anonymizer_for(collector).value(data) if is_on(collector, asked) else data


def shown_text(collector, text: str, asked: bool = False) -> str:
    """``text`` (the Prometheus exposition, a CSV) as an output shows it; see :func:`shown`."""
    return anonymizer_for(collector).text(text) if is_on(collector, asked) else text


def anonymize_frame(frame: pd.DataFrame, collector) -> pd.DataFrame:
    """``frame`` (a history or alert export) anonymized for ``collector``'s names: the function
    the dashboard's CSV/JSON downloads call when anonymization is on."""
    return anonymizer_for(collector).frame(frame)
