"""Alerts raised by code rather than by threshold rules: custom rules, plugins, sources.

- A custom alert (:meth:`CustomAlerts.assert_alert`) is logged once and stays active while
  something keeps asserting it, each assertion refreshing its details in place;
  :meth:`CustomAlerts.end_tick` resolves (an ``info`` event) every custom alert that nothing
  asserted since :meth:`CustomAlerts.begin_tick`.
- :meth:`CustomAlerts.isolated` runs a rule or plugin (plain or ``async``): an exception
  becomes one ``error`` alert, and one ``info`` when it recovers.
- :meth:`CustomAlerts.note_sources` does the same for sources that failed on a tick and
  keeps ``errors`` (``{component: message}``) up to date.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Mapping

from ..fields import COMPONENTS, LEVELS
from .log import AlertLog


class CustomAlerts:
    def __init__(self, log: AlertLog):
        self.log = log
        self.errors: dict[str, str] = {}  # component -> why its source failed on the last tick
        self._asserted: set[str] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # runs async rules, on the collector's thread

    def assert_alert(self, level: str, component: str, message: str, details: dict | None, now: float) -> dict | None:
        """Raise (or keep raising) a custom alert; the logged event, or None when already active."""
        if level not in LEVELS:
            raise ValueError(f"level={level!r} is invalid: expected one of {', '.join(LEVELS)}")
        if component not in COMPONENTS:
            raise ValueError(f"component={component!r} is invalid: expected one of {', '.join(COMPONENTS)}")
        key = f"custom:{component}:{level}:{message}"
        with self._lock:
            self._asserted.add(key)
            if self.log.refresh(key, message, details):  # already active: its details say what holds now
                return None
            return self.log.record(key, "fired", level, component, message, details, now)

    def begin_tick(self) -> None:
        with self._lock:
            self._asserted = set()

    def end_tick(self, now: float) -> None:
        with self._lock:
            for key in self.log.active_keys("custom:"):
                if key not in self._asserted:
                    _, component, level, message = key.split(":", 3)
                    self.log.record(key, "resolved", "info", component, f"Resolved: {message}", {"was": level}, now)

    def isolated(self, key: str, what: str, call: Callable, now: float) -> None:
        """Run ``call`` (awaiting what it returns); turn an exception into one error alert."""
        try:
            result = call()
            if inspect.isawaitable(result):
                if self._loop is None:
                    self._loop = asyncio.new_event_loop()
                self._loop.run_until_complete(result)
        except Exception as exc:  # noqa: BLE001 - any failure of user code becomes an alert
            self._failed(key, "system", what, exc, now)
            return
        self._recovered(key, "system", what, now)

    def note_sources(self, records: Mapping, failures: Mapping[str, tuple[str, Exception]], now: float) -> None:
        """``failures`` maps a component to (source name, exception) for this tick."""
        failing = set()
        for component, (name, exc) in failures.items():
            failing.add(f"source:{name}:{component}")
            self.errors[component] = self._failed(f"source:{name}:{component}", component, name, exc, now)
        for key in self.log.active_keys("source:"):
            _, name, component = key.split(":", 2)
            if key not in failing and component in records:  # another source's record is not its recovery
                self.errors.pop(component, None)
                self._recovered(key, component, name, now)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def _failed(self, key: str, component: str, what: str, exc: Exception, now: float) -> str:
        message = f"{what} failed: {type(exc).__name__}: {exc}"
        if not self.log.is_active(key):
            self.log.record(key, "error", "error", component, message, {"source": what}, now)
        return message

    def _recovered(self, key: str, component: str, what: str, now: float) -> None:
        if self.log.is_active(key):
            self.log.record(key, "recovered", "info", component, f"{what} recovered", {"source": what}, now)
