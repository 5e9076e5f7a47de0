"""Rule evaluation: a pure function of (rules, sample, states, now).

A rule moves inactive -> pending -> firing (warning or critical) -> resolved, and
:func:`evaluate` returns one :class:`Transition` per move that users should hear about
(fired, escalated, de-escalated, resolved), never one per tick.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from .rules import ABOVE, Rule

RANK = {None: 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class RuleState:
    """Where one rule stands. ``level`` is the firing level (None: not firing);
    ``pending_since`` is when a breach beyond ``level`` began (None: no breach pending)."""

    level: str | None = None
    pending_since: float | None = None
    since: float | None = None  # when the current level was entered

    @property
    def phase(self) -> str:
        if self.level:
            return "firing"
        return "pending" if self.pending_since is not None else "inactive"


INACTIVE = RuleState()


@dataclass(frozen=True)
class Transition:
    rule: Rule
    kind: str  # fired | escalated | de-escalated | resolved
    level: str  # the alert level of the event: warning | critical | info
    value: float
    threshold: float | None
    timestamp: float

    @property
    def message(self) -> str:
        r = self.rule
        unit = "" if r.unit in ("", "1") else (r.unit if r.unit == "%" else f" {r.unit}")
        value = f"{self.value:.4g}{unit}"
        if self.kind == "resolved":
            return f"{r.label} back to normal: {value}"
        word = "above" if r.direction == ABOVE else "below"
        level = "critical" if self.level == "critical" else "warning"
        return f"{r.label} {value} is {word} the {level} threshold {self.threshold:.4g}{unit}"


def _beyond(rule: Rule, value: float, threshold: float | None, margin: float) -> bool:
    """Has ``value`` reached ``threshold`` (moved back by ``margin``) in the rule's direction?"""
    if threshold is None:
        return False
    if rule.direction == ABOVE:
        return value >= threshold - margin
    return value <= threshold + margin


def target_level(rule: Rule, value: float, current: str | None) -> str | None:
    """The level the value calls for, with hysteresis around the current level."""
    crit_margin = rule.clear_margin if current == "critical" else 0.0
    warn_margin = rule.clear_margin if current in ("warning", "critical") else 0.0
    if _beyond(rule, value, rule.critical, crit_margin):
        return "critical"
    if _beyond(rule, value, rule.warning, warn_margin):
        return "warning"
    return None


def step(rule: Rule, value: float | None, state: RuleState, now: float) -> tuple[RuleState, Transition | None]:
    """Advance one rule by one sample. A missing value (None or NaN) changes nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return state, None
    target = target_level(rule, value, state.level)
    if RANK[target] > RANK[state.level]:
        pending_since = now if state.pending_since is None else state.pending_since
        if now - pending_since < rule.for_seconds:
            return RuleState(state.level, pending_since, state.since), None
        kind = "fired" if state.level is None else "escalated"
        threshold = rule.critical if target == "critical" else rule.warning
        return RuleState(target, None, now), Transition(rule, kind, target, value, threshold, now)
    if RANK[target] < RANK[state.level]:
        if target is None:
            return INACTIVE, Transition(rule, "resolved", "info", value, rule.warning, now)
        return RuleState(target, None, now), Transition(rule, "de-escalated", target, value, rule.warning, now)
    if state.pending_since is not None:
        return RuleState(state.level, None, state.since), None
    return state, None


def evaluate(
    rules: Mapping[str, Rule], sample: Mapping[str, Mapping | None], states: Mapping[str, RuleState], now: float
) -> tuple[dict[str, RuleState], list[Transition]]:
    """Evaluate every rule against ``sample`` (``{component: record or None}``).

    Returns the new states (one per rule; states of removed rules are dropped) and the
    transitions, in rule order. Pure: the inputs are not modified.
    """
    new_states: dict[str, RuleState] = {}
    transitions: list[Transition] = []
    for name, rule in rules.items():
        record = sample.get(rule.component)
        value = record.get(rule.field) if record else None
        state, transition = step(rule, value, states.get(name, INACTIVE), now)
        new_states[name] = state
        if transition:
            transitions.append(transition)
    return new_states, transitions
