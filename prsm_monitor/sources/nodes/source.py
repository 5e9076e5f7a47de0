"""NodeSource: the ``network`` component read from real PRSM nodes' management APIs.

Polling happens off the collector's tick: a thread of the source's own polls every node
every ``every`` seconds, each node on a worker of a small pool, so a node that hangs holds
only its own worker (and is skipped until that poll ends) while the others keep being read.
:meth:`NodeSource.collect` only assembles the latest readings. A node whose latest poll
failed (no answer by ``timeout``, an HTTP error, malformed JSON) is a node that is down: an
``error`` alert while it stays down, never a failed source.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .fields import NODE_NETWORK_FIELDS
from .reading import NodeReading, read_node
from .record import network_record, node_name

POLL_SECONDS = 1.0  # between polls of one node
TIMEOUT_SECONDS = 2.0  # for each request
MAX_WORKERS = 16


class NodeSource:
    """The ``network`` component from the nodes at ``urls`` (see the module doc)."""

    components = ("network",)
    fields = {"network": NODE_NETWORK_FIELDS}

    def __init__(self, urls, *, every: float = POLL_SECONDS, timeout: float = TIMEOUT_SECONDS, start: bool = True):
        self.urls = tuple(dict.fromkeys(urls))
        if not self.urls:
            raise ValueError("NodeSource needs at least one node URL")
        self.every = every
        self.timeout = timeout
        self._readings: dict[str, NodeReading | None] = dict.fromkeys(self.urls)
        self._names = {url: node_name(url, None) for url in self.urls}
        self._busy: set[str] = set()
        self._down_since: dict[str, float] = {}
        self._lock = threading.Lock()
        self._first_round = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(min(MAX_WORKERS, len(self.urls)), thread_name_prefix="prsm-node-poll")
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prsm-node-poller", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            for url in self.urls:
                with self._lock:
                    if url in self._busy:
                        continue  # its last poll is still waiting for an answer
                    self._busy.add(url)
                try:
                    self._pool.submit(self._poll, url)
                except RuntimeError:  # the pool was shut down: closing
                    return
            if self._stop.wait(self.every):
                return

    def _poll(self, url: str) -> None:
        try:
            reading = read_node(url, self.timeout)
        except Exception as exc:  # noqa: BLE001 - a bug in parsing one node must not stop the others
            reading = NodeReading(url, time.time(), error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._readings[url] = reading
            self._busy.discard(url)
            if reading.up:
                self._names[url] = self._unique(url, node_name(url, reading))
            if all(r is not None for r in self._readings.values()):
                self._first_round.set()

    def _unique(self, url: str, name: str) -> str:
        taken = {n for u, n in self._names.items() if u != url}
        return name if name not in taken else f"{name} ({url})"

    def poll_now(self) -> None:
        """Poll every node once, in this thread (for scripts and tests)."""
        for url in self.urls:
            self._poll(url)

    # -- the source protocol --------------------------------------------------------------
    def collect(self) -> dict[str, dict]:
        """The ``network`` record from the latest readings. The first call waits (at most a
        few timeouts) for the first poll of every node, so a node is not reported down only
        because it has not been asked yet."""
        self._first_round.wait(3 * self.timeout + self.every)
        with self._lock:
            readings, names = dict(self._readings), dict(self._names)
        now = time.time()
        return {"network": network_record(readings, names, now, self._down_since)}

    def conditions(self, records: dict):
        """An ``error`` alert per watched node that is down, asserted while it stays down."""
        for row in (records.get("network") or {}).get("nodes", ()):
            if row["status"] == "down":
                details = {"node": row["name"], "url": row["address"], "error": row.get("error")}
                details["down_since"] = row["down_since"]
                yield ("error", "network", f"Node {row['name']} is down", details)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._pool.shutdown(wait=False, cancel_futures=True)
