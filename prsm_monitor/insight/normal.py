"""What is not normal, so not learnt: values while a demo fault is injected, or while an alert
of their component fires.

A baseline learnt from a fault takes the fault for normal: a latency band widened by link
delays shown during the learning window no longer sees the next delay. The demo knows its
faults (the network record's ``faults``, :func:`~prsm_monitor.demo.faults.injected`); a real
source knows its alerts (a rule or forecast alert of the component active). While either
holds, and for :data:`GRACE_SECONDS` after (windowed statistics settle), the component's values
are judged but not learnt from; an alert that has fired for :data:`ADAPT_SECONDS` no longer
keeps them out (a host that always runs at 90 % memory still gets a baseline).
:class:`LeftOut` says which components that is on each tick and keeps the count that
:meth:`LeftOut.text` puts on screen.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping

from ..demo.faults import injected
from ..settings.durations import duration

GRACE_SECONDS = 60.0  # after a fault is cleared or an alert resolves, values settle this long
ADAPT_SECONDS = 900.0  # an alert firing this long is how things are now (as an anomaly's values): learnt again
COMPONENTS = ("system", "network", "ai")


def component_of_key(key: str, rules: Mapping) -> str | None:
    """The component an active alert's key is about: ``rule:latency`` -> its rule's component,
    ``forecast:node:node-0:memory_percent`` -> ``network``; None for the others (anomalies,
    whose own values are already kept out, source failures, custom alerts)."""
    kind, _, rest = key.partition(":")
    if kind == "rule":
        rule = rules.get(rest)
        return getattr(rule, "component", None)
    if kind == "forecast":
        series = rest.rsplit(":", 1)[0]
        return "network" if series.startswith("node:") else "ai" if series.startswith("model:") else series
    return None


class LeftOut:
    """Per tick: the components whose values are not learnt (see the module doc)."""

    def __init__(self, rows: int, grace: float = GRACE_SECONDS):
        self.grace = grace
        self.until: dict[str, float] = {}  # component -> left out until then
        self.why: str | None = None  # what is left out now for ("node-0 memory leak", "an alert"); None: nothing
        self.seen: dict[str, float] = {}  # active alert key -> first tick it was seen active
        self.ticks: deque[frozenset[str]] = deque(maxlen=rows)  # the window's ticks: the components left out
        # counts over ``ticks``, kept as ticks come and go: a page reads them while the collector
        # thread appends (iterating the deque then raised "deque mutated during iteration")
        self.kept: Counter[str] = Counter()  # ticks each component was learnt from
        self.out = 0  # ticks something was left out
        self._lock = threading.Lock()

    def components(
        self, records: Mapping, alert_keys: Iterable[str], rules: Callable[[], Mapping], now: float
    ) -> set[str]:
        """The components left out on this tick; ``rules()`` gives the rules by name (asked
        only when a rule alert is active)."""
        network = records.get("network")
        faults = network.get("faults") if isinstance(network, Mapping) else None
        causes = injected(faults) if faults else []
        if causes:  # a fault moves more than the component it is logged under (a leak: memory and CPU)
            for component in COMPONENTS:
                self.until[component] = now + self.grace
            self.why = ", ".join(c.title for c in causes)
        active = [k for k in alert_keys if k.startswith(("rule:", "forecast:"))]
        self.seen = {k: self.seen.get(k, now) for k in active}
        alerting = [k for k in active if now - self.seen[k] < ADAPT_SECONDS]
        by_name = rules() if any(k.startswith("rule:") for k in alerting) else {}
        for key in alerting:
            component = component_of_key(key, by_name)
            if component is not None:
                self.until[component] = now + self.grace
                if not causes:
                    self.why = "an active alert"
        out = {c for c, until in self.until.items() if now < until}
        if not out:
            self.why = None
        self._add([frozenset(out)])
        return out

    def preloaded(self, rows: int) -> None:
        """``rows`` earlier samples were learnt from (stored history, a recorded baseline)."""
        self._add([frozenset()] * min(rows, self.ticks.maxlen or rows))

    def _add(self, ticks: list[frozenset[str]]) -> None:
        with self._lock:
            for tick in ticks:
                if len(self.ticks) == self.ticks.maxlen:
                    self._count(self.ticks[0], -1)  # the oldest leaves the window
                self.ticks.append(tick)
                self._count(tick, 1)

    def _count(self, tick: frozenset[str], sign: int) -> None:
        for component in COMPONENTS:
            if component not in tick:
                self.kept[component] += sign
        self.out += sign if tick else 0

    def text(self, interval: float) -> str:
        """``Normal bands learnt from 28 min of values; 2 min while a demo fault was injected or
        an alert fired left out.`` When the components differ (the host's own alert kept only its
        values out): ``Normal bands learnt from 30 min of network and AI values and 7 s of system
        values; …``."""
        with self._lock:
            kept, out = {c: self.kept[c] for c in COMPONENTS}, self.out
        if len(set(kept.values())) == 1:
            text = f"Normal bands learnt from {duration(kept['system'] * interval)} of values"
        else:
            groups: dict[int, list[str]] = {}
            for component in ("network", "ai", "system"):
                groups.setdefault(kept[component], []).append("AI" if component == "ai" else component)
            parts = [f"{duration(n * interval)} of {' and '.join(names)} values" for n, names in groups.items()]
            text = "Normal bands learnt from " + " and ".join(parts)
        if out:
            text += f"; {duration(out * interval)} while a demo fault was injected or an alert fired left out"
        if self.why:
            text += f" (not learning now: {self.why})"
        return text + "."
