"""The source contract, stated once: what the collector asks of every source.

A source reports some components (``system``, ``network``, ``ai``) each tick. It declares
their numeric fields as data (:class:`~prsm_monitor.fields.Field`), so the store keeps one
column per field and the exporters derive names, units and help from the same table. The
optional parts are methods and attributes with defaults here, so the collector calls them
on every source alike and never probes for them.

A source is a subclass of :class:`Source`. An object written against the older, duck-typed
description (``components``, ``fields``, ``collect()``, and any of the optional parts) is
taken as it is through :class:`PluginSource`, which reads those parts once when it is added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from ..fields import Distribution, Field, Rows

Condition = tuple  # (level, component, message, details): an alert the source asserts this tick
NOTHING: Mapping = MappingProxyType({})


class Source:
    """One source of metrics (see the module doc).

    - ``components``: the component names it reports, e.g. ``("system",)``;
    - ``fields``: ``{component: [Field, ...]}``, the numeric fields kept in history (a class
      attribute, so the rules file and the memory budget can read it before the source exists);
    - :meth:`collect` returns ``{component: record}``, one reading. A record is a flat dict
      whose declared fields are numbers or ``None``; it may carry extra detail (lists, dicts)
      that is shown as the latest value but not kept in history. Raising is allowed: the
      collector turns it into one ``error`` alert per component and keeps ticking.

    Optional, with defaults: ``detail_fields`` (drill-down series such as one per node, kept
    in history but not components of ``get_latest_metrics()``), ``rows`` and
    ``distributions`` (how exporters label the lists and mappings in a record),
    :meth:`conditions`, :meth:`close` and :attr:`demo_network`.
    """

    components: tuple[str, ...] = ()
    fields: Mapping[str, Sequence[Field]] = NOTHING
    detail_fields: Mapping[str, Sequence[Field]] = NOTHING
    rows: Sequence[Rows] = ()
    distributions: Sequence[Distribution] = ()

    @classmethod
    def from_settings(cls, settings) -> Source:
        """The source as :class:`~prsm_monitor.settings.model.Settings` configure it (the registry's factory)."""
        return cls()

    def collect(self) -> dict[str, dict]:
        raise NotImplementedError(f"{type(self).__name__}.collect()")

    def conditions(self, records: Mapping[str, dict]) -> Iterable[Condition]:
        """Alerts this source asserts after a tick: active while asserted, resolved when not."""
        return ()

    def close(self) -> None:
        """Release what the source holds (threads, sockets)."""

    @property
    def demo_network(self):
        """The demo network this source runs, if any: the target of demo faults."""
        return None


def field_units(sources: Iterable) -> dict[str, dict[str, str]]:
    """``{component: {field name: unit}}`` of the numeric fields ``sources`` (sources or their
    classes) declare for their components, timestamps left out: what a custom rule may watch."""
    known: dict[str, dict[str, str]] = {}
    for source in sources:
        for component in source.components:
            units = known.setdefault(component, {})
            units.update((f.name, f.unit) for f in source.fields.get(component, ()) if f.name != "timestamp")
    return known


class PluginSource(Source):
    """A duck-typed source object (a plugin, a test's fake) under the :class:`Source` contract.

    Its optional parts are read once, here; :attr:`plugin` is the object itself."""

    def __init__(self, plugin):
        self.plugin = plugin
        self.components = tuple(plugin.components)
        self.fields = plugin.fields
        self.detail_fields = getattr(plugin, "detail_fields", NOTHING)
        self.rows = tuple(getattr(plugin, "rows", ()))
        self.distributions = tuple(getattr(plugin, "distributions", ()))
        self._conditions = getattr(plugin, "conditions", None)
        self._close = getattr(plugin, "close", None)

    def collect(self) -> dict[str, dict]:
        return self.plugin.collect()

    def conditions(self, records: Mapping[str, dict]) -> Iterable[Condition]:
        return () if self._conditions is None else self._conditions(records)

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def __repr__(self) -> str:
        return f"PluginSource({self.plugin!r})"


def as_source(source) -> Source:
    """``source`` under the contract: itself when it is a :class:`Source`, else wrapped."""
    return source if isinstance(source, Source) else PluginSource(source)


def unwrap(source: Source):
    """The object a caller added: the plugin itself for a wrapped one."""
    return source.plugin if isinstance(source, PluginSource) else source
