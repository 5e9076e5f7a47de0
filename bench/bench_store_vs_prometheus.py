"""The on-disk history beside Debian's Prometheus on the same series: bytes per value, bytes written.

    python bench/bench_store_vs_prometheus.py [--seconds 240] [--day-hours 24]

Never asserts; prints the two tables of issue 27 with ratios (store / Prometheus).

**Live** (both tables' "while running" rows): one child process runs a 5-node demo collector at
1 s with its history in a data directory and serves its ``/metrics`` (the app's exposition) on
a free loopback port; ``prometheus`` (``/usr/bin/prometheus``) scrapes it every second into
its own TSDB. Bytes written are ``write_bytes`` of ``/proc/<pid>/io`` of each process over
the window (the page cache pages each process dirtied: what reaches the disk); samples are
Prometheus's own ``prometheus_tsdb_head_samples_appended_total``, values are the store's
rows times its fields.

**At rest**: the store's file after the child closed it (WAL checkpointed), beside a
Prometheus block made by ``promtool tsdb create-blocks-from openmetrics`` from the very values
the store kept (timestamps to the millisecond, NaN left out as Prometheus never gets them).

**24 h**: the recorded rows, cycled with their real timing jitter, replayed through the
store's own writer for ``--day-hours`` of data time, and the same values backfilled with
promtool (2 h blocks, what promtool writes). Then ``24 h -> 1,000 points`` (the query the
dashboard makes) is timed on that file. Synthesized timestamps exist only in the
benchmark's temporary directory.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import re
import shutil
import signal
import socket
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
import requests  # noqa: E402

from prsm_monitor.store import HistoryStore  # noqa: E402
from prsm_monitor.store.datadir import DataDir  # noqa: E402
from prsm_monitor.store.tiered import TieredStore  # noqa: E402
from prsm_monitor.store.writer import Writer  # noqa: E402

DAY = 86_400
RETENTION = {0: DAY, 1: 30 * DAY, 2: 365 * DAY}

CHILD = """
import signal, sys, threading
from prometheus_client import start_http_server
from prsm_monitor import MetricsCollector
from prsm_monitor.api.exposition import make_registry
from prsm_monitor.settings.model import Settings
collector = MetricsCollector(settings=Settings(demo=True, demo_nodes=5, data_dir=sys.argv[1]))
server, _ = start_http_server(0, addr="127.0.0.1", registry=make_registry(lambda: collector))
print(server.server_port, flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
collector.start()
done.wait()
server.shutdown()
collector.close()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError(f"no write_bytes in /proc/{pid}/io")


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def prom_samples(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    (value,) = re.findall(r"^prometheus_tsdb_head_samples_appended_total(?:\{[^}]*\})? (\S+)$", text, re.M)[:1]
    return float(value)


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def store_values(data_dir: Path) -> tuple[dict[str, tuple[tuple[str, ...], np.ndarray]], int]:
    """Every raw row the store kept, per component (newest field list), read back through
    the store itself; and the count of values (rows times fields other than the time)."""
    directory = DataDir(data_dir).acquire()
    db, _ = directory.open()
    store = TieredStore(HistoryStore(10), Writer(db, RETENTION), lock=directory)
    out, values = {}, 0
    try:
        for component, fields in db.writer.execute("SELECT component, fields FROM series ORDER BY id"):
            names = tuple(json.loads(fields))
            store.declare(component, names)
            frame = store.query(component, 0.0, None)
            block = frame[list(names)].to_numpy().T
            out[component] = (names, block)
        values = sum(b.shape[1] * (len(n) - 1) for n, b in out.values())
    finally:
        store.close()
    return out, values


def metric(component: str, field: str) -> str:
    return "prsm_" + re.sub(r"[^a-zA-Z0-9_]", "_", f"{component}_{field}")


def openmetrics(path: Path, recorded, times=None) -> int:
    """The values as an OpenMetrics file for promtool (``times``: new time rows per
    component); returns the samples written (NaN left out)."""
    samples = 0
    with open(path, "w") as out:
        for component, (names, block) in recorded.items():
            t = block[names.index("timestamp")] if times is None else times[component]
            stamps = [f"{x:.3f}" for x in t]
            for i, field in enumerate(names):
                if field == "timestamp":
                    continue
                values = (block[i] if times is None else np.resize(block[i], len(t))).tolist()
                name = metric(component, field)
                out.write(f"# TYPE {name} gauge\n")
                kept = [(v, s) for v, s in zip(values, stamps, strict=True) if v == v]  # NaN: never scraped
                out.write("".join(f"{name} {_om(v)} {s}\n" for v, s in kept))
                samples += len(kept)
        out.write("# EOF\n")
    return samples


def _om(value: float) -> str:
    return repr(value) if abs(value) != float("inf") else ("+Inf" if value > 0 else "-Inf")


def promtool_block(text: Path, out: Path) -> int:
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(text), str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dir_bytes(out)


def day_times(recorded, start: float, seconds: int) -> dict[str, np.ndarray]:
    """Per component, ``seconds`` timestamps: the recorded ones (with their jitter) cycled."""
    out = {}
    for component, (names, block) in recorded.items():
        ts = block[names.index("timestamp")]
        n = len(ts)
        cycle = max(1, int(round(ts[-1] - ts[0])) + 1)
        reps = -(-seconds // n)
        out[component] = (start + (np.arange(reps)[:, None] * cycle + (ts - ts[0])[None, :]).ravel())[:seconds]
    return out


def replay(recorded, times, data_dir: Path) -> float:
    """The day through the store's writer (flushed each 60 rows); seconds taken."""
    directory = DataDir(data_dir).acquire()
    db, _ = directory.open()
    writer = Writer(db, RETENTION)
    began = time.perf_counter()
    seconds = len(next(iter(times.values())))
    cols = {c: (names, names.index("timestamp"), block) for c, (names, block) in recorded.items()}
    for i in range(seconds):
        for component, (names, ts_i, block) in cols.items():
            vector = block[:, i % block.shape[1]].copy()
            vector[ts_i] = times[component][i]
            writer.put((component, names), vector)
        if i % 60 == 59:
            writer.flush(prune=False)
    writer.close()
    directory.release()
    return time.perf_counter() - began


def raw(store, component, series, names, start, end):
    """24 h of raw rows as the store reads them (the component argument came with issue 27)."""
    if "component" in inspect.signature(store._raw).parameters:
        return store._raw(component, series, names, start, end, None)
    return store._raw(series, names, start, end, None)


def query_day(data_dir: Path, end: float) -> tuple[float, float]:
    directory = DataDir(data_dir).acquire()
    db, _ = directory.open()
    store = TieredStore(HistoryStore(1000), Writer(db, RETENTION), lock=directory)
    try:
        (fields,) = db.writer.execute("SELECT fields FROM series WHERE component='system'").fetchone()
        names = tuple(json.loads(fields))
        store.declare("system", names)
        series = db.series("system")
        results = []
        for call in (
            lambda: store.query("system", end - DAY, end, 1000),
            lambda: raw(store, "system", series, names, end - DAY, end),
        ):
            call()
            samples = []
            for _ in range(15):
                began = time.perf_counter()
                call()
                samples.append((time.perf_counter() - began) * 1000)
            results.append(statistics.median(samples))
        return results[0], results[1]
    finally:
        store.close()


def table(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    print(f"\n{title}\n")
    print("| measure | prsm-monitor | Prometheus | ratio |")
    print("|---|---|---|---|")
    for what, ours, theirs, fmt in rows:
        print(f"| {what} | {ours:{fmt}} | {theirs:{fmt}} | {ours / theirs:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=240.0, help="live window (after a 15 s warm-up)")
    parser.add_argument("--day-hours", type=float, default=24.0, help="data time replayed for the 24 h row")
    args = parser.parse_args()
    version = subprocess.run(["prometheus", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{version}, {platform.platform()}, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="prsm-bench-vs-prom-"))
    store_dir, prom_dir = work / "store", work / "prometheus"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PRSM_PERSIST": "true"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    prom = None
    try:
        port = int(child.stdout.readline())
        config = work / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1m}\n"
            f"scrape_configs: [{{job_name: prsm, static_configs: [{{targets: ['127.0.0.1:{port}']}}]}}]\n"
        )
        prom_url = f"http://127.0.0.1:{free_port()}"
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={prom_dir}",
             f"--web.listen-address={prom_url[7:]}", "--log.level=warn"],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _ready(prom_url), 60, "Prometheus")
        time.sleep(15)  # warm-up: first chunks, first WAL segment, the demo's startup
        began = time.monotonic()
        ours0, theirs0, samples0 = write_bytes(child.pid), write_bytes(prom.pid), prom_samples(prom_url)
        time.sleep(args.seconds)
        ours1, theirs1, samples1 = write_bytes(child.pid), write_bytes(prom.pid), prom_samples(prom_url)
        elapsed = time.monotonic() - began
        ours_disk, theirs_disk = dir_bytes(store_dir), dir_bytes(prom_dir)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(60)
        if prom is not None:
            prom.terminate()
            prom.wait(60)
    recorded, values = store_values(store_dir)
    samples_total = samples1  # samples Prometheus appended since it started
    per_tick = sum(len(n) - 1 for n, _ in recorded.values())
    stored_rows = {c: b.shape[1] for c, (_, b) in recorded.items()}
    print(f"  live {elapsed:.0f} s: {per_tick} values per tick in {len(recorded)} series, "
          f"{min(stored_rows.values())}..{max(stored_rows.values())} rows each; "
          f"Prometheus {(samples1 - samples0) / elapsed:.0f} samples/s", flush=True)  # fmt: skip
    rate_ours = (ours1 - ours0) / elapsed
    rate_theirs = (theirs1 - theirs0) / elapsed
    ours_values_per_s = per_tick  # one tick a second
    file_ours = stored_bytes(store_dir)
    text = work / "live.om"
    live_samples = openmetrics(text, recorded)
    block_live = promtool_block(text, work / "blocks-live")
    text.unlink()
    per_value = [
        ("bytes per stored value, file after checkpoint", file_ours / values, block_live / live_samples, ".2f")
    ]
    if args.day_hours > 0:
        seconds = int(args.day_hours * 3600)
        end = float(np.floor(time.time()))
        times = day_times(recorded, end - seconds, seconds)
        took = replay(recorded, times, work / "day")
        day_file = stored_bytes(work / "day")
        day_values = seconds * per_tick
        text = work / "day.om"
        day_samples = openmetrics(text, recorded, times)
        block_day = promtool_block(text, work / "blocks-day")
        text.unlink()
        print(f"  replayed {seconds:,} s in {took:.0f} s", flush=True)
        per_value.append(
            (f"bytes per value over {args.day_hours:g} h at 1 s", day_file / day_values, block_day / day_samples, ".2f")
        )
    per_value.append(("bytes on disk while running, per value", ours_disk / values, theirs_disk / samples_total, ".1f"))
    table("Bytes per value", per_value)
    rate_theirs_value = rate_theirs / ((samples1 - samples0) / elapsed)
    table(
        "Bytes written",
        [
            ("bytes written per second (/proc write_bytes)", rate_ours, rate_theirs, ",.0f"),
            ("bytes written per value stored", rate_ours / ours_values_per_s, rate_theirs_value, ".1f"),
        ],
    )
    if args.day_hours > 0:
        print(f"\n  {args.day_hours:g} h file: {day_file / 2**20:.1f} MiB ({day_values:,} values); "
              f"Prometheus blocks {block_day / 2**20:.1f} MiB ({day_samples:,} samples)", flush=True)  # fmt: skip
        query_ms, raw_ms = query_day(work / "day", end)
        print(f"  24 h -> 1,000 points: {query_ms:.1f} ms (median of 15); 24 h of raw rows read: {raw_ms:.1f} ms")
    shutil.rmtree(work, ignore_errors=True)


def stored_bytes(data_dir: Path) -> int:
    """The history's files once closed: the database and, from issue 27 on, its row log."""
    return sum(p.stat().st_size for p in (data_dir / "history.db", data_dir / "history.db-recent") if p.exists())


def _ready(url: str) -> bool:
    try:
        return requests.get(url + "/-/ready", timeout=1).status_code == 200
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
