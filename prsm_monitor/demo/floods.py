"""Flooding for a demo node: a flooded message (``announce``, ``propose``, ``commit``) is
forwarded once to every other link and de-duplicated by id; the peer a flood first came from
is remembered (:meth:`Floods.parent`), so votes and other replies can travel the reverse path.
Proposals and commits go on to the node's :mod:`.consensus`."""

from __future__ import annotations

import time
from collections import deque

from ..sources.prsm.report import FloodRecord
from .protocol import encode


class Floods:
    """One incarnation's floods: what was seen, the recent ones and the counters."""

    def __init__(self, node, history: int):
        self.node = node
        self.seen: dict[str, str | None] = {}  # flood id -> the peer it first came from
        self._seen_order: deque[tuple[float, str]] = deque()
        self.recent: deque[FloodRecord] = deque(maxlen=history)
        self.originated = self.received = self.duplicates = 0

    def parent(self, flood_id: str) -> str | None:
        """The peer a flood first came from (None: ours, or not seen or forgotten)."""
        return self.seen.get(flood_id)

    def originate(self, kind: str, body: dict, flood_id: str | None = None) -> str:
        """Send a new flooded message of ``kind`` to every link; returns its id."""
        node = self.node
        flood_id = flood_id or node.next_id()
        message = {"type": kind, "id": flood_id, "origin": node.name, "sent": time.time(), **body}
        self.seen[flood_id] = None
        self._seen_order.append((node.loop.time(), flood_id))
        self.originated += 1
        self._forward(message, None)
        return flood_id

    def received_from(self, message: dict, link) -> None:
        """A flooded frame that arrived on ``link``: counted, forwarded once, handled once."""
        flood_id = message["id"]
        if not isinstance(flood_id, str) or link is None:
            raise ValueError("flood without id or link")
        if flood_id in self.seen:
            self.duplicates += 1
            return
        sent = float(message["sent"])
        self.seen[flood_id] = link.peer
        self._seen_order.append((self.node.loop.time(), flood_id))
        self.received += 1
        record = FloodRecord(flood_id, message["type"], str(message["origin"]), sent, (time.time() - sent) * 1000.0)
        self.recent.append(record)
        self._forward(message, link.peer)
        if message["type"] == "propose":
            self.node.consensus.on_propose(message, link)
        elif message["type"] == "commit":
            self.node.consensus.on_commit(message)

    def forget_before(self, horizon: float) -> None:
        """Forget the floods seen before ``horizon`` (loop time)."""
        while self._seen_order and self._seen_order[0][0] < horizon:
            self.seen.pop(self._seen_order.popleft()[1], None)

    def _forward(self, message: dict, exclude: str | None) -> None:
        data = encode(message)
        for link in self.node.links.values():
            if link.conn is not None and link.peer != exclude:
                self.node.send_bytes(link.conn, data)
