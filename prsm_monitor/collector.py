"""MetricsCollector: one thread, a drift-free tick, sources -> store -> alerts."""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

import pandas as pd
import psutil

from .alerts import AlertLog, RuleState, default_rules, evaluate
from .alerts.rules import LEVELS
from .config import ConfigError, Settings, Threshold, check_threshold
from .faults import apply_fault
from .fields import COUNTER, GAUGE, TIMESTAMP, Field
from .sources.system import SystemSource
from .store import HistoryStore

log = logging.getLogger(__name__)

COMPONENTS = ("system", "network", "ai")
DETAIL_HISTORY = 3600  # rows kept per drill-down series (one per node or model): an hour at 1 Hz
COLLECTOR_FIELDS: tuple[Field, ...] = (
    TIMESTAMP,
    Field("tick_duration_ms", "ms", GAUGE, "Time the last tick took (sources, store, alerts)"),
    Field("interval_seconds", "s", GAUGE, "Configured collection interval"),
    Field("ticks_total", "1", COUNTER, "Ticks run since the collector was created"),
    Field("missed_ticks_total", "1", COUNTER, "Scheduled ticks skipped because a tick overran"),
    Field("process_cpu_percent", "%", GAUGE, "CPU used by this process since the previous tick (100 = one core)"),
    Field("process_rss_mb", "MB", GAUGE, "Resident memory of this process, MiB"),
)


def default_sources(settings: Settings) -> list:
    """The sources a collector starts with: this machine, and the demo network when enabled."""
    sources = [SystemSource()]
    if settings.demo:
        from .sources.prsm import PrsmSource  # starts a thread and sockets: only when asked for

        sources.append(PrsmSource.from_settings(settings))
    return sources


class MetricsCollector:
    """Collects metrics from sources on one daemon thread and keeps their history and alerts.

    ``MetricsCollector(max_history=1000)`` reads its other settings from ``PRSM_*``
    environment variables (see :class:`~prsm_monitor.config.Settings`) unless
    ``settings`` is given; ``sources`` replaces the default sources; ``clock`` gives the
    wall time stamped on alerts and used for rules' ``for`` durations. Every read method is
    thread-safe and returns copies.
    """

    def __init__(
        self,
        max_history: int | None = None,
        *,
        settings: Settings | None = None,
        sources: Iterable | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings if settings is not None else Settings.from_env()
        self._clock = clock  # wall time for records and alerts (tests pass a fake one)
        history = self.settings.history if max_history is None else max_history
        self._check_history(history)
        self._interval = self.settings.interval
        self.store = HistoryStore(history)
        self.log = AlertLog()
        self._rules = default_rules(self.settings.thresholds)
        self._rule_states: dict[str, RuleState] = {}
        self._sources: list[tuple[str, object]] = []
        self._plugins: list[object] = []
        self._custom_rules: list[Callable] = []
        self._latest: dict[str, dict | None] = {c: None for c in (*COMPONENTS, "collector")}
        self._errors: dict[str, str] = {}
        self._asserted: set[str] = set()
        self._lock = threading.RLock()  # state shared with readers
        self._tick_lock = threading.Lock()  # one tick at a time
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticks = 0
        self._missed = 0
        self._last_tick_end: float | None = None
        self._last_cpu: tuple[float, float] | None = None
        self.store.declare("collector", [f.name for f in COLLECTOR_FIELDS])
        for source in default_sources(self.settings) if sources is None else sources:
            self.add_source(source)

    # -- wiring ---------------------------------------------------------------------------
    def add_source(self, source, name: str | None = None) -> None:
        """Add a source (see :mod:`prsm_monitor.sources`); its fields get a history each."""
        name = name or type(source).__name__
        for component in source.components:
            self.store.declare(component, [f.name for f in source.fields[component]])
        for component, fields in getattr(source, "detail_fields", {}).items():
            self.store.declare(component, [f.name for f in fields], max_capacity=DETAIL_HISTORY)
        with self._lock:
            self._sources.append((name, source))

    def add_plugin(self, plugin) -> None:
        """Add an object whose ``process(metrics)`` runs after each tick; its errors are isolated."""
        with self._lock:
            self._plugins.append(plugin)

    def remove_plugin(self, plugin) -> None:
        """Remove a plugin added with :meth:`add_plugin` (no-op if it is not there)."""
        with self._lock:
            self._plugins = [p for p in self._plugins if p is not plugin]

    def add_alert_rule(self, rule: Callable) -> None:
        """Add a custom rule: ``rule(metrics)`` (plain or ``async``) runs after each tick and
        may call :meth:`create_alert`. Its alerts stay active while it keeps asserting them."""
        with self._lock:
            self._custom_rules.append(rule)

    @property
    def sources(self) -> list:
        with self._lock:
            return [s for _, s in self._sources]

    @property
    def fields(self) -> dict[str, tuple[Field, ...]]:
        """Declared fields per component, for exporters."""
        with self._lock:
            result = {"collector": COLLECTOR_FIELDS}
            for _, source in self._sources:
                result.update({c: tuple(source.fields[c]) for c in source.components})
            return result

    # -- settings -------------------------------------------------------------------------
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

    @staticmethod
    def _check_history(points) -> None:
        if isinstance(points, bool) or not isinstance(points, int) or points < 10:
            raise ConfigError("max_history", points, "a whole number of points, at least 10")

    def configure(
        self,
        *,
        collection_interval: float | None = None,
        max_history: int | None = None,
        thresholds: Mapping[str, Threshold | tuple[float, float] | Mapping] | None = None,
        fault: Mapping | None = None,
    ) -> None:
        """Change settings while running: the one way the UI and API write.

        Interval, history and thresholds are all validated before any of them changes (a
        :class:`ConfigError` names the bad field and value); they apply from the next tick
        and each change is logged as an ``info`` event. ``fault`` then injects or clears a
        demo fault (see :mod:`prsm_monitor.faults`), also logged.
        """
        changes: list[tuple[str, str, str, dict]] = []  # (key, component, message, details)
        new_rules = {}
        if collection_interval is not None and (
            isinstance(collection_interval, bool)
            or not isinstance(collection_interval, (int, float))
            or not 0 < collection_interval <= 3600
        ):
            raise ConfigError("collection_interval", collection_interval, "seconds, more than 0 and at most 3600")
        if max_history is not None:
            self._check_history(max_history)
        for name, value in (thresholds or {}).items():
            if name not in self._rules:
                raise ConfigError("thresholds", name, f"a rule name, one of {', '.join(self._rules)}")
            if isinstance(value, Mapping):
                warning, critical = value.get("warning"), value.get("critical")
            elif isinstance(value, Threshold):
                warning, critical = value.warning, value.critical
            else:
                try:
                    warning, critical = value
                except (TypeError, ValueError):
                    raise ConfigError(f"thresholds.{name}", value, "a (warning, critical) pair") from None
            threshold = check_threshold(
                name,
                warning,
                critical,
                warning_name=f"thresholds.{name}.warning",
                critical_name=f"thresholds.{name}.critical",
            )
            new_rules[name] = self._rules[name].with_threshold(threshold)
        with self._lock:
            if collection_interval is not None and collection_interval != self._interval:
                changes.append(
                    (
                        "setting:interval",
                        "system",
                        f"Collection interval changed from {self._interval:g} s to {collection_interval:g} s",
                        {"setting": "collection_interval", "old": self._interval, "new": collection_interval},
                    )
                )
                self._interval = float(collection_interval)
            if max_history is not None and max_history != self.store.capacity:
                changes.append(
                    (
                        "setting:history",
                        "system",
                        f"History size changed from {self.store.capacity} to {max_history} points",
                        {"setting": "max_history", "old": self.store.capacity, "new": max_history},
                    )
                )
                self.store.resize(max_history)
            for name, rule in new_rules.items():
                old = self._rules[name]
                if (old.warning, old.critical) == (rule.warning, rule.critical):
                    continue
                self._rules[name] = rule
                changes.append(
                    (
                        f"setting:{name}",
                        rule.component,
                        f"{rule.label} thresholds changed to warning {rule.warning:g}, "
                        f"critical {rule.critical:g} (were {old.warning:g}, {old.critical:g})",
                        {
                            "setting": f"thresholds.{name}",
                            "old": [old.warning, old.critical],
                            "new": [rule.warning, rule.critical],
                        },
                    )
                )
            now = self._clock()
            for key, component, message, details in changes:
                self.log.record(key, "changed", "info", component, message, details, now)
        if collection_interval is not None:
            self._wake.set()
        if fault is not None:
            component, message, details = apply_fault(self.demo_network, fault)
            self.log.record(
                f"setting:fault:{details['fault']}", "changed", "info", component, message, details, self._clock()
            )

    @property
    def demo_network(self):
        """The demo network one of the sources runs, if any (the target of demo faults)."""
        for source in self.sources:
            network = getattr(source, "network", None)
            if network is not None and hasattr(network, "clear_faults"):
                return network
        return None

    # -- alerts ---------------------------------------------------------------------------
    def create_alert(self, level: str, component: str, message: str, details: dict | None = None) -> dict | None:
        """Raise a custom alert. The same (level, component, message) is logged once while it
        stays active; it stays active while a tick's rules keep raising it, and is resolved
        (an ``info`` event) after the first tick that does not. Returns the logged event,
        or None when the alert was already active."""
        if level not in LEVELS:
            raise ValueError(f"level={level!r} is invalid: expected one of {', '.join(LEVELS)}")
        if component not in COMPONENTS:
            raise ValueError(f"component={component!r} is invalid: expected one of {', '.join(COMPONENTS)}")
        key = f"custom:{component}:{level}:{message}"
        with self._lock:
            self._asserted.add(key)
            if self.log.is_active(key):
                return None
            return self.log.record(key, "fired", level, component, message, details, self._clock())

    async def _create_alert(self, level: str, component: str, message: str, details: dict | None = None):
        """The product guide's spelling: ``await collector._create_alert(...)``."""
        return self.create_alert(level, component, message, details)

    def acknowledge(self, alert_id: int) -> bool:
        """Acknowledge an active alert by its id; False if no active alert has it."""
        return self.log.acknowledge(alert_id, self._clock())

    def get_alerts(self, **filters) -> list[dict]:
        """Alert events, oldest first; see :meth:`AlertLog.events` for the filters."""
        return self.log.events(**filters)

    def get_active_alerts(self) -> list[dict]:
        return self.log.active()

    # -- reads ----------------------------------------------------------------------------
    def get_latest_metrics(self) -> dict:
        """``{"system", "network", "ai": record or None, "alerts": last 10 events}``, plus
        ``collector`` (the monitor's own health), ``active_alerts`` and ``errors``
        (``{component: message}`` for sources that failed on the last tick)."""
        with self._lock:
            snapshot = {c: copy.deepcopy(self._latest[c]) for c in COMPONENTS}
            snapshot["collector"] = copy.deepcopy(self._latest["collector"])
            snapshot["errors"] = dict(self._errors)
        snapshot["alerts"] = self.log.events(limit=10)
        snapshot["active_alerts"] = self.log.active()
        return snapshot

    def history(self, component: str, minutes: float | None = 60, max_points: int | None = None):
        """History of ``component`` over the last ``minutes`` as a DataFrame (None: everything).

        A known component without a source gives an empty frame; an unknown one raises
        ``ValueError``."""
        known = self.store.fields(component)
        if not known:
            if component in COMPONENTS or component == "collector":
                return pd.DataFrame(columns=["timestamp"])
            raise ValueError(f"component={component!r} is unknown: expected one of {', '.join(COMPONENTS)}")
        start = None if minutes is None else time.time() - minutes * 60
        return self.store.query(component, start, None, max_points)

    def get_historical_data(self, component: str, duration_minutes: float = 60) -> list[dict]:
        """The guide's call: records of the last ``duration_minutes``, oldest first (NaN -> None)."""
        frame = self.history(component, duration_minutes)
        return [{k: (None if v != v else v) for k, v in row.items()} for row in frame.to_dict("records")]

    # -- the tick -------------------------------------------------------------------------
    def collect_once(self) -> dict:
        """Run one tick now, in this thread, and return the latest metrics."""
        with self._tick_lock:
            self._tick()
        return self.get_latest_metrics()

    def _tick(self) -> None:
        started = time.perf_counter()
        now = self._clock()
        with self._lock:
            sources = list(self._sources)
            plugins = list(self._plugins)
            custom_rules = list(self._custom_rules)
        records: dict[str, dict] = {}
        failures: dict[str, tuple[str, Exception]] = {}
        for name, source in sources:
            try:
                records.update(source.collect())
            except Exception as exc:  # noqa: BLE001 - any source failure becomes an alert
                for component in source.components:
                    failures[component] = (name, exc)
        with self._lock:
            for component, record in records.items():
                if self.store.fields(component):
                    self.store.append(component, record)
                if component in self._latest:
                    self._latest[component] = record
            self._note_source_health(records, failures, now)
            self._rule_states, transitions = evaluate(self._rules, records, self._rule_states, now)
            for t in transitions:
                details = {
                    "rule": t.rule.name,
                    "field": t.rule.field,
                    "value": t.value,
                    "threshold": t.threshold,
                    "transition": t.kind,
                }
                self.log.record(f"rule:{t.rule.name}", t.kind, t.level, t.rule.component, t.message, details, now)
            self._asserted = set()
        self._run_checks(sources, records, plugins, custom_rules, now)
        self._note_self(started, now)

    def _note_source_health(self, records, failures, now) -> None:
        for component, (name, exc) in failures.items():
            key = f"source:{name}:{component}"
            message = f"{name} failed: {type(exc).__name__}: {exc}"
            self._errors[component] = message
            if not self.log.is_active(key):
                self.log.record(key, "error", "error", component, message, {"source": name}, now)
        for key in self.log.active_keys("source:"):
            _, name, component = key.split(":", 2)
            if component in records:
                self._errors.pop(component, None)
                self.log.record(key, "recovered", "info", component, f"{name} recovered", {"source": name}, now)

    def _isolated(self, key: str, what: str, call: Callable, now: float) -> None:
        """Run ``call``; turn an exception into one error alert (and an info on recovery)."""
        try:
            result = call()
            if inspect.isawaitable(result):
                if self._loop is None:
                    self._loop = asyncio.new_event_loop()
                self._loop.run_until_complete(result)
        except Exception as exc:  # noqa: BLE001
            if not self.log.is_active(key):
                self.log.record(
                    key,
                    "error",
                    "error",
                    "system",
                    f"{what} failed: {type(exc).__name__}: {exc}",
                    {"source": what},
                    now,
                )
            return
        if self.log.is_active(key):
            self.log.record(key, "recovered", "info", "system", f"{what} recovered", {"source": what}, now)

    def _run_checks(self, sources, records, plugins, custom_rules, now) -> None:
        metrics = self.get_latest_metrics() if plugins or custom_rules else None
        for name, source in sources:
            if hasattr(source, "conditions"):

                def assert_conditions(source=source):
                    for condition in source.conditions(records):
                        self.create_alert(*condition)

                self._isolated(f"conditions:{name}", f"{name} checks", assert_conditions, now)
        for i, rule in enumerate(custom_rules):
            name = getattr(rule, "__name__", f"rule {i}")
            self._isolated(f"custom-rule:{id(rule)}", f"custom rule {name}", lambda rule=rule: rule(metrics), now)
        for plugin in plugins:
            name = type(plugin).__name__
            self._isolated(f"plugin:{id(plugin)}", f"plugin {name}", lambda plugin=plugin: plugin.process(metrics), now)
        with self._lock:
            for key in self.log.active_keys("custom:"):
                if key not in self._asserted:
                    _, component, level, message = key.split(":", 3)
                    self.log.record(key, "resolved", "info", component, f"Resolved: {message}", {"was": level}, now)

    def _note_self(self, started: float, now: float) -> None:
        cpu_now = (time.process_time(), time.monotonic())
        cpu_percent = None
        if self._last_cpu is not None:
            wall = cpu_now[1] - self._last_cpu[1]
            cpu_percent = 100.0 * (cpu_now[0] - self._last_cpu[0]) / wall if wall > 0 else None
        self._last_cpu = cpu_now
        with self._lock:
            self._ticks += 1
            record = {
                "timestamp": now,
                "tick_duration_ms": (time.perf_counter() - started) * 1000.0,
                "interval_seconds": self._interval,
                "ticks_total": self._ticks,
                "missed_ticks_total": self._missed,
                "process_cpu_percent": cpu_percent,
                "process_rss_mb": _rss_mb(),
                "running": self.running,
            }
            self.store.append("collector", record)
            self._latest["collector"] = record
            self._last_tick_end = time.monotonic()

    # -- the thread -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the collection thread (no-op when it already runs)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="prsm-collector", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (no-op when it is not running)."""
        with self._lock:
            thread = self._thread
            self._stop.set()
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def close(self) -> None:
        """Stop, then release every source (sockets, threads of the demo network)."""
        self.stop()
        for source in self.sources:
            close = getattr(source, "close", None)
            if close:
                close()
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    async def start_collection(self) -> None:
        """The guide's async spelling: run until :meth:`stop_collection` is called."""
        self.start()
        await asyncio.get_running_loop().run_in_executor(None, self._stop.wait)

    def stop_collection(self) -> None:
        self.stop()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            tick_start = time.monotonic()
            try:
                with self._tick_lock:
                    self._tick()
            except Exception:  # a bug of ours must not kill monitoring
                log.exception("collector tick failed")
            next_at += self._interval
            now = time.monotonic()
            if now > next_at:  # overran: skip the slots we missed, never bunch up
                missed = int((now - next_at) // self._interval) + 1
                with self._lock:
                    self._missed += missed
                next_at += missed * self._interval
            while not self._stop.is_set():
                self._wake.clear()
                if not self._wake.wait(max(0.0, next_at - time.monotonic())):
                    break  # the time has come
                # woken by stop() or an interval change: re-plan from the last tick's start
                next_at = max(tick_start + self._interval, time.monotonic())


_PROCESS = psutil.Process()


def _rss_mb() -> float:
    return _PROCESS.memory_info().rss / (1024 * 1024)
