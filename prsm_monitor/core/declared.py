"""What a collector's sources declare, and what is derived from it: the fields and rows the
exporters name, the fields the memory budget of the history.

One point of history is one float per declared field (the collector's own and every
source's main components; drill-down series are capped apart), so the sources a
collector starts with decide how many points fit ``PRSM_MEMORY_BUDGET_MB``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..fields import COLLECTOR_FIELDS, Distribution, Field, Rows
from ..settings.limits import VALUE_BYTES
from ..sources.base import Source


def point_bytes(sources: Iterable[Source]) -> int:
    """Bytes one point of history takes: every field the collector and ``sources`` declare for
    their main components."""
    count = len(COLLECTOR_FIELDS)
    for source in sources:
        count += sum(len(source.fields[c]) for c in source.components)
    return VALUE_BYTES * count


def fields(sources: Iterable[Source]) -> dict[str, tuple[Field, ...]]:
    """Declared fields per component, the collector's own first, for exporters."""
    result = {"collector": COLLECTOR_FIELDS}
    for source in sources:
        result.update({c: tuple(source.fields[c]) for c in source.components})
    return result


def rows(sources: Iterable[Source]) -> tuple[tuple[Rows, ...], tuple[Distribution, ...]]:
    """The row lists and distributions ``sources`` declare, for exporters."""
    row_lists, distributions = [], []
    for source in sources:
        row_lists.extend(source.rows)
        distributions.extend(source.distributions)
    return tuple(row_lists), tuple(distributions)
