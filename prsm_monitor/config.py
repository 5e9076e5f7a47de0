"""Settings read from ``PRSM_*`` environment variables, validated once.

Every variable is optional. A bad value raises :class:`ConfigError`, whose message
names the variable, the value it had and what is expected, in one line.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import redact

if TYPE_CHECKING:
    from .notify.settings import NotifySettings

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
MAX_SHOWN = 120  # characters of a bad value repeated in an error message


class ConfigError(ValueError):
    """A setting has a value we cannot use. ``str(error)`` is one line for the user.

    ``value`` is kept as it may be shown: the secrets of any URL in it (passwords, tokens in
    paths and queries, Apprise tokens) replaced by ``****`` (:mod:`prsm_monitor.redact`), since
    the message reaches logs, pages and ``/health``."""

    def __init__(self, variable: str, value: object, expected: str):
        if isinstance(value, str):
            value = redact.text(value)
        elif not isinstance(value, (int, float, type(None))) and redact.text(repr(value)) != repr(value):
            value = redact.text(repr(value))  # a table or list with URLs in it: its redacted text
        self.variable = variable
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > MAX_SHOWN:
            shown = shown[: MAX_SHOWN - 1] + "…"
        super().__init__(f"{variable}={shown} is invalid: expected {expected}")


class Hidden:
    """Stands for a secret in messages: its repr never shows the value."""

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__


HIDDEN = Hidden()


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


def finite(value) -> float | None:
    """``value`` as a float when it is a usable real number, else None.

    Usable: a real number (``bool`` is not one) that is finite and either zero or of normal
    magnitude. Infinities, NaN, integers too large for a float (``1`` and 400 zeros) and
    subnormal numbers such as ``1e-320`` (whose reciprocal overflows) are not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        return None
    if not math.isfinite(number) or (number != 0.0 and abs(number) < sys.float_info.min):
        return None
    return number


def _between(low: float, high: float) -> str:
    return f"a number from {low:g} to {high:g}"


def expecting(expected: str, value) -> str:
    """``expected``, plus the reason when ``value`` is in range but too close to 0 to use."""
    if isinstance(value, float) and value != 0.0 and abs(value) < sys.float_info.min:
        return f"{expected} (one this close to 0 is not usable: use 0)"
    return expected


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
            raise ConfigError(name, value, expecting(_between(spec.low, spec.high), value))
    warning, critical = float(warning), float(critical)
    above = spec.direction == "above"
    if (warning > critical) if above else (warning < critical):
        side = "below" if above else "above"
        if blame == "critical":
            other = "above" if above else "below"
            raise ConfigError(cname, critical, f"a critical level at or {other} the warning level {warning:g}")
        raise ConfigError(wname, warning, f"a warning level at or {side} the critical level {critical:g}")
    return Threshold(warning, critical, spec.direction)


INTERVAL_MIN = 0.1  # seconds between ticks, at least: faster ticks cost more than they show
INTERVAL_MAX = 3600.0  # seconds between ticks, at most
HISTORY_MIN = 10  # points kept per component, at least
HISTORY_SECONDS = 24 * 3600  # the default history covers this much (the longest range the pages offer)
MEMORY_BUDGET_MB = 256.0  # default PRSM_MEMORY_BUDGET_MB: with the app (~200 MB), well inside 1 GB
MEMORY_BUDGET_RANGE = (16.0, 65_536.0)  # MiB
VALUE_BYTES = 8  # one float64 per field and point
HISTORY_COPIES = 2  # a resize (old and new ring) or a full-range query holds the history twice for a moment


def check_interval(value, name: str = "collection_interval") -> float:
    """Seconds between collection ticks: from :data:`INTERVAL_MIN` to :data:`INTERVAL_MAX`."""
    number = finite(value)
    if number is None or not INTERVAL_MIN <= number <= INTERVAL_MAX:
        raise ConfigError(name, value, f"seconds, a number from {INTERVAL_MIN:g} to {INTERVAL_MAX:g}")
    return number


def history_ceiling(point_bytes: int, budget_mb: float) -> int:
    """The most points per component that fit ``budget_mb`` MiB, for ``point_bytes`` bytes per
    point (every component's fields together): the budget covers :data:`HISTORY_COPIES` copies."""
    return max(HISTORY_MIN, int(budget_mb * 1024 * 1024 // (HISTORY_COPIES * max(1, point_bytes))))


def default_history(interval: float, point_bytes: int, budget_mb: float) -> int:
    """Points that cover :data:`HISTORY_SECONDS` at ``interval``, as far as the budget allows."""
    return max(HISTORY_MIN, min(math.ceil(HISTORY_SECONDS / interval), history_ceiling(point_bytes, budget_mb)))


def check_history(
    value, name: str = "max_history", *, point_bytes: int | None = None, budget_mb: float = MEMORY_BUDGET_MB
) -> int:
    """Points kept per component: a whole number from :data:`HISTORY_MIN` to what the memory
    budget allows at ``point_bytes`` per point (default: the fields of the default sources)."""
    point_bytes = default_point_bytes() if point_bytes is None else point_bytes
    high = history_ceiling(point_bytes, budget_mb)
    number = finite(value)
    if number is None or not number.is_integer() or not HISTORY_MIN <= number <= high:
        raise ConfigError(
            name,
            value,
            f"a whole number of points from {HISTORY_MIN} to {high} "
            f"({point_bytes} bytes per point within PRSM_MEMORY_BUDGET_MB={budget_mb:g})",
        )
    return int(number)


def default_point_bytes(demo: bool = True) -> int:
    """Bytes one point of history takes with the default sources: the fields they declare
    (this machine's, one per CPU core, the collector's and, with ``demo``, the network's and
    the AI models'), :data:`VALUE_BYTES` each."""
    import psutil  # here, not at import: config is read by everything

    from .fields import COLLECTOR_FIELDS
    from .sources.prsm.fields import AI_FIELDS, NETWORK_FIELDS
    from .sources.system import SYSTEM_FIELDS

    count = len(SYSTEM_FIELDS) + (psutil.cpu_count() or 1) + len(COLLECTOR_FIELDS)
    if demo:
        count += len(NETWORK_FIELDS) + len(AI_FIELDS)
    return VALUE_BYTES * count


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
                    f"{where}.{level}", value[level], expecting(_between(spec.low, spec.high), value[level])
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


def parse_boolean(raw: str) -> bool | None:
    """True or False for a yes/no word (true/false, yes/no, on/off, 1/0); None for anything else."""
    word = raw.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its defaults.

    Constructing one validates the settings that shape the collector's run (interval,
    history, memory budget, thresholds) with the same checks as the environment, the API
    and the sidebar; :meth:`from_env` also names the variable of a bad value."""

    host: str = "localhost"
    port: int = 8501
    debug: bool = False
    interval: float = 1.0
    history: int | None = None  # points per component; None: 24 h at ``interval``, as the memory budget allows
    memory_budget_mb: float = MEMORY_BUDGET_MB  # MiB the history may take (PRSM_MEMORY_BUDGET_MB)
    demo: bool = True
    demo_nodes: int = 5
    demo_rate: float = 5.0
    demo_peers: int = 3
    demo_names: tuple[str, ...] = ()  # names of the demo nodes; empty: node-0, node-1, ...
    thresholds: dict[str, Threshold] = field(default_factory=default_thresholds)
    api_token: str | None = field(default=None, repr=False)  # Bearer token for /api/* and /metrics
    health_auth: bool = False  # /health needs the token too
    cors_origins: tuple[str, ...] = ()  # origins allowed to call the API from a browser
    allowed_hosts: tuple[str, ...] = ()  # Host names the API answers to besides localhost, IPs and ``host``
    dashboard_password: str | None = field(default=None, repr=False)  # password form on every page
    # history on disk (see prsm_monitor.store.persistence); None: memory only, the default of Settings()
    data_dir: str | None = None
    retention_raw: float = 86400.0  # seconds of raw points kept
    retention_minute: float = 30 * 86400.0  # seconds of 1-minute rollups kept
    retention_hour: float = 365 * 86400.0  # seconds of 1-hour rollups kept
    retention_max_mb: float | None = None  # cap on the history file, MiB (None: ages only)
    prometheus_url: str | None = None  # read long ranges and other instances from this server
    prometheus_selector: str = ""  # label matchers selecting this instance's series there
    anonymize: bool = False  # hash host names, addresses and node/model names in history output
    node_urls: tuple[str, ...] = ()  # real PRSM nodes' management APIs (PRSM_NODE_URLS); set: no demo network
    notify: NotifySettings | None = None  # notifications and Alertmanager (prsm_monitor.notify.settings)
    instances: tuple[tuple[str, str], ...] = ()  # other prsm-monitor instances to watch: (name, base URL)
    env_set: frozenset[str] = field(default=frozenset(), repr=False)  # PRSM_* variables that were set
    rules_file: str | None = None  # TOML threshold rules (prsm_monitor.alerts.rules_file); None: built-in only
    operators: tuple[str, ...] = ()  # e-mails of st.login users who may change things (lower-case)
    operator_password: str | None = field(default=None, repr=False)  # unlocks the controls for a session
    forecast_horizon: float = 86400.0  # seconds: a limit forecast within this raises an alert (PRSM_FORECAST_HORIZON)
    anomaly_learning: float = 1800.0  # seconds of history before values are judged (PRSM_ANOMALY_LEARNING)

    @property
    def operators_configured(self) -> bool:
        """Are changes reserved to operators (``PRSM_OPERATORS`` or ``PRSM_OPERATOR_PASSWORD``)?"""
        return bool(self.operators or self.operator_password)

    def __post_init__(self):
        check_interval(self.interval, "Settings.interval")
        budget = finite(self.memory_budget_mb)
        low, high = MEMORY_BUDGET_RANGE
        if budget is None or not low <= budget <= high:
            raise ConfigError("Settings.memory_budget_mb", self.memory_budget_mb, f"MiB, {_between(low, high)}")
        if self.history is not None:
            check_history(
                self.history,
                "Settings.history",
                point_bytes=default_point_bytes(self.demo),
                budget_mb=self.memory_budget_mb,
            )
        if not isinstance(self.thresholds, Mapping):
            raise ConfigError("Settings.thresholds", self.thresholds, "a mapping of rule names to Threshold")
        horizon = finite(self.forecast_horizon)
        if horizon is None or not 60.0 <= horizon <= 3650 * 86400.0:
            raise ConfigError("Settings.forecast_horizon", self.forecast_horizon, "seconds, from 60 to 315360000")
        learning = finite(self.anomaly_learning)
        if learning is None or not 60.0 <= learning <= 7 * 86400.0:
            raise ConfigError("Settings.anomaly_learning", self.anomaly_learning, "seconds, from 60 to 604800")
        defaults = default_thresholds()
        merged = {**defaults, **check_thresholds(self.thresholds, defaults, "Settings.thresholds")}
        object.__setattr__(self, "thresholds", merged)

    @property
    def point_bytes(self) -> int:
        """Bytes one point of history takes with the default sources of these settings."""
        return default_point_bytes(self.demo)

    @property
    def history_points(self) -> int:
        """Points per component: ``history``, or 24 h at ``interval`` as far as the budget allows."""
        if self.history is not None:
            return self.history
        return default_history(self.interval, self.point_bytes, self.memory_budget_mb)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, rules: bool = True) -> Settings:
        """Read and validate every ``PRSM_*`` variable; raise :class:`ConfigError` on the first bad one.
        ``rules=False`` skips judging the rules file's content (its path is still checked)."""
        from .envvars import settings_from_env  # reads the variables' text with the checks above

        return settings_from_env(cls, os.environ if env is None else env, rules=rules)
