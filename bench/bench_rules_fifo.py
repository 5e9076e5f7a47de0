"""The rules-file attack of issue 22, rerun: ticks and answers while ``rules.toml`` is a FIFO
nobody writes to, then a symlink to ``/dev/zero``. Prints figures; asserts nothing.

For each phase (a good file, the FIFO, /dev/zero, a good file again), ``SECONDS`` seconds of a
real collector (system source, interval ``INTERVAL``) with the API served by uvicorn on
loopback: the ticks made and missed (the collector's own counters), the tick time (median and
max of ``tick_duration_ms``), the slowest ``GET /api/metrics`` and ``GET /health`` answers
(polled every 100 ms), and the rules-file problem events in the alert log.

    python bench/bench_rules_fifo.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prsm_monitor import MetricsCollector  # noqa: E402
from prsm_monitor.api import build_app  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402
from prsm_monitor.sources.system import SystemSource  # noqa: E402
from tests.fixtures.server import InProcessServer  # noqa: E402

SECONDS = 20.0
INTERVAL = 0.5
GOOD = "[rules.memory]\nwarning = 90\ncritical = 95\n"


def phase(collector, base: str, name: str) -> None:
    start = collector.latest("collector")
    slowest = {"/api/metrics": 0.0, "/health": 0.0}
    end = time.monotonic() + SECONDS
    durations = []
    seen = start["ticks_total"]
    while time.monotonic() < end:
        for path in slowest:
            began = time.perf_counter()
            requests.get(base + path, timeout=30)
            slowest[path] = max(slowest[path], time.perf_counter() - began)
        record = collector.latest("collector")
        if record["ticks_total"] != seen:
            seen = record["ticks_total"]
            durations.append(record["tick_duration_ms"])
        time.sleep(0.1)
    last = collector.latest("collector")
    problems = [e for e in collector.get_alerts() if e["message"].startswith("Rules file not applied")]
    print(
        f"{name:<22} ticks {last['ticks_total'] - start['ticks_total']:>3} "
        f"(expected {SECONDS / INTERVAL:.0f})  missed {last['missed_ticks_total'] - start['missed_ticks_total']:>2}  "
        f"tick ms median {statistics.median(durations):6.2f} max {max(durations):6.2f}  "
        f"slowest /api/metrics {slowest['/api/metrics'] * 1000:6.1f} ms, /health {slowest['/health'] * 1000:6.1f} ms  "
        f"rules-file alert events so far {len(problems)}  memory warning {collector.rules['memory'].warning:g}"
    )


def main() -> None:
    print(f"{os.cpu_count()} CPUs, {SECONDS:g} s per phase, interval {INTERVAL:g} s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.toml"
        path.write_text(GOOD)
        settings = Settings(demo=False, interval=INTERVAL, rules_file=str(path))
        with MetricsCollector(settings=settings, sources=[SystemSource()]) as collector:
            collector.start()
            with InProcessServer(build_app(settings, collector)) as server:
                time.sleep(2 * INTERVAL)  # the first ticks (a warm-up, not measured)
                phase(collector, server.url, "good file")
                path.unlink()
                os.mkfifo(path)
                phase(collector, server.url, "FIFO, no writer")
                path.unlink()
                os.symlink("/dev/zero", path)
                phase(collector, server.url, "symlink to /dev/zero")
                path.unlink()
                path.write_text(GOOD.replace("90", "85"))
                phase(collector, server.url, "good file again")


if __name__ == "__main__":
    main()
