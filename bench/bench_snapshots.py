"""Bytes the pages' past costs: snapshots (store/snapshots.py) of a demo collector with its history on disk.

Usage: ``python bench/bench_snapshots.py [--seconds 60] [--nodes 5]``. Prints the snapshots
written, their compressed bytes by tier, and a day's cost at that rate (docs/history.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prsm_monitor import MetricsCollector  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--nodes", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        collector = MetricsCollector(settings=Settings(demo=True, demo_nodes=args.nodes, data_dir=directory))
        collector.start()
        time.sleep(args.seconds)  # a measurement window, not a synchronisation
        collector.stop()
        with collector.store.writer.db.reading() as conn:
            rows = conn.execute("SELECT tier, count(*), sum(length(data)) FROM snapshots GROUP BY tier").fetchall()
            series = conn.execute("SELECT sum(length(data)) FROM chunks").fetchone()[0] or 0
        collector.store.close()
    total = sum(size for _, _, size in rows)
    print(f"{args.seconds:.0f} s, {args.nodes}-node demo at 1 s: snapshots by tier (count, bytes, mean)")
    for tier, count, size in rows:
        print(f"  tier {tier}: {count}, {size} B, {size / count:.0f} B each")
    print(f"  all: {total} B, {total / args.seconds * 86400 / 2**20:.1f} MiB a day at this rate")
    print(f"  series chunks closed meanwhile: {series} B")


if __name__ == "__main__":
    main()
