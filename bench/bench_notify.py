"""Notifications: latency from an alert firing to each receiver, and what a dead endpoint costs
the collector's tick.

    python bench/bench_notify.py        # from the repo root; ~40 s; Alertmanager when installed

1. Latency: a collector (no demo, 0.2 s ticks) with group_wait 0 sends to a local JSON webhook,
   an SMTP server in this process (aiosmtpd) and, when Debian's prometheus-alertmanager is
   installed, a real Alertmanager. A custom rule raises a new alert, then clears it, N times;
   the figure is the receiver's arrival time minus the alert event's timestamp (the whole
   path: the tick that logged it, the notifier's poll, the sender's queue, Apprise or HTTP).
2. Tick cost: the same collector's tick times (the `collector` record's ``tick_duration_ms``)
   and missed ticks while nothing is configured, and while every alert goes to a dead port and
   to an endpoint that hangs 10 s (the sender is busy retrying the whole time), alternating
   runs so machine noise hits both alike.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prsm_monitor import MetricsCollector  # noqa: E402
from prsm_monitor.notify import NotifySettings, Route  # noqa: E402
from prsm_monitor.settings.model import Settings  # noqa: E402
from prsm_monitor.sources.system import SystemSource  # noqa: E402
from tests.fixtures.receivers import ALERTMANAGER, Alertmanager, Hanging, Smtp, Webhook, refused_url  # noqa: E402

ROUNDS = 15


def wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("not reached")
        time.sleep(0.005)


def collector_with(notify: NotifySettings) -> MetricsCollector:
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.2, notify=notify), sources=[SystemSource()])
    collector.start()
    return collector


def latency() -> dict[str, list[float]]:
    hook, smtp = Webhook(), Smtp()
    am = Alertmanager(Path(tempfile.mkdtemp())) if ALERTMANAGER else None
    if am:
        wait(am.ready)
    notify = NotifySettings(
        routes=(Route("bench", (hook.url, smtp.url), send_resolved=False),),  # firing only: one message each
        alertmanager_url=am.url if am else None,
        group_wait=0.0,
        group_interval=0.1,
    )  # the notifier looks at the alert log every 0.2 s (its default)
    collector = collector_with(notify)
    state = {"n": None}
    collector.add_alert_rule(
        lambda m: state["n"] is not None and collector.create_alert("error", "ai", f"bench {state['n']}", {})
    )
    result: dict[str, list[float]] = {"webhook (json://)": [], "e-mail (mailto://, aiosmtpd)": []}
    if am:
        result["Alertmanager (accepted)"] = []
    try:
        for n in range(ROUNDS):
            hooks, mails = len(hook.received), len(smtp.messages)
            state["n"] = n
            wait(lambda h=hooks, m=mails: len(hook.received) > h and len(smtp.messages) > m)
            fired = next(e["timestamp"] for e in collector.get_alerts() if e["message"] == f"bench {n}")
            result["webhook (json://)"].append(hook.received[hooks][0] - fired)
            result["e-mail (mailto://, aiosmtpd)"].append(smtp.messages[mails][0] - fired)
            if am:
                wait(lambda f=fired: _am_sent(collector, f))
                result["Alertmanager (accepted)"].append(min(_am_sent(collector, fired)) - fired)
            state["n"] = None
            wait(lambda: not collector.get_active_alerts())
            wait(lambda: collector.notifier.sender.pending == 0)
    finally:
        collector.close()
        hook.close()
        smtp.close()
        if am:
            am.close()
    return result


def _am_sent(collector, fired: float) -> list[float]:
    """When Alertmanager accepted the pushes of the alert that fired at ``fired``."""
    entries = collector.notifier.deliveries.entries()
    return [
        d["sent_at"] for d in entries if d["channel"] == "alertmanager" and d["alert_time"] == fired and d["sent_at"]
    ]


def tick_cost(seconds: float = 6.0) -> dict[str, tuple[list[float], int]]:
    hanging = Hanging(10.0)
    broken = NotifySettings(
        routes=(Route("broken", (refused_url(), hanging.url)),),
        group_wait=0.0,
        group_interval=0.5,
        timeout=10.0,
        poll=0.05,
    )
    runs: dict[str, tuple[list[float], int]] = {"no notifications": ([], 0), "dead + 10 s hanging endpoint": ([], 0)}
    try:
        for _ in range(2):
            for name, notify in (("no notifications", NotifySettings()), ("dead + 10 s hanging endpoint", broken)):
                collector = collector_with(notify)
                flip = {"on": True}
                collector.add_alert_rule(
                    lambda m, c=collector, f=flip: f["on"] and c.create_alert("error", "ai", "x", {})
                )
                times = []
                end = time.monotonic() + seconds
                last = None
                while time.monotonic() < end:
                    record = collector.latest("collector")
                    if record is not None and record["ticks_total"] != last:
                        last = record["ticks_total"]
                        times.append(record["tick_duration_ms"])
                    time.sleep(0.05)
                missed = collector.latest("collector")["missed_ticks_total"]
                busy = collector.notifier.sender.pending if collector.notifier.sender else 0
                collector.close()
                previous, total = runs[name]
                runs[name] = (previous + times, total + missed)
                if busy:
                    print(f"  ({name}: {busy} deliveries still waiting when the run ended)")
    finally:
        hanging.close()
    return runs


def main() -> None:
    print("Figures from a shared 2-core machine; other work may run beside this.")
    print(f"\nLatency from the alert event to the receiver, {ROUNDS} alerts, group_wait 0, ticks 0.2 s:")
    print(f"{'receiver':34} {'median':>9} {'p95':>9} {'max':>9}")
    for name, values in latency().items():
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(f"{name:34} {statistics.median(values) * 1000:7.1f}ms {p95 * 1000:7.1f}ms {values[-1] * 1000:7.1f}ms")
    if not ALERTMANAGER:
        print("(prometheus-alertmanager is not installed: no Alertmanager row)")
    print("\nCollector tick while notifications are off vs while every delivery fails (alternating runs):")
    print(f"{'setting':34} {'ticks':>6} {'median':>9} {'p95':>9} {'missed':>7}")
    for name, (times, missed) in tick_cost().items():
        times.sort()
        p95 = times[round(0.95 * (len(times) - 1))]
        print(f"{name:34} {len(times):6d} {statistics.median(times):7.2f}ms {p95:7.2f}ms {missed:7d}")


if __name__ == "__main__":
    main()
