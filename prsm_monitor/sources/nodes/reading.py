"""One poll of one PRSM node's management API: fetching and parsing its answers.

A PRSM node (the ``prsm-network`` package, ``prsm/node/api.py``) answers:

- ``GET /health``: ``{"status": "ok", "node_id": ...}``;
- ``GET /status``: ``node_id``, ``display_name``, ``roles``, ``uptime_seconds``, ``peers``
  (``connected`` and ``known`` counts) and per-subsystem stats (``compute``, ...);
- ``GET /peers``: ``connected`` (``peer_id``, ``address``, ``display_name``,
  ``connected_at``, ``last_seen``, ``outbound``), ``known``, ``connected_count``;
- ``GET /metrics``: Prometheus text (``p2p_connected_peers``, ``p2p_inbound_connections``,
  ``p2p_outbound_connections``, ``p2p_dht_query_latency_p50_ms`` / ``_p95_ms``,
  ``p2p_peer_evictions_total``, ...), parsed with :mod:`prometheus_client.parser`.

A node is *up* when ``/status`` answers 200 with a JSON object; ``/peers`` and ``/metrics``
only add detail, and a value a node does not give is None. Fields we do not know are ignored.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

MAX_BODY = 4 * 1024 * 1024  # bytes read from one answer, at most
USER_AGENT = "prsm-monitor"
METRICS = {  # p2p metric (sample name) -> NodeReading attribute
    "p2p_connected_peers": "connected_peers",
    "p2p_inbound_connections": "inbound",
    "p2p_outbound_connections": "outbound",
    "p2p_dht_query_latency_p50_ms": "dht_p50_ms",
    "p2p_dht_query_latency_p95_ms": "dht_p95_ms",
    "p2p_peer_evictions_total": "evictions",
}


class NodeError(Exception):
    """A route of a node did not give a usable answer; ``str()`` says which and why."""


@dataclass(frozen=True)
class Peer:
    """One connection a node reports under ``/peers`` ``connected``."""

    peer_id: str
    address: str | None
    display_name: str | None
    connected_at: float | None
    last_seen: float | None
    outbound: bool | None


@dataclass(frozen=True)
class NodeReading:
    """What one poll of one node gave. ``error`` is set (and the rest None) when it is down."""

    url: str
    taken: float  # when the poll finished, epoch s
    error: str | None = None
    node_id: str | None = None
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    uptime_s: float | None = None
    connected_count: int | None = None  # /status peers.connected, or /peers connected_count
    known_count: int | None = None
    peers: tuple[Peer, ...] | None = None  # None: /peers not answered
    connected_peers: float | None = None  # the p2p_* metrics; None: not in /metrics
    inbound: float | None = None
    outbound: float | None = None
    dht_p50_ms: float | None = None
    dht_p95_ms: float | None = None
    evictions: float | None = None
    problems: tuple[str, ...] = field(default=())  # optional routes that failed, in words

    @property
    def up(self) -> bool:
        return self.error is None


def fetch(url: str, timeout: float) -> bytes:
    """The body of a 200 answer to GET ``url``; NodeError for anything else."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only, checked in config
            body = response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as error:
        raise NodeError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise NodeError(f"no answer ({reason})") from None
    if len(body) > MAX_BODY:
        raise NodeError(f"answer larger than {MAX_BODY // (1024 * 1024)} MiB")
    return body


def _json_object(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NodeError("malformed JSON") from None
    if not isinstance(value, dict):
        raise NodeError(f"a JSON {type(value).__name__}, expected an object")
    return value


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 and number.is_integer() else None


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_status(data: dict) -> dict:
    """The fields of ``/status`` we use; anything missing or of the wrong type is None."""
    peers = data.get("peers") if isinstance(data.get("peers"), dict) else {}
    roles = data.get("roles") if isinstance(data.get("roles"), list) else []
    return {
        "node_id": _text(data.get("node_id")),
        "display_name": _text(data.get("display_name")),
        "roles": tuple(r for r in roles if isinstance(r, str)),
        "uptime_s": _number(data.get("uptime_seconds")),
        "connected_count": _count(peers.get("connected")),
        "known_count": _count(peers.get("known")),
    }


def parse_peers(data: dict) -> tuple[Peer, ...]:
    """The ``connected`` list of ``/peers``; entries without a ``peer_id`` are skipped."""
    rows = data.get("connected")
    if not isinstance(rows, list):
        raise NodeError('no "connected" list')
    peers = []
    for row in rows:
        if isinstance(row, dict) and _text(row.get("peer_id")):
            outbound = row.get("outbound")
            peers.append(
                Peer(
                    row["peer_id"],
                    _text(row.get("address")),
                    _text(row.get("display_name")),
                    _number(row.get("connected_at")),
                    _number(row.get("last_seen")),
                    outbound if isinstance(outbound, bool) else None,
                )
            )
    return tuple(peers)


def parse_metrics(text: str) -> dict[str, float]:
    """The p2p metrics of :data:`METRICS` found in a Prometheus text exposition (unlabelled
    samples; NaN and infinities are left out). NodeError when the text does not parse."""
    found: dict[str, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                attribute = METRICS.get(sample.name)
                if attribute and not sample.labels and math.isfinite(sample.value):
                    found[attribute] = float(sample.value)
    except ValueError as error:
        raise NodeError(f"metrics do not parse ({error})") from None
    return found


def read_node(url: str, timeout: float) -> NodeReading:
    """Poll one node: ``/status`` (required), then ``/peers`` and ``/metrics``."""
    base = url.rstrip("/")
    try:
        status = parse_status(_json_object(fetch(base + "/status", timeout)))
    except NodeError as error:
        return NodeReading(url, time.time(), error=f"/status: {error}")
    problems = []
    peers = None
    try:
        peers = parse_peers(_json_object(fetch(base + "/peers", timeout)))
    except NodeError as error:
        problems.append(f"/peers: {error}")
    metrics: dict[str, float] = {}
    try:
        metrics = parse_metrics(fetch(base + "/metrics", timeout).decode("utf-8", "replace"))
    except NodeError as error:
        problems.append(f"/metrics: {error}")
    if status["connected_count"] is None and peers is not None:
        status["connected_count"] = len(peers)
    return NodeReading(url, time.time(), peers=peers, problems=tuple(problems), **status, **metrics)
