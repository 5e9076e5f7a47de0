"""The node source: a real PRSM network read from its nodes' management APIs
(``/status``, ``/peers``, ``/metrics``): :mod:`.reading` polls and parses one node,
:mod:`.record` builds the ``network`` record, :class:`NodeSource` polls off the tick."""

from .source import NodeSource

__all__ = ["NodeSource"]
