"""History: the bounded, columnar in-memory ring (:mod:`.ring`) and, behind the same
interface, the tiers on disk (:mod:`.tiered`: raw, 1-minute and 1-hour rollups in SQLite,
written by one thread, :mod:`.writer`). :func:`prsm_monitor.store.persistence.open_store` picks one."""

from .ring import HistoryStore, Ring, downsample

__all__ = ["HistoryStore", "Ring", "downsample"]
