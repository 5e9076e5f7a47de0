"""Anomalies: a value outside its band for long enough, as Prometheus' ``for`` does for rules.

:class:`Episodes` turns a per-tick verdict per column (outside its band or not, or not
judged) into openings and closings: a column opens when it is outside now and has been
outside on at least :data:`MOSTLY` of the judged ticks for ``hold`` seconds (a value whose
noise straddles the band's edge, as a windowed statistic of a few requests does, is still
outside for the hold: a stretch ends when more than one in five of its ticks were inside),
and closes after ``clear`` seconds back inside without a break. It is vectorised (one NumPy
pass per tick over every column) and knows nothing of fields or alerts: the engine names them.
"""

from __future__ import annotations

import numpy as np

MOSTLY = 0.8  # share of a stretch's judged ticks that must be outside for it to count as one


class Episodes:
    def __init__(self, hold: np.ndarray | float, clear: float):
        self.hold = hold  # seconds outside before an anomaly opens (per column, or one for all)
        self.clear = clear  # seconds inside before it closes
        self.outside_since = np.zeros(0)  # start of the current mostly-outside stretch; NaN: none
        self.inside_since = np.zeros(0)
        self.ticks_out = np.zeros(0)  # judged ticks of the stretch outside, and inside
        self.ticks_in = np.zeros(0)
        self.open = np.zeros(0, dtype=bool)

    def _grow(self, n: int) -> None:
        have = self.open.size
        if n > have:
            self.outside_since = np.concatenate([self.outside_since, np.full(n - have, np.nan)])
            self.inside_since = np.concatenate([self.inside_since, np.full(n - have, np.nan)])
            self.ticks_out = np.concatenate([self.ticks_out, np.zeros(n - have)])
            self.ticks_in = np.concatenate([self.ticks_in, np.zeros(n - have)])
            self.open = np.concatenate([self.open, np.zeros(n - have, dtype=bool)])

    def update(self, outside: np.ndarray, judged: np.ndarray, now: float) -> tuple[np.ndarray, np.ndarray]:
        """``outside``/``judged`` per column; returns the indices that (opened, closed) now.
        A column not judged (no value, no band yet) keeps its state but never opens."""
        self._grow(outside.size)
        n = outside.size
        out = outside & judged
        inside = ~outside & judged
        since, ticks_out, ticks_in = self.outside_since[:n], self.ticks_out[:n], self.ticks_in[:n]
        starts = out & np.isnan(since)
        since[starts] = now
        ticks_out[starts] = 0
        ticks_in[starts] = 0
        ticks_out[out] += 1
        ticks_in[inside & np.isfinite(since)] += 1
        broken = inside & (ticks_in > (1 - MOSTLY) * (ticks_out + ticks_in))
        since[broken] = np.nan
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
