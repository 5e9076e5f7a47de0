"""The windowed-counter engine of the PRSM source.

Nodes report cumulative counters (see :mod:`.report`). :class:`CounterWindow` takes each new
report, subtracts the previous report of the same node incarnation (a restart is a new
incarnation counting from zero, as with Prometheus counter resets), and keeps:

- network-wide totals since the first report (``total``), which never go back;
- the increase of every counter, per node and network-wide (key ``ALL``), over the last
  ``window`` seconds of reports (``w``), from which rates, means and quantiles follow.
"""

from __future__ import annotations

from collections import deque

from .report import NetworkReport, flatten, quantile, sample_quantiles

ALL = "*"  # key prefix of network-wide sums


def ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


class CounterWindow:
    """Counters of a network's reports: totals since the first one, increases over ``window`` s."""

    def __init__(self, window: float = 10.0):
        self.window = window
        self._prev: dict[str, tuple[int, float, dict]] = {}  # node -> (incarnation, started, counters)
        self._totals: dict[tuple, float] = {}  # network-wide counters since the first reading
        self._deltas: deque[tuple[float, dict]] = deque()
        self._window: dict[tuple, float] = {}  # increase of every counter over the window
        self._window_start: float | None = None
        self.seen: float | None = None  # timestamp of the last report taken in

    def take(self, report: NetworkReport) -> None:
        """Take in a new report (call once per report timestamp)."""
        delta: dict[tuple, float] = {}
        for name, stats in report.stats.items():
            flat = flatten(stats)
            prev = self._prev.get(name)
            base = prev[2] if prev and prev[:2] == (stats.incarnation, stats.started) else {}
            for key, value in flat.items():
                d = value - base.get(key, 0)
                if d:
                    if d < 0:  # went back without a new incarnation: a reset after all
                        d = value
                    delta[(name, *key)] = d
                    agg = (ALL, *key)
                    delta[agg] = delta.get(agg, 0) + d
            self._prev[name] = (stats.incarnation, stats.started, flat)
        t = report.timestamp
        for key, d in delta.items():
            if key[0] == ALL:
                self._totals[key] = self._totals.get(key, 0) + d
        if self.seen is None:  # the first report is the baseline: totals only, the window starts here
            self._window_start = t
        else:
            for key, d in delta.items():
                self._window[key] = self._window.get(key, 0) + d
            self._deltas.append((t, delta))
        while len(self._deltas) > 1 and self._deltas[0][0] <= t - self.window:
            self._window_start, old = self._deltas.popleft()
            window = self._window
            for key, d in old.items():
                left = window[key] - d
                if -1e-9 < left < 1e-9:  # back to nothing (float sums leave crumbs)
                    del window[key]
                else:
                    window[key] = left
        self.seen = t

    def w(self, *key) -> float:
        """Increase of a counter over the window."""
        return self._window.get(key, 0)

    def total(self, *key) -> float:
        """A network-wide counter since the first report."""
        return self._totals.get((ALL, *key), 0)

    def span(self) -> float:
        """Seconds the window really covers (0 before a second report)."""
        return max(1e-9, (self.seen or 0) - (self._window_start or 0)) if self._deltas else 0.0

    def rate(self, *key) -> float | None:
        """Increase per second over the window; None before a second report."""
        return self.w(*key) / self.span() if self._deltas else None

    def mean(self, sum_key: tuple, count_key: tuple) -> float | None:
        """Windowed mean: increase of a sum over increase of its count."""
        return ratio(self.w(*sum_key), self.w(*count_key))

    def quantiles(self, prefix: tuple, bounds, *qs: float, samples=()) -> list[float | None]:
        """Quantiles over the window: of the observations themselves when ``samples`` (the
        histogram snapshots of the latest report that hold ``prefix``) keep them
        (:func:`~.report.sample_quantiles`), else of the histogram's windowed bucket counts;
        None for an empty window."""
        if self.seen is not None:
            exact = sample_quantiles(samples, self.seen - self.window, *qs)
            if exact is not None:
                return exact
        if not self._window.get((*prefix, "count")):
            return [None] * len(qs)
        counts = [self._window.get((*prefix, i), 0) for i in range(len(bounds) + 1)]
        return [quantile(bounds, counts, q) for q in qs]
