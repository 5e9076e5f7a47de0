"""PrsmSource: the source protocol over a network's reports.

:class:`PrsmSource` turns a :class:`~.report.NetworkReport` (the node directory plus each
answering node's :class:`~.report.NodeStats`) into the ``network`` and ``ai`` components.
Anything with a ``report()`` method returning such a report can be watched;
:class:`~prsm_monitor.demo.source.DemoSource` watches the demo network, which is one such producer.

Counters in the records (``kind="counter"``) are cumulative since the source's first
reading; a node restart does not make them go back (see :mod:`.window`). Averages,
percentiles, rates and ratios are **windowed**: computed from the counters' increase over
the last ``window`` seconds of reports (10 s by default; ``window_seconds`` in the record says
how much history it really covered), so a fault shows within a few seconds and a fixed one
clears as its samples leave the window. Gauges such as ``active_nodes`` describe the latest
report (at most one heartbeat old).
"""

from __future__ import annotations

import threading
import time

from ..base import Source
from .ai import ai_record
from .fields import AI_FIELDS, DISTRIBUTIONS, MODEL_SERIES, NETWORK_FIELDS, NODE_SERIES, ROWS
from .network import network_record
from .report import NetworkReport
from .window import CounterWindow

CONSENSUS_KEPT = 50  # recent proposals remembered; the record shows the last 20
PREFETCH_SECONDS = 0.05  # how often the prefetch thread looks for a new report


class PrsmSource(Source):
    """Network and AI components from a network's reports (see the module doc).

    ``network`` is anything with ``report() -> NetworkReport | None``; with ``owns_network``
    (the default) :meth:`close` also stops it. ``window`` is the averaging window in seconds;
    floods younger than ``flood_settle`` seconds are not judged for propagation yet.

    Each report is taken in and turned into records once. With ``prefetch`` (seconds between
    looks, e.g. 0.05) a thread of the source's own does that as soon as a report is
    published, so the collector's tick finds the records ready (with 100 nodes that work is
    5 to 10 ms of CPU per report); :meth:`collect` still processes a newer report itself if
    the thread has not yet, so what it returns never lags behind ``report()``.
    """

    components = ("network", "ai")
    fields = {"network": NETWORK_FIELDS, "ai": AI_FIELDS}
    rows = ROWS
    distributions = DISTRIBUTIONS

    def __init__(
        self,
        network,
        *,
        window: float = 10.0,
        flood_settle: float = 1.0,
        owns_network: bool = True,
        prefetch: float | None = None,
    ):
        self.network = network
        self.window = window
        self.flood_settle = flood_settle
        self.owns_network = owns_network
        self._counters = CounterWindow(window)
        self._consensus: dict[str, dict] = {}  # proposal id -> latest record
        self._down_since: dict[str, float] = {}
        self._lock = threading.Lock()  # one report processed at a time
        self._records: dict[str, dict] | None = None  # of the report with timestamp self._counters.seen
        self._stop = threading.Event()
        self._published = threading.Event()  # wakes the prefetch thread: a new report, or close()
        self._prefetcher: threading.Thread | None = None
        report = network.report()
        directory = report.directory if report else {}
        models = sorted({m for info in directory.values() for m in info.models})
        self.detail_fields = {f"node:{n}": NODE_SERIES for n in directory} | {
            f"model:{m}": MODEL_SERIES for m in models
        }
        if prefetch:
            self.start_prefetch(prefetch)

    # -- the source protocol --------------------------------------------------------------
    def collect(self) -> dict[str, dict]:
        report = self.network.report()
        if report is None:
            raise RuntimeError("the PRSM network is not running or has not reported yet")
        period = getattr(self.network, "stats_period", None)
        age = time.time() - report.timestamp
        if period is not None and age > max(5.0, 5 * period):  # a stalled loop: never show stale numbers
            raise RuntimeError(f"the PRSM network's latest report is {age:.0f} s old")
        records = self._process(report)
        now = time.time()  # stamped when read, as every source's records are
        return {component: {**record, "timestamp": now} for component, record in records.items()}

    def _process(self, report: NetworkReport) -> dict[str, dict]:
        """The records of ``report``, computed once per report."""
        with self._lock:
            if self._records is None or report.timestamp != self._counters.seen:
                self._take(report)
                now = time.time()
                history = sorted(self._consensus.values(), key=lambda r: r["started"])[-20:]
                records = {
                    "network": network_record(
                        self._counters,
                        report,
                        now,
                        down_since=self._down_since,
                        consensus=history,
                        flood_settle=self.flood_settle,
                    ),
                    "ai": ai_record(self._counters, report, now),
                }
                self._records = records | self._details(records, now)
            return self._records

    def _prefetch(self, every: float) -> None:
        """Process each new report: woken by the network when it publishes one (a network with
        ``add_report_listener``, as :class:`~prsm_monitor.demo.network.DemoNetwork`), else
        looking every ``every`` seconds."""
        failed = None  # a report that failed is left to collect(), which reports the error
        listen = getattr(self.network, "add_report_listener", None)
        if listen is not None:
            listen(self._published.set)
            self._published.set()  # the report already published
        try:
            while True:
                self._published.wait(None if listen is not None else every)
                if self._stop.is_set():
                    return
                self._published.clear()  # before reading: a report published from here on wakes the next wait
                failed = self._prefetch_one(failed)
        finally:
            if listen is not None:
                self.network.remove_report_listener(self._published.set)

    def _prefetch_one(self, failed: float | None) -> float | None:
        report = self.network.report()
        if report is not None and report.timestamp not in (self._counters.seen, failed):
            try:
                self._process(report)
            except Exception:  # noqa: BLE001
                return report.timestamp
        return failed

    def _details(self, records: dict, now: float) -> dict[str, dict]:
        """The drill-down series' records, from the rows of the network and ai records."""
        out = {}
        for row in records["network"]["nodes"]:
            out[f"node:{row['name']}"] = {"timestamp": now, "up": 1.0 if row["status"] == "up" else 0.0} | {
                f.name: row.get(f.name) for f in NODE_SERIES[2:]
            }
        for row in records["ai"]["model_summary"]:
            out[f"model:{row['model']}"] = {"timestamp": now} | {f.name: row.get(f.name) for f in MODEL_SERIES[1:]}
        return {component: record for component, record in out.items() if component in self.detail_fields}

    def conditions(self, records: dict):
        """An ``error`` alert per node that is down, and a ``warning`` per model instance it
        hosted (the model is unavailable there), asserted while it stays down. Both carry the
        ``node`` label (and the model's, ``model``), so notifications group them as one incident."""
        for row in (records.get("network") or {}).get("nodes", ()):
            if row["status"] == "down":
                details = {"node": row["name"], "address": row["address"], "down_since": row["down_since"]}
                yield ("error", "network", f"Node {row['name']} is down", details)
        for row in (records.get("ai") or {}).get("models", ()):
            if row["status"] == "down":
                details = {"node": row["node"], "model": row["model"]}
                yield ("warning", "ai", f"Model {row['model']} is unavailable on {row['node']}", details)

    def start_prefetch(self, every: float) -> None:
        """Start the prefetch thread (see the class doc); :meth:`close` stops it."""
        if self._prefetcher is None:
            self._prefetcher = threading.Thread(target=self._prefetch, args=(every,), name="prsm-prefetch", daemon=True)
            self._prefetcher.start()

    def close(self) -> None:
        self._stop.set()
        self._published.set()
        if self._prefetcher is not None:
            self._prefetcher.join()
            self._prefetcher = None
        if self.owns_network:
            self.network.stop()

    def _take(self, report: NetworkReport) -> None:
        self._counters.take(report)
        for stats in report.stats.values():
            for record in stats.consensus:
                self._consensus[record.id] = {
                    "id": record.id,
                    "proposer": record.proposer,
                    "started": record.started,
                    "quorum": record.quorum,
                    "live_nodes": record.live_nodes,
                    "votes": record.votes,
                    "outcome": record.outcome,
                    "time_to_commit_ms": record.time_to_commit_ms,
                }
        for old_id in sorted(self._consensus, key=lambda i: self._consensus[i]["started"])[:-CONSENSUS_KEPT]:
            del self._consensus[old_id]
