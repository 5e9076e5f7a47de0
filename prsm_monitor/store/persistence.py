"""What survives a restart: history on disk, alert events and acknowledgements, tuned settings.

:func:`open_store` makes the collector's store: the in-memory ring alone (``data_dir``
None and no Prometheus: memory only, as before), or a
:class:`~prsm_monitor.store.tiered.TieredStore` over the ring, the SQLite file in
``data_dir`` and/or a Prometheus server. :func:`attach` then, once the collector exists:

- restores the last alert events and the active alerts with their acknowledgements, and
  puts the threshold rules that were firing back in their firing state, so the first ticks
  re-derive them: a condition that still holds stays active with no new event, one that
  is over is resolved (see :meth:`MetricsCollector.restore_settings`);
- restores the silences (active, pending and recently expired);
- restores the thresholds, interval and history size the user tuned, except those whose
  ``PRSM_*`` variable is set now (the environment wins) or that the rules file sets;
- journals new events, the active alerts and the tuned settings with each batch the
  writer commits;
- turns a history file that cannot be written into one ``error`` alert (``store:history``),
  resolved when writing works again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading

from ..alerts import RuleState
from ..alerts.log import NOTICE
from ..settings.limits import check_history, check_interval
from ..settings.model import Settings
from ..settings.thresholds import SPECS_BY_RULE, check_threshold
from ..settings.values import ConfigError
from .datadir import DataDir, DirectoryInUse
from .prometheus_reader import PrometheusReader
from .ring import HistoryStore
from .snapshots import SnapshotJournal, records_of
from .tiered import TieredStore
from .writer import Writer, describe

log = logging.getLogger(__name__)

ALERT_KEY = "store:history"
EVENTS_RESTORED = 1000  # the alert log's length
REDERIVED = ("rule:", "custom:", "source:", ALERT_KEY)  # active alerts that the first ticks confirm or resolve
RETRY = "; history is kept in memory and the directory is tried again each second"


def open_store(settings: Settings, capacity: int):
    """The store for ``settings`` (see the module doc)."""
    ring = HistoryStore(capacity)
    remote = None
    if settings.prometheus_url:
        remote = PrometheusReader(settings.prometheus_url, settings.prometheus_selector)
    if settings.data_dir is None:
        return ring if remote is None else TieredStore(ring, remote=remote, remote_after=settings.retention_raw)
    store = TieredStore(ring, remote=remote, remote_after=settings.retention_raw)
    writer, directory, store.problem = _open_disk(settings)
    if writer is not None:
        store.writer, store.lock = writer, directory
    return store


def _open_disk(settings: Settings) -> tuple[Writer | None, DataDir | None, tuple[str, str] | None]:
    """``(writer, directory, problem)``: a writer on the locked data directory, or None and why not."""
    directory = DataDir(settings.data_dir)
    try:
        directory.acquire()
    except DirectoryInUse as error:
        return None, None, ("locked", str(error))
    except OSError as error:
        return None, None, ("readonly", f"History is not saved: {settings.data_dir} cannot be used ({error}){RETRY}")
    try:
        db, damaged = directory.open()
    except sqlite3.Error as error:
        directory.release()
        kind, message = describe(error, directory.db_path)
        return None, None, (kind, message + RETRY)
    retention = {0: settings.retention_raw, 1: settings.retention_minute, 2: settings.retention_hour}
    cap = None if settings.retention_max_mb is None else int(settings.retention_max_mb * 1024 * 1024)
    writer = Writer(db, retention, cap, reopen=directory.replace)
    problem = None
    if damaged:
        problem = writer.error = ("corrupt", damaged + " and history starts again from now")
    return writer, directory, problem


def attach(collector) -> None:
    """Restore what an earlier run saved into ``collector`` and start journaling (no-op for
    a memory-only store). A data directory that could not be used is tried again each second."""
    store = collector.store
    if not isinstance(store, TieredStore):
        return
    if store.remote is not None:
        store.remote.catalog = lambda: collector.fields
    writer = store.writer
    baseline = _settings(collector)  # what the environment and defaults give this run
    if writer is not None:
        blocked: dict = {}
        try:
            db = writer.db
            saved_settings = db.meta("settings") or {}
            active = db.meta("alerts.active") or []
            collector.log.restore(db.events(EVENTS_RESTORED) + _alert_events(db), active)
            blocked = _restore(collector, saved_settings, active)
            collector.silences.restore(db.meta("silences") or [], collector.clock())
            if any(a.get("key") == ALERT_KEY for a in active) and writer.error is None:
                writer.error = ("restored", "")  # resolved by the first successful commit
        except (sqlite3.Error, ValueError, KeyError, TypeError) as error:  # saved state unreadable: start afresh
            log.warning("the saved alert log and settings could not be read: %s", error)
            problem = ("error", f"The saved alert log and settings could not be read ({error}); they start afresh")
            store.problem = writer.error = store.problem or problem  # resolved by the first commit
        _journal(collector, writer, Journal(collector, baseline, blocked))
    elif collector.settings.data_dir is not None and store.problem is not None:
        store.lock = Retry(collector, baseline)  # store.close() (its lock's release) stops it
        store.lock.start()
    if store.problem is not None:
        _status(collector, store.problem)
    if writer is not None:
        writer.start()


def _alert_events(db) -> list[dict]:
    """The newest alert events saved, changes left out: the newest rows of the events table
    may all be changes (a flood of settings writes), which must not push the alerts' own
    history out of a restart."""
    notices = ", ".join(f"'{kind}'" for kind in sorted(NOTICE))
    query = (
        "SELECT data FROM (SELECT seq, data FROM events WHERE coalesce(json_extract(data, '$.kind'), '') "
        f"NOT IN ({notices}) ORDER BY seq DESC LIMIT ?) ORDER BY seq"
    )
    with db.reading() as conn:
        return [json.loads(data) for (data,) in conn.execute(query, (EVENTS_RESTORED,))]


def _journal(collector, writer: Writer, journal: Journal) -> None:
    """Journal into ``writer``; a file moved aside after damage gets everything again."""
    writer.journal.append(journal)
    writer.journal.append(SnapshotJournal(lambda: records_of(collector)))  # the pages' past (store/snapshots.py)
    writer.on_status = lambda error: _status(collector, error)
    reopen = writer.reopen
    if reopen is not None:

        def reopen_and_rewind():
            opened = reopen()
            journal.rewind()  # the new file gets the events, silences, acks and settings of the old one
            return opened

        writer.reopen = reopen_and_rewind


class Retry:
    """Tries a data directory that could not be used again each second; once it can, history
    is saved from then on, with this run's alert log, silences and settings (which were in
    effect: an earlier run's saved state in the directory is replaced, not restored).

    Stands in as the store's ``lock``: :meth:`release` (called by ``store.close()``) stops it."""

    def __init__(self, collector, baseline: dict, every: float = 1.0):
        self.collector = collector
        self.baseline = baseline
        self.every = every
        self.path = collector.settings.data_dir
        self.directory: DataDir | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="prsm-data-dir-retry", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                writer, directory, problem = _open_disk(self.collector.settings)
            except Exception:  # noqa: BLE001 - a bug of ours: try again, never stop the retries silently
                log.exception("trying the data directory again failed")
                continue
            if writer is None:
                continue
            with self._lock:
                if self._stop.is_set():  # closed meanwhile
                    writer.db.close()
                    directory.release()
                    return
                self.directory = directory
                store = self.collector.store
                journal = Journal(self.collector, self.baseline, {})
                journal.rewind()  # everything this run has, into the directory
                _journal(self.collector, writer, journal)
                writer.start()  # before the store hands it out: store.close() joins its thread
                store.writer, store.problem = writer, problem
                log.info("history is saved in %s from now on", self.path)
                _status(self.collector, writer.error)
            return

    def release(self) -> None:
        with self._lock:
            self._stop.set()
            directory, self.directory = self.directory, None
        if directory is not None:
            directory.release()


def _status(collector, error) -> None:
    """The writer's status as the ``store:history`` alert."""
    log_ = collector.log
    now = collector.clock()
    if error is not None and error[0] != "restored":
        if not log_.is_active(ALERT_KEY):
            path = collector.settings.data_dir
            log_.record(ALERT_KEY, "error", "error", "system", error[1], {"problem": error[0], "path": path}, now)
    elif error is None and log_.is_active(ALERT_KEY):
        log_.record(ALERT_KEY, "recovered", "info", "system", "History is being saved again", {}, now)


# -- settings ----------------------------------------------------------------------------------
def _restore(collector, saved: dict, active: list[dict]) -> dict:
    """Apply saved settings and rule states; returns the saved settings the environment
    overrode this time (kept saved for a later run without those variables)."""
    env = collector.settings.env_set
    interval = history = None
    thresholds = {}
    blocked: dict = {"thresholds": {}}
    try:
        if "collection_interval" in saved:
            if "PRSM_METRICS_INTERVAL" in env:
                blocked["collection_interval"] = saved["collection_interval"]
            else:
                interval = check_interval(saved["collection_interval"])
        if "max_history" in saved:
            if "PRSM_METRICS_HISTORY" in env or collector.history_given:
                blocked["max_history"] = saved["max_history"]
            else:
                budget = collector.settings.memory_budget_mb
                history = check_history(saved["max_history"], point_bytes=collector.point_bytes, budget_mb=budget)
        from_file = collector.rules_file.sets_thresholds if collector.rules_file is not None else frozenset()
        for rule, (warning, critical) in saved.get("thresholds", {}).items():
            spec = SPECS_BY_RULE.get(rule)
            if spec is None or rule not in collector.rules or rule in from_file:  # the rules file wins
                continue
            if {spec.warning_var, spec.critical_var} & env:
                blocked["thresholds"][rule] = [warning, critical]
            else:
                thresholds[rule] = check_threshold(rule, warning, critical)
    except (ConfigError, TypeError, ValueError) as error:
        log.warning("ignoring saved settings: %s", error)
        interval, history, thresholds, blocked = None, None, {}, {"thresholds": {}}
    rules = collector.rules
    states = {}
    for alert in active:
        key = alert.get("key", "")
        name = key[len("rule:") :]
        if key.startswith("rule:") and name in rules and alert.get("level") in ("warning", "critical"):
            states[name] = RuleState(alert["level"], None, alert.get("started"))
    collector.restore_settings(interval=interval, history=history, thresholds=thresholds, rule_states=states)
    now = collector.clock()
    for alert in active:  # alerts nothing can re-derive (a plugin of the old process): closed
        key = alert.get("key", "")
        if not key.startswith(REDERIVED) or (key.startswith("rule:") and key[5:] not in rules):
            message = f"Cleared by a restart: {alert.get('message', key)}"
            collector.log.record(key, "recovered", "info", alert.get("component", "system"), message, {}, now)
    return blocked


class Journal:
    """Operations for the writer's next batch: new alert events, and the active alerts and
    tuned settings whenever they changed. A setting is tuned when it differs from
    ``baseline`` (what the environment and defaults gave at start); ``blocked`` (saved
    settings the environment overrode this run) stay saved for a run without those variables."""

    def __init__(self, collector, baseline: dict, blocked: dict):
        self.collector = collector
        self.last_id = max((e["id"] for e in collector.log.events()), default=0)
        self.revision = None
        self.silences_revision = collector.silences.revision
        self.baseline = baseline
        self.blocked = blocked

    def rewind(self) -> None:
        """Report everything again with the next batch (a new, empty file)."""
        self.last_id = 0
        self.revision = self.silences_revision = None

    def __call__(self) -> list[tuple]:
        collector = self.collector
        ops = []
        for event in collector.log.events(since_id=self.last_id):
            ops.append(("event", event["id"], event["timestamp"], json.dumps(event, default=str)))
            self.last_id = event["id"]
        revision = collector.version[1:]
        if revision != self.revision:
            self.revision = revision
            ops.append(("meta", "alerts.active", json.dumps(collector.log.active(), default=str)))
            ops.append(("meta", "settings", json.dumps(self.tuned())))
        if collector.silences.revision != self.silences_revision:
            self.silences_revision = collector.silences.revision
            ops.append(("meta", "silences", json.dumps(collector.silences.dump())))
        return ops

    def tuned(self) -> dict:
        current, baseline = _settings(self.collector), self.baseline
        out = {k: v for k, v in self.blocked.items() if k != "thresholds"}
        out.update({k: current[k] for k in ("collection_interval", "max_history") if current[k] != baseline[k]})
        thresholds = dict(self.blocked.get("thresholds", {}))
        thresholds.update({r: v for r, v in current["thresholds"].items() if v != baseline["thresholds"].get(r)})
        if thresholds:
            out["thresholds"] = thresholds
        return out


def _settings(collector) -> dict:
    return {
        "collection_interval": collector.collection_interval,
        "max_history": collector.store.capacity,
        "thresholds": {name: [rule.warning, rule.critical] for name, rule in collector.rules.items()},
    }
