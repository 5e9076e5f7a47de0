"""Issue 25's two-minute version: every demo fault injected for two minutes into the default
demo network, then cleared; prints each incident's timeline and its times.

The default demo (5 nodes, 5 requests/s, 10 s window) with the default rules, and anomaly
learning shortened to its minimum (60 s) so that anomalies can join: the network first runs
healthy for 90 s while the baselines learn. Each fault: inject, hold ``--hold`` seconds (120),
clear, wait until its incident ends. Nothing is asserted (``tests/test_incident_faults.py``
checks the short version); the output shows what each timeline holds and in which order.

Run from the repo root: ``python bench/bench_incidents.py`` (about 16 minutes).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prsm_monitor.alerts.incident_timeline import incident_record  # noqa: E402
from prsm_monitor.core.collector import MetricsCollector  # noqa: E402
from prsm_monitor.notify.view import notifications_view  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402

FAULTS = (  # (name, inject, clears, the incident's cause)
    ("stop a node", {"action": "stop_node", "name": "node-0"}, [{"action": "start_node", "name": "node-0"}],
     "node-0 stopped"),
    ("link delay 300 ms", {"action": "add_delay", "name": "node-0", "ms": 300.0}, [{"action": "clear_delay"}],
     "link delay on node-0"),
    ("input drift 0.8", {"action": "drift", "amount": 0.8}, [{"action": "clear_drift"}], "input drift"),
    ("request rate ×20", {"action": "overload", "factor": 20.0}, [{"action": "clear_overload"}], "request rate ×20"),
    ("partition in two", {"action": "partition"}, [{"action": "heal"}], "network partition"),
    ("memory leak 16 MiB/min", {"action": "leak", "name": "node-1", "mb_per_min": 16.0},
     [{"action": "clear_leak", "name": "node-1"}, {"action": "start_node", "name": "node-1"}], "node-1 memory leak"),
)  # fmt: skip


def wait(predicate, timeout: float, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def show(name: str, record: dict) -> None:
    ttd, tta = record["time_to_detect_s"], record["time_to_acknowledge_s"]
    print(f"\n## {name}: incident {record['id']} ({record['cause']}), {record['state']}")
    print(
        f"   duration {record['duration_s']:.1f} s, time to detect "
        + (f"{ttd:.1f} s (from the {record['detected_from']})" if ttd is not None else "unknown")
        + f", time to acknowledge {f'{tta:.1f} s' if tta is not None else 'none'}"
        + f", nodes {record['nodes']}, models {record['models']}"
    )
    for e in record["timeline"]:
        print(f"   {e['time'] - record['start']:+8.1f} s  {e['kind']:15s} {e['text'][:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hold", type=float, default=120.0, help="seconds each fault stays injected")
    parser.add_argument("--learn", type=float, default=90.0, help="seconds healthy before the first fault")
    args = parser.parse_args()
    print(f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs; shared machine")
    settings = Settings(demo=True, interval=1.0, anomaly_learning=60.0)
    started = time.monotonic()
    with MetricsCollector(settings=settings) as collector:
        collector.start()
        time.sleep(args.learn)  # a bench, not a test: the baselines learn from a healthy network
        for name, inject, clears, cause in FAULTS:
            collector.configure(fault=inject)
            injected = collector.get_alerts()[-1]["timestamp"]
            time.sleep(args.hold)
            for clear in clears:
                collector.configure(fault=clear)

            def mine(cause=cause, injected=injected):
                return [i for i in collector.notifier.incidents() if i["cause"] == cause and i["started"] >= injected]

            if not mine():
                print(f"\n## {name}: no incident (no alert fired in {args.hold:.0f} s)")
                continue
            wait(lambda: not any(i["open"] for i in mine()), timeout=180)
            for incident in mine():
                show(name, incident_record(collector, notifications_view(collector.notifier), incident["id"]))
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
