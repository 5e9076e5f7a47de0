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
file, the line and the key of the first problem. :class:`RulesFile` re-reads the file when
its modification time or size changed, cheaply enough to ask on every tick.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ..config import SPECS_BY_RULE, ConfigError, Threshold, check_threshold, finite
from ..fields import COMPONENTS
from .rules import ABOVE, BELOW, Rule, default_rules
from .toml_lines import key_at, key_line, line_text, top_line

FILE_NAME = "rules.toml"
KEYS = (
    "component",
    "field",
    "label",
    "unit",
    "comparison",
    "warning",
    "critical",
    "for",
    "clear_margin",
    "average",
    "runbook",
    "description",
    "labels",
)
FIXED = ("component", "field", "comparison", "unit")  # what a built-in rule watches: not changed by the file
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_CORE_FIELD = re.compile(r"^cpu_core_\d+_percent$")
MAX_SECONDS = 7 * 86400.0  # `for` and `average` at most a week
MAX_TEXT = 2000  # characters of a description or runbook


class RulesFileError(ConfigError):
    """A rules file that cannot be used: ``str(error)`` is one line naming the file, the line
    and the key (``rules.toml:12: rules.cpu.warning=150 is invalid: expected ...``)."""

    def __init__(self, path: str | os.PathLike, line: int | None, key: str, value: object, expected: str):
        self.path = os.fspath(path)
        self.line = line
        self.key = key
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {key}" if key else where, value, expected)


def default_path() -> Path:
    """``rules.toml`` beside ``streamlit_app.py`` (the working directory when installed elsewhere)."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "streamlit_app.py").is_file() else Path.cwd()) / FILE_NAME


def _seconds(value, expected: str) -> float:
    """Seconds from a number or a duration such as ``"90s"``, ``"5m"``, ``"1h"``."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(expected)
        number = float(match.group(1)) * _SECONDS[match.group(2)]
    else:
        number = finite(value)
        if number is None:
            raise ValueError(expected)
    if not 0 <= number <= MAX_SECONDS:
        raise ValueError(expected)
    return number


def _known_fields(component: str) -> dict[str, str]:
    """Field name -> unit of the fields a component's sources declare."""
    if component == "system":
        from ..sources.system import SYSTEM_FIELDS

        return {f.name: f.unit for f in SYSTEM_FIELDS}
    from ..sources.nodes.fields import NODE_AI_FIELDS, NODE_NETWORK_FIELDS
    from ..sources.prsm.fields import AI_FIELDS, NETWORK_FIELDS

    demo, nodes = (NETWORK_FIELDS, NODE_NETWORK_FIELDS) if component == "network" else (AI_FIELDS, NODE_AI_FIELDS)
    return {f.name: f.unit for f in (*nodes, *demo)}  # the demo's, and real PRSM nodes' (PRSM_NODE_URLS)


class _Reader:
    """Turns one parsed file into rules; every error names the file, line and key."""

    def __init__(self, path: str, text: str, thresholds: Mapping[str, Threshold], env_set: frozenset[str]):
        self.path = path
        self.text = text
        self.thresholds = thresholds
        self.env_set = env_set

    def fail(self, rule: str | None, key: str | None, value, expected: str):
        name = ".".join(p for p in ("rules", rule, key) if p)
        raise RulesFileError(self.path, key_line(self.text, rule, key), name, value, expected)

    def rules(self, document: Mapping) -> tuple[dict[str, Rule], frozenset[str]]:
        """(every rule, built-in ones first; the names of those whose thresholds the file sets)."""
        for key in document:
            if key != "rules":
                raise RulesFileError(
                    self.path, top_line(self.text, key), key, document[key], "only [rules.<name>] tables"
                )
        tables = document.get("rules", {})
        if not isinstance(tables, Mapping):
            self.fail(None, None, tables, "[rules.<name>] tables")
        rules = default_rules(dict(self.thresholds))
        set_thresholds = set()
        for name, table in tables.items():
            if not _NAME.match(name):
                self.fail(name, None, name, "a rule name of lower-case letters, digits and _ (starting with a letter)")
            if not isinstance(table, Mapping):
                self.fail(name, None, table, "a table of rule settings")
            for key in table:
                if key not in KEYS:
                    self.fail(name, key, table[key], f"one of the keys {', '.join(KEYS)}")
            rule = self.builtin(name, table, rules[name]) if name in rules else self.custom(name, table)
            if "warning" in table or "critical" in table:
                set_thresholds.add(name)
            rules[name] = rule
        return rules, frozenset(set_thresholds)

    def builtin(self, name: str, table: Mapping, rule: Rule) -> Rule:
        builtin = {"component": rule.component, "field": rule.field, "comparison": rule.direction, "unit": rule.unit}
        for key in FIXED:
            if key in table and table[key] != builtin[key]:
                self.fail(
                    name,
                    key,
                    table[key],
                    f"{builtin[key]!r} (the built-in rule {name} watches {rule.component}.{rule.field}; "
                    "declare a rule under another name to watch something else)",
                )
        spec = SPECS_BY_RULE[name]
        env = {spec.warning_var, spec.critical_var} & self.env_set  # the environment wins, as everywhere
        warning = rule.warning if env or "warning" not in table else table["warning"]
        critical = rule.critical if env or "critical" not in table else table["critical"]
        try:
            threshold = check_threshold(name, warning, critical, warning_name="warning", critical_name="critical")
        except ConfigError as error:
            self.fail(name, error.variable, error.value, error.expected)
        return self.common(name, table, rule.with_threshold(threshold))

    def custom(self, name: str, table: Mapping) -> Rule:
        component = table.get("component")
        if component not in COMPONENTS:
            self.fail(name, "component", component, f"one of {', '.join(COMPONENTS)} (a new rule needs a component)")
        field = table.get("field")
        known = _known_fields(component)
        if not isinstance(field, str) or not (field in known or (component == "system" and _CORE_FIELD.match(field))):
            self.fail(name, "field", field, f"a numeric field of {component}, one of {', '.join(known)}")
        direction = table.get("comparison")
        if direction not in (ABOVE, BELOW):
            self.fail(name, "comparison", direction, '"above" or "below" (alert when the value is above or below)')
        levels = {}
        for key in ("warning", "critical"):
            if key in table:
                levels[key] = finite(table[key])
                if levels[key] is None:
                    self.fail(name, key, table[key], "a finite number")
        if not levels:
            self.fail(name, "warning", None, "a warning and/or a critical threshold")
        warning, critical = levels.get("warning"), levels.get("critical")
        if (
            warning is not None
            and critical is not None
            and (warning > critical if direction == ABOVE else warning < critical)
        ):
            side = "at or below" if direction == ABOVE else "at or above"
            self.fail(name, "warning", table["warning"], f"a warning level {side} the critical level {critical:g}")
        unit = table.get("unit", known.get(field, "%"))
        if not isinstance(unit, str) or len(unit) > 16:
            self.fail(name, "unit", unit, "a short unit such as %, ms or s")
        label = table.get("label", field.replace("_", " ").capitalize())
        rule = Rule(name, component, field, str(label), "" if unit == "1" else unit, direction, warning, critical)
        return self.common(name, table, rule)

    def common(self, name: str, table: Mapping, rule: Rule) -> Rule:
        changes = {}
        for key, attribute in (("for", "for_seconds"), ("average", "smooth_seconds")):
            if key in table:
                try:
                    changes[attribute] = _seconds(table[key], key)
                except ValueError:
                    self.fail(
                        name, key, table[key], 'seconds from 0 to a week: a number, or a duration like "90s", "5m"'
                    )
        if "clear_margin" in table:
            margin = finite(table["clear_margin"])
            if margin is None or margin < 0:
                self.fail(name, "clear_margin", table["clear_margin"], "a number at least 0, in the rule's unit")
            changes["clear_margin"] = margin
        for key, attribute in (("label", "label"), ("runbook", "runbook_url"), ("description", "description")):
            if key in table:
                value = table[key]
                if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or not value.isprintable():
                    self.fail(name, key, value, f"text of 1 to {MAX_TEXT} printable characters on one line")
                if key == "runbook" and any(c.isspace() for c in value):
                    self.fail(name, key, value, "a URL or path without spaces")
                changes[attribute] = value.strip()
        if "labels" in table:
            labels = table["labels"]
            if not isinstance(labels, Mapping) or any(
                not _LABEL.match(str(k)) or not isinstance(v, str) or len(v) > 200 for k, v in labels.items()
            ):
                self.fail(name, "labels", labels, 'a table of names to text, like { team = "infra" }')
            changes["labels"] = tuple(sorted(labels.items()))
        return dataclasses.replace(rule, **changes)


_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")


def parse(path: str | os.PathLike, text: str, thresholds: Mapping[str, Threshold], env_set=frozenset()):
    """The rules declared by ``text`` (the file at ``path``) over the built-in ones, and the
    names of the rules whose thresholds it sets. Raises :class:`RulesFileError`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_AT.search(str(error))
        message = _TOML_AT.sub("", str(error)).strip()
        line = int(match.group(1)) if match else None
        raise RulesFileError(path, line, key_at(text, line), line_text(text, line), f"TOML ({message})") from None
    return _Reader(os.fspath(path), text, thresholds, frozenset(env_set)).rules(document)


def read(path: str | os.PathLike) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise RulesFileError(path, None, "", os.fspath(path), f"a readable UTF-8 TOML file ({reason})") from None


def load_rules(path: str | os.PathLike, thresholds: Mapping[str, Threshold], env_set=frozenset()):
    """:func:`parse` the file at ``path``."""
    return parse(path, read(path), thresholds, env_set)


class RulesFile:
    """The rules file of a running collector. :meth:`changed` stats it (a ``stat`` call, no
    read) and says whether it differs from what was last loaded; :meth:`load` reads it."""

    def __init__(self, path: str | os.PathLike, thresholds: Mapping[str, Threshold], env_set=frozenset()):
        self.path = os.fspath(path)
        self.thresholds = dict(thresholds)
        self.env_set = frozenset(env_set)
        self.signature: tuple | None = None
        self.error: RulesFileError | None = None  # the last load's problem, while it lasts
        self.sets_thresholds: frozenset[str] = frozenset()  # rules whose thresholds the file in force sets
        self.defaults: dict[str, Threshold] = {}  # the built-in rules' thresholds the last good file sets

    def _stat(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def changed(self) -> bool:
        return self._stat() != self.signature

    def load(self) -> tuple[dict[str, Rule], frozenset[str]]:
        """The file's rules (see :func:`parse`); remembers its signature even when it is bad,
        so a bad file is reported once, not on every tick."""
        self.signature = self._stat()
        try:
            result = load_rules(self.path, self.thresholds, self.env_set)
        except RulesFileError as error:
            self.error = error
            raise
        self.error = None
        rules, sets = result
        self.defaults = {
            name: Threshold(rules[name].warning, rules[name].critical, rules[name].direction)
            for name in sets
            if name in SPECS_BY_RULE
        }
        return result


def default_thresholds_of(collector) -> dict[str, Threshold]:
    """The thresholds "Reset to defaults" returns to: the environment's (or built-in) ones,
    with those the rules file sets over them."""
    watched = collector.rules_file
    return {**collector.settings.thresholds, **(watched.defaults if watched is not None else {})}


ALERT_KEY = "rules:file"  # the alert that says the edited file was not applied


def reload(collector, now: float) -> None:
    """Apply the edited rules file of ``collector`` (under its lock, on the tick). A bad file
    keeps the rules in force and raises one ``error`` alert naming the file, line and key;
    the next good edit resolves it. Thresholds the file sets replace the current ones; those
    it did not set before either keep their current (perhaps tuned on the page) values; those
    it stopped setting go back to the environment's or the defaults. Alerts of rules the file
    no longer declares are resolved."""
    watched, log = collector.rules_file, collector.log
    try:
        rules, file_thresholds = watched.load()
    except RulesFileError as error:
        message = f"Rules file not applied, the rules in force stay: {error}"
        details = {"path": watched.path, "line": error.line, "key": error.key}
        if not log.refresh(ALERT_KEY, message, details):
            log.record(ALERT_KEY, "error", "error", "system", message, details, now)
        return
    old, before = collector._rules, watched.sets_thresholds
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
    collector._rules = rules
    collector._settings_revision += 1
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
