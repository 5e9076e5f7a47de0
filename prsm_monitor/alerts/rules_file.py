"""Threshold rules declared in a TOML file (``PRSM_RULES_FILE``, or ``rules.toml`` beside the app).

One table per rule under ``[rules.<name>]``. A built-in rule's name (``cpu``, ``latency``, ...)
changes that rule; any other name declares a new one::

    [rules.cpu]
    warning = 80
    critical = 95
    for = "5m"            # a breach must last this long (seconds, or "90s", "5m", "1h")
    clear_margin = 5      # a firing rule clears only once the value is back by this much
    average = "1m"        # judge a moving average over this time constant (0: each sample)
    runbook = "https://wiki.example.com/runbooks/cpu"
    description = "This machine's CPU has been busy for minutes on end."
    labels = { team = "infra" }

    [rules.load]
    component = "system"
    field = "load_1m"
    comparison = "above"  # or "below"
    warning = 4
    critical = 8

:func:`load_rules` turns the file into :class:`~.rules.Rule` objects over the built-in ones
and raises :class:`RulesFileError` (a :class:`~prsm_monitor.config.ConfigError`) naming the
file, the line and the key of the first problem. Only a regular file of at most
:data:`MAX_BYTES` is read (a FIFO, a device such as ``/dev/zero`` or a directory is refused
without reading it), and it is opened non-blocking.

:class:`RulesFile` watches the file of a running collector from a thread of its own: every
:data:`POLL_SECONDS` it stats the file and, when its modification time, size or inode changed,
reads and parses it there. The tick only takes the result (:meth:`RulesFile.changed`,
:func:`reload`): it never opens the file, so a file that hangs or is huge holds up nothing
but that thread, and a bad one is one alert while the rules in force stay.
"""

import dataclasses
import os
import re
import stat
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ..config import SPECS_BY_RULE, Threshold
from .rules import Rule
from .rules_reader import RulesFileError, TableReader
from .toml_lines import key_at, line_text

FILE_NAME = "rules.toml"
MAX_BYTES = 1024 * 1024  # a rules file is a few KiB: 1 MiB is far beyond any real one
POLL_SECONDS = 1.0  # how often a running collector's file is stat'ed


def default_path() -> Path:
    """``rules.toml`` beside ``streamlit_app.py`` (the working directory when installed elsewhere)."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "streamlit_app.py").is_file() else Path.cwd()) / FILE_NAME


_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")


def parse(
    path: str | os.PathLike, text: str, thresholds: Mapping[str, Threshold], env_set=frozenset(), known_fields=None
):
    """The rules declared by ``text`` (the file at ``path``) over the built-in ones, and the
    names of the rules whose thresholds it sets. ``known_fields`` (``{component: {field:
    unit}}``, from the configured sources) are the fields a new rule may watch; None: any
    field name is taken. Raises :class:`RulesFileError`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_AT.search(str(error))
        message = _TOML_AT.sub("", str(error)).strip()
        line = int(match.group(1)) if match else None
        raise RulesFileError(path, line, key_at(text, line), line_text(text, line), f"TOML ({message})") from None
    return TableReader(os.fspath(path), text, thresholds, frozenset(env_set), known_fields).rules(document)


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is (None: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _refuse(path, why: str) -> RulesFileError:
    return RulesFileError(path, None, "", os.fspath(path), f"a regular UTF-8 TOML file of at most 1 MiB ({why})")


def read(path: str | os.PathLike) -> str:
    """The text of the rules file at ``path``: a regular file of at most :data:`MAX_BYTES`,
    checked before it is opened and again on the open descriptor (opened non-blocking, so
    that a FIFO swapped in between cannot hang the read)."""
    try:
        before = os.stat(path)
        what = _not_regular(before.st_mode)
        if what:
            raise _refuse(path, f"it is {what}")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            opened = os.fstat(fd)
            what = _not_regular(opened.st_mode)
            if what:
                raise _refuse(path, f"it is {what}")
            if opened.st_size > MAX_BYTES:
                raise _refuse(path, f"it has {opened.st_size:,} bytes")
            chunks, size = [], 0
            while size <= MAX_BYTES:
                chunk = os.read(fd, MAX_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if size > MAX_BYTES:
            raise _refuse(path, "it grew over 1 MiB while read")
        return b"".join(chunks).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise RulesFileError(path, None, "", os.fspath(path), f"a readable UTF-8 TOML file ({reason})") from None


def load_rules(path: str | os.PathLike, thresholds: Mapping[str, Threshold], env_set=frozenset(), known_fields=None):
    """:func:`parse` the file at ``path``."""
    return parse(path, read(path), thresholds, env_set, known_fields)


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
        known_fields=None,
    ):
        self.path = os.fspath(path)
        self.known_fields = known_fields
        self.thresholds = dict(thresholds)
        self.env_set = frozenset(env_set)
        self.every = every
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
        return load_rules(self.path, self.thresholds, self.env_set, self.known_fields)

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


__all__ = [
    "ALERT_KEY",
    "FILE_NAME",
    "MAX_BYTES",
    "RulesFile",
    "RulesFileError",
    "default_path",
    "default_thresholds_of",
    "load_rules",
    "parse",
    "read",
    "reload",
]
