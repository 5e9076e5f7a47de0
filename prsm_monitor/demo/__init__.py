"""The demo PRSM network: real nodes on loopback with gossip, consensus, model inference and faults.

``DemoNetwork`` (:mod:`.network`) runs the nodes; they report in the schema of
:mod:`prsm_monitor.sources.prsm.report`, which :class:`prsm_monitor.sources.prsm.PrsmSource`
turns into metrics. :mod:`.faults` lists the faults a presenter may inject.
"""

from .network import DemoNetwork

__all__ = ["DemoNetwork"]
