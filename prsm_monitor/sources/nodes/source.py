"""NodeSource: the ``network`` and ``ai`` components read from real PRSM nodes' management APIs.

Polling happens off the collector's tick: a thread of the source's own starts a poll of every
node every ``every`` seconds, each on a worker of a small pool and with a client of its own,
so a node that hangs or drips holds only its own worker. A poll has a total budget
(``timeout`` per request through :class:`prsm_monitor.outside.Client`, ``budget`` for the
whole poll): it ends by then whatever the node does. :meth:`NodeSource.collect` only
assembles the latest readings, so a tick never waits for a node.

A node whose latest poll failed is *down*; a node whose latest answer is older than
:data:`STALE_POLLS` polls (its poll still running, or the poller behind) is *stale*, shown
with its age and counted down too. Each is one ``error`` alert while it lasts, named by the
node's address without user name or password (two URLs on one host:port keep their paths,
so they are two alerts). A route the node does not serve is asked once and then left until
the node restarts.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ... import redact
from ...outside import Client
from ..base import Source
from .fields import NODE_AI_FIELDS, NODE_NETWORK_FIELDS, ROWS, WINDOW_SECONDS
from .reading import MAX_BODY, NodeReading, read_node
from .record import address, node_name, records
from .window import Window

POLL_SECONDS = 1.0  # between polls of one node
TIMEOUT_SECONDS = 2.0  # for each request
BUDGET_SECONDS = 4.0  # for a whole poll (its requests together)
STALE_POLLS = 3  # a latest answer older than this many polls (plus the budget) is stale
MAX_WORKERS = 16
WINDOWED = ("ftns_balance", "ledger_discrepancies", "jobs_completed", "jobs_failed", "consensus_failed")
WINDOWED += ("disputed_results",)


class NodeSource(Source):
    """The ``network`` and ``ai`` components from the nodes at ``urls`` (see the module doc)."""

    components = ("network", "ai")
    fields = {"network": NODE_NETWORK_FIELDS, "ai": NODE_AI_FIELDS}
    rows = ROWS

    def __init__(
        self,
        urls,
        *,
        every: float = POLL_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
        budget: float | None = None,
        start: bool = True,
    ):
        self.urls = tuple(dict.fromkeys(urls))
        if not self.urls:
            raise ValueError("NodeSource needs at least one node URL")
        self.every = every
        self.timeout = timeout
        self.budget = max(budget if budget is not None else BUDGET_SECONDS, timeout)
        self._clients = {url: Client(url, deadline=timeout, max_bytes=MAX_BODY) for url in self.urls}
        self._readings: dict[str, NodeReading | None] = dict.fromkeys(self.urls)
        self._names = {url: self._unique(url, address(url), {}) for url in self.urls}
        self._skip: dict[str, frozenset[str]] = dict.fromkeys(self.urls, frozenset())
        self._last_up: dict[str, NodeReading] = {}  # each node's latest answer, to tell a restart
        self._busy: set[str] = set()
        self._down_since: dict[str, float] = {}
        self._window = Window(WINDOW_SECONDS)
        self._started = time.time()
        self._lock = threading.Lock()
        self._first_round = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(min(MAX_WORKERS, len(self.urls)), thread_name_prefix="prsm-node-poll")
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    @classmethod
    def from_settings(cls, settings) -> NodeSource:
        """The nodes of ``PRSM_NODE_URLS``, polled from now on."""
        return cls(settings.node_urls)

    @property
    def stale_after(self) -> float:
        """Seconds after which a node's latest answer is stale."""
        return STALE_POLLS * self.every + self.budget

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prsm-node-poller", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            for url in self.urls:
                with self._lock:
                    if url in self._busy:
                        continue  # its last poll has not ended yet
                    self._busy.add(url)
                try:
                    self._pool.submit(self._poll, url)
                except RuntimeError:  # the pool was shut down: closing
                    return
            if self._stop.wait(self.every):
                return

    def _poll(self, url: str) -> None:
        try:
            reading = read_node(self._clients[url], self.budget, self._skip[url])
        except Exception as exc:  # noqa: BLE001 - a bug in parsing one node must not stop the others
            reading = NodeReading(redact.url(url), time.time(), error=redact.text(f"{type(exc).__name__}: {exc}"))
        if self._stop.is_set():  # closed while this poll ran: its client was left open for it
            self._clients[url].close()
        with self._lock:
            self._readings[url] = reading
            self._busy.discard(url)
            if reading.up:
                self._take(url, self._last_up.get(url), reading)
                self._last_up[url] = reading
            if all(r is not None for r in self._readings.values()):
                self._first_round.set()

    def _take(self, url: str, previous: NodeReading | None, reading: NodeReading) -> None:
        uptime, before = reading.values.get("uptime_s"), previous.values.get("uptime_s") if previous else None
        restarted = previous is not None and previous.node_id != reading.node_id
        if restarted or (uptime is not None and before is not None and uptime < before):
            self._skip[url] = frozenset()  # a restarted node may serve what it did not
            self._window.forget(url)
        self._skip[url] |= frozenset(reading.not_served)
        for key in WINDOWED:
            self._window.add(url, key, reading.taken, reading.values.get(key))
        self._names[url] = self._unique(url, node_name(url, reading), self._names)

    @staticmethod
    def _unique(url: str, name: str, names: dict[str, str]) -> str:
        taken = {n for u, n in names.items() if u != url}
        return name if name not in taken else f"{name} ({address(url)})"

    def _states(self, now: float) -> dict[str, dict]:
        states = {}
        for url, reading in self._readings.items():
            age = now - (reading.taken if reading is not None else self._started)
            stale = age > self.stale_after
            if reading is not None and reading.up and not stale:
                self._down_since.pop(url, None)
            else:
                self._down_since.setdefault(url, now)
            states[url] = {"down_since": self._down_since.get(url), "age_s": round(age, 1), "stale": stale}
        return states

    # -- the source protocol --------------------------------------------------------------
    def collect(self) -> dict[str, dict]:
        """The records from the latest readings. The first call waits (at most one poll's
        budget) for the first poll of every node, so a node is not reported down only because
        it has not been asked yet; later calls never wait."""
        self._first_round.wait(self.budget + self.every)
        now = time.time()
        with self._lock:
            readings, names = dict(self._readings), dict(self._names)
            states = self._states(now)
            return records(readings, names, states, self._window, now)

    def conditions(self, records: dict):
        """An ``error`` alert per watched node that is down or stale, asserted while it lasts."""
        for row in (records.get("network") or {}).get("nodes", ()):
            if row["status"] == "down":
                details = {"node": row["name"], "address": row["address"], "error": row.get("error")}
                details |= {"down_since": row["down_since"], "age_s": row.get("age_s")}
                who = row["name"] if row["name"] == row["address"] else f"{row['name']} ({row['address']})"
                what = f"is stale: no answer for over {STALE_POLLS} polls" if row.get("stale") else "is down"
                yield ("error", "network", f"Node {who} {what}", details)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            idle = [client for url, client in self._clients.items() if url not in self._busy]
        for client in idle:  # a busy one holds its lock until its deadline: its poll closes it
            client.close()
