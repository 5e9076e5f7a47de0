"""MetricsCollector: the conductor. One thread, a drift-free tick: sources -> store -> alerts."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from .alerts import AlertLog, RuleState, default_rules, evaluate, firing
from .alerts.custom import CustomAlerts
from .alerts.log import Ack
from .alerts.rules_file import RulesFile, source_fields
from .alerts.rules_file import reload as reload_rules
from .alerts.silences import Silences
from .compat import CUSTOM, CollectorCompat, with_baseline
from .configure import Configurable
from .fields import COMPONENTS, Distribution, Field, Rows
from .insight import Insight
from .loop import TickLoop
from .notify import attach_notifier
from .persistence import attach, open_store
from .settings.limits import VALUE_BYTES
from .settings.model import Settings, history_points
from .settings.values import ConfigError
from .sources.system import SystemSource
from .tickstats import COLLECTOR_FIELDS, TickStats

log = logging.getLogger(__name__)

DETAIL_HISTORY = 3600  # rows kept per drill-down series (one per node or model): an hour at 1 Hz


def default_sources(settings: Settings) -> list:
    """The sources a collector starts with: this machine, and the demo network when enabled
    (real PRSM nodes instead when ``PRSM_NODE_URLS`` names some)."""
    sources = [SystemSource()]
    if settings.instances:  # first: a bad token in the secrets stops here, before the demo starts
        from .fleet import Fleet  # polls other instances on its own thread: only when asked for

        sources.append(Fleet.from_settings(settings))
    if settings.prometheus_url:  # every prsm-monitor that Prometheus scrapes, for the Fleet page
        from .fleet import PrometheusFleet

        sources.append(PrometheusFleet.from_settings(settings))
    if settings.node_urls:
        from .sources.nodes import NodeSource  # starts a polling thread: only when asked for

        sources.append(NodeSource(settings.node_urls))
    elif settings.demo:
        from .sources.prsm import PrsmSource  # starts a thread and sockets: only when asked for

        sources.append(PrsmSource.from_settings(settings))
    return sources


def _point_bytes(sources: Iterable) -> int:
    """Bytes one point of history takes: every field the collector and ``sources`` declare for
    the main components (drill-down series are capped at :data:`DETAIL_HISTORY` rows)."""
    count = len(COLLECTOR_FIELDS)
    for source in sources:
        count += sum(len(source.fields[c]) for c in source.components)
    return VALUE_BYTES * count


class MetricsCollector(TickLoop, Configurable, CollectorCompat):
    """Collects metrics from sources on one daemon thread and keeps their history and alerts.

    ``MetricsCollector(max_history=1000)`` reads its other settings from ``PRSM_*``
    environment variables (see :class:`~prsm_monitor.settings.model.Settings`) unless
    ``settings`` is given; ``baseline_metrics`` (the guide's ``cpu_threshold`` ...) sets
    warning thresholds (see :func:`~prsm_monitor.compat.with_baseline`); ``sources``
    replaces the default sources; ``clock`` gives the wall time stamped on alerts and used
    for rules' ``for`` durations. Every read method is
    thread-safe and returns copies.
    """

    def __init__(
        self,
        max_history: int | None = None,
        *,
        settings: Settings | None = None,
        sources: Iterable | None = None,
        clock: Callable[[], float] = time.time,
        baseline_metrics: Mapping | None = None,
    ):
        self.settings = with_baseline(settings if settings is not None else Settings.from_env(), baseline_metrics)
        self._init_compat()
        self._clock = clock  # wall time for records and alerts (tests pass a fake one)
        sources = default_sources(self.settings) if sources is None else list(sources)
        self.rules_file = None  # the TOML rules file, re-read on the tick after it changes
        file_rules = None
        try:  # a bad rules file or history stops here, before the store allocates anything
            if self.settings.rules_file is not None:  # custom rules watch fields these sources declare
                known, given = source_fields(sources), self.settings
                self.rules_file = RulesFile(given.rules_file, given.thresholds, given.env_set, fields=lambda: known)
                file_rules, self.rules_file.sets_thresholds = self.rules_file.load()
            history = history_points(self.settings, max_history, _point_bytes(sources))
        except ConfigError:  # a RulesFileError too: the sources started are closed again
            for source in sources:
                getattr(source, "close", lambda: None)()
            raise
        self._interval = self.settings.interval
        self._history_given = max_history is not None
        self.created_at = clock()  # tells this collector from any other (a restart resets its counters)
        self.store = open_store(self.settings, history)  # memory only, or tiers on disk (persistence.py)
        self.log = AlertLog()
        self.custom = CustomAlerts(self.log)
        self._rules = file_rules or default_rules(self.settings.thresholds)
        self.silences = Silences(self.log)  # silenced alerts are shown muted, not toasted nor notified
        self._rule_states: dict[str, RuleState] = {}
        self._sources: list[tuple[str, object]] = []
        self._plugins: list[object] = []
        self._custom_rules: list[Callable] = []
        self._latest: dict[str, dict | None] = {c: None for c in (*COMPONENTS, "collector")}
        self._stats = TickStats()
        self._settings_revision = 0
        self.insight = Insight(  # baselines, anomalies, forecasts
            self, horizon=self.settings.forecast_horizon, learn_seconds=self.settings.anomaly_learning
        )
        self._lock = threading.RLock()  # state shared with readers
        self._tick_lock = threading.Lock()  # one tick at a time
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.store.declare("collector", [f.name for f in COLLECTOR_FIELDS])
        for source in sources:
            self.add_source(source)
        if self.rules_file is not None:  # from now on, the fields of the sources added since too
            self.rules_file.fields = lambda: source_fields(self.sources)
        attach(self)  # restore what an earlier run saved; journal from now on
        self.notifier = attach_notifier(self)  # incidents; notifications on threads of its own, never the tick

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
    def point_bytes(self) -> int:
        """Bytes one point of history takes: 8 per field the collector and its sources declare."""
        return _point_bytes(self.sources)

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
            if CUSTOM in self._latest:
                result[CUSTOM] = self.custom_fields
            return result

    @property
    def rows(self) -> tuple[tuple[Rows, ...], tuple[Distribution, ...]]:
        """The row lists and distributions the sources declare, for exporters."""
        rows, distributions = [], []
        for source in self.sources:
            rows.extend(getattr(source, "rows", ()))
            distributions.extend(getattr(source, "distributions", ()))
        return tuple(rows), tuple(distributions)

    @property
    def version(self) -> tuple[int, int, int]:
        """Changes whenever what readers see may have changed: a tick, an alert event or
        acknowledgement, a settings change. Readers cache what they derive per version."""
        return (self._stats.ticks, self.log.revision, self._settings_revision)

    # -- alerts ---------------------------------------------------------------------------
    def create_alert(self, level: str, component: str, message: str, details: dict | None = None) -> dict | None:
        """Raise a custom alert. The same (level, component, message) is logged once while it
        stays active; it stays active while a tick's rules keep raising it, and is resolved
        (an ``info`` event) after the first tick that does not. Returns the logged event,
        or None when the alert was already active."""
        return self.custom.assert_alert(level, component, message, details, self._clock())

    def acknowledge(self, alert_id: int, actor: str | None = None) -> Ack:
        """Acknowledge an active alert by its id: an :class:`Ack`, falsy if no active alert has
        it. With ``actor`` (who did it) a new acknowledgement is also logged as a ``changed``
        event; repeating it (``Ack.ALREADY``) logs nothing."""
        now = self._clock()
        done = self.log.acknowledge(alert_id, now, by=actor)
        if done is Ack.DONE and actor is not None:
            alert = next((a for a in self.log.active() if a["id"] == alert_id), None)
            if alert is not None:
                message = f"Acknowledged by {actor}: {alert['message']}"
                details = {"setting": "acknowledge", "alert_id": alert_id, "actor": actor}
                self.log.record(f"setting:ack:{alert_id}", "changed", "info", alert["component"], message, details, now)
        return done

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
            snapshot = {c: copy.deepcopy(record) for c, record in self._latest.items()}  # and "custom", if any
            snapshot["errors"] = dict(self.custom.errors)
        snapshot["alerts"] = self.log.events(limit=10)
        snapshot["active_alerts"] = self.log.active()
        return snapshot

    def latest(self, component: str) -> dict | None:
        """The latest record of one component, by reference: read it, never change it."""
        return self._latest.get(component)

    def history(
        self, component: str, minutes: float | None = 60, max_points: int | None = None, end: float | None = None
    ):
        """History of ``component`` over the ``minutes`` before ``end`` (default: now) as a
        DataFrame (``minutes=None``: everything up to ``end``).

        A known component without a source gives an empty frame; an unknown one raises
        ``ValueError``."""
        if not self.store.fields(component):
            if component in (*COMPONENTS, "collector"):
                return pd.DataFrame(columns=["timestamp"])
            raise ValueError(f"component={component!r} is unknown: expected one of {', '.join(COMPONENTS)}")
        until = time.time() if end is None else end
        start = None if minutes is None else until - minutes * 60
        return self.store.query(component, start, end, max_points)

    def history_start(self, component: str) -> float | None:
        """Time of the oldest stored point of ``component`` (None: none yet): where history starts."""
        return self.store.first_timestamp(component) if self.store.fields(component) else None

    def _restore(self, *, interval=None, history=None, thresholds=None, rule_states=None) -> None:
        """Apply what an earlier run saved (see :mod:`.persistence`), validated there; no events."""
        with self._lock:
            if interval is not None:
                self._interval = interval
            if history is not None and history != self.store.capacity:
                self.store.resize(history)
            for name, threshold in (thresholds or {}).items():
                self._rules[name] = self._rules[name].with_threshold(threshold)
            self._rule_states.update(rule_states or {})
            self._settings_revision += 1

    # -- the tick -------------------------------------------------------------------------
    def collect_once(self) -> dict:
        """Run one tick now, in this thread, and return the latest metrics."""
        with self._tick_lock:
            self._tick()
        return self.get_latest_metrics()

    def _tick(self) -> None:
        started = time.perf_counter()
        self._last_tick_at = time.monotonic()
        now = self._clock()
        with self._lock:
            sources = list(self._sources)
            plugins = list(self._plugins)
            custom_rules = list(self._custom_rules)
        records: dict[str, dict] = {}
        failures: dict[str, tuple[str, Exception]] = {}
        source_ms: dict[str, float] = {}
        for name, source in sources:
            source_started = time.perf_counter()
            try:
                records.update(source.collect())
            except Exception as exc:  # noqa: BLE001 - any source failure becomes an alert
                for component in source.components:
                    failures[component] = (name, exc)
            source_ms[name] = (time.perf_counter() - source_started) * 1000.0
        records.update(self._custom_records(now))  # a subclass's _collect_custom_metrics
        with self._lock:
            for component, record in records.items():
                if self.store.fields(component):
                    self.store.append(component, record)
                if component in self._latest:
                    self._latest[component] = record
            self.custom.note_sources(records, failures, now)
            if self.rules_file is not None and self.rules_file.changed():  # no file access: read off the tick
                reload_rules(self, now)
            self._rule_states, transitions = evaluate(self._rules, records, self._rule_states, now)
            self.log.record_transitions(transitions, now)
            self.log.refresh_rules(firing(self._rules, self._rule_states))  # messages say what holds now
            self.custom.begin_tick()
        self.insight.observe(records, now)  # cheap: the learning runs on the insight's own thread
        checks_started = time.perf_counter()
        self._run_checks(sources, records, plugins, custom_rules, now)
        with self._lock:
            record = self._stats.record(
                started, now, self._interval, self.running, getattr(self.store, "disk_mb", None)
            )
            self._debug_tick(record, source_ms, (time.perf_counter() - checks_started) * 1000.0)
            self.store.append("collector", record)
            self._latest["collector"] = record

    def _run_checks(self, sources, records, plugins, custom_rules, now) -> None:
        """Sources' conditions, custom rules and plugins, each isolated (see :mod:`.alerts.custom`)."""
        metrics = self.get_latest_metrics() if plugins or custom_rules else None
        for name, source in sources:
            if hasattr(source, "conditions"):

                def assert_conditions(source=source):
                    for condition in source.conditions(records):
                        self.create_alert(*condition)

                self.custom.isolated(f"conditions:{name}", f"{name} checks", assert_conditions, now)
        for i, rule in enumerate(custom_rules):
            name = getattr(rule, "__name__", f"rule {i}")
            self.custom.isolated(f"custom-rule:{id(rule)}", f"custom rule {name}", lambda rule=rule: rule(metrics), now)
        for plugin in plugins:
            name = type(plugin).__name__
            self.custom.isolated(
                f"plugin:{id(plugin)}", f"plugin {name}", lambda plugin=plugin: plugin.process(metrics), now
            )
        self.custom.end_tick(now)

    def close(self) -> None:
        """Stop, then release every source (sockets, threads of the demo network)."""
        self.stop()
        self.insight.close()
        for source in self.sources:
            close = getattr(source, "close", None)
            if close:
                close()
        self.custom.close()
        self.notifier.close()
        if self.rules_file is not None:
            self.rules_file.close()  # its watch thread
        self.store.close()  # commits the last batch of history to disk

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
