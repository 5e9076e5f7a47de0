"""Changes of a node's values over a window of time: what alert rules judge, since a
cumulative count since the node started ("3 discrepancies ever") would keep an alert firing
for as long as the node runs."""

from __future__ import annotations

from collections import deque


class Window:
    """The values of each (node, key) seen over the last ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._seen: dict[tuple[str, str], deque[tuple[float, float]]] = {}

    def add(self, node: str, key: str, now: float, value: float | None) -> None:
        if value is None:
            return
        points = self._seen.setdefault((node, key), deque())
        if points and points[-1][0] >= now:
            return
        points.append((now, value))
        while len(points) > 1 and points[1][0] <= now - self.seconds:
            points.popleft()

    def change(self, node: str, key: str) -> float | None:
        """Latest minus the oldest value in the window (None with fewer than two)."""
        points = self._seen.get((node, key))
        if not points or len(points) < 2:
            return None
        return points[-1][1] - points[0][1]

    def increase(self, node: str, key: str) -> float | None:
        """How much a counter grew in the window: a counter that went down (the node
        restarted) counts from zero. None with no value seen."""
        points = self._seen.get((node, key))
        if not points:
            return None
        grown, last = 0.0, points[0][1]
        for _, value in list(points)[1:]:
            grown += value - last if value >= last else value
            last = value
        return grown

    def forget(self, node: str) -> None:
        for key in [k for k in self._seen if k[0] == node]:
            del self._seen[key]
