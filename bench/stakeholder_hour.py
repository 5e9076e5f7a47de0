"""The stakeholder hour: every feature at once, the way a demo shows them.

    python bench/stakeholder_hour.py            # the hour: 30 min of healthy learning, then every
                                                # demo fault for 3 min, cleared, 2 min apart
    python bench/stakeholder_hour.py --quick    # minutes: the learning preloaded from the recorded
                                                # baseline (as bench_insight.py --quick), each fault
                                                # 40 s on, 20 s apart

A real collector with the product's defaults (``Settings.from_env()`` with the demo on: a real
5-node demo network on loopback sockets, 1 s ticks, the default rules, the insight with its
30 minutes of learning, incidents grouped as the Incidents page and the API group them) runs
the script. Faults go in through ``collector.configure(fault=...)``, the same call the sidebar
and the API make. For each fault the table says:

- *alert after*: seconds from the injection to the first rule alert (fired/escalated);
- *anomaly after*: to the first anomaly (an insight band left);
- *incidents*: incidents opened from the injection to the next one (want 1), with its title;
- *events while steady*: opening and closing events per alert while the fault is on (want at
  most one of each per alert: ``flapping`` names the alerts that opened twice or more);
- *clear after*: seconds from the clear until none of the alerts the fault raised is active.

Every :data:`CHECK_EVERY` seconds it also checks what the pages chart, through the functions
the pages use (:func:`prsm_monitor.ui.shared_views.history`), for every component, range and
chart width: the line reaches the newest stored value (at most :data:`NEWEST_TICKS` ticks
older), and it breaks (a step longer than the chart's gap rule) only where the record itself
has a gap. Exit status 1 when any of that fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_insight import QUICK_LEARN, load_baseline  # noqa: E402

from prsm_monitor import MetricsCollector, Settings  # noqa: E402
from prsm_monitor.insight import Insight  # noqa: E402
from prsm_monitor.ui import shared_views  # noqa: E402

FAULTS = [  # (label, inject, clear): every fault the demo offers
    ("stop node", {"action": "stop_node", "name": "node-1"}, {"action": "start_node", "name": "node-1"}),
    ("link delay", {"action": "add_delay", "name": "node-2", "ms": 100.0}, {"action": "clear_delay"}),
    ("drift", {"action": "drift", "amount": 0.8}, {"action": "clear_drift"}),
    ("overload", {"action": "overload", "factor": 20.0}, {"action": "clear_overload"}),
    ("partition", {"action": "partition"}, {"action": "heal"}),
    ("leak", {"action": "leak", "name": "node-0", "mb_per_min": 16.0}, {"action": "clear_leak"}),
]
OPENING = {"fired", "escalated", "anomaly", "forecast", "error"}
CLOSING = {"resolved", "recovered"}
CHECK_EVERY = 60.0
GAP_STEPS = 5  # a step this many times the typical one is a gap: the rule of ui/charts.py's break_gaps
NEWEST_TICKS = 2.5  # a chart's newest point is at most this many ticks older than the newest row
RANGES = (5, 15, 60, 360, 1440)  # the ranges an in-memory history serves (ui.style.SHORT_RANGES)
WIDTHS = (shared_views.COMPACT_POINTS, shared_views.HALF_POINTS, 150)


def check_charts(collector: MetricsCollector) -> list[str]:
    """What is wrong with the pages' chart data now (empty: nothing)."""
    problems = []
    interval = collector.collection_interval
    shared_views.clear()
    for component in ("system", "network", "ai"):
        raw = collector.history(component, None)
        if len(raw) < 3:
            continue
        raw_ts = raw["timestamp"].to_numpy("float64")
        newest = raw_ts[-1]
        for minutes in RANGES:
            for points in WIDTHS:
                frame = shared_views.history(collector, component, minutes, points)
                ts = frame["timestamp"].to_numpy("float64")
                what = f"{component} {minutes} min at {points} points"
                if not len(ts) or ts[-1] < newest - NEWEST_TICKS * interval:
                    problems.append(f"{what}: ends {newest - (ts[-1] if len(ts) else 0):.0f} s before the newest row")
                    continue
                steps = np.diff(ts)
                typical = float(np.median(steps)) if len(steps) else 0.0
                for i in np.flatnonzero(steps > GAP_STEPS * typical) if typical > 0 else []:
                    inside = raw_ts[(raw_ts >= ts[i]) & (raw_ts <= ts[i + 1])]
                    record_gap = np.diff(inside).max(initial=0.0) if len(inside) > 1 else ts[i + 1] - ts[i]
                    if record_gap <= GAP_STEPS * interval:
                        problems.append(f"{what}: a break at {ts[i]:.0f} without a gap in the record")
    return problems


def watch(collector: MetricsCollector, until: float, charts: list, problems: list, last_check: list) -> None:
    """Poll (grouping incidents as the page does) until ``until``, checking the charts now and then."""
    while time.time() < until:
        collector.notifier.incidents()
        if time.time() - last_check[0] >= CHECK_EVERY:
            last_check[0] = time.time()
            found = check_charts(collector)
            charts.append(not found)
            problems.extend(found)
        time.sleep(min(1.0, max(0.0, until - time.time())))


def key_of(event: dict) -> str:
    """What an alert is about, across its firings (each firing has an alert id of its own):
    its rule, or its anomaly's or forecast's series and field."""
    d = event.get("details") or {}
    if d.get("rule"):
        return f"rule {d['rule']}"
    return f"{event['kind']} {d.get('series', event['component'])} {d.get('field', event['message'][:30])}"


def summarise(label: str, at: float, cleared: float, end: float, events: list[dict], incidents: list[dict]) -> dict:
    window = [e for e in events if at <= e["timestamp"] < end and e.get("alert_id") is not None]
    rules = [e for e in window if e["kind"] in ("fired", "escalated")]
    anomalies = [e for e in window if e["kind"] == "anomaly"]
    steady = [e for e in window if e["timestamp"] < cleared]
    keys = {e["alert_id"]: key_of(e) for e in events if e["kind"] in OPENING}  # an alert id is one firing
    opened = Counter(keys[e["alert_id"]] for e in steady if e["kind"] in OPENING and e["kind"] != "escalated")
    mine = {e["alert_id"] for e in window if e["kind"] in OPENING}  # raised by this fault, not the one before
    closed = Counter(keys.get(e["alert_id"]) for e in steady if e["kind"] in CLOSING and e["alert_id"] in mine)
    flapping = sorted(k for k in set(opened) | set(closed) if k and (opened[k] > 1 or closed[k] > 1))
    raised = {e["alert_id"] for e in window if e["kind"] in OPENING}
    closes = {e["alert_id"]: e["timestamp"] for e in events if e["kind"] in CLOSING and e["alert_id"] in raised}
    ends = [closes.get(a) for a in raised]
    clear_after = None if None in ends or not ends else max(0.0, max(ends) - cleared)
    mine = [i for i in incidents if at <= i["started"] < end]
    return {
        "fault": label,
        "alert": rules[0]["timestamp"] - at if rules else None,
        "anomaly": anomalies[0]["timestamp"] - at if anomalies else None,
        "incidents": len(mine),
        "titles": [i["title"][:60] for i in mine],
        "opened": sum(opened.values()),
        "closed": sum(closed.values()),
        "flapping": flapping,
        "clear": clear_after,
        "raised": len(raised),
    }


def seconds(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f} s"


def table(rows: list[dict]) -> str:
    lines = [
        "| fault | alert after | anomaly after | incidents (want 1) | events while on: opened / closed | flapping | clear after | incident title |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['fault']} | {seconds(r['alert'])} | {seconds(r['anomaly'])} | {r['incidents']} | "
            f"{r['opened']} / {r['closed']} of {r['raised']} alerts | {', '.join(r['flapping']) or 'none'} | "
            f"{seconds(r['clear']) if r['raised'] else '–'} | {'; '.join(r['titles']) or '–'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    on, gap = (40.0, 20.0) if args.quick else (180.0, 120.0)
    settings = Settings.from_env()
    if not settings.demo:
        settings = dataclasses.replace(settings, demo=True)
    collector = MetricsCollector(settings=settings)
    started = time.time()
    collector.start()
    charts: list[bool] = []
    problems: list[str] = []
    last_check = [time.time()]
    try:
        if args.quick:  # ten recorded minutes stand for the half hour of learning
            collector.insight.close()
            collector.insight = Insight(
                collector, horizon=settings.forecast_horizon, learn_seconds=QUICK_LEARN, warm_start=False
            )
            collector.insight.preload(load_baseline())
            collector.insight.learn(time.time())
            print("learning preloaded from bench/data/insight_baseline.csv.gz; 30 s healthy", flush=True)
            watch(collector, time.time() + 30.0, charts, problems, last_check)
        else:
            learn = collector.insight.learn_seconds
            print(f"learning {learn / 60:.0f} min with every default ...", flush=True)
            watch(collector, time.time() + learn, charts, problems, last_check)
        print(f"learnt: {collector.insight.learned_from_text()}", flush=True)
        times = []
        for label, inject, clear in FAULTS:
            at = time.time()
            collector.configure(fault=inject)
            watch(collector, at + on, charts, problems, last_check)
            cleared = time.time()
            collector.configure(fault=clear)
            watch(collector, cleared + gap, charts, problems, last_check)
            times.append((label, at, cleared, time.time()))
            print(f"  {label}: on {cleared - at:.0f} s, {collector.insight.learned_from_text()}", flush=True)
        problems.extend(check_charts(collector))
        events = collector.get_alerts()
        incidents = collector.notifier.incidents()
        rows = [summarise(label, at, cl, end, events, incidents) for label, at, cl, end in times]
    finally:
        collector.close()
    print()
    mode = "--quick (40 s on, 20 s apart)" if args.quick else "the hour (3 min on, 2 min apart)"
    print(f"{mode}, {time.time() - started:.0f} s in all, 5-node demo, 1 s ticks")
    print(table(rows))
    print(f"\ncharts checked {len(charts) + 1} times: {len(problems)} problems")
    for p in problems[:20]:
        print("  " + p)
    bad = [r for r in rows if r["incidents"] > 1 or r["flapping"]]
    return 1 if problems or bad else 0


if __name__ == "__main__":
    sys.exit(main())
