"""Settings a running collector takes: the one way the UI and the API write.

:class:`Configurable` is mixed into :class:`~prsm_monitor.collector.MetricsCollector`; it
validates with :mod:`prsm_monitor.settings` (the same checks as the environment), applies
from the next tick, and logs every change as an ``info`` event. Demo faults go the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from .demo.faults import apply_fault
from .settings.limits import check_history, check_interval
from .settings.thresholds import SPECS_BY_RULE, Threshold, check_thresholds


class Configurable:
    """Needs the collector's ``_lock``, ``_clock``, ``_interval``, ``_rules``, ``_wake``,
    ``_settings_revision``, ``store``, ``log``, ``settings``, ``point_bytes`` and ``sources``."""

    @property
    def collection_interval(self) -> float:
        return self._interval

    @collection_interval.setter
    def collection_interval(self, seconds: float) -> None:
        self.configure(collection_interval=seconds)

    @property
    def rules(self):
        with self._lock:
            return dict(self._rules)

    def configure(
        self,
        *,
        collection_interval: float | None = None,
        max_history: int | None = None,
        thresholds: Mapping[str, Threshold | tuple[float, float] | Mapping] | None = None,
        fault: Mapping | None = None,
        actor: str | None = None,
    ) -> None:
        """Change settings while running: the one way the UI and API write.

        Interval, history and thresholds are all validated (:mod:`prsm_monitor.settings`)
        before any of them changes (a :class:`~prsm_monitor.settings.values.ConfigError` names the bad
        field and value); they apply from the next tick and each change is logged as an
        ``info`` event. ``fault`` then injects or clears a demo fault (see
        :mod:`prsm_monitor.demo.faults`), also logged. ``actor`` (who asked) goes into each
        logged change's details and message.
        """
        interval = None if collection_interval is None else check_interval(collection_interval)
        history = (
            None
            if max_history is None
            else check_history(max_history, point_bytes=self.point_bytes, budget_mb=self.settings.memory_budget_mb)
        )
        tunable = {name: rule for name, rule in self.rules.items() if name in SPECS_BY_RULE}  # new rules: in their file
        new = {} if thresholds is None else check_thresholds(thresholds, tunable)
        with self._lock:
            now = self._clock()
            if interval is not None and interval != self._interval:
                self._changed(
                    "interval",
                    "system",
                    f"Collection interval changed from {self._interval:g} s to {interval:g} s",
                    "collection_interval",
                    self._interval,
                    interval,
                    now,
                    actor,
                )
                self._interval = interval
            if history is not None and history != self.store.capacity:
                self._changed(
                    "history",
                    "system",
                    f"History size changed from {self.store.capacity} to {history} points",
                    "max_history",
                    self.store.capacity,
                    history,
                    now,
                    actor,
                )
                self.store.resize(history)
            for name, threshold in new.items():
                old = self._rules[name]
                if (old.warning, old.critical) == (threshold.warning, threshold.critical):
                    continue
                self._rules[name] = rule = old.with_threshold(threshold)
                self._changed(
                    name,
                    rule.component,
                    f"{rule.label} thresholds changed to warning {rule.warning:g}, "
                    f"critical {rule.critical:g} (were {old.warning:g}, {old.critical:g})",
                    f"thresholds.{name}",
                    [old.warning, old.critical],
                    [rule.warning, rule.critical],
                    now,
                    actor,
                )
        if interval is not None:
            self._wake.set()
        if fault is not None:
            component, message, details = apply_fault(self.demo_network, fault)
            if actor is not None:
                message, details = f"{message}, by {actor}", {**details, "actor": actor}  # no "(by x (y))"
            self.log.record(
                f"setting:fault:{details['fault']}", "changed", "info", component, message, details, self._clock()
            )

    def _changed(
        self, key: str, component: str, message: str, setting: str, old, new, now: float, actor: str | None = None
    ) -> None:
        self._settings_revision += 1
        details = {"setting": setting, "old": old, "new": new}
        if actor is not None:
            message, details["actor"] = f"{message}, by {actor}", actor
        self.log.record(f"setting:{key}", "changed", "info", component, message, details, now)

    @property
    def demo_network(self):
        """The demo network one of the sources runs, if any (the target of demo faults)."""
        for source in self.sources:
            network = getattr(source, "network", None)
            if network is not None and hasattr(network, "clear_faults"):
                return network
        return None
