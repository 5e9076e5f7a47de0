"""The on-disk history: tick cost, range queries per tier, disk use, write rate, restart time.

    python bench/bench_store.py [--live-seconds 60]

Prints one table with the targets of issue 13. Never asserts.

Long histories are **synthesized directly into the database** (a benchmark cannot wait a
year): real records of a 5-node demo network are recorded for a few seconds, then replayed
through the store's own writer with timestamps one second apart for 24 hours (raw tier and
the rollups the writer makes of it); 30 days of minute rollups and a year of hour rollups of
the system component are written as chunks built with :mod:`prsm_monitor.store.tiers` from a
synthetic signal. These exist only in the benchmark's temporary directory; the app never
shows synthesized data. Live figures (tick cost, write rate) come from real collectors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import requests  # noqa: E402

from prsm_monitor.core.collector import MetricsCollector  # noqa: E402
from prsm_monitor.demo.network import DemoNetwork  # noqa: E402
from prsm_monitor.insight.forecast import LONG_POINTS  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402
from prsm_monitor.sources.prsm import PrsmSource  # noqa: E402
from prsm_monitor.sources.system import SystemSource  # noqa: E402
from prsm_monitor.store import HistoryStore  # noqa: E402
from prsm_monitor.store.datadir import DataDir  # noqa: E402
from prsm_monitor.store.tiered import TieredStore  # noqa: E402
from prsm_monitor.store.tiers import HOUR, MINUTE, Rollup, encode_rollup  # noqa: E402
from prsm_monitor.store.writer import Writer  # noqa: E402

DAY = 86_400
RETENTION = {0: DAY, 1: 30 * DAY, 2: 365 * DAY}
rows: list[tuple[str, str, str]] = []


def row(what: str, value: str, target: str = "") -> None:
    rows.append((what, value, target))
    print(f"  {what}: {value}", flush=True)


def timed(call, runs: int) -> float:
    """Median milliseconds of ``runs`` calls after one warm-up call."""
    call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(samples)


# -- tick cost ----------------------------------------------------------------------------------
def tick_cost(network, data_dir: Path, ticks: int = 300) -> None:
    """Two collectors on the same demo network, one memory-only, one on disk, ticking in turn
    20 ms apart; each tick's own duration (``tick_duration_ms``) is compared."""
    memory = MetricsCollector(
        settings=Settings(demo=False), sources=[SystemSource(), PrsmSource(network, owns_network=False)]
    )
    disk_settings = Settings(demo=False, data_dir=str(data_dir))
    disk = MetricsCollector(settings=disk_settings, sources=[SystemSource(), PrsmSource(network, owns_network=False)])
    samples = {"memory": [], "disk": []}
    try:
        for i in range(ticks + 20):
            for name, collector in (
                (("memory", memory), ("disk", disk)) if i % 2 else (("disk", disk), ("memory", memory))
            ):
                collector.collect_once()
                if i >= 20:  # warm-up
                    samples[name].append(collector.latest("collector")["tick_duration_ms"])
                time.sleep(0.02)
    finally:
        memory.close()
        disk.close()
    mem, dsk = statistics.median(samples["memory"]), statistics.median(samples["disk"])
    row("tick, memory only (median)", f"{mem:.3f} ms")
    row("tick, with the store on disk (median)", f"{dsk:.3f} ms")
    row("tick cost of the disk store", f"{(dsk - mem) * 1000:+.0f} µs", "<= +100 µs")


# -- a day of the demo, replayed ---------------------------------------------------------------------
def record_demo(network, ticks: int = 60) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """Real records of every component (system, network, ai, collector, per node, per model)."""
    collector = MetricsCollector(
        settings=Settings(demo=False), sources=[SystemSource(), PrsmSource(network, owns_network=False)]
    )
    try:
        for _ in range(ticks):
            collector.collect_once()
            time.sleep(0.1)
        return {c: collector.store.block(c, None, None) for c in list(collector.store._rings)}
    finally:
        collector.close()


def replay_day(recorded, data_dir: Path, end: float) -> tuple[float, int]:
    """24 h at 1 Hz of the recorded rows (cycled) through the real writer; seconds taken, ticks."""
    directory = DataDir(data_dir).acquire()
    db, _ = directory.open()
    writer = Writer(db, RETENTION)
    start = end - DAY
    began = time.perf_counter()
    for i in range(DAY):
        t = start + i
        for component, (names, block) in recorded.items():
            vector = block[:, i % block.shape[1]].copy()
            vector[names.index("timestamp")] = t
            writer.put((component, names), vector)
        if i % 60 == 59:
            writer.flush(prune=False)
    writer.flush(prune=False)
    writer.close()
    directory.release()
    return time.perf_counter() - began, DAY


def tier_sizes(data_dir: Path) -> dict[int, int]:
    conn = sqlite3.connect(data_dir / "history.db")
    try:
        sizes = dict(conn.execute("SELECT tier, sum(length(data)) FROM chunks GROUP BY tier").fetchall())
        for tier, size in conn.execute("SELECT tier, sum(length(data)) FROM tail GROUP BY tier").fetchall():
            sizes[tier] = sizes.get(tier, 0) + size
        return sizes
    finally:
        conn.close()


def synthesize_rollups(data_dir: Path, end: float) -> None:
    """30 days of minute and a year of hour rollups of ``system``, before the replayed day."""
    directory = DataDir(data_dir).acquire()
    db, _ = directory.open()
    conn = db.writer
    (sid, fields_json) = conn.execute("SELECT id, fields FROM series WHERE component='system' ORDER BY id").fetchone()
    fields = len(json.loads(fields_json)) - 1
    rng = np.random.default_rng(1)
    day_start = end - DAY
    conn.execute("BEGIN")
    for tier, days in ((MINUTE, 30), (HOUR, 365)):
        first = day_start - days * DAY
        for bucket in np.arange(first, day_start, tier.span):
            ts = bucket + np.arange(int(tier.span // tier.step)) * tier.step
            mean = 50 + 20 * np.sin(ts / 7200.0)[None, :] + rng.normal(0, 1, (fields, len(ts)))
            stats = np.stack([mean - 5, mean, mean + 5, np.full_like(mean, tier.step)])
            data = encode_rollup(Rollup(ts, stats))
            conn.execute(
                "INSERT INTO chunks (tier, series, bucket, start, end, rows, codec, data) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (tier.level, sid, float(bucket), float(ts[0]), float(ts[-1]), len(ts), data),
            )
    conn.execute("COMMIT")
    db.close()
    directory.release()


def queries(data_dir: Path, end: float) -> None:
    directory = DataDir(data_dir).acquire()
    db, _ = directory.open()
    store = TieredStore(HistoryStore(1000), Writer(db, RETENTION), lock=directory)
    (fields_json,) = db.writer.execute("SELECT fields FROM series WHERE component='system'").fetchone()
    names = tuple(json.loads(fields_json))
    store.declare("system", names)
    try:
        cases = (
            ("24 h -> 1,000 points (the tier the query picks)", DAY, "<= 15 ms"),
            ("30 d -> 1,000 points", 30 * DAY, "<= 20 ms"),
            ("1 y -> 1,000 points", 365 * DAY, "<= 20 ms"),
        )
        for what, span, target in cases:
            frame = store.query("system", end - span, end, 1000)
            median = timed(lambda span=span: store.query("system", end - span, end, 1000), 20)
            row(
                f"{what}: {frame.attrs['tier']} tier, {len(frame)} rows x {len(frame.columns)} columns",
                f"{median:.1f} ms",
                target,
            )
        window = 6 * 3600  # a forecast's window: its long read, at every refit (every 10 s)
        for what, points in (("as before", LONG_POINTS), ("as now, once past the ring", window // 60)):
            frame = store.query("system", end - window, end, points)
            median = timed(lambda points=points: store.query("system", end - window, end, points), 20)
            row(
                f"a forecast's 6 h read of system, {points} points ({what}): {frame.attrs['tier']} tier, "
                f"{len(frame)} rows",
                f"{median:.1f} ms",
            )
        series = db.series("system")

        def raw_day():
            from prsm_monitor.store.ring import downsample

            block = store._raw("system", series, names, end - DAY, end, None)
            return downsample(block, 1000, names.index("timestamp"))

        median = timed(raw_day, 5)
        row(
            f"24 h from the raw tier itself ({raw_day().shape[1]} of 86,400 points, {len(names)} fields)",
            f"{median:.1f} ms",
            "<= 15 ms",
        )
    finally:
        store.close()


# -- live: write rate and restart ---------------------------------------------------------------------
def write_rate(data_dir: Path, seconds: float) -> None:
    process = psutil.Process()
    collector = MetricsCollector(settings=Settings(demo=True, demo_nodes=5, data_dir=str(data_dir)))
    try:
        collector.collect_once()
        time.sleep(2)
        before = process.io_counters().write_bytes
        began = time.monotonic()
        collector.start()
        time.sleep(seconds)
        written = process.io_counters().write_bytes - before
        elapsed = time.monotonic() - began
    finally:
        collector.close()
    row(
        f"write rate at 1 Hz, 5-node demo ({seconds:.0f} s, bytes sent to storage by this process)",
        f"{written / elapsed:,.0f} B/s",
    )


def restart(data_dir: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PRSM_DATA_DIR": str(data_dir),
        "PRSM_PERSIST": "true",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    port = _free_port()
    began = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.02)
        row("restart with 24 h of history to first /health 200", f"{time.monotonic() - began:.2f} s", "<= 3 s")
        history = requests.get(f"http://127.0.0.1:{port}/api/historical/system?minutes=1440&points=1000", timeout=30)
        row(
            "  ... its first 24 h history answer",
            f"{history.json()['count']} points in {history.elapsed.total_seconds() * 1000:.0f} ms",
        )
    finally:
        server.terminate()
        server.wait(20)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--live-seconds", type=float, default=60.0, help="how long to measure the write rate")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.platform()}, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="prsm-bench-store-"))
    network = DemoNetwork.from_settings(Settings(demo_nodes=5)).start()
    try:
        tick_cost(network, work / "tick")
        recorded = record_demo(network)
        end = time.time()
        seconds, ticks = replay_day(recorded, work / "day", end)
        sizes = tier_sizes(work / "day")
        file_mb = (work / "day" / "history.db").stat().st_size / 2**20
        print(f"  (replayed {ticks:,} ticks of {len(recorded)} series in {seconds:.0f} s)", flush=True)
        row("disk per day at 1 Hz, 5-node demo: the file after one day", f"{file_mb:.1f} MiB")
        per_day = {t: sizes.get(t, 0) / 2**20 for t in (0, 1, 2)}
        row("  ... raw / minute / hour data of that day", " / ".join(f"{per_day[t]:.2f}" for t in (0, 1, 2)) + " MiB")
        steady = per_day[0] + 30 * per_day[1] + 365 * per_day[2]
        row("  ... all tiers full (24 h raw, 30 d minutes, 365 d hours), estimated", f"{steady:.0f} MiB")
    finally:
        network.stop()
    shutil.copytree(work / "day", work / "restart")
    restart(work / "restart")
    synthesize_rollups(work / "day", end)
    queries(work / "day", end)
    write_rate(work / "live", args.live_seconds)
    shutil.rmtree(work, ignore_errors=True)
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'measured':>14}  target")
    for what, value, target in rows:
        print(f"{what:<{width}}  {value:>14}  {target}")


if __name__ == "__main__":
    main()
