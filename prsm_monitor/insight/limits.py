"""Fields with a limit, and what reaching it is called: what the forecasts watch.

``limits(collector, records)`` lists :class:`Limit` for the latest records: disk, memory and
swap at 100 %, the average inference time at its rule's critical threshold, the queues at
their capacity (every node's ``queue_limit`` summed over the nodes that are up), and per
demo node its memory (of its limit) and its queue.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    series: str
    field: str
    value: float
    what: str  # "disk full", "node-0 memory full"
    unit: str = "%"

    @property
    def component(self) -> str:
        return (
            "network"
            if self.series.startswith("node:")
            else ("ai" if self.series.startswith("model:") else self.series)
        )


SYSTEM = (
    ("disk_percent", "disk full"),
    ("memory_percent", "memory full"),
    ("swap_percent", "swap full"),
)
CAPACITY = (  # the Overview's capacity panel: growth per day
    ("system", "disk_percent", "Disk", "%"),
    ("system", "memory_percent", "Memory", "%"),
    ("network", "message_rate", "Message rate", "messages/s"),
    ("ai", "inference_rate", "Inference rate", "requests/s"),
)


def limits(rules: dict, records: dict) -> list[Limit]:
    found = [
        Limit("system", field, 100.0, what)
        for field, what in SYSTEM
        if (records.get("system") or {}).get(field) is not None
    ]
    rule = rules.get("inference_time")
    if rule is not None and rule.critical is not None and records.get("ai"):
        found.append(
            Limit("ai", "average_inference_time", float(rule.critical), f"inference time at {rule.critical:g} s", "s")
        )
    nodes = (records.get("network") or {}).get("nodes") or []
    capacity = sum(n.get("queue_limit") or 0 for n in nodes if n.get("status") == "up")
    if capacity and records.get("ai"):
        found.append(Limit("ai", "queue_length", float(capacity), "inference queues full", "1"))
    for node in nodes:
        series = f"node:{node['name']}"
        if series not in records:
            continue
        if node.get("memory_percent") is not None:
            found.append(Limit(series, "memory_percent", 100.0, f"{node['name']} memory full"))
        if node.get("queue_limit"):
            found.append(Limit(series, "queue_length", float(node["queue_limit"]), f"{node['name']} queue full", "1"))
    return found
