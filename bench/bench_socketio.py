"""Benchmark of Socket.IO at /socket.io/: prints figures, asserts nothing.

A collector with the demo network (``--nodes``, default 5) and the API with its Socket.IO
server run in this process under uvicorn (the same wiring as ``streamlit_app.py``: the SSE
hub feeds Socket.IO). ``--clients`` python-socketio clients (default 200, WebSocket) connect
from a second process. The collector ticks every ``--interval`` s; per tick it measures:

- **encode**: the hub listener on the collector's thread (each event JSON-encoded once);
- **broadcast**: on the event loop, from the first emit until every client's frame is
  written (wall time and the loop thread's CPU time);
- **bytes per client**: the WebSocket payload each client gets per tick (``42["event",...]``
  packets plus frame headers), from the encoded packets;
- the collector's own tick time, with no client and with all clients connected.

Before/after in the same run: ticks alternate between the shipped broadcast (each event
encoded once, on the collector's thread, spliced into every packet) and python-socketio's
plain ``emit(name, data)`` (encoded on the event loop per emit), so both see the same machine.
The clients report how many ``metrics_update`` events each received: a tick lost to a client
shows up there.

Run from the repo root: ``python bench/bench_socketio.py [--clients 200] [--ticks 30] [--nodes 5]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_clients(url: str, count: int, ready, stop, results) -> None:
    """The clients' process: connect ``count`` clients, count events until ``stop``."""
    import socketio

    counts = [0] * count
    clients = []
    for i in range(count):
        client = socketio.Client(reconnection=False)

        def on_metrics(_data, i=i):
            counts[i] += 1

        client.on("metrics_update", on_metrics)
        client.connect(url, transports=["websocket"], wait_timeout=30)
        clients.append(client)
    ready.set()
    stop.wait()
    results.put(counts)
    for client in clients:
        threading.Thread(target=client.disconnect, daemon=True).start()


def ws_bytes(text: str) -> int:
    """Bytes of one server-to-client WebSocket text frame carrying ``text``."""
    size = len(text.encode())
    return size + (2 if size < 126 else 4 if size < 65536 else 10)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--ticks", type=int, default=30, help="ticks measured with the clients connected")
    parser.add_argument("--nodes", type=int, default=5, help="demo network size (sets the payload)")
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args()

    from starlette.applications import Starlette

    from prsm_monitor.api import Api, FixedCollector, middleware, socketio_middleware
    from prsm_monitor.api.socket_io import Encoded, PacketJson
    from prsm_monitor.core.collector import MetricsCollector
    from prsm_monitor.settings.model import Settings
    from tests.fixtures.server import InProcessServer

    print(f"# {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"# load average {os.getloadavg()[0]:.2f} (a shared machine: figures vary with other work)")
    settings = Settings(demo=True, demo_nodes=args.nodes, interval=args.interval)
    collector = MetricsCollector(settings=settings)
    api = Api(FixedCollector(collector))
    app = Starlette(routes=api.routes, middleware=[*middleware(settings), socketio_middleware(api, settings)])
    server = InProcessServer(app).__enter__()
    sio_server = api.socketio

    samples = {"encode": [], "shipped": [], "plain": [], "shipped_cpu": [], "plain_cpu": [], "bytes": []}
    state = {"tick": 0, "measure": False}
    original_broadcast = sio_server.broadcast

    def timed_listener(events):  # the collector's thread
        started = time.perf_counter()
        sio_server.on_events_original(events)
        if state["measure"]:
            samples["encode"].append(time.perf_counter() - started)

    def PacketJson_loads(payload: Encoded):  # noqa: N802 - back to the data python-socketio would get
        return PacketJson.loads(payload.text)

    async def timed_broadcast(encoded):  # the event loop
        if not state["measure"]:
            return await original_broadcast(encoded)
        state["tick"] += 1
        mode = "shipped" if state["tick"] % 2 else "plain"
        if mode == "plain":
            decoded = [(name, PacketJson_loads(p)) for name, p in encoded]  # undo the thread's work first
        wall, cpu = time.perf_counter(), time.thread_time()
        if mode == "shipped":
            await original_broadcast(encoded)
        else:
            for name, data in decoded:
                await sio_server.sio.emit(name, data)
        samples[mode].append(time.perf_counter() - wall)
        samples[f"{mode}_cpu"].append(time.thread_time() - cpu)
        samples["bytes"].append(sum(ws_bytes("42" + PacketJson.dumps([name, p])) for name, p in encoded))

    sio_server.on_events_original = sio_server.on_events
    sio_server.on_events = timed_listener
    sio_server.broadcast = timed_broadcast

    collector.start()
    time.sleep(3 * args.interval)  # pacing: let the demo network warm up, not synchronisation
    alone = collector.history("collector", 1)["tick_duration_ms"].dropna().tolist()

    context = multiprocessing.get_context("spawn")
    ready, stop, results = context.Event(), context.Event(), context.Queue()
    clients = context.Process(target=run_clients, args=(server.url, args.clients, ready, stop, results))
    connect_started = time.perf_counter()
    clients.start()
    if not ready.wait(300):
        raise SystemExit("the clients did not connect")
    print(f"# {args.clients} clients connected in {time.perf_counter() - connect_started:.1f} s")
    ticks_before = collector.history("collector", 60)["ticks_total"].max()
    state["measure"] = True
    deadline = time.monotonic() + 120
    while len(samples["shipped"]) + len(samples["plain"]) < args.ticks and time.monotonic() < deadline:
        time.sleep(args.interval)  # pacing the wait for ticks; the loop ends on the count
    state["measure"] = False
    frame = collector.history("collector", 5)
    with_clients = frame[frame["ticks_total"] > ticks_before]["tick_duration_ms"].dropna().tolist()
    missed = frame["missed_ticks_total"].max()
    stop.set()
    counts = results.get(timeout=60)
    clients.join(30)
    server.__exit__(None, None, None)
    collector.close()

    ms = 1000.0
    print(f"\n{'per tick, ' + str(args.clients) + ' clients, ' + str(args.nodes) + ' demo nodes':<58} median      p95")
    rows = (
        ("encode on the collector thread (once per event)", samples["encode"]),
        ("broadcast, shipped (encoded once), wall", samples["shipped"]),
        ("broadcast, shipped, event-loop CPU", samples["shipped_cpu"]),
        ("broadcast, plain emit (encoded per emit on the loop), wall", samples["plain"]),
        ("broadcast, plain emit, event-loop CPU", samples["plain_cpu"]),
        ("collector tick, no client", [v / ms for v in alone]),
        ("collector tick, clients connected", [v / ms for v in with_clients]),
    )
    for label, values in rows:
        print(f"{label:<58} {statistics.median(values) * ms:7.2f} ms {percentile(values, 0.95) * ms:7.2f} ms")
    per_client = statistics.median(samples["bytes"])
    print(f"{'bytes per client per tick (WebSocket payload + frame headers)':<58} {per_client:7.0f} B")
    print(f"{'bytes per tick, all clients':<58} {per_client * args.clients / 1024:7.0f} KiB")
    print(
        f"missed collector ticks: {missed:.0f}; metrics_update received per client: "
        f"min {min(counts)}, median {statistics.median(counts):.0f}, max {max(counts)}"
    )


if __name__ == "__main__":
    main()
