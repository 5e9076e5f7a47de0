"""prsm-monitor core vs the naive collector, side by side in one run.

    python bench/bench_core.py

Prints per-tick cost, bytes per stored point and 24-hour range-query time for ours and
for bench/naive.py, with the ratio (naive / ours) and the targets of issue 2. Never asserts.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import psutil  # noqa: E402
from naive import NaiveCollector, SystemMetrics  # noqa: E402

from prsm_monitor.core.collector import MetricsCollector  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402
from prsm_monitor.sources import system  # noqa: E402
from prsm_monitor.sources.system import SystemSource  # noqa: E402

# Ticks here come faster than 0.1 s apart, where the source would skip the CPU reading (too
# short a span to mean anything): make it read CPU on every tick, as it does at 1 Hz.
system.MIN_CPU_SPAN = 0.0
from prsm_monitor.store import HistoryStore  # noqa: E402

REF9 = [f.name for f in SystemMetrics.__dataclass_fields__.values()]
TICKS = 300
MEM_POINTS = 100_000
DAY = 86_400
QUERY_RUNS = 50

rows: list[tuple[str, str, str, str, str]] = []  # what, ours, naive, naive/ours, target


def ms(ns: float) -> str:
    return f"{ns / 1e6:.3f} ms"


def stats(samples: list[int]) -> dict[str, float]:
    s = sorted(samples)
    return {"median": statistics.median(s), "p95": s[int(0.95 * (len(s) - 1))], "mean": statistics.fmean(s)}


def row(what, ours, naive=None, target="", fmt=ms):
    ratio = f"{naive / ours:.1f}x" if naive is not None and ours else ""
    rows.append((what, fmt(ours), fmt(naive) if naive is not None else "", ratio, target))


def time_round_robin(fns: dict, n: int, warmup: int = 20) -> dict[str, list[int]]:
    """Call every function once per round, interleaved, so machine noise hits all alike."""
    out = {k: [] for k in fns}
    for i in range(warmup + n):
        for k, fn in fns.items():
            t = time.perf_counter_ns()
            fn()
            dt = time.perf_counter_ns() - t
            if i >= warmup:
                out[k].append(dt)
    return out


def time_runs(fn, n: int, warmup: int = 3) -> list[int]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        fn()
        out.append(time.perf_counter_ns() - t)
    return out


def time_spaced(fns: dict, n: int, gap: float) -> dict[str, list[int]]:
    """Like a real 1 Hz collector: each call comes after a sleep, with cold caches."""
    out = {k: [] for k in fns}
    for _ in range(n):
        for k, fn in fns.items():
            time.sleep(gap)
            t = time.perf_counter_ns()
            fn()
            out[k].append(time.perf_counter_ns() - t)
    return out


def fake_point(rng: random.Random, ts: float) -> dict:
    """Realistic values: floats as psutil gives them, an int count of connections."""
    return {
        "timestamp": ts,
        "cpu_percent": round(rng.uniform(0, 100), 1),
        "memory_percent": round(rng.uniform(20, 90), 1),
        "memory_used_gb": rng.uniform(1, 7),
        "memory_total_gb": 7.75 + rng.random() * 1e-9,  # recomputed each tick: a new float
        "disk_percent": round(rng.uniform(40, 60), 1),
        "network_sent_mb": 1000 + ts * 1e-3,
        "network_recv_mb": 5000 + ts * 2e-3,
        "active_connections": rng.randint(20, 600),
    }


# -- 1. per-tick cost ----------------------------------------------------------------------
def bench_ticks() -> None:
    fast = SystemSource()  # 5 s slow cadence: back-to-back ticks are fast ticks
    slow = SystemSource(slow_seconds=0)  # slow values re-read on every tick
    coll = MetricsCollector(settings=Settings(demo=False), sources=[SystemSource()])
    coll_slow = MetricsCollector(settings=Settings(demo=False), sources=[SystemSource(slow_seconds=0)])
    naive = NaiveCollector(max_history=1000)
    t = time_round_robin(
        {
            "fast": fast.collect,
            "slow": slow.collect,
            "coll": coll.collect_once,
            "coll_slow": coll_slow.collect_once,
            "naive": naive.collect_once,
        },
        TICKS,
    )
    s = {k: stats(v) for k, v in t.items()}
    sp = {k: stats(v) for k, v in time_spaced({"fast": fast.collect, "naive": naive.collect_once}, 50, 0.02).items()}
    nv = s["naive"]
    # At 1 Hz with the 5 s slow cadence, one tick in five is a slow one.
    amort = (4 * s["fast"]["mean"] + s["slow"]["mean"]) / 5
    amort_coll = (4 * s["coll"]["mean"] + s["coll_slow"]["mean"]) / 5
    row("SystemSource.collect, fast tick, median", s["fast"]["median"], nv["median"], "<= 0.5 ms, >= 10x")
    row("  fast tick, p95", s["fast"]["p95"], nv["p95"])
    row("  fast tick, mean", s["fast"]["mean"], nv["mean"])
    row("  fast tick, 20 ms apart, median", sp["fast"]["median"], sp["naive"]["median"])
    row("  slow tick (every 5 s), median", s["slow"]["median"], nv["median"])
    row("  mean at 1 Hz (4 fast + 1 slow)", amort, nv["mean"])
    row("collector.collect_once, fast, median", s["coll"]["median"], nv["median"])
    row("  collect_once, fast, p95", s["coll"]["p95"], nv["p95"])
    row("  collect_once, slow, median", s["coll_slow"]["median"], nv["median"])
    row("  collect_once mean at 1 Hz", amort_coll, nv["mean"])
    coll.close()
    coll_slow.close()


# -- 2. bytes per stored point ---------------------------------------------------------------
def traced(build):
    """Bytes still allocated after ``build()`` returns what it built (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = build()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, kept


def bench_memory() -> None:
    def ours():
        rng = random.Random(1)
        store = HistoryStore(MEM_POINTS)
        store.declare("system", REF9)
        for i in range(MEM_POINTS):
            store.append("system", fake_point(rng, 1.7e9 + i))
        return store

    def naive():
        rng = random.Random(1)
        history = deque(maxlen=MEM_POINTS)
        for i in range(MEM_POINTS):
            history.append(SystemMetrics(**fake_point(rng, 1.7e9 + i)))
        return history

    b_ours, _ = traced(ours)
    b_naive, _ = traced(naive)
    per = lambda b: f"{b:.1f} B"  # noqa: E731
    row(f"bytes/point, 9 fields, {MEM_POINTS:,} pts", b_ours / MEM_POINTS, b_naive / MEM_POINTS, "<= 72 B", per)


# -- 3. 24-hour range query ------------------------------------------------------------------
def filled_store(names: list[str], end: float) -> HistoryStore:
    rng = random.Random(2)
    store = HistoryStore(DAY)
    store.declare("system", names)
    extra = [n for n in names if n not in REF9]
    for i in range(DAY):
        rec = fake_point(rng, end - DAY + 1 + i)
        rec.update({n: rng.uniform(0, 100) for n in extra})
        store.append("system", rec)
    return store


def bench_query() -> None:
    end = time.time()
    start = end - DAY
    all_fields = [f.name for f in SystemSource().fields["system"]]
    s9 = filled_store(REF9, end)
    sall = filled_store(all_fields, end)
    naive = NaiveCollector(max_history=DAY)
    rng = random.Random(2)
    for i in range(DAY):
        naive.history.append(SystemMetrics(**fake_point(rng, end - DAY + 1 + i)))

    q9 = stats(time_runs(lambda: s9.query("system", start, end, max_points=1000), QUERY_RUNS))
    qall = stats(time_runs(lambda: sall.query("system", start, end, max_points=1000), QUERY_RUNS))
    qall_raw = stats(time_runs(lambda: sall.query("system", start, end), QUERY_RUNS))
    n_day = stats(time_runs(lambda: naive.get_historical_data(24 * 60, now=end), 5, warmup=1))
    n_1k = stats(time_runs(lambda: naive.get_historical_data(1000 / 60, now=end), QUERY_RUNS))
    got = len(s9.query("system", start, end, max_points=1000))
    row(f"query 24 h -> {got} pts, 9 fields, median", q9["median"], n_day["median"], "<= 10 ms")
    row("  naive: last 1,000 pts only (of 24 h)", q9["median"], n_1k["median"])
    row(f"query 24 h -> 1000 pts, {len(all_fields)} fields", qall["median"], n_day["median"], "<= 10 ms")
    row(f"  same, no downsample ({DAY:,} rows)", qall_raw["median"])


def main() -> None:
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}\n"
        f"psutil {psutil.__version__}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"{TICKS} ticks interleaved, queries: median of {QUERY_RUNS} (naive 24 h: of 5)\n"
    )
    bench_ticks()
    bench_memory()
    bench_query()
    widths = [max(len(r[i]) for r in rows + [("what", "ours", "naive", "naive/ours", "target")]) for i in range(5)]
    header = ("what", "ours", "naive", "naive/ours", "target")
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}  {r[4]}")


if __name__ == "__main__":
    main()
