"""Alerting: rules as data, a pure evaluator, and the log that consumes its transitions."""

from ..fields import LEVELS
from ..settings.rules import ABOVE, BELOW, Rule, default_rules
from .evaluator import INACTIVE, RuleState, Status, Transition, describe, evaluate, firing, step, target_level
from .log import AlertLog

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
