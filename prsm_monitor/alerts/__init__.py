"""Alerting: rules as data, a pure evaluator, and the log that consumes its transitions."""

from .evaluator import INACTIVE, RuleState, Status, Transition, describe, evaluate, firing, step, target_level
from .log import AlertLog
from .rules import ABOVE, BELOW, LEVELS, Rule, default_rules

__all__ = [
    "ABOVE",
    "BELOW",
    "INACTIVE",
    "LEVELS",
    "AlertLog",
    "Rule",
    "RuleState",
    "Status",
    "Transition",
    "default_rules",
    "describe",
    "evaluate",
    "firing",
    "step",
    "target_level",
]
