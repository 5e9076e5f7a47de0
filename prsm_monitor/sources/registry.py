"""The registry of source kinds: which sources a collector starts, from its settings.

Each kind is registered once, by name, with the module and class that build it and the test
of the settings that turn it on. A module is imported only when its kind is configured, so a
monitor pays (threads, sockets, imports) only for the sources that are on: with the demo,
``prsm_monitor.sources.nodes`` is never imported. Registering a name twice is refused.

Adding a source: write its module (a :class:`~prsm_monitor.sources.base.Source` subclass
with ``from_settings``) and add one :meth:`Registry.register` line at the end of this file.
The collector (:func:`Registry.create`), the memory budget (the sources' declared fields),
the exposition (the sources' ``fields``, ``rows`` and ``distributions``) and the rules
file's field check (:meth:`Registry.known_fields`) all read it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from .base import Source, field_units


@dataclass(frozen=True)
class Kind:
    """A kind of source: ``name``, the class ``module:cls`` that builds it (its
    ``from_settings(settings)``), and ``wanted(settings)``, true when the settings turn it on."""

    name: str
    module: str
    cls: str
    wanted: Callable[[object], bool]

    def load(self) -> type[Source]:
        """The source class (its module imported now, not before)."""
        return getattr(importlib.import_module(self.module), self.cls)


class Registry:
    """Source kinds by name, in registration order (the order sources start and tick in)."""

    def __init__(self):
        self._kinds: dict[str, Kind] = {}

    def register(self, name: str, module: str, cls: str, wanted: Callable[[object], bool]) -> Kind:
        """Add a kind; a name already registered raises ``ValueError``."""
        if name in self._kinds:
            raise ValueError(f"source name={name!r} is already registered (by {self._kinds[name].module})")
        kind = self._kinds[name] = Kind(name, module, cls, wanted)
        return kind

    def kinds(self) -> tuple[Kind, ...]:
        return tuple(self._kinds.values())

    def configured(self, settings) -> tuple[Kind, ...]:
        """The kinds ``settings`` turn on, in order."""
        return tuple(kind for kind in self._kinds.values() if kind.wanted(settings))

    def create(self, settings) -> list[Source]:
        """Build the configured sources in order; if one fails, those built are closed first."""
        sources: list[Source] = []
        try:
            for kind in self.configured(settings):
                sources.append(kind.load().from_settings(settings))
        except BaseException:
            for source in sources:
                source.close()
            raise
        return sources

    def known_fields(self, settings) -> dict[str, dict[str, str]]:
        """``{component: {field name: unit}}`` that the configured sources declare: what a
        rules-file rule may watch under ``settings``."""
        return field_units(kind.load() for kind in self.configured(settings))


REGISTRY = Registry()
# this machine, always; other instances first among the rest: a bad token stops here, before the demo starts
REGISTRY.register("system", "prsm_monitor.sources.system", "SystemSource", lambda s: True)
REGISTRY.register("instances", "prsm_monitor.fleet.poller", "Fleet", lambda s: bool(s.instances))
REGISTRY.register("prometheus", "prsm_monitor.fleet.prometheus", "PrometheusFleet", lambda s: bool(s.prometheus_url))
REGISTRY.register("nodes", "prsm_monitor.sources.nodes.source", "NodeSource", lambda s: bool(s.node_urls))
REGISTRY.register("demo", "prsm_monitor.demo.source", "DemoSource", lambda s: s.demo and not s.node_urls)
