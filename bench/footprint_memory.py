"""Memory over time, for ``bench_footprint.py --memory-hours`` and ``--memory-minutes``: prints
figures, asserts nothing. Two ways, each said in its output:

- **simulated hours** (``--memory-hours N``): the collector in this process with its real
  sources (the 5-node demo network: real nodes on loopback, unless ``--memory-no-demo``), the
  store's real tiers in a fresh data directory (ring, SQLite, row log, snapshots) and the
  insight engine's learning, ticked as fast as it can go on a clock that starts N hours ago
  and moves 1 s per tick, so that N hours of rows are collected, stored, rolled up and
  evicted from the ring. RSS (this process) at every simulated hour; the figure to read is
  the growth from the 1 h mark to the end. What does not follow the simulated clock: the demo
  network runs for the real minutes only (its nodes' own state, such as the gateway's
  reverse-path table, grows with real time); the history writer flushes and the page
  snapshots are taken on their real-time timers (every 2 s and 15 s of real time, so fewer,
  larger batches per simulated hour).
- **real time** (``--memory-minutes M``): ``streamlit run streamlit_app.py`` (the demo,
  a fresh data directory, nobody viewing) for M minutes; the process tree's RSS every minute
  and its slope (least squares, MB per hour) from ``--memory-from`` minutes on.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def rss_mb(pid: int | None = None) -> float:
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            total += p.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            pass
    return total


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def stamped(collect, clock: Clock):
    def collect_now() -> dict[str, dict]:
        records = collect()
        for record in records.values():
            if isinstance(record, dict) and "timestamp" in record:
                record["timestamp"] = clock.now
        return records

    return collect_now


def compressed_demo(settings, speed: float):
    """The demo network and its source with every period, timeout and service time divided by
    ``speed`` and the request rate multiplied by it: ``speed`` seconds of its traffic per real
    second (heartbeats, gossip, votes, inferences over the same loopback sockets)."""
    from prsm_monitor.demo.source import DemoSource

    return DemoSource.from_settings(
        dataclasses.replace(settings, demo_rate=settings.demo_rate * speed),
        window=10.0 / speed,
        heartbeat=1.0 / speed,
        inference_timeout=5.0 / speed,
        service_scale=1.0 / speed,
    )


def simulated(hours: float, demo: bool, root: Path, speed: float | None = None) -> None:
    sys.path.insert(0, str(root))
    from prsm_monitor.core.collector import MetricsCollector
    from prsm_monitor.core.sourceset import default_sources
    from prsm_monitor.insight import Insight
    from prsm_monitor.settings.model import Settings

    data_dir = tempfile.mkdtemp(prefix="bench-memory-")
    ticks = int(hours * 3600)
    clock = Clock(time.time() - ticks)
    settings = Settings(demo=demo, data_dir=data_dir)
    if speed and demo:  # the configured sources but the demo, then the demo at ``speed``
        sources = [*default_sources(dataclasses.replace(settings, demo=False)), compressed_demo(settings, speed)]
    else:
        sources = default_sources(settings)
    for source in sources:  # the sources stamp their records with the wall clock: the simulated one here
        source.collect = stamped(source.collect, clock)
    collector = MetricsCollector(settings=settings, sources=sources, clock=clock)
    # the engine's thread waits in real seconds: here its wake-up runs every 5 simulated seconds
    collector.insight.close()
    collector.insight = Insight(
        collector, horizon=settings.forecast_horizon, learn_seconds=settings.anomaly_learning, threaded=False
    )
    pace = f"{speed:g} ticks and {speed:g} s of the demo's traffic per real second" if speed else "as fast as they go"
    print(
        f"memory over simulated time: {hours:g} h of 1 s ticks, {pace}, demo {'on' if demo else 'off'}, "
        f"history in {data_dir}; RSS of this process (no Streamlit server)",
        flush=True,
    )
    start, marks = time.monotonic(), {}
    try:
        for i in range(1, ticks + 1):
            if speed:
                time.sleep(max(0.0, start + i / speed - time.monotonic()))
            clock.now += 1.0
            collector.collect_once()
            if i % 5 == 0:
                collector.insight.learn_what_changed(clock.now)
            if i % 3600 == 0 or i == ticks:
                ring = collector.store.ring
                held = ring.allocated_bytes()
                series = sum(1 for c in held if c.startswith(("node:", "model:")))
                spans = {c: (clock.now - (ring.first_timestamp(c) or clock.now)) / 60 for c in held}
                detail = [v for c, v in spans.items() if c.startswith(("node:", "model:"))]
                marks[i / 3600] = rss = rss_mb()
                network = collector.latest("network") or {}
                ai = collector.latest("ai") or {}
                print(
                    f"  {i / 3600:5.1f} h simulated ({time.monotonic() - start:6.0f} s real): RSS {rss:6.1f} MB; "
                    f"rings {sum(held.values()) / 2**20:.1f} MB over {len(held)} series ({series} node/model), "
                    f"spans: system {spans.get('system', 0):.0f} min, node/model {min(detail, default=0):.0f}–"
                    f"{max(detail, default=0):.0f} min; demo: nodes up {network.get('active_nodes')}/"
                    f"{network.get('total_nodes')}, links {network.get('total_connections')}, "
                    f"inference success {ai.get('success_rate')}",
                    flush=True,
                )
    finally:
        collector.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    if 1.0 in marks and len(marks) > 1:
        last = max(marks)
        print(f"RSS at 1 h {marks[1.0]:.1f} MB, at {last:g} h {marks[last]:.1f} MB: {marks[last] - marks[1.0]:+.1f} MB")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minutes, MB), in MB per hour."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return 60.0 * sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def real_time(minutes: float, since: float, root: Path, port: int) -> None:
    data_dir = tempfile.mkdtemp(prefix="bench-memory-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRSM_")}
    env.update(PYTHONPATH=str(root), PRSM_DATA_DIR=data_dir, PRSM_DEMO="true")
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    print(
        f"memory over real time: streamlit run, demo on, nobody viewing, {minutes:g} min; RSS of the tree every minute"
    )
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    t0, points = time.monotonic(), []
    try:
        for minute in range(1, int(minutes) + 1):
            time.sleep(max(0.0, t0 + minute * 60 - time.monotonic()))
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited (code {proc.returncode})")
            rss = rss_mb(proc.pid)
            points.append((minute, rss))
            print(f"  {minute:4d} min: RSS {rss:6.1f} MB (load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)
    tail = [p for p in points if p[0] >= since]
    if len(tail) >= 2:
        per_hour = slope(tail)
        print(
            f"slope from {since:g} min to {points[-1][0]} min: {per_hour:+.2f} MB/h "
            f"(× 23 h: {per_hour * 23:+.1f} MB); RSS first {points[0][1]:.1f}, last {points[-1][1]:.1f} MB"
        )
