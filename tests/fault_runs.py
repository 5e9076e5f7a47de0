"""Every demo fault, run once for the whole suite: each on a default demo network of its own
(5 nodes, 5 requests/s, 10 s window, the default rules), all at once, so the suite pays for
the slowest fault, not their sum.

For each fault: a full healthy window, then the fault is injected (through
``collector.configure``, as the sidebar does) and held until every alert it should raise has
reached its level; then it is cleared until those alerts resolve and its incident ends. Two
test modules read the results: ``test_fault_alerts.py`` (README's fault table: fire and clear
times) and ``test_incident_faults.py`` (each incident's timeline and the incidents API).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from prsm_monitor.alerts.incident_timeline import incident_record
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import LEVELS
from prsm_monitor.notify.view import notifications_view
from prsm_monitor.settings.model import Settings

from .conftest import wait_until

WAIT = 90.0  # seconds any one step may take at most (the README's own limits are checked by its test)


@dataclass(frozen=True)
class Expect:
    level: str  # the level the alert reaches
    label: str  # how the README's alert column names it
    rule: str | None = None  # a rule's alert, or else one whose message is ``label``

    def find(self, active: list[dict]) -> dict | None:
        for alert in active:
            if (alert["details"].get("rule") == self.rule) if self.rule else alert["message"] == self.label:
                return alert
        return None

    def reached(self, active: list[dict]) -> bool:
        alert = self.find(active)
        return alert is not None and LEVELS.index(alert["level"]) >= LEVELS.index(self.level)


@dataclass(frozen=True)
class Fault:
    inject: dict
    clear: tuple[dict, ...]
    expect: tuple[Expect, ...]
    cause: str  # the incident's cause (its title's start)
    readme: str | None = None  # its row in the README's fault table, if it has one


FAULTS = {
    "stop a node": Fault(
        {"action": "stop_node", "name": "node-0"},
        ({"action": "start_node", "name": "node-0"},),
        (Expect("error", "Node node-0 is down"),),
        "node-0 stopped",
        "stop a node",
    ),
    "link delay": Fault(
        {"action": "add_delay", "name": "node-0", "ms": 300.0},
        ({"action": "clear_delay"},),
        (Expect("warning", "Average latency", "latency"),),
        "link delay on node-0",
        "link delay 300 ms on node-0",
    ),
    "input drift": Fault(
        {"action": "drift", "amount": 0.8},
        ({"action": "clear_drift"},),
        (Expect("warning", "Average confidence", "confidence"),),
        "input drift",
        "input drift 0.8",
    ),
    "request rate ×20": Fault(
        {"action": "overload", "factor": 20.0},
        ({"action": "clear_overload"},),
        (
            Expect("critical", "Inference success rate", "success_rate"),
            Expect("warning", "Average inference time", "inference_time"),
        ),
        "request rate ×20",
        "request rate ×20",
    ),
    "partition": Fault(
        {"action": "partition"},
        ({"action": "heal"},),
        (Expect("critical", "Proposal rejection rate", "consensus_rejections"),),
        "network partition",
        "partition in two",
    ),
    "memory leak": Fault(  # 1 GiB/min reaches the node's 64 MiB limit in seconds: it is stopped, as out of memory
        {"action": "leak", "name": "node-1", "mb_per_min": 1024.0},
        ({"action": "clear_leak", "name": "node-1"}, {"action": "start_node", "name": "node-1"}),
        (Expect("error", "Node node-1 is down"),),
        "node-1 memory leak",
    ),
}


@dataclass
class Run:
    collector: MetricsCollector
    injected: float | None = None  # the fault event's timestamp
    fired_after: float | None = None  # seconds from injecting until every expected alert had its level
    cleared_after: float | None = None  # seconds from clearing until none of them was active
    record: dict | None = None  # the incident's record (incident_record)
    events: list | None = None  # the alert log at the end
    error: BaseException | None = None


def run(fault: Fault) -> Run:
    collector = MetricsCollector(settings=Settings(demo=True, interval=0.25))
    result = Run(collector)
    try:
        collector.start()
        window = collector.sources[-1].window
        # healthy for a full window first, so the fault has to move a full window of samples
        wait_until(lambda: (collector.latest("ai") or {}).get("window_seconds", 0) >= window - 0.5, timeout=WAIT)
        assert not any(e.find(collector.get_active_alerts()) for e in fault.expect), collector.get_active_alerts()
        started = time.monotonic()
        collector.configure(fault=fault.inject)
        result.injected = collector.get_alerts()[-1]["timestamp"]
        wait_until(lambda: all(e.reached(collector.get_active_alerts()) for e in fault.expect), timeout=WAIT)
        result.fired_after = time.monotonic() - started

        def incident():
            mine = [i for i in collector.notifier.incidents() if i["started"] >= result.injected]
            return next((i for i in mine if i["cause"] == fault.cause), None)

        opened = wait_until(incident, timeout=WAIT)
        started = time.monotonic()
        for clear in fault.clear:
            collector.configure(fault=clear)
        wait_until(lambda: not any(e.find(collector.get_active_alerts()) for e in fault.expect), timeout=WAIT)
        result.cleared_after = time.monotonic() - started
        result.events = collector.get_alerts()
        wait_until(lambda: not next(i for i in collector.notifier.incidents() if i["id"] == opened["id"])["open"], WAIT)
        # The story holds still from here: its ticks stop, so that no later alert (one may join a
        # resolved incident within the merge window, as on a loaded machine) moves what the
        # tests compare with the record (the API's incident list, its end).
        collector.stop()
        result.record = incident_record(collector, notifications_view(collector.notifier), opened["id"])
        result.events = collector.get_alerts()
    except BaseException as error:  # noqa: BLE001 - reported by the tests that read this fault
        result.error = error
    return result


def run_all() -> dict[str, Run]:
    """Every fault at once, each on its own network; the collectors stay open (call
    :func:`close_all`)."""
    results: dict[str, Run] = {}

    def one(name: str) -> None:
        results[name] = run(FAULTS[name])

    threads = [threading.Thread(target=one, args=(name,), name=f"fault {name}") for name in FAULTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def close_all(results: dict[str, Run]) -> None:
    for result in results.values():
        result.collector.close()
