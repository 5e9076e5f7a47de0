"""The tables of a rules file turned into rules (:mod:`.rules_file` reads and watches the file).

:class:`TableReader` checks every key of every ``[rules.<name>]`` table: a built-in rule's
thresholds within its range, a custom rule's within its field's (:func:`level_range`),
durations up to a week, a ``runbook`` that is an http(s) URL or a relative path
(:func:`runbook_ok`), labels and texts of bounded length. Every error is a
:class:`RulesFileError` naming the file, the line, the key, the value and what is expected.
"""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from collections.abc import Mapping

from ..config import SPECS_BY_RULE, ConfigError, Threshold, check_threshold, finite
from ..fields import COMPONENTS
from .rules import ABOVE, BELOW, Rule, default_rules
from .toml_lines import key_line, top_line

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
MAX_LEVEL = 1e12  # a custom rule's threshold, in the field's unit, at most this far from 0
UNIT_RANGES = {"%": (0.0, 100.0), "ms": (0.0, 3_600_000.0), "s": (0.0, 7 * 86400.0)}  # what a threshold may be


class RulesFileError(ConfigError):
    """A rules file that cannot be used: ``str(error)`` is one line naming the file, the line
    and the key (``rules.toml:12: rules.cpu.warning=150 is invalid: expected ...``)."""

    def __init__(self, path: str | os.PathLike, line: int | None, key: str, value: object, expected: str):
        self.path = os.fspath(path)
        self.line = line
        self.key = key
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {key}" if key else where, value, expected)


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


def level_range(unit: str) -> tuple[float, float]:
    """The thresholds a custom rule on a field of ``unit`` may have: a percentage 0..100, a
    time up to an hour (ms) or a week (s), anything else within ±:data:`MAX_LEVEL`."""
    return UNIT_RANGES.get(unit, (-MAX_LEVEL, MAX_LEVEL))


def runbook_ok(value: str) -> bool:
    """Whether ``value`` is an http(s) URL with a host or a relative path (``docs/runbooks.md#cpu``,
    ``/wiki/cpu``): no ``javascript:``, ``data:`` or other scheme, nothing protocol-relative."""
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return False
    if parts.scheme:
        return parts.scheme in ("http", "https") and bool(parts.netloc)
    return not parts.netloc and not value.startswith(("//", "\\\\")) and ":" not in value.split("/", 1)[0]


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


class TableReader:
    """Turns one parsed file into rules; every error names the file, line and key."""

    def __init__(
        self,
        path: str,
        text: str,
        thresholds: Mapping[str, Threshold],
        env_set: frozenset[str],
        known_fields: Mapping[str, Mapping[str, str]] | None = None,
    ):
        self.known_fields = known_fields  # {component: {field: unit}} of the configured sources; None: any
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
        known = dict(self.known_fields.get(component, {})) if self.known_fields is not None else None
        if not isinstance(field, str) or not (
            (field in known if known is not None else bool(_FIELD_NAME.fullmatch(field)))
            or (component == "system" and _CORE_FIELD.match(field))
        ):
            expected = f"one of {', '.join(known)}" if known is not None else "a field name such as cpu_percent"
            self.fail(name, "field", field, f"a numeric field of {component}, {expected}")
        direction = table.get("comparison")
        if direction not in (ABOVE, BELOW):
            self.fail(name, "comparison", direction, '"above" or "below" (alert when the value is above or below)')
        unit = table.get("unit", (known or {}).get(field, "%"))
        if not isinstance(unit, str) or len(unit) > 16:
            self.fail(name, "unit", unit, "a short unit such as %, ms or s")
        low, high = level_range(unit)
        levels = {}
        for key in ("warning", "critical"):
            if key in table:
                levels[key] = finite(table[key])
                if levels[key] is None or not low <= levels[key] <= high:
                    self.fail(
                        name,
                        key,
                        table[key],
                        f"a number from {low:g} to {high:g}" + (f" ({unit})" if unit not in ("", "1") else ""),
                    )
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
                if key == "runbook" and (any(c.isspace() for c in value) or not runbook_ok(value.strip())):
                    self.fail(
                        name, key, value, "an http:// or https:// URL, or a relative path like docs/runbooks.md#cpu"
                    )
                changes[attribute] = value.strip()
        if "labels" in table:
            labels = table["labels"]
            if not isinstance(labels, Mapping) or any(
                not _LABEL.match(str(k)) or not isinstance(v, str) or len(v) > 200 for k, v in labels.items()
            ):
                self.fail(name, "labels", labels, 'a table of names to text, like { team = "infra" }')
            changes["labels"] = tuple(sorted(labels.items()))
        return dataclasses.replace(rule, **changes)
