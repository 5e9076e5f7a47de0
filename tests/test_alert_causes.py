"""Issue 21, item 5: one demo fault, one incident, named by its cause; what it moved joins it."""

from __future__ import annotations

import pytest

from prsm_monitor.demo.faults import fault_causes, injected
from prsm_monitor.insight.watch import alert_labels
from prsm_monitor.notify.grouping import Grouper, Timers

from .test_notify import event


def fault(t, action, **args):
    details = {"fault": action, **args}
    return {"id": 10_000 + int(t), "alert_id": None, "kind": "changed", "timestamp": t, "level": "info",
            "component": "network", "message": f"Demo fault: {action}", "details": details}  # fmt: skip


def derived(alert_id, kind, t, series, field, component="network", message="m"):
    return event(alert_id, kind, t, "warning", component, message, **alert_labels(series, kind, field))


@pytest.mark.parametrize(
    ("action", "args", "clear", "title"),
    [
        ("leak", {"name": "node-0", "mb_per_min": 8.0}, ("clear_leak", {}), "node-0 memory leak"),
        ("add_delay", {"name": "node-2", "ms": 100.0}, ("clear_delay", {}), "link delay on node-2"),
        ("stop_node", {"name": "node-1"}, ("start_node", {"name": "node-1"}), "node-1 stopped"),
        ("partition", {}, ("heal", {}), "network partition"),
        ("overload", {"factor": 20.0}, ("clear_overload", {}), "request rate ×20"),
        ("drift", {"amount": 0.8}, ("clear_drift", {}), "input drift"),
    ],
)
def test_every_fault_is_one_incident_named_by_its_cause(action, args, clear, title):
    g = Grouper(Timers(group_window=60))
    assert g.observe(fault(0, action, **args)) is None
    first = g.observe(derived(1, "anomaly", 14, "network", "average_latency"))
    others = [
        g.observe(event(2, "fired", 20, message="Node node-0 is down", node="node-0")),
        g.observe(derived(3, "forecast", 25, "node:node-0", "memory_percent")),
        g.observe(derived(4, "anomaly", 30, "ai", "average_inference_time", "ai")),
        g.observe(event(5, "fired", 31, "warning", "ai", "Inference success rate", rule="success_rate")),
        g.observe(derived(6, "anomaly", 32, "system", "cpu_percent", "system")),
    ]
    assert all(i is first for i in others) and len(first.members) == 6
    assert first.title.startswith(f"{title}: ") and first.cause == title and first.as_dict()["cause"] == title
    for alert_id in range(1, 7):  # a steady fault: what it moved resolves, fires again: one incident
        g.observe(event(alert_id, "resolved", 100, "info"))
    assert g.observe(derived(1, "anomaly", 120, "network", "average_latency")) is first
    g.observe(fault(180, *clear[:1], **clear[1]))
    recovery = g.observe(event(7, "fired", 200, message="Node node-3 is down", node="node-3"))
    assert recovery is first  # the recovery's bumps, within the window after the clear
    draining = g.observe(derived(9, "anomaly", 300, "ai", "average_inference_time", "ai"))
    assert draining is first  # after the window, while the incident is still open: still the fault's
    for alert_id in (1, 7, 9):
        g.observe(event(alert_id, "resolved", 310, "info"))
    later = g.observe(event(8, "fired", 400, message="Node node-3 is down", node="node-3"))
    assert later is not first and later.cause is None  # long after: not the fault's
    assert len([i for i in g.incidents.values() if i.cause]) == 1


def test_two_faults_at_once_each_take_what_carries_their_node():
    g = Grouper(Timers(group_window=60))
    g.observe(fault(0, "leak", name="node-0", mb_per_min=8.0))
    g.observe(fault(5, "add_delay", name="node-2", ms=100.0))
    leak = g.observe(derived(1, "forecast", 10, "node:node-0", "memory_percent"))
    delay = g.observe(derived(2, "anomaly", 11, "network", "average_latency"))  # no node: the newest cause
    assert leak.cause == "node-0 memory leak" and delay.cause == "link delay on node-2"


def test_causes_from_a_faults_snapshot():
    snapshot = {
        "stopped": ["node-3"],
        "leak_mb_per_min": {"node-0": 8.0},
        "delay_ms": {"node-2": 100.0},
        "drift": {"m1": 0.8, "m2": 0.8},
        "rate": 100.0,
        "base_rate": 5.0,
        "partition": [["a"], ["b"]],
    }
    titles = [c.title for c in injected(snapshot)]
    assert titles == ["node-3 stopped", "node-0 memory leak", "link delay on node-2", "input drift", "request rate ×20",
                      "network partition"]  # fmt: skip
    assert injected({"stopped": [], "drift": {}, "rate": 5.0, "base_rate": 5.0, "partition": None}) == []
    assert fault_causes({"fault": "clear_faults"}) == ([], [()])
