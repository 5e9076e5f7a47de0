"""Benchmark of the HTTP API: prints figures, asserts nothing.

1. For each demo size in ``--http-nodes`` (default 5 and 100): one real ``streamlit run`` server
   (the st.App wiring of streamlit_app.py, via tests/fixtures/api_app.py) loaded with ``wrk``
   (Debian package ``wrk``; a Python keep-alive load generator when it is missing, said so in
   the output) on ``/api/metrics``, ``/metrics``, ``/health`` and, as the peer, Streamlit's own
   ``/_stcore/health``, interleaved in rounds, so every ratio comes from one run on one
   machine. Then: the collector's tick time and missed ticks during that load (from its own
   ``collector`` history), and the median time to first byte of ``/metrics`` beside the
   peer's, with sequential requests.
2. Server time of a ``/metrics`` scrape with 100 demo nodes: ``generate_latest`` on the
   API's registry, in-process, for ``detail=basic`` (the default) and ``detail=full``.

Run from the repo root: ``python bench/bench_api.py [--seconds 10] [--rounds 3] [--http-nodes 5,100]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.fixtures.server import StreamlitServer  # noqa: E402

CONNECTIONS = 32


def wrk(url: str, seconds: float) -> tuple[float, float]:
    """(requests/s, p99 ms) from one wrk run."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    return rate, p99


def python_load(url: str, seconds: float) -> tuple[float, float]:
    """Fallback: CONNECTIONS keep-alive threads with http.client; (requests/s, p99 ms)."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def worker():
        conn = http.client.HTTPConnection(host, int(port))
        mine = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            conn.request("GET", path)
            conn.getresponse().read()
            mine.append((time.perf_counter() - t) * 1000)
        latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return len(latencies) / seconds, latencies[int(len(latencies) * 0.99)]


def collector_record(url: str) -> dict:
    return requests.get(url + "/api/metrics", timeout=30).json()["collector"]


def ttfb(url: str, count: int) -> float:
    """Median time to first byte (request sent -> status line and headers read), ms, one
    keep-alive connection, requests in sequence."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    conn = http.client.HTTPConnection(host, int(port))
    times = []
    for _ in range(count):
        t = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        times.append((time.perf_counter() - t) * 1000)
        response.read()
        time.sleep(0.01)  # pacing: ~100 scrapes/s, not a load test
    conn.close()
    return statistics.median(times)


def http_bench(seconds: float, rounds: int, nodes: int) -> None:
    """Throughput of the API beside Streamlit's own health route on one server with ``nodes``
    demo nodes (0: demo off), the collector's tick time during the load, missed ticks, and
    the time to first byte of ``/metrics`` beside the health route's."""
    load = wrk if shutil.which("wrk") else python_load
    tool = "wrk -t1 -c32" if load is wrk else "Python http.client, 32 keep-alive threads (wrk not installed)"
    env = {"PRSM_METRICS_INTERVAL": "1", "PRSM_DEMO": "true" if nodes else "false"}
    if nodes:
        env["PRSM_DEMO_NODES"] = str(nodes)
    server = StreamlitServer(env=env).wait(timeout=180)
    try:
        base = server.url
        deadline = time.monotonic() + 120
        while nodes:  # every node up and one window of reports behind us
            network = requests.get(base + "/api/metrics", timeout=30).json()["network"]
            if network and network["active_nodes"] == nodes and (network["window_seconds"] or 0) >= 5:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo network did not come up: {network}")
            time.sleep(0.5)
        for path in ("/api/metrics", "/metrics", "/health", "/_stcore/health", "/_stcore/metrics"):
            requests.get(base + path, timeout=30)  # warm up
        size = len(requests.get(base + "/api/metrics", timeout=30).content)
        paths = ["/api/metrics", "/metrics", "/health", "/_stcore/health"]
        demo = f"on ({nodes} nodes)" if nodes else "off"
        print(f"\n## HTTP on one `streamlit run` server, demo {demo}; load: {tool}")
        print(f"/api/metrics body: {size} bytes; {rounds} rounds of {seconds:g} s per endpoint, interleaved\n")
        results: dict[str, list[tuple[float, float]]] = {p: [] for p in paths}
        start = collector_record(base)
        started_at = time.time()
        for _ in range(rounds):
            for path in paths:
                results[path].append(load(base + path, seconds))
        end = collector_record(base)
        peer = statistics.median(r for r, _ in results["/_stcore/health"])
        print("| endpoint | requests/s (median) | x peer | p99 ms (median) | runs (req/s) |")
        print("|---|---|---|---|---|")
        for path, runs in results.items():
            rate = statistics.median(r for r, _ in runs)
            p99 = statistics.median(p for _, p in runs)
            each = ", ".join(f"{r:.0f}" for r, _ in runs)
            print(f"| `{path}` | {rate:,.0f} | {rate / peer:.2f} | {p99:.1f} | {each} |")
        minutes = (time.time() - started_at) / 60 + 0.1
        ticks = requests.get(f"{base}/api/historical/collector?minutes={minutes:.2f}", timeout=30).json()["data"]
        durations = sorted(r["tick_duration_ms"] for r in ticks if r["tick_duration_ms"] is not None)
        print(
            f"\ncollector during the load: {end['ticks_total'] - start['ticks_total']:.0f} ticks, "
            f"{end['missed_ticks_total'] - start['missed_ticks_total']:.0f} missed; tick time median "
            f"{statistics.median(durations):.2f} ms, p95 {durations[int(len(durations) * 0.95)]:.2f} ms"
        )
        metrics_ttfb = ttfb(base + "/metrics", 300)
        peer_ttfb = ttfb(base + "/_stcore/health", 300)
        print(
            f"time to first byte, median of 300 sequential requests: /metrics {metrics_ttfb:.2f} ms, "
            f"/_stcore/health {peer_ttfb:.2f} ms (difference {metrics_ttfb - peer_ttfb:+.2f} ms)"
        )
    finally:
        server.stop()


def scrape_bench(nodes: int, repeats: int) -> None:
    from prometheus_client import generate_latest

    from prsm_monitor.api.exposition import LatestSnapshot, make_registry
    from prsm_monitor.core.collector import MetricsCollector
    from prsm_monitor.settings.model import Settings

    print(f"\n## /metrics server time with {nodes} demo nodes (in-process generate_latest)\n")
    try:
        collector = MetricsCollector(settings=Settings(demo=True, demo_nodes=nodes, interval=1.0))
    except ImportError as error:
        print(f"demo network not available: {error}")
        return
    collector.start()
    try:
        deadline = time.monotonic() + 120
        while True:
            network = collector.get_latest_metrics()["network"]
            if network and network["active_nodes"] == nodes:
                break
            if time.monotonic() > deadline:
                print(f"the demo network did not come up: {network and network['active_nodes']} of {nodes} nodes")
                return
            time.sleep(0.2)
        snapshot = LatestSnapshot(lambda: collector)
        registries = {
            "basic": make_registry(lambda: collector, snapshot=snapshot),
            "full": make_registry(lambda: collector, full=True, snapshot=snapshot),
        }
        generate_latest(registries["basic"])  # attaches the snapshot plugin
        ticks = collector.get_latest_metrics()["collector"]["ticks_total"]
        while collector.get_latest_metrics()["collector"]["ticks_total"] < ticks + 2:
            time.sleep(0.05)
        print("| what | median ms | p95 ms | samples | bytes |")
        print("|---|---|---|---|---|")
        for name, registry in registries.items():
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                body = generate_latest(registry)
                times.append((time.perf_counter() - t) * 1000)
            samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            times.sort()
            print(
                f"| `/metrics?detail={name}` generate_latest | {statistics.median(times):.2f} | "
                f"{times[int(len(times) * 0.95)]:.2f} | {samples} | {len(body)} |"
            )
        times = []
        for _ in range(max(10, repeats // 5)):
            t = time.perf_counter()
            collector.get_latest_metrics()
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"| for reference: `collector.get_latest_metrics()` (its deep copy) | {statistics.median(times):.2f} | "
            f"{times[int(len(times) * 0.95)]:.2f} | | |"
        )
    finally:
        collector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per endpoint")
    parser.add_argument("--nodes", type=int, default=100, help="demo nodes for the scrape timing")
    parser.add_argument("--repeats", type=int, default=200, help="scrapes timed")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-scrape", action="store_true")
    parser.add_argument(
        "--http-nodes", default="5,100", help="demo sizes of the HTTP runs, comma-separated (0: demo off)"
    )
    args = parser.parse_args()
    print(f"# bench_api: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other processes share this machine)")
    if not args.skip_http:
        for nodes in (int(n) for n in args.http_nodes.split(",")):
            http_bench(args.seconds, args.rounds, nodes)
    if not args.skip_scrape:
        scrape_bench(args.nodes, args.repeats)


if __name__ == "__main__":
    main()
