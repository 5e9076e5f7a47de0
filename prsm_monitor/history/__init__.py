"""Reads of the past: every page as it was at a moment (``?at=``), from the stored history."""

from .past import PastCollector, past_view
from .replay import active_at, silences_at

__all__ = ["PastCollector", "active_at", "past_view", "silences_at"]
