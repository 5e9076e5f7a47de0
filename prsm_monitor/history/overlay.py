"""The node, link and model rows at a moment: the snapshot's rows, corrected by the per-node series.

A snapshot (:mod:`prsm_monitor.store.snapshots`) is taken on the writer's flush, up to a
second after a node changed state, and otherwise every few seconds; the drill-down series
``node:<name>`` (``up``, ``links_up``, latency, message rate, queue, memory) are stored every
tick. So at a moment, each node row takes its series' row at or just before it: its status,
links up and figures are those of the tick; the links of a node that was down are down, and
the model instances it hosted are down with no figures (as the live record shows them).
What no series holds (names, models hosted, links configured, counters) stays the snapshot's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

MODEL_FIGURES = ("inferences", "success_rate", "p50_time_s", "p95_time_s", "mean_confidence", "input_scale")


def at_tick(network: dict | None, ai: dict | None, node_row: Callable[[str], Mapping | None]) -> tuple:
    """``(network, ai)`` with their rows corrected by ``node_row(name)`` (the series' row of
    ``node:<name>`` at the moment, None when none is stored); the inputs are not changed."""
    if not network or not network.get("nodes"):
        return network, ai
    nodes, down = [], set()
    for row in network["nodes"]:
        stored = node_row(row.get("name"))
        row = dict(row)
        if stored is not None and stored.get("up") is not None:
            was = row.get("status")
            row["status"] = "up" if stored["up"] >= 0.5 else "down"
            for name, value in stored.items():
                if name not in ("timestamp", "up"):
                    row[name] = value
            if row["status"] != was and row["status"] == "down":
                row["down_since"] = None  # went down after the snapshot: when exactly is not stored
        if row.get("status") == "down":
            down.add(row.get("name"))
        nodes.append(row)
    edges = [
        {**e, "up": False} if e.get("source") in down or e.get("target") in down else e
        for e in network.get("edges") or ()
    ]
    network = {**network, "nodes": nodes, "edges": edges}
    if ai and ai.get("models"):
        models = []
        for m in ai["models"]:
            if m.get("node") in down and m.get("status") != "down":
                m = {**m, "status": "down", **dict.fromkeys(MODEL_FIGURES)}
            elif m.get("node") not in down and m.get("status") == "down":
                m = {**m, "status": "up"}  # its node came back after the snapshot: figures unknown
            models.append(m)
        ai = {**ai, "models": models}
    return network, ai
