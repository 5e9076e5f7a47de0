"""The demo PRSM network: real nodes on loopback with gossip, consensus, model inference and faults.

``DemoNetwork`` (:mod:`.network`) runs the nodes; they report in the schema of
:mod:`prsm_monitor.sources.prsm.report`, which :class:`prsm_monitor.sources.prsm.PrsmSource`
turns into metrics. :mod:`.faults` lists the faults a presenter may inject: importing it (the
settings and notifications read its table) does not load the network, which is imported on
first use of ``DemoNetwork`` (PEP 562).
"""

import importlib

__all__ = ["DemoNetwork"]


def __getattr__(name: str):
    if name == "DemoNetwork":
        value = importlib.import_module(".network", __name__).DemoNetwork
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
