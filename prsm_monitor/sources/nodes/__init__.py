"""The node source: a real PRSM network read from its nodes' management APIs (``/status``,
``/peers``, ``/transactions``, ``/staking/status``, ``/metrics``): :mod:`.fields` declares what
is read and reported, :mod:`.reading` polls and checks one node, :mod:`.record` builds the
``network`` and ``ai`` records, :mod:`.window` keeps the changes rules judge, and
:class:`NodeSource` polls off the tick."""

from .source import NodeSource

__all__ = ["NodeSource"]
