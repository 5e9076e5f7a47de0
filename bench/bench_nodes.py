"""Benchmark of the node source against a node that drips (issue 22, item 1): prints figures,
asserts nothing.

A collector at a 0.5 s interval watches two fixture nodes (tests/fixtures/prsm_nodes.py) with
the node source's default settings (poll every 1 s, 2 s per request, 4 s per poll): ``plain``
answers at once; ``drip`` answers its first 5 polls, then sends the headers of ``/status`` and
one byte every 0.2 s (each read within the per-read timeout, the whole answer minutes long).
Over ``--seconds`` it prints the ticks run and missed, the tick time (median and max), how long
after the first drip the node's "is down" alert came, and the alerts active at the end.

Run from the repo root: ``python bench/bench_nodes.py [--seconds 30]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prsm_monitor.core.collector import MetricsCollector  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402
from prsm_monitor.sources.nodes import NodeSource  # noqa: E402
from tests.fixtures.prsm_nodes import FixtureNode  # noqa: E402

GOOD_POLLS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    plain = FixtureNode("plain", [("drip", True)])
    drip = FixtureNode("drip", [("plain", False)], behaviour="drip", drip_every=0.2, drip_after=GOOD_POLLS)
    source = NodeSource([plain.url, drip.url])
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.5), sources=[source])
    collector.start()
    durations, down_at, started = [], None, time.monotonic()
    try:
        while time.monotonic() - started < args.seconds:
            time.sleep(0.5)  # sampling the collector's own figures, not synchronising
            durations.append(collector.get_latest_metrics()["collector"]["tick_duration_ms"])
            if down_at is None and any(a["message"].endswith("is down") for a in collector.get_active_alerts()):
                down_at = time.monotonic() - started
        figures = collector.get_latest_metrics()["collector"]
        print(
            f"ticks {figures['ticks_total']:.0f}, missed {figures['missed_ticks_total']:.0f}; tick time median "
            f"{statistics.median(durations):.1f} ms, max {max(durations):.1f} ms over {args.seconds:g} s"
        )
        print(f"drip node: {GOOD_POLLS} whole answers, then dripping; 'is down' alert at {down_at:.1f} s after start")
        print("active alerts:", [a["message"] for a in collector.get_active_alerts()])
    finally:
        collector.close()
        plain.close()
        drip.close()


if __name__ == "__main__":
    main()
