"""MetricsCollector: the conductor. One thread, a drift-free tick: sources -> store -> alerts."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from ..alerts import AlertLog, RuleState, default_rules, evaluate, firing
from ..alerts.custom import CustomAlerts
from ..alerts.log import Ack
from ..alerts.rules_file import RulesFile
from ..alerts.rules_file import reload as reload_rules
from ..alerts.silences import Silences
from ..compat import CUSTOM, CollectorCompat, with_baseline
from ..fields import COLLECTOR_FIELDS, COMPONENTS, Distribution, Field, Rows
from ..insight import Insight
from ..notify import attach_notifier
from ..settings.model import Settings, history_points
from ..sources.base import as_source, field_units
from ..sources.registry import REGISTRY
from ..store.columns import Columns
from ..store.persistence import attach, open_store
from . import declared
from .checks import Checks
from .configure import Tuning
from .loop import TickLoop
from .sourceset import SourceSet, collect, default_sources
from .tickstats import TickStats

log = logging.getLogger("prsm_monitor.collector")


class MetricsCollector(CollectorCompat):
    """Collects metrics from sources on one daemon thread and keeps their history and alerts.

    ``MetricsCollector(max_history=1000)`` reads its other settings from ``PRSM_*``
    environment variables (see :class:`~prsm_monitor.settings.model.Settings`) unless
    ``settings`` is given; ``baseline_metrics`` (the guide's ``cpu_threshold`` ...) sets
    warning thresholds (see :func:`~prsm_monitor.compat.with_baseline`); ``sources``
    replaces the default sources; ``clock`` gives the wall time stamped on alerts and used
    for rules' ``for`` durations. Every read method is
    thread-safe and returns copies.

    The collector conducts collaborators, each with public methods: :attr:`source_set` (the
    sources, :mod:`prsm_monitor.sources`), :attr:`store`, :attr:`log` (the alert log), :attr:`custom`
    (sources' and custom alerts), :attr:`silences`, :attr:`tuning` (interval, rules, the
    settings writes), :attr:`loop` (the tick thread), :attr:`insight` and :attr:`notifier`.
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
        self.rules_file = None  # the TOML rules file, re-read on the tick after it changes
        file_rules = None
        sources = None if sources is None else [as_source(s) for s in sources]
        if self.settings.rules_file is not None:  # a bad file raises here, before any source starts
            known = field_units(sources) if sources is not None else REGISTRY.known_fields(self.settings)
            self.rules_file = RulesFile(
                self.settings.rules_file, self.settings.thresholds, self.settings.env_set, fields=lambda: known
            )
            file_rules, self.rules_file.sets_thresholds = self.rules_file.load()
        sources = default_sources(self.settings) if sources is None else sources
        point_bytes = declared.point_bytes(sources)  # the budget is checked before the store allocates
        history = history_points(self.settings, max_history, point_bytes)
        self.history_given = max_history is not None  # max_history= wins over a saved size
        self.created_at = clock()  # tells this collector from any other (a restart resets its counters)
        self.store = open_store(self.settings, history)  # memory only, or tiers on disk (persistence.py)
        self.log = AlertLog()
        self.custom = CustomAlerts(self.log)
        self.checks = Checks(self.custom, self.create_alert)  # sources' conditions, custom rules, plugins
        self.silences = Silences(self.log)  # silenced alerts are shown muted, not toasted nor notified
        self._rule_states: dict[str, RuleState] = {}
        self._latest: dict[str, dict | None] = {c: None for c in (*COMPONENTS, "collector")}
        self._stats = TickStats()
        self._lock = threading.RLock()  # state shared with readers
        self.source_set = SourceSet(self.store, self._lock)  # the sources, in the order they were added
        self.loop = TickLoop(self._tick, lambda: self.tuning.interval, self._guard, self.log, clock, self._missed)
        self.tuning = Tuning(
            lock=self._lock,
            clock=clock,
            log=self.log,
            store=self.store,
            settings=self.settings,
            interval=self.settings.interval,
            rules=file_rules or default_rules(self.settings.thresholds),
            wake=self.loop.wake,
            point_bytes=lambda: self.point_bytes,
            demo_network=lambda: self.demo_network,
        )
        self.insight = Insight(  # baselines, anomalies, forecasts
            self, horizon=self.settings.forecast_horizon, learn_seconds=self.settings.anomaly_learning
        )
        self.store.declare("collector", [f.name for f in COLLECTOR_FIELDS])
        for source in sources:
            self.add_source(source)
        if self.rules_file is not None:  # from now on, the fields of the sources added since too
            self.rules_file.fields = lambda: field_units(self.sources)
        attach(self)  # restore what an earlier run saved; journal from now on
        self.notifier = attach_notifier(self)  # incidents; notifications on threads of its own, never the tick

    # -- wiring ---------------------------------------------------------------------------
    def add_source(self, source, name: str | None = None) -> None:
        """Add a source (a :class:`~prsm_monitor.sources.base.Source`, or any object with
        ``components``, ``fields`` and ``collect()``); its fields get a history each."""
        self.source_set.add(source, name)

    def add_plugin(self, plugin) -> None:
        """Add an object whose ``process(metrics)`` runs after each tick; its errors are isolated."""
        self.checks.add_plugin(plugin)

    def remove_plugin(self, plugin) -> None:
        """Remove a plugin added with :meth:`add_plugin` (no-op if it is not there)."""
        self.checks.remove_plugin(plugin)

    def add_alert_rule(self, rule: Callable) -> None:
        """Add a custom rule: ``rule(metrics)`` (plain or ``async``) runs after each tick and
        may call :meth:`create_alert`. Its alerts stay active while it keeps asserting them."""
        self.checks.add_rule(rule)

    @property
    def point_bytes(self) -> int:
        """Bytes one point of history takes: 8 per field the collector and its sources declare."""
        return self.source_set.point_bytes

    @property
    def sources(self) -> list:
        """The sources, as they were added."""
        return self.source_set.sources

    @property
    def demo_network(self):
        """The demo network one of the sources runs, if any (the target of demo faults)."""
        return self.source_set.demo_network

    # -- settings (see :class:`~.configure.Tuning`) ------------------------------------------
    @property
    def clock(self):
        """The wall clock stamped on records and alerts (``time.time`` unless a test gave one)."""
        return self._clock

    @property
    def collection_interval(self) -> float:
        return self.tuning.interval

    @collection_interval.setter
    def collection_interval(self, seconds: float) -> None:
        self.configure(collection_interval=seconds)

    @property
    def rules(self) -> dict:
        """The rules in force, by name (a copy)."""
        return self.tuning.rules

    def configure(self, **changes) -> None:
        """Change settings while running, the one way the UI and the API write:
        ``collection_interval``, ``max_history``, ``thresholds``, ``fault`` and ``actor`` (who
        asked), validated and logged (see :meth:`~.configure.Tuning.configure`)."""
        self.tuning.configure(**changes)

    def replace_rules(self, rules: Mapping) -> None:
        """Put ``rules`` (by name) in force from the next evaluation: a rules file re-read."""
        self.tuning.replace_rules(rules)

    def restore_settings(self, *, interval=None, history=None, thresholds=None, rule_states=None) -> None:
        """Apply what an earlier run saved (see :mod:`prsm_monitor.store.persistence`),
        validated there; logs no events."""
        with self._lock:
            self.tuning.restore(interval=interval, history=history, thresholds=thresholds)
            self._rule_states.update(rule_states or {})

    # -- the tick thread (see :class:`~.loop.TickLoop`) -------------------------------------
    @property
    def running(self) -> bool:
        return self.loop.running

    @property
    def stopped_by(self) -> str | None:
        """Why the tick thread ended by itself, if it did (``/health`` says it)."""
        return self.loop.stopped_by

    def start(self) -> None:
        """Start the collection thread (no-op when it already runs)."""
        self.loop.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (no-op when it is not running)."""
        self.loop.stop()

    @property
    def fields(self) -> dict[str, tuple[Field, ...]]:
        """Declared fields per component, for exporters."""
        with self._lock:
            result = self.source_set.fields
            if CUSTOM in self._latest:
                result[CUSTOM] = self.custom_fields
            return result

    @property
    def rows(self) -> tuple[tuple[Rows, ...], tuple[Distribution, ...]]:
        """The row lists and distributions the sources declare, for exporters."""
        return self.source_set.rows

    @property
    def version(self) -> tuple[int, int, int]:
        """Changes whenever what readers see may have changed: a tick, an alert event or
        acknowledgement, a settings change. Readers cache what they derive per version."""
        return (self._stats.ticks, self.log.revision, self.tuning.revision)

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
        DataFrame (``minutes=None``: everything up to ``end``)."""
        return self.history_columns(component, minutes, max_points, end).frame()

    def history_columns(
        self, component: str, minutes: float | None = 60, max_points: int | None = None, end: float | None = None
    ) -> Columns:
        """:meth:`history` as NumPy columns (the work done at rest never imports pandas). A known
        component without a source gives no rows; an unknown one raises ``ValueError``."""
        if not self.store.fields(component):
            if component in (*COMPONENTS, "collector"):
                return Columns.no_rows()
            raise ValueError(f"component={component!r} is unknown: expected one of {', '.join(COMPONENTS)}")
        until = time.time() if end is None else end
        start = None if minutes is None else until - minutes * 60
        return self.store.query_columns(component, start, end, max_points)

    def history_start(self, component: str) -> float | None:
        """Time of the oldest stored point of ``component`` (None: none yet): where history starts."""
        return self.store.first_timestamp(component) if self.store.fields(component) else None

    # -- the tick -------------------------------------------------------------------------
    def collect_once(self) -> dict:
        """Run one tick now, in this thread, and return the latest metrics."""
        self.loop.run_once()
        return self.get_latest_metrics()

    def _guard(self, key: str, what: str, run: Callable[[], None]) -> None:
        self.custom.isolated(key, what, run, self._clock())

    def _missed(self, count: int) -> None:
        with self._lock:
            self._stats.missed += count

    def _tick(self) -> None:
        started = time.perf_counter()
        now = self._clock()
        sources = self.source_set.named()
        records, failures, source_ms = collect(sources)
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
            rules = self.tuning.rules
            self._rule_states, transitions = evaluate(rules, records, self._rule_states, now)
            self.log.record_transitions(transitions, now)
            self.log.refresh_rules(firing(rules, self._rule_states))  # messages say what holds now
            self.custom.begin_tick()
        self.insight.observe(records, now)  # cheap: the learning runs on the insight's own thread
        checks_started = time.perf_counter()
        self.checks.run(sources, records, self.get_latest_metrics, now)
        with self._lock:
            record = self._stats.record(
                started, now, self.tuning.interval, self.running, getattr(self.store, "disk_mb", None)
            )
            self._debug_tick(record, source_ms, (time.perf_counter() - checks_started) * 1000.0)
            self.store.append("collector", record)
            self._latest["collector"] = record

    def close(self) -> None:
        """Stop, then release every source (sockets, threads of the demo network)."""
        self.stop()
        self.insight.close()
        for source in self.source_set.wrapped():
            source.close()
        self.custom.close()
        self.notifier.close()
        if self.rules_file is not None:
            self.rules_file.close()  # its watch thread
        self.store.close()  # commits the last batch of history to disk

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
