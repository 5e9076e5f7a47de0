"""The rules file of a running collector, watched off the tick (reading it: :mod:`prsm_monitor.settings.rules_file`).

:class:`RulesFile` watches the file from a thread of its own: every :data:`POLL_SECONDS` it
stats the file and, when its modification time, size or inode changed, reads and parses it
there, checking custom rules against the fields the collector's sources declare
(:func:`prsm_monitor.sources.base.field_units`). The tick only takes the result (:meth:`RulesFile.changed`,
:func:`reload`): it never opens the file, so a file that hangs or is huge holds up nothing
but that thread, and a bad one is one alert while the rules in force stay.
"""

import dataclasses
import os
import threading
from collections.abc import Callable, Mapping

from ..settings.rules import Rule
from ..settings.rules_file import Fields, load_rules
from ..settings.rules_reader import RulesFileError
from ..settings.thresholds import SPECS_BY_RULE, Threshold

POLL_SECONDS = 1.0  # how often a running collector's file is stat'ed


class RulesFile:
    """The rules file of a running collector, watched off the tick.

    :meth:`load` reads it now (at start, where a bad file stops the collector). After that a
    daemon thread, started by the first :meth:`changed` (the first tick) and stopped by
    :meth:`close`, stats the file every ``every`` seconds and reads and parses it when its
    signature (modification time, size, inode) changed; :meth:`changed` says whether such a
    result waits and :meth:`take` hands it over. Neither touches the file."""

    def __init__(
        self,
        path: str | os.PathLike,
        thresholds: Mapping[str, Threshold],
        env_set=frozenset(),
        every: float = POLL_SECONDS,
        fields: Callable[[], Fields] | None = None,
    ):
        self.path = os.fspath(path)
        self.thresholds = dict(thresholds)
        self.env_set = frozenset(env_set)
        self.every = every
        self.fields = fields  # the fields of the collector's sources, asked at each read; None: not checked
        self.signature: tuple | None = None  # of the file last read, good or bad
        self.error: RulesFileError | None = None  # the applied file's problem, while it lasts
        self.sets_thresholds: frozenset[str] = frozenset()  # rules whose thresholds the file in force sets
        self.defaults: dict[str, Threshold] = {}  # the built-in rules' thresholds the last good file sets
        self.reads = 0  # times the file was read, for tests and benchmarks
        self._pending: tuple | RulesFileError | None = None  # a read not yet taken by the tick
        self._lock = threading.Lock()  # guards _pending
        self._reading = threading.Lock()  # one read at a time (the thread, or poll() in a test)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _stat(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self) -> tuple[dict[str, Rule], frozenset[str]]:
        self.reads += 1
        return load_rules(self.path, self.thresholds, self.env_set, None if self.fields is None else self.fields())

    def load(self) -> tuple[dict[str, Rule], frozenset[str]]:
        """The file's rules, read now (see :func:`parse`); raises :class:`RulesFileError`."""
        with self._reading:
            self.signature = self._stat()
            try:
                result = self._read()
            except RulesFileError as error:
                self.error = error
                raise
        self._applied(result)
        return result

    def _applied(self, result: tuple[dict[str, Rule], frozenset[str]]) -> None:
        rules, sets = result
        self.error = None
        self.defaults = {
            name: Threshold(rules[name].warning, rules[name].critical, rules[name].direction)
            for name in sets
            if name in SPECS_BY_RULE
        }

    # -- off the tick ---------------------------------------------------------------------------
    def poll(self) -> bool:
        """Stat the file and, when it changed since the last read, read it; whether it did."""
        with self._reading:
            signature = self._stat()
            if signature == self.signature:
                return False
            self.signature = signature
            try:
                result: tuple | RulesFileError = self._read()
            except RulesFileError as error:
                result = error
        with self._lock:
            self._pending = result
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - the watch goes on; the next change is read again
                continue

    def changed(self) -> bool:
        """Whether a read waits to be applied (memory only: the tick calls this)."""
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="prsm-rules-file", daemon=True)
            self._thread.start()
        return self._pending is not None

    def take(self) -> tuple[dict[str, Rule], frozenset[str]] | None:
        """The waiting read's rules (None: nothing waits); raises its :class:`RulesFileError`."""
        with self._lock:
            result, self._pending = self._pending, None
        if isinstance(result, RulesFileError):
            self.error = result
            raise result
        if result is not None:
            self._applied(result)
        return result

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def default_thresholds_of(collector) -> dict[str, Threshold]:
    """The thresholds "Reset to defaults" returns to: the environment's (or built-in) ones,
    with those the rules file sets over them."""
    watched = collector.rules_file
    return {**collector.settings.thresholds, **(watched.defaults if watched is not None else {})}


ALERT_KEY = "rules:file"  # the alert that says the edited file was not applied


def reload(collector, now: float) -> None:
    """Apply the edited rules file of ``collector`` as its watch read it (under the collector's
    lock, on the tick; the file itself is not touched here). A bad file
    keeps the rules in force and raises one ``error`` alert naming the file, line and key;
    the next good edit resolves it. Thresholds the file sets replace the current ones; those
    it did not set before either keep their current (perhaps tuned on the page) values; those
    it stopped setting go back to the environment's or the defaults. Alerts of rules the file
    no longer declares are resolved."""
    watched, log = collector.rules_file, collector.log
    try:
        taken = watched.take()
    except RulesFileError as error:
        message = f"Rules file not applied, the rules in force stay: {error}"
        details = {"path": watched.path, "line": error.line, "key": error.key}
        if not log.refresh(ALERT_KEY, message, details):
            log.record(ALERT_KEY, "error", "error", "system", message, details, now)
        return
    if taken is None:
        return
    rules, file_thresholds = taken
    old, before = collector.rules, watched.sets_thresholds
    watched.sets_thresholds = file_thresholds
    for name, rule in rules.items():
        if name not in file_thresholds and name not in before and name in old:  # tuned on the page: kept
            rules[name] = dataclasses.replace(rule, warning=old[name].warning, critical=old[name].critical)
    added = [n for n in rules if n not in old]
    removed = [n for n in old if n not in rules]
    changed = [n for n in rules if n in old and rules[n] != old[n]]
    for name in removed:
        if log.is_active(f"rule:{name}"):
            rule = old[name]
            message = f"{rule.label}: rule removed from {watched.path}"
            log.record(f"rule:{name}", "resolved", "info", rule.component, message, {"rule": name}, now)
    collector.replace_rules(rules)
    if added or removed or changed:
        parts = [
            f"{what} {', '.join(names)}"
            for what, names in (("added", added), ("removed", removed), ("changed", changed))
            if names
        ]
        message = f"Rules file {watched.path} applied: {'; '.join(parts)}"
        details = {
            "setting": "rules_file",
            "added": added,
            "removed": removed,
            "changed": changed,
            "actor": "rules file",
        }
        log.record("setting:rules_file", "changed", "info", "system", message, details, now)
    if log.is_active(ALERT_KEY):
        log.record(ALERT_KEY, "recovered", "info", "system", f"Rules file {watched.path} applied again", {}, now)


__all__ = ["ALERT_KEY", "POLL_SECONDS", "RulesFile", "default_thresholds_of", "reload"]
