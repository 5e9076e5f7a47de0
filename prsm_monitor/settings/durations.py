"""Durations: one parser (:func:`parse_duration`) and one formatter (:func:`duration`).

Every setting that is a span of time reads through :func:`parse_duration`: a number is
seconds, a text is a number and a unit (``500ms``, ``90s``, ``15m``, ``4h``, ``1.5d``); a
text without a unit is refused (``PRSM_RETENTION_RAW=24`` could mean hours). Every duration
shown to people (pages, alert rows, forecasts, notifications, error messages) is written by
:func:`duration`: ``45 s``, ``12 min``, ``5 h 12 min``, ``3 d 4 h``.
"""

from __future__ import annotations

import re

from .values import ConfigError, finite

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(value, name: str, low: float, high: float) -> float:
    """Seconds in ``value``, from ``low`` to ``high``: a number of seconds, or a text such as
    ``500ms``, ``90s``, ``15m``, ``4h``, ``2d``. Anything else raises :class:`ConfigError`
    naming ``name``, the value as given and the range."""
    if isinstance(value, str):
        match = _TEXT.match(value)
        seconds = float(match.group(1)) * UNITS[match.group(2)] if match else None
    else:
        seconds = finite(value)
    if seconds is None or not low <= seconds <= high:
        raise ConfigError(
            name,
            value,
            f"a duration like 90s, 15m or 4h (a number and a unit: ms, s, m, h or d) "
            f"from {duration(low)} to {duration(high)}",
        )
    return seconds


def duration(seconds: float) -> str:
    """``250 ms``, ``45 s``, ``12 min``, ``5 h 12 min``, ``24 h``, ``3 d 4 h``: under a second
    in milliseconds; under 90 s in seconds; under an hour in whole minutes, as a clock counts
    (1 min 50 s is 1 min); under two days in hours (so "within 24 h" reads as it was set)."""
    seconds = max(0.0, float(seconds))
    if 0 < seconds < 0.9995:
        return f"{round(seconds * 1000)} ms"
    if seconds < 90:
        return f"{round(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
