"""Anycast routing of inference requests to the nearest node hosting a model.

A distance-vector protocol in the style of RIP, over model names instead of addresses: each
node tells its peers how many hops it is from a host of each model (``routes`` frames, sent
when a link comes up and whenever the node's own vector changes), and forwards a request to
the peer with the fewest hops. Split horizon with poisoned reverse (a node advertises
:data:`INFINITY` back to its next hop) and a small infinity keep loops short-lived.
"""

from __future__ import annotations

from collections.abc import Iterable

INFINITY = 16  # hops; a route this long means unreachable


class RoutingTable:
    """One node's routes: ``next_hop(model)`` is "" when the node hosts it, a peer name, or None."""

    def __init__(self, own_models: Iterable[str]):
        self.own = frozenset(own_models)
        self.vectors: dict[str, dict[str, int]] = {}  # peer -> its latest advertised vector
        self.best: dict[str, tuple[int, str]] = {m: (0, "") for m in self.own}

    def update(self, peer: str, vector: dict[str, int]) -> bool:
        """Take ``peer``'s advertised vector; True if our own routes changed."""
        if self.vectors.get(peer) == vector:
            return False
        self.vectors[peer] = vector
        return self._recompute()

    def drop(self, peer: str) -> bool:
        """Forget routes through ``peer`` (its link is down); True if our routes changed."""
        if self.vectors.pop(peer, None) is None:
            return False
        return self._recompute()

    def _recompute(self) -> bool:
        best: dict[str, tuple[int, str]] = {m: (0, "") for m in self.own}
        for peer in sorted(self.vectors):
            for model, hops in self.vectors[peer].items():
                hops = hops + 1
                if hops < INFINITY and hops < best.get(model, (INFINITY, ""))[0]:
                    best[model] = (hops, peer)
        if best == self.best:
            return False
        self.best = best
        return True

    def next_hop(self, model: str) -> str | None:
        route = self.best.get(model)
        return None if route is None else route[1]

    def hops(self) -> dict[str, int]:
        """Hops to the nearest reachable host of each model (0: hosted here)."""
        return {m: h for m, (h, _) in self.best.items()}

    def advertisement(self, to_peer: str) -> dict[str, int]:
        """The vector to send ``to_peer``: routes through it are poisoned."""
        return {m: (INFINITY if via == to_peer else h) for m, (h, via) in self.best.items()}
