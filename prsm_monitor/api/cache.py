"""The API's name for :class:`prsm_monitor.per_version.PerVersion` (a per-version cache shared
with the pages, below both)."""

from __future__ import annotations

from ..per_version import PerVersion

__all__ = ["PerVersion"]
