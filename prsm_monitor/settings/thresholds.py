"""Alert thresholds: each built-in rule's pair of levels, its variables and its range.

:data:`THRESHOLD_SPECS` is the table the environment, the rules file, the API, the sidebar
and the built-in rules (:mod:`.rules`) all read; :func:`check_threshold` and
:func:`check_thresholds` are the one validation of a change, wherever it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .values import ConfigError, between, expecting, finite


@dataclass(frozen=True)
class Threshold:
    """Warning and critical levels of one alert rule, in the rule's unit."""

    warning: float
    critical: float
    direction: str  # "above" or "below"


@dataclass(frozen=True)
class ThresholdSpec:
    """How one rule's thresholds are read from the environment."""

    rule: str
    warning_var: str
    critical_var: str
    warning: float
    critical: float
    direction: str
    low: float
    high: float
    unit: str


THRESHOLD_SPECS: tuple[ThresholdSpec, ...] = (
    ThresholdSpec("cpu", "PRSM_CPU_THRESHOLD", "PRSM_CPU_CRITICAL", 80.0, 95.0, "above", 0.0, 100.0, "%"),
    ThresholdSpec("memory", "PRSM_MEMORY_THRESHOLD", "PRSM_MEMORY_CRITICAL", 85.0, 95.0, "above", 0.0, 100.0, "%"),
    ThresholdSpec("disk", "PRSM_DISK_THRESHOLD", "PRSM_DISK_CRITICAL", 90.0, 98.0, "above", 0.0, 100.0, "%"),
    ThresholdSpec(
        "latency", "PRSM_LATENCY_THRESHOLD", "PRSM_LATENCY_CRITICAL", 100.0, 500.0, "above", 0.0, 60_000.0, "ms"
    ),
    ThresholdSpec(
        "consensus_rejections",
        "PRSM_CONSENSUS_REJECTIONS_THRESHOLD",
        "PRSM_CONSENSUS_REJECTIONS_CRITICAL",
        0.25,
        0.75,
        "above",
        0.0,
        1.0,
        "",
    ),
    ThresholdSpec(
        "confidence", "PRSM_CONFIDENCE_THRESHOLD", "PRSM_CONFIDENCE_CRITICAL", 0.70, 0.50, "below", 0.0, 1.0, ""
    ),
    ThresholdSpec(
        "inference_time",
        "PRSM_INFERENCE_TIME_THRESHOLD",
        "PRSM_INFERENCE_TIME_CRITICAL",
        3.0,
        5.0,
        "above",
        0.0,
        3600.0,
        "s",
    ),
    ThresholdSpec(
        "success_rate",
        "PRSM_SUCCESS_RATE_THRESHOLD",
        "PRSM_SUCCESS_RATE_CRITICAL",
        0.90,
        0.75,
        "below",
        0.0,
        1.0,
        "",
    ),
)
THRESHOLD_SPECS += (  # rules on what real PRSM nodes report (PRSM_NODE_URLS; sources/nodes/fields.py)
    ThresholdSpec("peers", "PRSM_PEERS_THRESHOLD", "PRSM_PEERS_CRITICAL", 0.0, 0.0, "below", 0.0, 1000.0, ""),
    ThresholdSpec(
        "job_failures", "PRSM_JOB_FAILURES_THRESHOLD", "PRSM_JOB_FAILURES_CRITICAL", 0.2, 0.5, "above", 0.0, 1.0, ""
    ),
    ThresholdSpec(
        "consensus_disagreements",
        "PRSM_CONSENSUS_DISAGREEMENTS_THRESHOLD",
        "PRSM_CONSENSUS_DISAGREEMENTS_CRITICAL",
        1.0,
        5.0,
        "above",
        0.0,
        1e6,
        "",
    ),
    ThresholdSpec(
        "ledger_discrepancies",
        "PRSM_LEDGER_DISCREPANCIES_THRESHOLD",
        "PRSM_LEDGER_DISCREPANCIES_CRITICAL",
        1.0,
        10.0,
        "above",
        0.0,
        1e6,
        "",
    ),
    ThresholdSpec(
        "storage_full",
        "PRSM_STORAGE_FULL_THRESHOLD",
        "PRSM_STORAGE_FULL_CRITICAL",
        85.0,
        95.0,
        "above",
        0.0,
        100.0,
        "%",
    ),
    ThresholdSpec(
        "balance_falling",
        "PRSM_BALANCE_FALLING_THRESHOLD",
        "PRSM_BALANCE_FALLING_CRITICAL",
        -10.0,
        -50.0,
        "below",
        -1e9,
        0.0,
        "FTNS",
    ),
)
SPECS_BY_RULE = {spec.rule: spec for spec in THRESHOLD_SPECS}


def default_thresholds() -> dict[str, Threshold]:
    return {s.rule: Threshold(s.warning, s.critical, s.direction) for s in THRESHOLD_SPECS}


def check_threshold(
    rule: str,
    warning: float,
    critical: float,
    *,
    warning_name: str | None = None,
    critical_name: str | None = None,
    blame: str = "warning",
) -> Threshold:
    """Validate one rule's pair of thresholds; the names default to the env variables.

    When the pair is in the wrong order, the error names the ``blame`` level ("warning" or
    "critical"): the one the user changed."""
    spec = SPECS_BY_RULE.get(rule)
    if spec is None:
        raise ConfigError("rule", rule, f"one of {', '.join(SPECS_BY_RULE)}")
    wname = warning_name or spec.warning_var
    cname = critical_name or spec.critical_var
    for name, value in ((wname, warning), (cname, critical)):
        number = finite(value)
        if number is None or not spec.low <= number <= spec.high:
            raise ConfigError(name, value, expecting(between(spec.low, spec.high), value))
    warning, critical = float(warning), float(critical)
    above = spec.direction == "above"
    if (warning > critical) if above else (warning < critical):
        side = "below" if above else "above"
        if blame == "critical":
            other = "above" if above else "below"
            raise ConfigError(cname, critical, f"a critical level at or {other} the warning level {warning:g}")
        raise ConfigError(wname, warning, f"a warning level at or {side} the critical level {critical:g}")
    return Threshold(warning, critical, spec.direction)


def _blame(value: Mapping, current) -> str:
    """Which level a threshold change names when the pair is out of order: the critical one
    when only it was given or changed, else the warning one."""
    if "critical" in value and ("warning" not in value or value["warning"] == current.warning):
        return "critical"
    return "warning"


def check_thresholds(changes: Mapping, current: Mapping, prefix: str = "thresholds") -> dict[str, Threshold]:
    """Validate new thresholds for some rules; ``current`` maps every rule name to an object with
    ``warning`` and ``critical`` (the levels a partial change keeps). A change is a
    :class:`Threshold`, a ``(warning, critical)`` pair, or a mapping with ``warning`` and/or
    ``critical``. Errors name ``<prefix>.<rule>.<level>``."""
    if not isinstance(changes, Mapping):
        raise ConfigError(prefix, changes, 'a mapping like {"cpu": {"warning": 70, "critical": 90}}')
    result = {}
    for name, value in changes.items():
        if not isinstance(name, str) or name not in current:
            raise ConfigError(prefix, name, f"a rule name, one of {', '.join(current)}")
        where = f"{prefix}.{name}"
        if isinstance(value, Threshold):
            value = {"warning": value.warning, "critical": value.critical}
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            value = {"warning": value[0], "critical": value[1]}
        if not isinstance(value, Mapping) or not value or set(value) - {"warning", "critical"}:
            raise ConfigError(where, value, 'a mapping with "warning" and/or "critical", or a (warning, critical) pair')
        spec = SPECS_BY_RULE[name]
        for level in ("warning", "critical"):
            if level in value and finite(value[level]) is None:
                raise ConfigError(
                    f"{where}.{level}", value[level], expecting(between(spec.low, spec.high), value[level])
                )
        result[name] = check_threshold(
            name,
            value.get("warning", current[name].warning),
            value.get("critical", current[name].critical),
            warning_name=f"{where}.warning",
            critical_name=f"{where}.critical",
            blame=_blame(value, current[name]),
        )
    return result
