"""Anomalies: a value outside its band for long enough, as Prometheus' ``for`` does for rules.

:class:`Episodes` turns a per-tick verdict per column (outside its band or not, or not
judged) into openings and closings: a column opens after ``hold`` seconds outside without
a break, and closes after ``clear`` seconds back inside. It is vectorised (one NumPy pass per
tick over every column) and knows nothing of fields or alerts: the engine names them.
"""

from __future__ import annotations

import numpy as np


class Episodes:
    def __init__(self, hold: np.ndarray | float, clear: float):
        self.hold = hold  # seconds outside before an anomaly opens (per column, or one for all)
        self.clear = clear  # seconds inside before it closes
        self.outside_since = np.zeros(0)  # NaN: inside
        self.inside_since = np.zeros(0)
        self.open = np.zeros(0, dtype=bool)

    def _grow(self, n: int) -> None:
        have = self.open.size
        if n > have:
            self.outside_since = np.concatenate([self.outside_since, np.full(n - have, np.nan)])
            self.inside_since = np.concatenate([self.inside_since, np.full(n - have, np.nan)])
            self.open = np.concatenate([self.open, np.zeros(n - have, dtype=bool)])

    def update(self, outside: np.ndarray, judged: np.ndarray, now: float) -> tuple[np.ndarray, np.ndarray]:
        """``outside``/``judged`` per column; returns the indices that (opened, closed) now.
        A column not judged (no value, no band yet) keeps its state but never opens."""
        self._grow(outside.size)
        n = outside.size
        out = outside & judged
        inside = ~outside & judged
        since = self.outside_since[:n]
        since[out & np.isnan(since)] = now
        since[inside] = np.nan
        back = self.inside_since[:n]
        back[inside & np.isnan(back)] = now
        back[out] = np.nan
        hold = self.hold if np.isscalar(self.hold) else self.hold[:n]
        is_open = self.open[:n]
        opened = out & ~is_open & (now - np.nan_to_num(since, nan=now) >= hold)
        closed = is_open & inside & (now - np.nan_to_num(back, nan=now) >= self.clear)
        is_open[opened] = True
        is_open[closed] = False
        return np.flatnonzero(opened), np.flatnonzero(closed)

    @property
    def open_since(self) -> np.ndarray:
        """Per column: when its open anomaly went outside (NaN: none open)."""
        return np.where(self.open, self.outside_since, np.nan)

    def close_all(self) -> np.ndarray:
        was = np.flatnonzero(self.open)
        self.open[:] = False
        return was
