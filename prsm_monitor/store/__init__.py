"""History: the bounded, columnar in-memory ring (:mod:`.ring`)."""

from .ring import HistoryStore, Ring, downsample

__all__ = ["HistoryStore", "Ring", "downsample"]
