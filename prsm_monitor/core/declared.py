"""What a collector's sources declare, and what is derived from it: the fields and rows the
exporters name, the fields a rules-file rule may watch, and the memory budget of the history.

One point of history is one float per declared field (the collector's own and every
source's main components; drill-down series are capped apart), so the sources a
collector starts with decide how many points fit ``PRSM_MEMORY_BUDGET_MB``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..config import VALUE_BYTES, check_history, default_history
from ..fields import COLLECTOR_FIELDS, Distribution, Field, Rows
from ..sources.base import Source


def point_bytes(sources: Iterable[Source]) -> int:
    """Bytes one point of history takes: every field the collector and ``sources`` declare for
    their main components."""
    count = len(COLLECTOR_FIELDS)
    for source in sources:
        count += sum(len(source.fields[c]) for c in source.components)
    return VALUE_BYTES * count


def history_points(settings, max_history: int | None, bytes_per_point: int) -> int:
    """Points kept per component: ``max_history`` if given, else ``PRSM_METRICS_HISTORY``,
    else what covers the default span at the interval; each checked against the budget."""
    budget = settings.memory_budget_mb
    if max_history is not None:
        return check_history(max_history, "max_history", point_bytes=bytes_per_point, budget_mb=budget)
    if settings.history is not None:
        return check_history(settings.history, "history", point_bytes=bytes_per_point, budget_mb=budget)
    return default_history(settings.interval, bytes_per_point, budget)


def known_fields(sources: Iterable[Source]) -> dict[str, dict[str, str]]:
    """``{component: {field name: unit}}`` that ``sources`` declare: what a rules-file rule may watch."""
    known: dict[str, dict[str, str]] = {}
    for source in sources:
        for component, fields in source.fields.items():
            known.setdefault(component, {}).update({f.name: f.unit for f in fields})
    return known


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
