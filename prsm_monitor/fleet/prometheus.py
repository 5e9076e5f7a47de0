"""Instances read from Prometheus (``PRSM_PROMETHEUS_URL``): the path for fleets too large to
poll one by one. Every prsm-monitor the server scrapes (its ``instance`` label) gets a row
from a handful of PromQL queries for all of them together, whatever their number: the
figures of the Fleet page, the active alerts by level, the time of the last sample and
Prometheus's own ``up``, and CPU over the last 5 minutes for the sparkline.

One thread reads them every ``interval`` seconds; the Fleet page reads what it kept. A
failing read keeps the last rows and says why (``error``); it is not an alert, since the
history store already raises one for an unreachable Prometheus."""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.parse
from dataclasses import dataclass

from ..sources.base import Source
from ..sources.prsm.fields import AI_FIELDS, NETWORK_FIELDS
from ..sources.system import SYSTEM_FIELDS
from ..store.prometheus_reader import PrometheusError, PrometheusReader, series_of

log = logging.getLogger(__name__)

FIGURES = {  # row key: (component, field name)
    "cpu": ("system", "cpu_percent"),
    "memory": ("system", "memory_percent"),
    "active_nodes": ("network", "active_nodes"),
    "total_nodes": ("network", "total_nodes"),
    "active_models": ("ai", "active_models"),
    "total_models": ("ai", "total_models"),
}
_DECLARED = {"system": SYSTEM_FIELDS, "network": NETWORK_FIELDS, "ai": AI_FIELDS}
SPARK_SECONDS = 300
SPARK_STEP = 5
KEEP = "1h"  # how far back a row's last samples are looked for once an instance is not scraped
STALE_AFTER = 60.0  # seconds without a sample before a row's figures count as stale
MAX_LABEL = 200  # characters of an instance label shown (a longer one is not a host:port)


@dataclass(frozen=True)
class ScrapedInstance:
    """One ``instance`` label: its latest figures (None: not reported), alerts by level, when
    its last sample was taken, whether Prometheus's last scrape of it worked, and CPU points."""

    instance: str
    figures: dict
    alerts: dict
    last_sample: float | None
    up: bool | None
    cpu: tuple[float, ...] = ()


def _series(key: str) -> tuple[str, float]:
    component, name = FIGURES[key]
    field = next(f for f in _DECLARED[component] if f.name == name)
    body, factor = series_of(component, field)
    return body + "}", factor


class PrometheusFleet(Source):
    """Rows for every prsm-monitor that the Prometheus at ``reader.url`` scrapes."""

    # a source of the collector without components or fields of its own

    def __init__(self, reader: PrometheusReader, interval: float = 5.0, clock=time.time):
        self.reader = reader
        self.interval = interval
        self._clock = clock
        self._rows: tuple[ScrapedInstance, ...] = ()
        self._seen: dict[str, float] = {}  # instance: time of its newest sample read so far
        self.read_at: float | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings) -> PrometheusFleet:
        fleet = cls(PrometheusReader(settings.prometheus_url, timeout=5.0), interval=max(5.0, settings.interval))
        fleet.start()
        return fleet

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prsm-prometheus-fleet", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.interval)

    def collect(self) -> dict:
        return {}

    def is_stale(self, row: ScrapedInstance, now: float | None = None) -> bool:
        now = self._clock() if now is None else now
        return row.last_sample is None or now - row.last_sample > STALE_AFTER

    # -- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read every instance's row now (the thread does this every ``interval``)."""
        try:
            rows = self._read()
        except PrometheusError as error:
            self.error = str(error)
            log.info("Prometheus fleet not read: %s", error)
            return
        self._rows, self.read_at, self.error = rows, self._clock(), None

    def _read(self) -> tuple[ScrapedInstance, ...]:
        now = self._clock()
        parts = []
        for key in FIGURES:
            selector, _ = _series(key)
            latest = f"last_over_time({selector}[{KEEP}])"  # after a failed scrape too: the last sample
            parts.append(f'label_replace(max by (instance) ({latest}), "figure", "{key}", "", "")')
        figures: dict[str, dict] = {}
        for labels, value in self._instant(" or ".join(parts), now):
            key = labels.get("figure")
            if key in FIGURES:
                figures.setdefault(labels.get("instance", ""), {})[key] = value / _series(key)[1]
        alerts: dict[str, dict] = {}
        active = f"sum by (instance, level) (last_over_time(prsm_active_alerts[{KEEP}]))"
        for labels, value in self._instant(active, now):
            alerts.setdefault(labels.get("instance", ""), {})[labels.get("level", "")] = int(value)
        last: dict[str, float] = dict(self._seen)  # what this hub saw, exact
        for promql in (  # exact while it is scraped; to within 15 s of the last sample once it is not
            "max by (instance) (timestamp(prsm_collector_ticks_total))",
            f"max by (instance) (max_over_time(timestamp(prsm_collector_ticks_total)[{KEEP}:15s]))",
        ):
            for labels, value in self._instant(promql, now):
                name = labels.get("instance", "")
                last[name] = max(value, last.get(name, value))
        self._seen = last
        up = {
            labels.get("instance", ""): value == 1
            for labels, value in self._instant('max by (instance) (up{instance!=""})', now)
        }
        cpu = self._cpu(now)
        names = sorted(n for n in set(self.reader.instances()) | set(last) if len(n) <= MAX_LABEL)
        return tuple(
            ScrapedInstance(
                name, figures.get(name, {}), alerts.get(name, {}), last.get(name), up.get(name), cpu.get(name, ())
            )
            for name in names
        )

    def _instant(self, promql: str, at: float) -> list[tuple[dict, float]]:
        body = urllib.parse.urlencode({"query": promql, "time": at}).encode()
        data = self.reader._get("/api/v1/query", body)  # the reader's HTTP and errors, for instant queries
        try:
            found = [(s.get("metric", {}), float(s["value"][1])) for s in data.get("result", ()) if "value" in s]
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            raise PrometheusError(f"{self.reader.url} answered a query with a malformed result") from None
        return [(labels, value) for labels, value in found if isinstance(labels, dict) and math.isfinite(value)]

    def _cpu(self, now: float) -> dict[str, tuple[float, ...]]:
        selector, factor = _series("cpu")
        body = urllib.parse.urlencode(
            {
                "query": f"max by (instance) ({selector})",
                "start": now - SPARK_SECONDS,
                "end": now,
                "step": SPARK_STEP,
            }
        ).encode()
        data = self.reader._get("/api/v1/query_range", body)
        try:
            return {
                str(s.get("metric", {}).get("instance", "")): tuple(
                    round(float(v) / factor, 1) for _, v in s.get("values", ()) if math.isfinite(float(v))
                )
                for s in data.get("result", ())
            }
        except (AttributeError, TypeError, ValueError):
            raise PrometheusError(f"{self.reader.url} answered a range query with a malformed result") from None

    def snapshot(self) -> tuple[tuple[ScrapedInstance, ...], float | None, str | None]:
        """The rows, when they were read (None: not yet) and why the last read failed (None: it worked)."""
        return self._rows, self.read_at, self.error


__all__ = ["PrometheusFleet", "ScrapedInstance"]
