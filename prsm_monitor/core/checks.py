"""What runs after each tick's readings: the sources' conditions, custom rules and plugins.

:class:`Checks` is a collaborator of :class:`~prsm_monitor.core.collector.MetricsCollector`:
it keeps the custom rules and plugins (under a lock of its own) and runs every check
isolated (:meth:`~prsm_monitor.alerts.custom.CustomAlerts.isolated`): a check that fails
is one alert while it keeps failing, never the tick's end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

from ..alerts.custom import CustomAlerts
from ..sources.base import Source


class Checks:
    """Custom rules and plugins, and the running of all checks. ``create_alert(level,
    component, message, details)`` asserts an alert for this tick."""

    def __init__(self, custom: CustomAlerts, create_alert: Callable[..., object]):
        self._custom = custom
        self._create_alert = create_alert
        self._lock = threading.Lock()
        self._plugins: list[object] = []
        self._rules: list[Callable] = []

    def add_plugin(self, plugin) -> None:
        with self._lock:
            self._plugins.append(plugin)

    def remove_plugin(self, plugin) -> None:
        with self._lock:
            self._plugins = [p for p in self._plugins if p is not plugin]

    def add_rule(self, rule: Callable) -> None:
        with self._lock:
            self._rules.append(rule)

    def run(
        self,
        sources: Iterable[tuple[str, Source]],
        records: Mapping[str, dict],
        metrics: Callable[[], dict],
        now: float,
    ) -> None:
        """Sources' conditions over ``records``, then custom rules and plugins over
        ``metrics()`` (read once, only when some exist), each isolated."""
        with self._lock:
            plugins, rules = list(self._plugins), list(self._rules)
        snapshot = metrics() if plugins or rules else None
        custom = self._custom
        for name, source in sources:

            def assert_conditions(source=source):
                for condition in source.conditions(records):
                    self._create_alert(*condition)

            custom.isolated(f"conditions:{name}", f"{name} checks", assert_conditions, now)
        for i, rule in enumerate(rules):
            name = getattr(rule, "__name__", f"rule {i}")
            custom.isolated(f"custom-rule:{id(rule)}", f"custom rule {name}", lambda rule=rule: rule(snapshot), now)
        for plugin in plugins:
            name = type(plugin).__name__
            custom.isolated(f"plugin:{id(plugin)}", f"plugin {name}", lambda p=plugin: p.process(snapshot), now)
        custom.end_tick(now)
