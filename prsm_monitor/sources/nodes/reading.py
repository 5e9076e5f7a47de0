"""One poll of one PRSM node's management API: fetching its answers and checking them.

A 1.7.0 node (``prsm-network``, ``prsm/node/api.py``) answers ``GET /status`` with its id,
display name, roles, uptime, peers (connected, known, bootstrap status) and FTNS balance, and
the stats of each subsystem (``compute``, ``compute_requester``, ``storage``,
``content_index``, ``ledger_sync``, ``escrow``, ``consensus``, ``batch_settlement``, ...;
``null`` when not running); ``GET /peers`` the connected peers; ``GET /transactions`` the
wallet's history; ``GET /staking/status`` (HTTP 500 in 1.7.0); ``GET /metrics`` (404 in
1.7.0; the ``p2p_*`` metrics of later sources, parsed with :mod:`prometheus_client.parser`).

Every request goes through :class:`prsm_monitor.outside.Client`: a total deadline per
request, a size cap, no redirects. A poll as a whole has a budget too: requests left when it
is spent are not made. A node is *up* when ``/status`` answers 200 with a JSON object; the
other routes only add values. A value that is missing, not a finite number, or outside the
range a real node can report (:data:`.fields.VALUES`) is None, the refusal noted in
``problems``; a route the node does not serve (404), or a subsystem that is ``null``, is in
``unreported``. Texts from the node are capped at :data:`MAX_TEXT` characters.
"""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from ...outside import Client, OutsideError
from .fields import ROUTES, VALUES

MAX_TEXT = 64  # characters of a node's display name, id or role kept
MAX_BODY = 2 * 1024 * 1024  # bytes of one answer
MAX_PEERS = 1000  # peers of one node kept
METRICS = {  # p2p metric (sample name) -> NodeReading.metrics key
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
    outbound: bool | None


@dataclass(frozen=True)
class NodeReading:
    """What one poll of one node gave. ``error`` is set (and the rest empty) when it is down;
    ``taken`` is when the poll finished and ``took`` how long it ran (s)."""

    url: str
    taken: float
    took: float = 0.0
    error: str | None = None
    node_id: str | None = None
    display_name: str | None = None
    roles: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)  # VALUES key -> float | None
    peers: tuple[Peer, ...] | None = None  # None: /peers not answered
    metrics: dict = field(default_factory=dict)  # METRICS value -> float
    unreported: tuple[str, ...] = ()  # routes not served or failing, subsystems null, in words
    not_served: tuple[str, ...] = ()  # routes answered 404, 405 or 501: not asked again
    problems: tuple[str, ...] = ()  # routes that failed, values refused

    @property
    def up(self) -> bool:
        return self.error is None


def text(value) -> str | None:
    """A string from a node as it may be shown: control characters dropped, at most
    :data:`MAX_TEXT` characters (an ellipsis marks a cut); None for anything else or empty."""
    if not isinstance(value, str):
        return None
    clean = "".join(c for c in value[: MAX_TEXT * 4] if unicodedata.category(c)[0] != "C").strip()
    if len(clean) > MAX_TEXT:
        clean = clean[: MAX_TEXT - 1] + "…"
    return clean or None


def number(value, low: float, high: float) -> float | None:
    """A finite number within [low, high] (booleans read 1/0); else None."""
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, int | float) or not math.isfinite(value) or not low <= value <= high:
        return None
    return float(value)


def pick(data: dict, path: tuple[str, ...]):
    """``data[path[0]][path[1]]...``; (found, value) where found is False at a missing key,
    and the value is the subsystem name when a subsystem on the way is null."""
    node = data
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            return False, None
        if node[key] is None and i < len(path) - 1:
            return False, key  # a subsystem that is not running
        node = node[key]
    return True, node


def parse_values(bodies: dict[str, dict]) -> tuple[dict, list[str], list[str]]:
    """(values, unreported, problems) from the JSON bodies of the routes answered."""
    values, unreported, problems = {}, [], []
    for v in VALUES:
        body = bodies.get(v.route)
        values[v.key] = None
        if body is None:
            continue
        found, raw = pick(body, v.path)
        if not found:
            if isinstance(raw, str):
                unreported.append(f"{raw} (null)")
            elif v.absent_is_zero and isinstance(pick(body, v.path[:-1])[1], dict):
                values[v.key] = 0.0
            continue
        values[v.key] = number(raw, v.low, v.high)
        if values[v.key] is None and raw is not None:
            problems.append(f"{v.key}: {text(repr(raw))} refused (a number in [{v.low:g}, {v.high:g}] expected)")
    return values, sorted(set(unreported)), problems


def parse_peers(data: dict) -> tuple[Peer, ...]:
    """The ``connected`` list of ``/peers``; entries without a ``peer_id`` are skipped."""
    rows = data.get("connected")
    if not isinstance(rows, list):
        raise NodeError('no "connected" list')
    peers = []
    for row in rows[:MAX_PEERS]:
        if isinstance(row, dict) and text(row.get("peer_id")):
            outbound = row.get("outbound")
            peers.append(
                Peer(
                    text(row["peer_id"]),
                    text(row.get("address")),
                    text(row.get("display_name")),
                    outbound if isinstance(outbound, bool) else None,
                )
            )
    return tuple(peers)


def parse_metrics(body: str) -> dict[str, float]:
    """The p2p metrics of :data:`METRICS` in a Prometheus text exposition (unlabelled,
    finite, not negative samples). NodeError when the text does not parse."""
    found: dict[str, float] = {}
    try:
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                key = METRICS.get(sample.name)
                if key and not sample.labels and number(sample.value, 0.0, 1e12) is not None:
                    found[key] = float(sample.value)
    except ValueError as error:
        raise NodeError(f"metrics do not parse ({error})") from None
    return found


def why(client: Client, route: str, error: Exception) -> str:
    """What went wrong with ``route``, without the node's URL (the row and alert name it)."""
    words = str(error).replace(client.shown, "")
    return words if words.startswith(route) else f"{route}: {words}"


def _json_object(client: Client, route: str, deadline: float) -> dict:
    value = client.get_json(route, deadline=deadline)
    if not isinstance(value, dict):
        raise NodeError(f"a JSON {type(value).__name__}, expected an object")
    return value


def read_node(client: Client, budget: float, skip: frozenset[str] = frozenset()) -> NodeReading:
    """Poll one node through ``client`` within ``budget`` seconds: ``/status`` (required),
    then ``/peers``, the routes of :data:`.fields.ROUTES` and ``/metrics`` (those in ``skip``
    are not asked: the node has said it does not serve them)."""
    start = time.monotonic()
    end = start + budget

    def left() -> float:
        return end - time.monotonic()

    def done(**kwargs) -> NodeReading:
        return NodeReading(client.shown, time.time(), time.monotonic() - start, **kwargs)

    try:
        status = _json_object(client, "/status", min(client.deadline, budget))
    except (OutsideError, NodeError) as error:
        return done(error=why(client, "/status", error))
    bodies, unreported, problems, not_served = {"/status": status}, [], [], []
    peers, metrics = None, {}
    for route in ("/peers", *ROUTES, "/metrics"):
        if route in skip:
            unreported.append(f"{route} (not served)")
            continue
        if left() <= 0:
            problems.append(f"{route}: not asked, the poll's {budget:g} s were spent")
            continue
        try:
            if route == "/metrics":
                answer = client.get(route, deadline=min(client.deadline, left()))
                if answer.status != 200:
                    raise OutsideError("status", f"HTTP {answer.status}", answer.status)
                metrics = parse_metrics(answer.body.decode("utf-8", "replace"))
            elif route == "/peers":
                peers = parse_peers(_json_object(client, route, min(client.deadline, left())))
            else:
                bodies[route] = _json_object(client, route, min(client.deadline, left()))
        except OutsideError as error:
            if error.status in (404, 405, 501):
                not_served.append(route)
                unreported.append(f"{route} (not served)")
            elif (error.status or 0) >= 500:  # broken on this node (1.7.0's /staking/status): asked again
                unreported.append(f"{route} (HTTP {error.status})")
            else:
                problems.append(why(client, route, error))
        except NodeError as error:
            problems.append(why(client, route, error))
    values, null, refused = parse_values(bodies)
    if values["peers_connected"] is None and peers is not None:
        values["peers_connected"] = float(len(peers))
    roles = status.get("roles") if isinstance(status.get("roles"), list) else []
    return done(
        node_id=text(status.get("node_id")),
        display_name=text(status.get("display_name")),
        roles=tuple(r for r in (text(x) for x in roles[:8]) if r),
        values=values,
        peers=peers,
        metrics=metrics,
        unreported=tuple(unreported + null),
        not_served=tuple(not_served),
        problems=tuple(problems + refused),
    )
