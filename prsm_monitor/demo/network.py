"""DemoNetwork: N real nodes on loopback, in one background thread running one asyncio loop.

``DemoNetwork(nodes=5, peers=3, rate=5.0).start()`` trains the models, starts every node's
server on 127.0.0.1 (OS-assigned ports), links them in a connected random topology (a
random ring plus random links until each node has ``peers`` of them, where possible), waits
until every link has said hello and measured its first round trip and routes have
converged, then starts the traffic: heartbeats on every link (each node, every
``heartbeat`` s), one gossip ``announce`` every ``gossip_period`` s and one consensus round
every ``consensus_period`` s (nodes take turns), and the inference workload at ``rate``
requests/s. Every ``stats_period`` s the loop publishes an immutable
:class:`~prsm_monitor.sources.prsm.report.NetworkReport`; :meth:`report` hands out the latest from any thread.

Faults (:class:`~.faults.NetworkFaults`) are one call each, reversible, and thread-safe
(they run on the loop through :meth:`DemoNetwork._call` and return when applied).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

from ..sources.prsm.report import NetworkReport, NodeInfo
from .faults import NetworkFaults
from .models import build_catalog
from .node import Node, next_beat
from .node_api import NodeApi
from .peers import Directory, NodeConfig
from .protocol import MAX_FRAME
from .workload import Workload


def random_topology(names: list[str], peers: int, rng: random.Random) -> list[tuple[str, str]]:
    """Undirected links: a random ring (or a single link for two nodes), then random extra
    links for nodes with fewer than ``peers``. Connected by construction."""
    order = names[:]
    rng.shuffle(order)
    edges: set[tuple[str, str]] = set()
    if len(order) > 1:
        pairs = zip(order, order[1:] + order[:1], strict=True) if len(order) > 2 else [(order[0], order[1])]
        edges = {tuple(sorted(p)) for p in pairs}
    degree = {n: 0 for n in names}
    for a, b in edges:
        degree[a] += 1
        degree[b] += 1
    for a in order:
        candidates = [b for b in names if b != a and tuple(sorted((a, b))) not in edges]
        rng.shuffle(candidates)
        candidates.sort(key=degree.__getitem__)  # prefer peers that need links too
        while degree[a] < peers and candidates:
            b = candidates.pop(0)
            edges.add(tuple(sorted((a, b))))
            degree[a] += 1
            degree[b] += 1
    return sorted(edges)


def assign_models(names: list[str], models: list[str], rng: random.Random) -> dict[str, tuple[str, ...]]:
    """1 to 3 models per node; every model is hosted somewhere when there are enough nodes."""
    hosted = {}
    for i, name in enumerate(names):
        chosen = {models[i % len(models)]}
        extra = [m for m in models if m not in chosen]
        rng.shuffle(extra)
        chosen.update(extra[: rng.randint(0, 2)])
        hosted[name] = tuple(sorted(chosen))
    return hosted


class DemoNetwork(NetworkFaults):
    """A demo PRSM network. Times are in seconds; ``None`` timings derive from ``heartbeat``:
    ``link_timeout`` 3x, ``gossip_period`` and ``stats_period`` 1x, ``consensus_period`` 5x,
    ``consensus_timeout`` 2x."""

    def __init__(
        self,
        nodes: int = 5,
        peers: int = 3,
        rate: float = 5.0,
        *,
        seed: int = 0,
        heartbeat: float = 1.0,
        link_timeout: float | None = None,
        gossip_period: float | None = None,
        consensus_period: float | None = None,
        consensus_timeout: float | None = None,
        inference_timeout: float = 5.0,
        queue_limit: int = 100,
        service_scale: float = 1.0,
        stats_period: float | None = None,
        max_frame: int = MAX_FRAME,
        names: list[str] | tuple[str, ...] | None = None,
        node_api: bool = False,
    ):
        if nodes < 1 or peers < 1 or rate < 0 or heartbeat <= 0:
            raise ValueError("need nodes >= 1, peers >= 1, rate >= 0 and heartbeat > 0")
        self.size = nodes
        self.peers = peers
        self.base_rate = float(rate)
        self.seed = seed
        self.config = NodeConfig(
            heartbeat=heartbeat,
            link_timeout=link_timeout or 3 * heartbeat,
            consensus_timeout=consensus_timeout or 2 * heartbeat,
            inference_timeout=inference_timeout,
            queue_limit=queue_limit,
            service_scale=service_scale,
            max_frame=max_frame,
        )
        self.gossip_period = gossip_period or heartbeat
        self.consensus_period = consensus_period or 5 * heartbeat
        self.stats_period = stats_period or heartbeat
        self.node_api = node_api  # each node also serves a PRSM node's management API (node_api.py)
        width = len(str(nodes - 1))
        self.names = list(names) if names else [f"node-{i:0{width}d}" for i in range(nodes)]
        if len(self.names) != nodes or len(set(self.names)) != nodes:
            raise ValueError(f"names={names!r}: expected {nodes} different names")
        self.nodes: dict[str, Node] = {}
        self.edges: list[tuple[str, str]] = []
        self.startup_seconds: float | None = None  # start(): models trained to first heartbeat round done
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._report: NetworkReport | None = None
        self._listeners: tuple = ()  # called on the loop's thread after each report is published
        self._workload: Workload | None = None
        self._partition: tuple[list[str], list[str]] | None = None

    @classmethod
    def from_settings(cls, settings, **options) -> DemoNetwork:
        """A network (not started yet) as the ``PRSM_DEMO_*`` settings describe it."""
        nodes = len(settings.demo_names) or settings.demo_nodes
        return cls(nodes, settings.demo_peers, settings.demo_rate, names=settings.demo_names or None, **options)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> DemoNetwork:
        """Build, start and wait until ready (see the module doc). Idempotent."""
        if self._thread is not None:
            return self
        started = time.perf_counter()
        rng = random.Random(self.seed)
        tasks, trained = build_catalog(self.seed)
        self.edges = random_topology(self.names, self.peers, rng)
        hosted = assign_models(self.names, sorted(trained), rng)
        directory = Directory()
        for name in self.names:
            linked = {b for a, b in self.edges if a == name} | {a for a, b in self.edges if b == name}
            directory.peers[name] = tuple(sorted(linked))
            directory.models[name] = hosted[name]
        self.directory = directory
        self.nodes = {
            name: Node(name, {m: trained[m] for m in hosted[name]}, directory, self.config, seed=self.seed * 7919 + i)
            for i, name in enumerate(self.names)
        }
        if self.node_api:
            for node in self.nodes.values():
                node.api = NodeApi(node)
        self._workload = Workload(self.nodes, tasks, self.base_rate, self.seed + 1)
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="prsm-demo-network", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            error = self._error
            self.stop()
            raise RuntimeError(f"the demo network did not start: {error or 'timeout'}") from error
        self.startup_seconds = time.perf_counter() - started
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every node and task, close every socket and the loop, join the thread. Idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if loop is not None and thread.is_alive():
            try:
                loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:  # the loop already closed
                pass
        thread.join(timeout)
        self._thread = None
        self._loop = None

    close = stop

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    def __enter__(self) -> DemoNetwork:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._background: list[asyncio.Task] = []
        try:
            await self._boot()
            self._ready.set()
            await self._stopping.wait()
        finally:
            for task in self._background:
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            await asyncio.gather(*(node.stop() for node in self.nodes.values()), return_exceptions=True)

    async def _boot(self) -> None:
        nodes = list(self.nodes.values())
        for node in nodes:
            await node.listen()
        for node in nodes:
            node.activate(first_heartbeat=False)
        await self._until(lambda: all(link.up for n in nodes for link in n.links.values()), "links up")
        for node in nodes:
            node.heartbeat()
        await self._until(lambda: all(link.rtt_count for n in nodes for link in n.links.values()), "first heartbeats")
        hosted = set(self._workload.models)
        await self._until(lambda: all(set(n.routing.best) >= hosted for n in nodes), "routes")
        self._publish()
        loop = self._loop
        for coro in (self._publisher(), self._gossip(), self._consensus(), self._workload.run()):
            self._background.append(loop.create_task(coro))

    async def _until(self, predicate, what: str, timeout: float = 30.0) -> None:
        deadline = self._loop.time() + timeout
        while not predicate():
            if self._loop.time() > deadline:
                raise TimeoutError(f"start-up: {what} not reached in {timeout:g} s")
            await asyncio.sleep(0.002)

    # -- periodic work --------------------------------------------------------------------
    def _turns(self):
        """The running nodes in turn, forever (None while no node runs)."""
        i = 0
        while True:
            live = [n for n in self.nodes.values() if n.running]
            yield live[i % len(live)] if live else None
            i += 1

    async def _gossip(self) -> None:
        turns = self._turns()
        while True:
            await next_beat(self.gossip_period)
            node = next(turns)
            if node is not None:
                node.flood("announce", {"load": len(node.host_service.queue)})

    async def _consensus(self) -> None:
        turns = self._turns()
        while True:
            await next_beat(self.consensus_period)
            node = next(turns)
            if node is not None:
                node.consensus.propose()

    async def _publisher(self) -> None:
        while True:
            await next_beat(self.stats_period)
            self._publish()

    def _publish(self) -> None:
        directory = {
            name: NodeInfo(name, f"{node.host}:{node.port}", self.directory.peers[name], tuple(node.models))
            for name, node in self.nodes.items()
        }
        stats = {name: node.stats() for name, node in self.nodes.items() if node.running}
        self._report = NetworkReport(time.time(), directory, stats, self._faults())
        for listener in self._listeners:
            listener()

    # -- reading --------------------------------------------------------------------------
    def report(self) -> NetworkReport | None:
        """The latest published report (at most ``stats_period`` old), or None when the network
        is not running; cheap, from any thread."""
        return self._report if self.running else None

    def add_report_listener(self, listener) -> None:
        """Call ``listener()`` after each report is published, on the loop's thread: it must
        return at once (e.g. ``threading.Event.set``), so that a reader can wait for the next
        report instead of polling :meth:`report`."""
        self._listeners += (listener,)

    def remove_report_listener(self, listener) -> None:
        self._listeners = tuple(f for f in self._listeners if f != listener)  # == : bound methods are made anew

    def refresh(self, timeout: float = 5.0) -> NetworkReport:
        """Publish a report now and return it (waits for the loop)."""
        self._call(self._publish, timeout=timeout)
        return self._report

    def node(self, name: str) -> Node:
        if name not in self.nodes:
            raise KeyError(f"no node {name!r}: expected one of {', '.join(self.names)}")
        return self.nodes[name]

    def api_urls(self) -> list[str]:
        """Base URLs of the nodes' management APIs (started with ``node_api=True``), in name order."""
        return [self.nodes[name].api.url for name in self.names if self.nodes[name].api is not None]

    def address(self, name: str) -> tuple[str, int]:
        node = self.node(name)
        return node.host, node.port

    @property
    def models(self) -> list[str]:
        """Names of the models some node hosts."""
        return list(self._workload.models) if self._workload else []

    # -- faults ---------------------------------------------------------------------------
    def _call(self, fn, *args, timeout: float = 30.0):
        if not self.running:
            raise RuntimeError("the demo network is not running")
        if threading.current_thread() is self._thread:
            raise RuntimeError("call DemoNetwork methods from another thread than its loop's")

        async def apply():
            result = fn(*args)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(apply(), self._loop).result(timeout)
