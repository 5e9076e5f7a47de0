"""Metric fields declared once, as data.

Sources declare the numeric fields they report; the history store keeps one column
per declared field, and exporters (API, Prometheus) derive names, units and help
texts from the same declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

GAUGE = "gauge"
COUNTER = "counter"


@dataclass(frozen=True)
class Field:
    """One numeric field of a component's record.

    ``unit`` is the unit of the stored value ("%", "GB", "MB", "B/s", "ms", "s", "1" for a
    plain count or ratio). ``kind`` is ``"gauge"`` for an instantaneous value or
    ``"counter"`` for a cumulative total that only grows (until a restart).
    """

    name: str
    unit: str
    kind: str
    help: str

    def __post_init__(self):
        if self.kind not in (GAUGE, COUNTER):
            raise ValueError(f"Field {self.name!r}: kind must be 'gauge' or 'counter', not {self.kind!r}")


TIMESTAMP = Field("timestamp", "s", GAUGE, "Time of the reading, seconds since the Unix epoch")
