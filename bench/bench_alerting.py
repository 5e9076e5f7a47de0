"""What the rules file and silences cost the collector's tick and a page: prints figures.

- a whole tick (``collect_once``) without a rules file, and with ``rules.example.toml``
  (no file access on the tick: a watch thread stats it), alternating so that machine noise hits both alike;
- ``RulesFile.changed()`` alone (the per-tick check) and a full re-read of the example file;
- ``Silences.silenced(alert, now)`` with 0, 10 and 200 active silences (the toast and the
  Alerts page ask it once per alert and event).

Run from the repo root: ``python bench/bench_alerting.py`` (about 10 s).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prsm_monitor.alerts.rules_file import RulesFile  # noqa: E402
from prsm_monitor.alerts.silences import Silences  # noqa: E402
from prsm_monitor.core.collector import MetricsCollector  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402
from prsm_monitor.settings.thresholds import default_thresholds  # noqa: E402
from prsm_monitor.sources.system import SystemSource  # noqa: E402

EXAMPLE = ROOT / "rules.example.toml"


def timed(call, count: int) -> list[float]:
    """Microseconds per call, ``count`` calls."""
    out = []
    for _ in range(count):
        start = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def row(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[int(0.95 * (len(samples) - 1))]
    print(f"{name:58s} median {statistics.median(samples):9.1f} µs   p95 {p95:9.1f} µs   n={len(samples)}")


def main() -> None:
    print(f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; shared machine")
    plain = MetricsCollector(settings=Settings(demo=False), sources=[SystemSource()])
    with_file = MetricsCollector(settings=Settings(demo=False, rules_file=str(EXAMPLE)), sources=[SystemSource()])
    for c in (plain, with_file):
        for _ in range(20):
            c.collect_once()  # warm-up
    a, b = [], []
    for _ in range(300):  # alternating
        a += timed(plain.collect_once, 1)
        b += timed(with_file.collect_once, 1)
    row("collect_once, no rules file", a)
    row("collect_once, rules.example.toml (stat per tick)", b)
    plain.close()
    with_file.close()

    watched = RulesFile(EXAMPLE, default_thresholds())
    watched.load()
    row("RulesFile.changed() (the tick's check: memory only)", timed(watched.changed, 2000))
    row("RulesFile.load() (read, parse, validate 8 rules)", timed(watched.load, 200))
    watched.close()

    now = time.time()
    alert = {"level": "error", "component": "network", "kind": "error", "details": {"node": "n7"}}
    for count in (0, 10, 200):
        book = Silences()
        for i in range(count):
            book.create({"component": "network", "node": f"n{i + 100}"}, now + 3600, created_by="bench", now=now)
        samples = timed(lambda book=book: book.silenced(alert, now), 2000)
        row(f"Silences.silenced(), {count} active silences, no match", samples)


if __name__ == "__main__":
    main()
