"""Settings read from ``PRSM_*`` environment variables, validated once.

Every variable is optional. A bad value raises :class:`ConfigError`, whose message
names the variable, the value it had and what is expected, in one line.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


class ConfigError(ValueError):
    """A setting has a value we cannot use. ``str(error)`` is one line for the user."""

    def __init__(self, variable: str, value: object, expected: str):
        self.variable = variable
        self.value = value
        self.expected = expected
        super().__init__(f"{variable}={value!r} is invalid: expected {expected}")


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
        "latency", "PRSM_LATENCY_THRESHOLD", "PRSM_LATENCY_CRITICAL", 100.0, 500.0, "above", 0.0, math.inf, "ms"
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
        math.inf,
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
SPECS_BY_RULE = {spec.rule: spec for spec in THRESHOLD_SPECS}


def default_thresholds() -> dict[str, Threshold]:
    return {s.rule: Threshold(s.warning, s.critical, s.direction) for s in THRESHOLD_SPECS}


def check_threshold(
    rule: str, warning: float, critical: float, *, warning_name: str | None = None, critical_name: str | None = None
) -> Threshold:
    """Validate one rule's pair of thresholds; the names default to the env variables."""
    spec = SPECS_BY_RULE.get(rule)
    if spec is None:
        raise ConfigError("rule", rule, f"one of {', '.join(SPECS_BY_RULE)}")
    wname = warning_name or spec.warning_var
    cname = critical_name or spec.critical_var
    for name, value in ((wname, warning), (cname, critical)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not spec.low <= value <= spec.high:
            raise ConfigError(name, value, f"a number from {spec.low:g} to {spec.high:g}")
    if spec.direction == "above" and warning > critical:
        raise ConfigError(wname, warning, f"a warning level at or below the critical level {critical:g}")
    if spec.direction == "below" and warning < critical:
        raise ConfigError(wname, warning, f"a warning level at or above the critical level {critical:g}")
    return Threshold(float(warning), float(critical), spec.direction)


INTERVAL_MAX = 3600.0  # seconds between ticks, at most (more than 0)
HISTORY_MIN = 10  # points kept per component, at least
HISTORY_MAX = 1_000_000  # points per component settable while running (more: PRSM_METRICS_HISTORY at start)
HISTORY_MAX_AT_START = 10_000_000


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_interval(value, name: str = "collection_interval") -> float:
    """Seconds between collection ticks: more than 0, at most :data:`INTERVAL_MAX`."""
    if not _is_number(value) or not 0 < value <= INTERVAL_MAX:
        raise ConfigError(name, value, f"seconds, more than 0 and at most {INTERVAL_MAX:g}")
    return float(value)


def check_history(value, name: str = "max_history", high: int = HISTORY_MAX) -> int:
    """Points kept per component: a whole number from :data:`HISTORY_MIN` to ``high``."""
    if not _is_number(value) or value != int(value) or not HISTORY_MIN <= value <= high:
        raise ConfigError(name, value, f"a whole number of points from {HISTORY_MIN} to {high}")
    return int(value)


def check_thresholds(changes: Mapping, current: Mapping, prefix: str = "thresholds") -> dict[str, Threshold]:
    """Validate new thresholds for some rules; ``current`` maps every rule name to an object with
    ``warning`` and ``critical`` (the levels a partial change keeps). A change is a
    :class:`Threshold`, a ``(warning, critical)`` pair, or a mapping with ``warning`` and/or
    ``critical``. Errors name ``<prefix>.<rule>.<level>``."""
    if not isinstance(changes, Mapping):
        raise ConfigError(prefix, changes, 'a mapping like {"cpu": {"warning": 70, "critical": 90}}')
    result = {}
    for name, value in changes.items():
        if name not in current:
            raise ConfigError(prefix, name, f"a rule name, one of {', '.join(current)}")
        where = f"{prefix}.{name}"
        if isinstance(value, Threshold):
            value = {"warning": value.warning, "critical": value.critical}
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            value = {"warning": value[0], "critical": value[1]}
        if not isinstance(value, Mapping) or not value or set(value) - {"warning", "critical"}:
            raise ConfigError(where, value, 'a mapping with "warning" and/or "critical", or a (warning, critical) pair')
        for level in ("warning", "critical"):
            if level in value and not (_is_number(value[level]) and not math.isnan(value[level])):
                raise ConfigError(f"{where}.{level}", value[level], "a number")
        warning = value.get("warning", current[name].warning)
        critical = value.get("critical", current[name].critical)
        result[name] = check_threshold(
            name, warning, critical, warning_name=f"{where}.warning", critical_name=f"{where}.critical"
        )
    return result


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float = math.inf,
    *,
    integer: bool = False,
    low_open: bool = False,
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    kind = "a whole number" if integer else "a number"
    bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
    expected = f"{kind} {bound}" + ("" if high == math.inf else f" and at most {high:g}")
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(name, raw, expected) from None
    if math.isnan(value) or value < low or (low_open and value == low) or value > high:
        raise ConfigError(name, raw, expected)
    return value


def _secret(env: Mapping[str, str], name: str, *, token: bool = False) -> str | None:
    """A token or password; unset or blank is None. Its value never appears in an error."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    if token and (len(raw) < 16 or any(not 33 <= ord(c) <= 126 for c in raw)):
        raise ConfigError(name, HIDDEN, "at least 16 visible ASCII characters, no spaces (value not shown)")
    return raw


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    origins = tuple(o.strip() for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ConfigError(
                name, origin, "comma-separated origins like https://grafana.example.com:3000 (scheme and host, no path)"
            )
    return origins


def _names(env: Mapping[str, str], name: str, nodes: str | None) -> tuple[str, ...]:
    """Comma-separated node names: 2 to 200, unique, 1 to 64 characters each. They set the
    node count, so PRSM_DEMO_NODES, if also given, must agree."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return ()
    names = tuple(n.strip() for n in raw.split(","))
    if not 2 <= len(names) <= 200 or any(not 1 <= len(n) <= 64 for n in names) or len(set(names)) != len(names):
        raise ConfigError(name, raw, "2 to 200 different comma-separated names of 1 to 64 characters")
    if nodes and nodes.strip() and nodes.strip() != str(len(names)):
        raise ConfigError(name, raw, f"as many names as PRSM_DEMO_NODES={nodes.strip()}, or leave one of them unset")
    return names


def parse_boolean(raw: str) -> bool | None:
    """True or False for a yes/no word (true/false, yes/no, on/off, 1/0); None for anything else."""
    word = raw.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = parse_boolean(raw)
    if value is None:
        raise ConfigError(name, raw, "one of true/false, yes/no, on/off, 1/0")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its defaults."""

    host: str = "localhost"
    port: int = 8501
    debug: bool = False
    interval: float = 1.0
    history: int = 1000
    demo: bool = True
    demo_nodes: int = 5
    demo_rate: float = 5.0
    demo_peers: int = 3
    demo_names: tuple[str, ...] = ()  # names of the demo nodes; empty: node-0, node-1, ...
    thresholds: dict[str, Threshold] = field(default_factory=default_thresholds)
    api_token: str | None = field(default=None, repr=False)  # Bearer token for /api/* and /metrics
    health_auth: bool = False  # /health needs the token too
    cors_origins: tuple[str, ...] = ()  # origins allowed to call the API from a browser
    dashboard_password: str | None = field(default=None, repr=False)  # password form on every page
    # history on disk (see prsm_monitor.persistence); None: memory only, the default of Settings()
    data_dir: str | None = None
    retention_raw: float = 86400.0  # seconds of raw points kept
    retention_minute: float = 30 * 86400.0  # seconds of 1-minute rollups kept
    retention_hour: float = 365 * 86400.0  # seconds of 1-hour rollups kept
    retention_max_mb: float | None = None  # cap on the history file, MiB (None: ages only)
    prometheus_url: str | None = None  # read long ranges and other instances from this server
    prometheus_selector: str = ""  # label matchers selecting this instance's series there
    anonymize: bool = False  # hash host names, addresses and node/model names in history output
    env_set: frozenset[str] = field(default=frozenset(), repr=False)  # PRSM_* variables that were set

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every ``PRSM_*`` variable; raise :class:`ConfigError` on the first bad one."""
        env = os.environ if env is None else env
        host = env.get("PRSM_DASHBOARD_HOST", "").strip() or cls.host
        if any(c.isspace() for c in host):
            raise ConfigError("PRSM_DASHBOARD_HOST", host, "a host name or address without spaces")
        thresholds = {}
        for spec in THRESHOLD_SPECS:
            warning = _number(env, spec.warning_var, spec.warning, spec.low, spec.high)
            critical = _number(env, spec.critical_var, spec.critical, spec.low, spec.high)
            thresholds[spec.rule] = check_threshold(spec.rule, warning, critical)
        return cls(
            host=host,
            port=int(_number(env, "PRSM_DASHBOARD_PORT", cls.port, 1, 65535, integer=True)),
            debug=_boolean(env, "PRSM_DASHBOARD_DEBUG", cls.debug),
            interval=_number(env, "PRSM_METRICS_INTERVAL", cls.interval, 0.0, INTERVAL_MAX, low_open=True),
            history=int(
                _number(env, "PRSM_METRICS_HISTORY", cls.history, HISTORY_MIN, HISTORY_MAX_AT_START, integer=True)
            ),
            demo=_boolean(env, "PRSM_DEMO", cls.demo),
            demo_nodes=int(_number(env, "PRSM_DEMO_NODES", cls.demo_nodes, 2, 200, integer=True)),
            demo_rate=_number(env, "PRSM_DEMO_RATE", cls.demo_rate, 0.0, 10_000.0),
            demo_peers=int(_number(env, "PRSM_DEMO_PEERS", cls.demo_peers, 1, 50, integer=True)),
            demo_names=_names(env, "PRSM_DEMO_NODE_NAMES", env.get("PRSM_DEMO_NODES")),
            thresholds=thresholds,
            api_token=_secret(env, "PRSM_API_TOKEN", token=True),
            health_auth=_boolean(env, "PRSM_HEALTH_AUTH", cls.health_auth),
            cors_origins=_origins(env, "PRSM_CORS_ORIGINS"),
            dashboard_password=_secret(env, "PRSM_DASHBOARD_PASSWORD"),
            **history_settings(env),
        )


# -- history: on-disk store, retention, Prometheus, anonymization ------------------------------
DATA_DIR_NAME = ".prsm-monitor"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
DURATION_MIN = 60.0  # a minute: one raw chunk
DURATION_MAX = 3650 * 86400.0  # ten years
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
_MATCHER = r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*'
_SELECTOR = re.compile(rf"^(?:{_MATCHER}(?:,{_MATCHER})*)?$")


def default_data_dir() -> Path:
    """``.prsm-monitor/`` beside ``streamlit_app.py`` (the working directory when the package
    is installed elsewhere)."""
    root = Path(__file__).resolve().parent.parent
    return (root if (root / "streamlit_app.py").is_file() else Path.cwd()) / DATA_DIR_NAME


def parse_duration(raw: str, name: str) -> float:
    """Seconds in ``raw``, a number with a unit: ``90s``, ``15m``, ``24h``, ``30d``."""
    match = _DURATION.match(raw)
    expected = "a duration like 24h or 30d: a number and a unit, s, m, h or d, from 1m to 3650d"
    if not match:
        raise ConfigError(name, raw, expected)
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not DURATION_MIN <= seconds <= DURATION_MAX:
        raise ConfigError(name, raw, expected)
    return seconds


def history_settings(env: Mapping[str, str]) -> dict:
    """The history fields of :class:`Settings` from ``PRSM_DATA_DIR``, ``PRSM_PERSIST``,
    ``PRSM_RETENTION_*``, ``PRSM_PROMETHEUS_*`` and ``PRSM_ANONYMIZE``."""
    persist = _boolean(env, "PRSM_PERSIST", True)
    raw_dir = env.get("PRSM_DATA_DIR")
    if not persist or (raw_dir is not None and raw_dir.strip() == ""):
        data_dir = None  # memory only
    else:
        data_dir = str(Path(raw_dir.strip()).expanduser()) if raw_dir is not None else str(default_data_dir())
    retention = {}
    for key, name, default in (
        ("retention_raw", "PRSM_RETENTION_RAW", Settings.retention_raw),
        ("retention_minute", "PRSM_RETENTION_MINUTE", Settings.retention_minute),
        ("retention_hour", "PRSM_RETENTION_HOUR", Settings.retention_hour),
    ):
        raw = env.get(name, "")
        retention[key] = parse_duration(raw, name) if raw.strip() else default
    url = env.get("PRSM_PROMETHEUS_URL", "").strip()
    if url and not _URL.match(url):
        raise ConfigError("PRSM_PROMETHEUS_URL", url, "an http:// or https:// URL like http://prometheus:9090")
    selector = env.get("PRSM_PROMETHEUS_SELECTOR", "").strip()
    if not _SELECTOR.match(selector):
        raise ConfigError(
            "PRSM_PROMETHEUS_SELECTOR", selector, 'PromQL label matchers like instance="monitor:8501",job="prsm"'
        )
    return {
        "data_dir": data_dir,
        **retention,
        "retention_max_mb": _number(env, "PRSM_RETENTION_MAX_MB", None, 1.0),
        "prometheus_url": url.rstrip("/") or None,
        "prometheus_selector": selector,
        "anonymize": _boolean(env, "PRSM_ANONYMIZE", False),
        "env_set": frozenset(k for k, v in env.items() if k.startswith("PRSM_") and v.strip()),
    }
