"""README's fault table as a test: each demo fault, injected through ``collector.configure``
into the default demo network, fires the alert the table names within the time it states,
and clearing the fault resolves the alert within the time it states.

The five faults run at once, each on its own default demo network (5 nodes, 5 requests/s,
10 s window) with the default rules, so the test takes as long as the slowest row.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import LEVELS
from prsm_monitor.settings.model import Settings

from .conftest import wait_until

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = [pytest.mark.filterwarnings("error::ResourceWarning"), pytest.mark.timeout(240)]


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


@dataclass(frozen=True)
class Fault:
    inject: dict
    clear: dict
    expect: tuple[Expect, ...]


FAULTS = {
    "stop a node": Fault(
        {"action": "stop_node", "name": "node-0"},
        {"action": "start_node", "name": "node-0"},
        (Expect("error", "Node node-0 is down"),),
    ),
    "link delay 300 ms on node-0": Fault(
        {"action": "add_delay", "name": "node-0", "ms": 300.0},
        {"action": "clear_delay"},
        (Expect("warning", "Average latency", "latency"),),
    ),
    "input drift 0.8": Fault(
        {"action": "drift", "amount": 0.8},
        {"action": "clear_drift"},
        (Expect("warning", "Average confidence", "confidence"),),
    ),
    "request rate ×20": Fault(
        {"action": "overload", "factor": 20.0},
        {"action": "clear_overload"},
        (
            Expect("critical", "Inference success rate", "success_rate"),
            Expect("warning", "Average inference time", "inference_time"),
        ),
    ),
    "partition in two": Fault(
        {"action": "partition"},
        {"action": "heal"},
        (Expect("critical", "Proposal rejection rate", "consensus_rejections"),),
    ),
}


def readme_rows() -> dict[str, dict[str, str]]:
    """The rows of the fault table under "The demo network and its faults", by fault."""
    lines = README.read_text(encoding="utf-8").split("### The demo network and its faults", 1)[1].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| fault |"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[first:]))
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    header, rows = cells[0], cells[2:]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def seconds(cell: str) -> float:
    match = re.fullmatch(r"(\d+) s", cell)
    assert match, f"expected a time like '20 s' in the fault table, not {cell!r}"
    return float(match.group(1))


def reached(expect: Expect, active: list[dict]) -> bool:
    alert = expect.find(active)
    return alert is not None and LEVELS.index(alert["level"]) >= LEVELS.index(expect.level)


def run_fault(fault: Fault, fire_within: float, clear_within: float) -> tuple[float, float]:
    """Inject into a healthy default demo network; (seconds to fire, seconds to resolve)."""
    with MetricsCollector(settings=Settings(demo=True, interval=0.25)) as collector:
        collector.start()
        window = collector.sources[-1].window
        # healthy for a full window first, so the fault has to move a full window of samples
        wait_until(lambda: (collector.latest("ai") or {}).get("window_seconds", 0) >= window - 0.5, timeout=60)
        assert not any(e.find(collector.get_active_alerts()) for e in fault.expect), collector.get_active_alerts()
        started = time.monotonic()
        collector.configure(fault=fault.inject)
        wait_until(lambda: all(reached(e, collector.get_active_alerts()) for e in fault.expect), timeout=fire_within)
        fired = time.monotonic() - started
        started = time.monotonic()
        collector.configure(fault=fault.clear)
        wait_until(lambda: not any(e.find(collector.get_active_alerts()) for e in fault.expect), timeout=clear_within)
        cleared = time.monotonic() - started
        resolved = [e for e in collector.get_alerts() if e["kind"] == "resolved"]
        for expect in fault.expect:  # resolved by an event of its own, as every transition is
            assert any(expect.label in e["message"] for e in resolved), (expect.label, resolved)
        return fired, cleared


def test_every_fault_in_the_readme_fires_its_alert_and_clearing_it_resolves_it():
    rows = readme_rows()
    assert set(rows) == set(FAULTS), "the README's fault table and this test name the same faults"
    for name, fault in FAULTS.items():
        for expect in fault.expect:
            assert f"`{expect.level}` {expect.label}" in rows[name]["alert"], name

    results: dict[str, tuple[float, float] | BaseException] = {}

    def run(name: str) -> None:
        row = rows[name]
        try:
            results[name] = run_fault(FAULTS[name], seconds(row["fires within"]), seconds(row["clears within"]))
        except BaseException as error:  # noqa: BLE001 - reported below, by fault
            results[name] = error

    threads = [threading.Thread(target=run, args=(name,), name=f"fault {name}") for name in FAULTS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, result in results.items():
        if not isinstance(result, BaseException):
            print(f"{name}: fired after {result[0]:.1f} s, resolved {result[1]:.1f} s after clearing")
    failed = {name: f"{type(r).__name__}: {r}" for name, r in results.items() if isinstance(r, BaseException)}
    assert not failed
