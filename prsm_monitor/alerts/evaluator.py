"""Rule evaluation: a pure function of (rules, sample, states, now).

A rule moves inactive -> pending -> firing (warning or critical) -> resolved, and
:func:`evaluate` returns one :class:`Transition` per move that users should hear about
(fired, escalated, de-escalated, resolved), never one per tick. :func:`firing` says what each
firing rule is *now* (its current value, rendered into a message the way Prometheus re-renders
an active alert's annotations), so an active alert never shows the value it fired with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..settings.rules import ABOVE, Rule
from ..units import value_text

RANK = {None: 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class RuleState:
    """Where one rule stands. ``level`` is the firing level (None: not firing);
    ``pending_since`` is when a breach beyond ``level`` began (None: no breach pending).
    ``value`` is the value the rule judged last (its moving average for a smoothed rule) and
    ``seen`` when; they survive resolution, so a moving average carries on."""

    level: str | None = None
    pending_since: float | None = None
    since: float | None = None  # when the current level was entered
    value: float | None = None
    seen: float | None = None
    clearing_since: float | None = None  # when the value fell back below the firing level (None: it has not)

    @property
    def phase(self) -> str:
        if self.level:
            return "firing"
        return "pending" if self.pending_since is not None else "inactive"


INACTIVE = RuleState()


def _number(rule: Rule, x: float) -> str:
    return value_text(x, rule.unit)  # every value with its unit, one way


def _subject(rule: Rule) -> str:
    """What the rule judges: the field's label, and its averaging when smoothed."""
    if not rule.smooth_seconds:
        return rule.label
    s = rule.smooth_seconds
    span = f"{s / 60:g}-min" if s >= 60 and s % 60 == 0 else f"{s:g}-s"
    return f"{rule.label} ({span} average)"


def describe(rule: Rule, level: str, value: float) -> str:
    """A firing rule's message at ``level`` for ``value``, true whichever side of the
    threshold the value is: within the clear margin (hysteresis) it says so."""
    threshold = rule.critical if level == "critical" else rule.warning
    subject = f"{_subject(rule)} {_number(rule, value)}"
    if threshold is None:
        return f"{subject}: {level}"
    above = rule.direction == ABOVE
    if value == threshold:
        return f"{subject} is at the {level} threshold {_number(rule, threshold)}"
    if (value > threshold) == above:
        word = "above" if above else "below"
        return f"{subject} is {word} the {level} threshold {_number(rule, threshold)}"
    back = "under" if above else "over"
    clears = threshold - rule.clear_margin if above else threshold + rule.clear_margin
    return (
        f"{subject} is back {back} the {level} threshold {_number(rule, threshold)}, "
        f"not yet clear: {level} until {'below' if above else 'above'} {_number(rule, clears)}"
    )


def _details(rule: Rule, level: str | None, value: float) -> dict:
    details = {
        "rule": rule.name,
        "field": rule.field,
        "value": value,
        "threshold": rule.critical if level == "critical" else rule.warning,
        "unit": rule.unit,
    }
    if rule.smooth_seconds:
        details["average_seconds"] = rule.smooth_seconds
    if rule.runbook_url:
        details["runbook_url"] = rule.runbook_url
    if rule.description:
        details["description"] = rule.description
    if rule.labels:
        details["labels"] = dict(rule.labels)
    return details


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
        if self.kind == "resolved":
            return f"{_subject(self.rule)} back to normal: {_number(self.rule, self.value)}"
        return describe(self.rule, self.level, self.value)

    @property
    def details(self) -> dict:
        return _details(self.rule, self.level, self.value) | {"threshold": self.threshold, "transition": self.kind}


@dataclass(frozen=True)
class Status:
    """A firing rule as it stands now: its level and the value it judges on this tick."""

    rule: Rule
    level: str
    value: float

    @property
    def message(self) -> str:
        return describe(self.rule, self.level, self.value)

    @property
    def details(self) -> dict:
        return _details(self.rule, self.level, self.value)


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


def judged(rule: Rule, value: float, state: RuleState, now: float) -> float:
    """The value the rule compares: the sample, or for a smoothed rule its exponentially
    weighted mean, each sample weighing by the time since the one before (``1 - e^(-dt/T)``)."""
    if not rule.smooth_seconds or state.value is None or state.seen is None:
        return float(value)
    dt = max(0.0, now - state.seen)
    return state.value + (1.0 - math.exp(-dt / rule.smooth_seconds)) * (value - state.value)


def step(rule: Rule, value: float | None, state: RuleState, now: float) -> tuple[RuleState, Transition | None]:
    """Advance one rule by one sample. A missing value (None or NaN) changes nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return state, None
    value = judged(rule, value, state, now)
    target = target_level(rule, value, state.level)
    if RANK[target] > RANK[state.level]:
        pending_since = now if state.pending_since is None else state.pending_since
        if now - pending_since < rule.for_seconds:
            return RuleState(state.level, pending_since, state.since, value, now), None
        kind = "fired" if state.level is None else "escalated"
        threshold = rule.critical if target == "critical" else rule.warning
        return RuleState(target, None, now, value, now), Transition(rule, kind, target, value, threshold, now)
    if RANK[target] < RANK[state.level]:
        clearing_since = now if state.clearing_since is None else state.clearing_since
        if now - clearing_since < rule.clear_seconds:  # Prometheus' keep_firing_for
            return RuleState(state.level, None, state.since, value, now, clearing_since), None
        if target is None:
            return RuleState(value=value, seen=now), Transition(rule, "resolved", "info", value, rule.warning, now)
        transition = Transition(rule, "de-escalated", target, value, rule.warning, now)
        return RuleState(target, None, now, value, now), transition
    return RuleState(state.level, None, state.since, value, now), None


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


def firing(rules: Mapping[str, Rule], states: Mapping[str, RuleState]) -> list[Status]:
    """What every firing rule says now, from its state (pure): the alert log re-renders the
    active alert from it on each tick, without logging an event."""
    return [
        Status(rule, state.level, state.value)
        for name, rule in rules.items()
        if (state := states.get(name)) is not None and state.level and state.value is not None
    ]
