"""DemoSource: the demo network, started from the settings and watched as a PRSM source."""

from __future__ import annotations

from ..sources.prsm.source import PREFETCH_SECONDS, PrsmSource
from .network import DemoNetwork


class DemoSource(PrsmSource):
    """A :class:`~prsm_monitor.sources.prsm.PrsmSource` over a :class:`DemoNetwork`: the
    network's reports are the ``network`` and ``ai`` components, and demo faults go to it."""

    @classmethod
    def from_settings(cls, settings, *, window: float = 10.0, **network_options) -> DemoSource:
        """Start a demo network of ``settings.demo_nodes`` nodes, ``demo_peers`` links each and
        ``demo_rate`` requests/s, and watch it."""
        network = DemoNetwork.from_settings(settings, **network_options)
        return cls(network.start(), window=window, prefetch=PREFETCH_SECONDS)

    @property
    def demo_network(self) -> DemoNetwork:
        return self.network
