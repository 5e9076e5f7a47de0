"""Anomalies and forecasts against the demo's ground truth: every fault injected into a healthy run.

    python bench/bench_insight.py --quick      # < 4 min: a 30 s healthy stretch, each fault once;
                                               # exit 1 when a fault is missed or the healthy
                                               # stretch raises an anomaly
    python bench/bench_insight.py              # the table: longer healthy stretch, both methods
    python bench/bench_insight.py --leak-only  # the leak's forecast against the node's real
                                               # out-of-memory stop (run beside the full run)
    python bench/bench_insight.py --record-baseline 10   # re-record the baseline --quick starts from

``--quick`` has no time to learn: the network's and the models' values start from
:data:`BASELINE`, ten minutes of a healthy demo recorded with ``--record-baseline`` (loaded as
a restart loads stored history, :meth:`Insight.preload`). The machine's own values depend on
what else runs on it: they are learnt live and not judged in so short a run.

A real 5-node demo network and a real collector (1 s ticks, memory only) run the script; the
collector's own :class:`~prsm_monitor.insight.Insight` (the kept method) watches it live, and
every tick's records are kept as a trace. Each method is then replayed over that same trace
(so both see identical data): detected or not, time from injection to the first anomaly or
forecast alert, and false anomalies per hour on the healthy stretch after learning. The
runner-up, river's ``GaussianScorer`` per value, is imported only here (river is not a
requirement of the app): without river its column says so.

Figures depend on the machine's other load: this one is shared.
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prsm_monitor import MetricsCollector, Settings  # noqa: E402
from prsm_monitor.alerts import AlertLog  # noqa: E402
from prsm_monitor.demo.faults import FAULTS as FAULT_SPECS  # noqa: E402
from prsm_monitor.insight import Insight  # noqa: E402
from prsm_monitor.insight.baseline import RobustMethod  # noqa: E402

FAULTS = [  # (label, inject, clear); network and AI faults alternate, so a slow recovery of one
    # does not hide the next
    ("stop node", {"action": "stop_node", "name": "node-2"}, {"action": "start_node", "name": "node-2"}),
    ("drift 0.3", {"action": "drift", "amount": 0.3}, {"action": "clear_drift"}),
    ("link delay 100 ms", {"action": "add_delay", "name": "node-0", "ms": 100}, {"action": "clear_delay"}),
    ("overload x5", {"action": "overload", "factor": 5}, {"action": "clear_overload"}),
    ("link delay 300 ms", {"action": "add_delay", "name": "node-0", "ms": 300}, {"action": "clear_delay"}),
    ("drift 0.8", {"action": "drift", "amount": 0.8}, {"action": "clear_drift"}),
    ("partition", {"action": "partition"}, {"action": "heal"}),
    ("overload x20", {"action": "overload", "factor": 20}, {"action": "clear_overload"}),
    ("leak", {"action": "leak", "name": "node-3", "mb_per_min": 16}, {"action": "clear_leak"}),
]
DETECT_WITHIN = 30.0
SETTLE = 10.0
BASELINE = Path(__file__).resolve().parent / "data" / "insight_baseline.csv.gz"
QUICK_LEARN = 120.0  # --quick: the machine's own values (not in the baseline) stay unjudged


def record_baseline(minutes: float, path: Path = BASELINE) -> None:
    """``minutes`` of a healthy demo's network, node, AI and model values, one row a tick."""
    collector = MetricsCollector(settings=Settings(demo=True))
    rows, original = [], collector.insight.observe

    def observe(records, now):
        row = {"timestamp": now}
        for series, record in numeric(records).items():
            if series != "system":
                row.update({f"{series}/{k}": v for k, v in record.items() if k != "nodes"})
        rows.append(row)
        original(records, now)

    collector.insight.observe = observe
    collector.start()
    time.sleep(SETTLE + minutes * 60)
    collector.close()
    rows = [row for row in rows if row["timestamp"] >= rows[0]["timestamp"] + SETTLE]
    path.parent.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False, float_format="%.6g")
    print(f"recorded {len(rows)} ticks of {len(rows[0]) - 1} values to {path}")


def load_baseline(path: Path = BASELINE) -> dict[str, pd.DataFrame]:
    """``{series: frame}`` of a baseline written by :func:`record_baseline`."""
    wide = pd.read_csv(path)
    frames: dict[str, dict] = {}
    for column in wide.columns.drop("timestamp"):
        series, name = column.split("/", 1)
        frames.setdefault(series, {"timestamp": wide["timestamp"]})[name] = wide[column]
    return {series: pd.DataFrame(columns) for series, columns in frames.items()}


class RiverMethod:
    """The runner-up: river's ``GaussianScorer`` per value over a rolling window; a value is
    outside when its score (2 |CDF - 0.5|) passes ``threshold`` (0.9999: about 3.9 sigma)."""

    name = "river GaussianScorer"

    def __init__(self, learn_samples: float, window: int = 1800, threshold: float = 0.9999):
        from river import anomaly  # optional: the bench's runner-up only

        self._make = lambda: anomaly.GaussianScorer(window_size=window, grace_period=int(learn_samples))
        self.threshold = threshold
        self.scorers: list = []
        self.learnt = np.zeros(0)
        self.learn_samples = learn_samples

    def declare(self, floors: list[float]) -> None:
        while len(self.scorers) < len(floors):
            self.scorers.append(self._make())
        self.learnt = np.zeros(len(self.scorers))

    def judge(self, values, open_since, now, left_out=None):  # left_out: not learnt (the engine's LeftOut)
        n = values.size
        outside, judged = np.zeros(n, bool), np.zeros(n, bool)
        for i in range(n):
            v = values[i]
            if not np.isfinite(v):
                continue
            scorer = self.scorers[i]
            if scorer.gaussian.n_samples >= self.learn_samples:
                try:
                    score = scorer.score_one(None, float(v))
                except (ZeroDivisionError, ValueError):
                    score = 0.0 if v == scorer.gaussian.mu else 1.0
                if score != score:  # a constant so far: any other value is outside
                    score = 0.0 if v == scorer.gaussian.mu else 1.0
                judged[i] = True
                outside[i] = score > self.threshold
            if not (i < open_since.size and np.isfinite(open_since[i])):
                scorer.learn_one(None, float(v))
            self.learnt[i] = scorer.gaussian.n_samples
        return outside, judged

    def learn(self, n, now, interval=1.0):
        pass


class Replay:
    """What an Insight needs of a collector, over a recorded trace."""

    def __init__(self, live: MetricsCollector, trace: list):
        self.fields = live.fields
        self.sources = live.sources
        self.rules = live.rules
        self.collection_interval = 1.0
        self.log = AlertLog(history=100_000)
        self.store = None
        self._frames = {}
        rows: dict[str, list] = {}
        for now, records in trace:
            for series, record in records.items():
                rows.setdefault(series, []).append({"timestamp": now, **record})
        self._frames = {s: pd.DataFrame(r) for s, r in rows.items()}
        self.now = 0.0

    def history(self, series, minutes, max_points=None):
        frame = self._frames.get(series)
        if frame is None:
            raise ValueError(series)
        t = frame["timestamp"]
        return frame[(t <= self.now) & (t >= self.now - minutes * 60)]


def numeric(records: dict) -> dict:
    """The part of a tick's records the insight reads: numbers, and the node rows the limits need."""
    out = {}
    for series, record in records.items():
        if series == "collector" or not isinstance(record, dict):
            continue
        out[series] = {k: v for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if series == "network":
            out[series]["nodes"] = [
                {k: n.get(k) for k in ("name", "status", "memory_percent", "queue_limit")} for n in record["nodes"]
            ]
    return out


def counts(event: dict, fault: dict) -> bool:
    """An anomaly or forecast of the component the fault acts on (``network`` or ``ai``, as
    the demo's fault table says): what detects it. Faults alternate between the two, so the
    last one's aftermath (queues draining after an overload) is not taken for the next
    one's detection. The machine's own values (``system``) move with whatever else runs on
    the host, not with the demo's faults: their anomalies count as false ones only."""
    return event["kind"] in ("anomaly", "forecast") and event["component"] == FAULT_SPECS[fault["action"]].component


def run_live(healthy: float, learn: float, on: float, recover: float, quick: bool, baseline=None, faults=FAULTS):
    """Run the demo with every fault; return (collector, trace, fault times, healthy span).
    With a ``baseline``, the healthy stretch is judged from its start."""
    collector = MetricsCollector(settings=Settings(demo=True))
    collector.start()
    time.sleep(SETTLE)  # the network's first seconds (its windows filling) are not what normal is
    collector.insight.close()
    collector.insight = Insight(collector, learn_seconds=learn, refresh=2.0, warm_start=False)
    if baseline:
        collector.insight.preload(baseline)
        collector.insight.learn(time.time())
    trace, original = [], collector.insight.observe

    def observe(records, now):
        trace.append((now, numeric(records)))
        original(records, now)

    collector.insight.observe = observe
    t0 = time.time()
    if baseline:
        print(f"from the recorded baseline: a healthy stretch of {healthy:.0f} s ...", flush=True)
    else:
        print(f"learning {learn:.0f} s, then a healthy stretch of {healthy - learn:.0f} s ...", flush=True)
    time.sleep(healthy)
    healthy_span = (t0 if baseline else t0 + learn, time.time())
    times = []
    for label, inject, clear in faults:
        seen = {e["id"] for e in collector.get_alerts()}
        collector.configure(fault=inject)
        at = time.time()
        detected = None
        while time.time() - at < on:
            time.sleep(0.5)
            if quick and detected is None:
                new = [e for e in collector.get_alerts() if e["id"] not in seen and counts(e, inject)]
                if new:
                    detected = new[0]["timestamp"] - at
                    by = new[0]["message"][:70]
                    break
        collector.configure(fault=clear)
        cleared = time.time()
        print(
            f"  {label}: injected {cleared - at:.0f} s"
            + (f", detected live in {detected:.1f} s: {by}" if detected else "")
        )
        times.append((label, at, cleared, inject))
        deadline = time.time() + recover
        while time.time() < deadline:  # until every value is back in its band (or the time is up)
            time.sleep(1)
            calm = (
                not collector.log.active_keys("anomaly:")
                and not np.isfinite(collector.insight.episodes.outside_since).any()
            )
            if calm and time.time() - cleared > 5:
                break
    collector.stop()
    return collector, trace, times, healthy_span


def replay(collector, trace, method, learn: float, baseline=None) -> list[dict]:
    """The anomaly and forecast events ``method`` raises over ``trace`` (from ``baseline``, if any)."""
    stand_in = Replay(collector, trace)
    insight = Insight(stand_in, learn_seconds=learn, warm_start=False, threaded=False, method=method)
    if baseline:
        insight.preload(baseline)
    next_learn = 0.0
    for now, records in trace:
        stand_in.now = now
        insight.observe(records, now)
        if now >= next_learn:
            insight.learn(now)
            next_learn = now + 2.0
    return [e for e in stand_in.log.events() if e["kind"] in ("anomaly", "forecast")], insight


def score(events, times, healthy_span):
    rows = {}
    for label, at, cleared, inject in times:
        hits = [e["timestamp"] - at for e in events if at <= e["timestamp"] <= cleared + 5 and counts(e, inject)]
        rows[label] = min(hits) if hits else None
    start, end = healthy_span
    false = [e for e in events if start <= e["timestamp"] <= end and e["kind"] == "anomaly"]
    hours = (end - start) / 3600
    return rows, false, hours


def cost(collector, trace, nodes: int, ticks: int = 300) -> tuple[float, float]:
    """Median observe() and learn() cost in ms over ``trace`` with its node series cloned to ``nodes``."""
    stand_in = Replay(collector, trace)
    node_series = [s for s in trace[-1][1] if s.startswith("node:")]
    if nodes > len(node_series):
        from prsm_monitor.sources.prsm.fields import NODE_SERIES

        for _, source in [(None, s) for s in stand_in.sources if hasattr(s, "detail_fields")]:
            source.detail_fields.update({f"node:clone-{i}": NODE_SERIES for i in range(nodes - len(node_series))})
    insight = Insight(stand_in, warm_start=False, threaded=False, learn_seconds=60)
    observe, learn = [], []
    for now, records in trace[-ticks:]:
        records = dict(records)
        for i in range(nodes - len(node_series)):
            records[f"node:clone-{i}"] = records[node_series[i % len(node_series)]]
        stand_in.now = now
        t = time.perf_counter()
        insight.observe(records, now)
        observe.append(time.perf_counter() - t)
        if len(observe) % 20 == 0:
            t = time.perf_counter()
            insight.learn(now)
            learn.append(time.perf_counter() - t)
    return statistics.median(observe) * 1000, statistics.median(learn) * 1000


def leak_only(rate_mb_per_min: float) -> None:
    """The leak's forecast against the node's real out-of-memory stop."""
    collector = MetricsCollector(settings=Settings(demo=True))
    collector.start()
    time.sleep(20)
    collector.configure(fault={"action": "leak", "name": "node-3", "mb_per_min": rate_mb_per_min})
    at = time.time()
    print(f"leak of {rate_mb_per_min:g} MiB/min on node-3 from {time.strftime('%H:%M:%S')}", flush=True)
    forecasts = []
    while True:
        time.sleep(5)
        record = collector.latest("network")
        node = next(n for n in record["nodes"] if n["name"] == "node-3")
        forecast = collector.insight.forecast_of("node:node-3", "memory_percent")
        if forecast is not None and forecast.eta:
            forecasts.append((time.time() - at, forecast.trend.at + forecast.eta, forecast.text))
        if node["status"] == "down":
            stopped = time.time()
            break
    collector.close()
    real = stopped - at
    print(f"node-3 stopped out of memory {real:.0f} s after the leak began")
    print("minutes of leak in the window | forecast time to the limit | real | error")
    for elapsed, when, text in forecasts:
        if int(elapsed) % 60 < 5:
            left = stopped - (at + elapsed)
            forecast_left = when - (at + elapsed)
            error = (forecast_left - left) / left * 100 if left > 0 else float("nan")
            print(f"{elapsed / 60:5.1f} | {forecast_left:6.0f} s | {left:6.0f} s | {error:+5.1f} %   ({text})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--leak-only", type=float, metavar="MB_PER_MIN", nargs="?", const=5.0)
    parser.add_argument("--healthy", type=float, help="seconds of healthy run, learning included")
    parser.add_argument("--learn", type=float, help="seconds of learning at the start")
    parser.add_argument("--save", metavar="PATH", help="keep the recorded trace in this file (pickle)")
    parser.add_argument("--replay", metavar="PATH", help="score a trace saved with --save instead of running")
    parser.add_argument("--record-baseline", type=float, metavar="MINUTES", help=f"record {BASELINE.name}")
    args = parser.parse_args()
    if args.leak_only:
        leak_only(args.leak_only)
        return 0
    if args.record_baseline:
        record_baseline(args.record_baseline)
        return 0
    baseline = load_baseline() if args.quick else None
    learn = args.learn or (QUICK_LEARN if args.quick else 240.0)
    healthy = args.healthy or (30.0 if args.quick else 720.0)
    on, recover = (30.0, 4.0) if args.quick else (40.0, 35.0)
    started = time.time()
    if args.replay:
        with open(args.replay, "rb") as file:
            trace, times, healthy_span, learn = pickle.load(file)
        injects = {label: inject for label, inject, _ in FAULTS}
        times = [t if len(t) == 4 else (*t, injects[t[0]]) for t in times]  # traces saved before 4-tuples
        collector = MetricsCollector(settings=Settings(demo=True))  # its declared fields only
    else:
        collector, trace, times, healthy_span = run_live(healthy, learn, on, recover, args.quick, baseline)
    if args.save:
        with open(args.save, "wb") as file:
            pickle.dump((trace, times, healthy_span, learn), file)
    methods = [("robust", lambda: RobustMethod(1800, learn_samples=learn))]
    try:
        import river  # noqa: F401

        if not args.quick:  # the runner-up is measured by the full run
            methods.append(("river", lambda: RiverMethod(learn_samples=learn)))
    except ImportError:
        print("river is not installed: the runner-up is not measured (pip install river==0.26.1)")
    results = {}
    for name, make in methods:
        events, _ = replay(collector, trace, make(), learn, baseline)
        results[name] = score(events, times, healthy_span)
    learnt = "from the recorded baseline" if baseline else f"after {learn:.0f} s of learning"
    print(f"\nhealthy stretch scored: {(healthy_span[1] - healthy_span[0]) / 60:.1f} min {learnt}")
    header = "| fault | " + " | ".join(f"{n}: detected, time" for n in results) + " |"
    print(header)
    print("|" + " --- |" * (1 + len(results)))
    failed = False
    for label, *_ in times:
        cells = []
        for name, (rows, _, _) in results.items():
            t = rows[label]
            cells.append("missed" if t is None else f"yes, {t:.1f} s" + ("" if t <= DETECT_WITHIN else " (late)"))
            if name == "robust" and (t is None or t > DETECT_WITHIN):
                failed = True
        print(f"| {label} | " + " | ".join(cells) + " |")
    for name, (_, false, hours) in results.items():
        fields = sorted({e["details"].get("series", "") + "." + e["details"].get("field", "") for e in false})
        print(
            f"{name}: {len(false)} false anomalies in {hours * 60:.1f} healthy min"
            f" = {len(false) / hours:.1f}/h {fields[:6]}"
        )
        if name == "robust" and false:
            failed = True
    if args.quick:
        m5 = cost(collector, trace, 5, 120)
        print(f"observe() per tick, median: {m5[0]:.3f} ms with 5 nodes; learn(): {m5[1]:.1f} ms")
    else:
        m5, m100 = cost(collector, trace, 5, 300), cost(collector, trace, 100, 300)
        print(f"observe() per tick, median: {m5[0]:.3f} ms with 5 nodes, {m100[0]:.3f} ms with 100 nodes' series")
        print(f"learn() on the insight thread every refresh, median: {m5[1]:.1f} ms (5 nodes), {m100[1]:.1f} ms (100)")
    collector.close()
    print(f"ran {time.time() - started:.0f} s; {'FAILED' if failed else 'ok'}")
    return 1 if args.quick and failed else 0


if __name__ == "__main__":
    sys.exit(main())
