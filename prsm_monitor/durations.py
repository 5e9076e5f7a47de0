"""Durations in words, written one way everywhere: pages, alert rows, forecasts."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``5 h 12 min``, ``24 h``, ``3 d 4 h``: under 90 s in seconds; under
    an hour in whole minutes, as a clock counts (1 min 50 s is 1 min); under two days in hours
    (so "within 24 h" reads as it was set)."""
    seconds = max(0.0, float(seconds))
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
