"""Benchmark of the demo PRSM network: prints figures, asserts nothing.

For 5, 25 and 100 nodes at the default traffic (heartbeat 1 s, gossip 1/s, a consensus round
every 5 s, 5 inference requests/s, 3 links per node) it reports the frames delivered per
second and the CPU the whole process used (process CPU time / wall time, in % of one core)
over a measuring period after a warm-up, plus the CPU time one ``PrsmSource.collect()`` takes
(median of 5, on the caller's thread).
Then the start-up time of the 5-node default: ``DemoNetwork.start()``, from training the
models to the first heartbeat round answered on every link and routes converged.

Targets (issue 3): 100 nodes at most 50 % of one core; 5-node start-up under 2 s.

    python bench/bench_demo.py [--seconds 10] [--sizes 5 25 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prsm_monitor.demo.network import DemoNetwork  # noqa: E402
from prsm_monitor.sources.prsm import PrsmSource  # noqa: E402


def frames(report) -> int:
    return sum(s.frames_in for s in report.stats.values())


def measure(nodes: int, seconds: float, warmup: float) -> dict:
    net = DemoNetwork(nodes, 3, 5.0).start()
    try:
        source = PrsmSource(net, owns_network=False)
        source.collect()
        time.sleep(warmup)
        before, cpu0, wall0 = net.refresh(), time.process_time(), time.monotonic()
        time.sleep(seconds)  # the network runs on its own thread meanwhile
        after, cpu1, wall1 = net.refresh(), time.process_time(), time.monotonic()
        costs = []
        for _ in range(5):
            net.refresh()
            started = time.thread_time()  # CPU of this thread: robust on a busy machine
            source.collect()
            costs.append(time.thread_time() - started)
        return {
            "nodes": nodes,
            "links": len(net.edges),
            "messages_per_s": (frames(after) - frames(before)) / (after.timestamp - before.timestamp),
            "cpu_percent": 100.0 * (cpu1 - cpu0) / (wall1 - wall0),
            "collect_ms": 1000.0 * statistics.median(costs),
            "startup_s": net.startup_seconds,
        }
    finally:
        net.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring period per size")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 25, 100])
    parser.add_argument("--startups", type=int, default=5, help="5-node start-ups to time")
    args = parser.parse_args(argv)

    print(f"{'nodes':>5} {'links':>5} {'messages/s':>10} {'CPU % of one core':>17} {'collect() CPU ms':>16}")
    for size in args.sizes:
        r = measure(size, args.seconds, args.warmup)
        print(
            f"{r['nodes']:>5} {r['links']:>5} {r['messages_per_s']:>10.0f} "
            f"{r['cpu_percent']:>17.1f} {r['collect_ms']:>16.2f}"
        )

    startups = []
    for _ in range(args.startups):
        net = DemoNetwork()  # the 5-node default
        started = time.perf_counter()
        net.start()
        startups.append(time.perf_counter() - started)
        net.stop()
    print(
        f"start-up of the 5-node default (models trained, first heartbeat round done): "
        f"median {statistics.median(startups):.3f} s, max {max(startups):.3f} s over {len(startups)} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
