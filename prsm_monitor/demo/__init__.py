"""The demo PRSM network: real nodes on loopback with gossip, consensus, model inference and faults.

``DemoNetwork`` (:mod:`.network`) runs the nodes; their statistics follow the schema of
:mod:`.stats`, which :class:`prsm_monitor.sources.prsm.PrsmSource` turns into metrics.
"""

from .network import DemoNetwork
from .stats import NetworkReport, NodeStats

__all__ = ["DemoNetwork", "NetworkReport", "NodeStats"]
