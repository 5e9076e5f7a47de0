"""How often the collector ticks and how much history it keeps, within a memory budget.

The history a budget allows depends on how many fields the active sources declare, which
only the collector knows: it passes ``point_bytes`` (8 bytes per field) to
:func:`check_history` and :func:`default_history`. Here are the rules, not the sources.
"""

from __future__ import annotations

import math

from .values import ConfigError, finite

INTERVAL_MIN = 0.1  # seconds between ticks, at least: faster ticks cost more than they show
INTERVAL_MAX = 3600.0  # seconds between ticks, at most
HISTORY_MIN = 10  # points kept per component, at least
HISTORY_SECONDS = 24 * 3600  # the default history covers this much (the longest range the pages offer)
MEMORY_BUDGET_MB = 256.0  # default PRSM_MEMORY_BUDGET_MB: with the app (~200 MB), well inside 1 GB
MEMORY_BUDGET_RANGE = (16.0, 65_536.0)  # MiB
VALUE_BYTES = 8  # one float64 per field and point
HISTORY_COPIES = 2  # a resize (old and new ring) or a full-range query holds the history twice for a moment


def check_interval(value, name: str = "collection_interval") -> float:
    """Seconds between collection ticks: from :data:`INTERVAL_MIN` to :data:`INTERVAL_MAX`."""
    number = finite(value)
    if number is None or not INTERVAL_MIN <= number <= INTERVAL_MAX:
        raise ConfigError(name, value, f"seconds, a number from {INTERVAL_MIN:g} to {INTERVAL_MAX:g}")
    return number


def history_ceiling(point_bytes: int, budget_mb: float) -> int:
    """The most points per component that fit ``budget_mb`` MiB, for ``point_bytes`` bytes per
    point (every component's fields together): the budget covers :data:`HISTORY_COPIES` copies."""
    return max(HISTORY_MIN, int(budget_mb * 1024 * 1024 // (HISTORY_COPIES * max(1, point_bytes))))


def default_history(interval: float, point_bytes: int, budget_mb: float) -> int:
    """Points that cover :data:`HISTORY_SECONDS` at ``interval``, as far as the budget allows."""
    return max(HISTORY_MIN, min(math.ceil(HISTORY_SECONDS / interval), history_ceiling(point_bytes, budget_mb)))


def check_points(value, name: str = "max_history") -> int:
    """A whole number of points per component, at least :data:`HISTORY_MIN` (the budget is
    judged by :func:`check_history`, where the sources are known)."""
    number = finite(value)
    if number is None or not number.is_integer() or number < HISTORY_MIN:
        raise ConfigError(name, value, f"a whole number of points, from {HISTORY_MIN}")
    return int(number)


def check_history(value, name: str = "max_history", *, point_bytes: int, budget_mb: float = MEMORY_BUDGET_MB) -> int:
    """Points kept per component: a whole number from :data:`HISTORY_MIN` to what the memory
    budget allows at ``point_bytes`` per point (the fields of the collector's sources)."""
    high = history_ceiling(point_bytes, budget_mb)
    number = finite(value)
    if number is None or not number.is_integer() or not HISTORY_MIN <= number <= high:
        raise ConfigError(
            name,
            value,
            f"a whole number of points from {HISTORY_MIN} to {high} "
            f"({point_bytes} bytes per point within PRSM_MEMORY_BUDGET_MB={budget_mb:g})",
        )
    return int(number)


def check_budget(value, name: str = "memory_budget_mb") -> float:
    """MiB the history may take: within :data:`MEMORY_BUDGET_RANGE`."""
    budget = finite(value)
    low, high = MEMORY_BUDGET_RANGE
    if budget is None or not low <= budget <= high:
        raise ConfigError(name, value, f"MiB, a number from {low:g} to {high:g}")
    return budget
