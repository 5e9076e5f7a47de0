"""Metric sources: the contract (:mod:`.base`), the registry of source kinds
(:mod:`.registry`), and one module or package per source: this machine (:mod:`.system`), the
PRSM report schema (:mod:`.prsm`, which the demo network produces) and real PRSM nodes
(:mod:`.nodes`). Other instances are sources too, in :mod:`prsm_monitor.fleet`.

Importing this package imports no source: the registry loads a kind's module only when the
settings turn it on."""
