"""README's fault table as a test: each demo fault, injected through ``collector.configure``
into the default demo network, fires the alert the table names within the time it states,
and clearing the fault resolves the alert within the time it states.

The faults run once for the suite, all at once, each on its own default demo network (5
nodes, 5 requests/s, 10 s window) with the default rules (``tests/fault_runs.py``).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from .fault_runs import FAULTS

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = [
    pytest.mark.filterwarnings("error::ResourceWarning"),
    pytest.mark.timeout(300),
    pytest.mark.xdist_group("fault_runs"),  # one worker runs the shared fault runs once
]


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


def test_every_fault_in_the_readme_fires_its_alert_and_clearing_it_resolves_it(fault_runs):
    rows = readme_rows()
    in_readme = {fault.readme: name for name, fault in FAULTS.items() if fault.readme}
    assert set(rows) == set(in_readme), "the README's fault table and this test name the same faults"
    failed = {}
    for row_name, name in in_readme.items():
        fault, result, row = FAULTS[name], fault_runs[name], rows[row_name]
        for expect in fault.expect:
            assert f"`{expect.level}` {expect.label}" in row["alert"], row_name
        if result.fired_after is None or result.cleared_after is None:
            failed[row_name] = f"{type(result.error).__name__}: {result.error}"
            continue
        times = f"fired after {result.fired_after:.1f} s, resolved {result.cleared_after:.1f} s after clearing"
        print(f"{row_name}: {times}")
        if result.fired_after > seconds(row["fires within"]) or result.cleared_after > seconds(row["clears within"]):
            failed[row_name] = times
            continue
        resolved = [e for e in result.events or () if e["kind"] == "resolved"]
        for expect in fault.expect:  # resolved by an event of its own, as every transition is
            if not any(expect.label in e["message"] for e in resolved):
                failed[row_name] = f"no resolved event for {expect.label}"
    assert not failed
