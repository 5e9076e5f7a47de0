"""The PRSM source: the report schema nodes produce (:mod:`.report`), the fields it declares
(:mod:`.fields`), the windowed-counter engine (:mod:`.window`), and the ``network`` and ``ai``
records (:mod:`.network`, :mod:`.ai`) that :class:`PrsmSource` collects."""

from .report import NetworkReport, NodeStats
from .source import PrsmSource

__all__ = ["NetworkReport", "NodeStats", "PrsmSource"]
