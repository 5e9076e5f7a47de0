"""Settings a running collector takes: the one way the UI and the API write.

:class:`Tuning`, a collaborator of :class:`~prsm_monitor.core.collector.MetricsCollector`,
validates with :mod:`prsm_monitor.settings` (the same checks as the environment), applies
from the next tick, and logs every change as an ``info`` event. Demo faults go the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..demo.faults import apply_fault
from ..settings.limits import check_history, check_interval
from ..settings.thresholds import SPECS_BY_RULE, Threshold, check_thresholds


class Tuning:
    """The settings a running collector takes, and the rules in force.

    Owns the collection interval, the rules (built-in, file and tuned thresholds) and the
    settings revision; shares the collector's state lock (``lock``), so a tick sees one
    consistent set. ``store`` is resized here, ``log`` gets one ``info`` event per change,
    ``wake()`` re-plans the tick thread, ``point_bytes()`` and ``demo_network()`` are read
    when a change needs them."""

    def __init__(
        self, *, lock, clock, log, store, settings, interval: float, rules: dict, wake, point_bytes, demo_network
    ):
        self._lock = lock
        self._clock = clock
        self._log = log
        self._store = store
        self._settings = settings
        self._interval = interval
        self._rules = dict(rules)
        self._wake = wake
        self._point_bytes = point_bytes
        self._demo_network = demo_network
        self.revision = 0  # grows with every change of what readers see

    @property
    def interval(self) -> float:
        return self._interval

    @property
    def rules(self) -> dict:
        """The rules in force, by name (a copy)."""
        with self._lock:
            return dict(self._rules)

    def replace_rules(self, rules) -> None:
        """Put ``rules`` (by name) in force from the next evaluation (a rules file re-read)."""
        with self._lock:
            self._rules = dict(rules)
            self.revision += 1

    def restore(self, *, interval=None, history=None, thresholds=None) -> None:
        """Apply what an earlier run saved (validated by the caller); no events."""
        with self._lock:
            if interval is not None:
                self._interval = interval
            if history is not None and history != self._store.capacity:
                self._store.resize(history)
            for name, threshold in (thresholds or {}).items():
                self._rules[name] = self._rules[name].with_threshold(threshold)
            self.revision += 1

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
            else check_history(max_history, point_bytes=self._point_bytes(), budget_mb=self._settings.memory_budget_mb)
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
            if history is not None and history != self._store.capacity:
                self._changed(
                    "history",
                    "system",
                    f"History size changed from {self._store.capacity} to {history} points",
                    "max_history",
                    self._store.capacity,
                    history,
                    now,
                    actor,
                )
                self._store.resize(history)
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
            self._wake()
        if fault is not None:
            component, message, details = apply_fault(self._demo_network(), fault)
            if actor is not None:
                message, details = f"{message}, by {actor}", {**details, "actor": actor}  # no "(by x (y))"
            self._log.record(
                f"setting:fault:{details['fault']}", "changed", "info", component, message, details, self._clock()
            )

    def _changed(
        self, key: str, component: str, message: str, setting: str, old, new, now: float, actor: str | None = None
    ) -> None:
        self.revision += 1
        details = {"setting": setting, "old": old, "new": new}
        if actor is not None:
            message, details["actor"] = f"{message}, by {actor}", actor
        self._log.record(f"setting:{key}", "changed", "info", component, message, details, now)
