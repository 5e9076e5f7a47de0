"""Reading the text of ``PRSM_*`` variables into :class:`~prsm_monitor.config.Settings`.

Each value is parsed here and judged by the checks of :mod:`prsm_monitor.config` (the ones
the API, the sidebar and the library use), under the variable's own name; an error repeats
the text as it was given.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from .config import (
    HIDDEN,
    MEMORY_BUDGET_MB,
    MEMORY_BUDGET_RANGE,
    THRESHOLD_SPECS,
    ConfigError,
    Threshold,
    check_history,
    check_interval,
    check_threshold,
    default_point_bytes,
    expecting,
    finite,
    parse_boolean,
)
from .notify.settings import VARIABLES as NOTIFY_VARIABLES
from .notify.settings import notify_settings

VARIABLES: tuple[str, ...] = (  # every variable read here, in the README's order
    "PRSM_DASHBOARD_HOST",
    "PRSM_DASHBOARD_PORT",
    "PRSM_DASHBOARD_DEBUG",
    "PRSM_METRICS_INTERVAL",
    "PRSM_METRICS_HISTORY",
    "PRSM_MEMORY_BUDGET_MB",
    "PRSM_DEMO",
    "PRSM_DEMO_NODES",
    "PRSM_DEMO_RATE",
    "PRSM_DEMO_PEERS",
    "PRSM_DEMO_NODE_NAMES",
    *(name for spec in THRESHOLD_SPECS for name in (spec.warning_var, spec.critical_var)),
    "PRSM_API_TOKEN",
    "PRSM_HEALTH_AUTH",
    "PRSM_CORS_ORIGINS",
    "PRSM_ALLOWED_HOSTS",
    "PRSM_DASHBOARD_PASSWORD",
    "PRSM_DATA_DIR",
    "PRSM_PERSIST",
    "PRSM_RETENTION_RAW",
    "PRSM_RETENTION_MINUTE",
    "PRSM_RETENTION_HOUR",
    "PRSM_RETENTION_MAX_MB",
    "PRSM_PROMETHEUS_URL",
    "PRSM_PROMETHEUS_SELECTOR",
    "PRSM_ANONYMIZE",
    "PRSM_RULES_FILE",
    "PRSM_OPERATORS",
    "PRSM_OPERATOR_PASSWORD",
    "PRSM_NODE_URLS",
    *NOTIFY_VARIABLES,
    "PRSM_INSTANCES",
    "PRSM_FORECAST_HORIZON",
    "PRSM_ANOMALY_LEARNING",
)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def _raw(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    return None if raw is None or raw.strip() == "" else raw


def _parse(raw: str, name: str, expected: str, integer: bool = False) -> float:
    """A number from its text; anything but a usable number (see :func:`finite`) is a ConfigError."""
    try:
        value = int(raw) if integer else float(raw)
    except (ValueError, OverflowError):
        raise ConfigError(name, raw, expected) from None
    if finite(value) is None:
        raise ConfigError(name, raw, expecting(expected, value))
    return value


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, *, integer: bool = False
) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    expected = f"{'a whole number' if integer else 'a number'} at least {low:g} and at most {high:g}"
    value = _parse(raw, name, expected, integer)
    if not low <= value <= high:
        raise ConfigError(name, raw, expected)
    return value


def _checked(env: Mapping[str, str], name: str, check, integer: bool = False, **options):
    """``check(value, name, **options)`` on a variable's number, or on its text when it is not
    one (the check then rejects it with its own words); errors repeat the text as given.
    None when the variable is unset."""
    raw = _raw(env, name)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except (ValueError, OverflowError):
        value = raw
    try:
        return check(value, name, **options)
    except ConfigError as error:
        raise ConfigError(name, raw, error.expected) from None


def _thresholds(env: Mapping[str, str]) -> dict[str, Threshold]:
    thresholds = {}
    for spec in THRESHOLD_SPECS:
        warning = _number(env, spec.warning_var, spec.warning, spec.low, spec.high)
        critical = _number(env, spec.critical_var, spec.critical, spec.low, spec.high)
        given_critical_only = _raw(env, spec.critical_var) is not None and _raw(env, spec.warning_var) is None
        try:
            thresholds[spec.rule] = check_threshold(
                spec.rule, warning, critical, blame="critical" if given_critical_only else "warning"
            )
        except ConfigError as error:  # repeat the text as given
            raise ConfigError(error.variable, env.get(error.variable, error.value), error.expected) from None
    return thresholds


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
    """Comma-separated node names: 2 to 200, unique, 1 to 64 printable characters each. They set the
    node count, so PRSM_DEMO_NODES, if also given, must agree."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return ()
    names = tuple(n.strip() for n in raw.split(","))
    if (
        not 2 <= len(names) <= 200
        or any(not 1 <= len(n) <= 64 or not n.isprintable() for n in names)
        or len(set(names)) != len(names)
    ):
        raise ConfigError(name, raw, "2 to 200 different comma-separated names of 1 to 64 printable characters")
    if nodes and nodes.strip() and nodes.strip() != str(len(names)):
        raise ConfigError(name, raw, f"as many names as PRSM_DEMO_NODES={nodes.strip()}, or leave one of them unset")
    return names


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = parse_boolean(raw)
    if value is None:
        raise ConfigError(name, raw, "one of true/false, yes/no, on/off, 1/0")
    return value


_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST = re.compile(rf"^\*$|^\.?{_LABEL}(\.{_LABEL})*\.?$|^\[[0-9a-f:.]+\]$")


def _hosts(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated host names the API answers to (``.example.com``: that domain and its
    subdomains; ``*``: any), lower-case."""
    hosts = tuple(h.strip().lower() for h in env.get(name, "").split(",") if h.strip())
    for host in hosts:
        if not _HOST.match(host):
            raise ConfigError(name, host, "comma-separated host names like monitor.example.com or .example.com, or *")
    return hosts


def settings_from_env(cls, env: Mapping[str, str], *, rules: bool = True):
    """``cls`` (Settings) from the variables in ``env``; the first bad one raises ConfigError.
    With ``rules``, the rules file is read and judged too (a bad one raises RulesFileError)."""
    host = env.get("PRSM_DASHBOARD_HOST", "").strip() or cls.host
    if any(c.isspace() for c in host) or not host.isprintable():
        raise ConfigError("PRSM_DASHBOARD_HOST", host, "a host name or address without spaces")
    demo = _boolean(env, "PRSM_DEMO", cls.demo)
    interval = _checked(env, "PRSM_METRICS_INTERVAL", check_interval)
    low, high = MEMORY_BUDGET_RANGE
    budget = _number(env, "PRSM_MEMORY_BUDGET_MB", MEMORY_BUDGET_MB, low, high)
    history = _checked(
        env,
        "PRSM_METRICS_HISTORY",
        check_history,
        integer=True,
        point_bytes=default_point_bytes(demo),
        budget_mb=budget,
    )
    settings = cls(
        host=host,
        port=int(_number(env, "PRSM_DASHBOARD_PORT", cls.port, 1, 65535, integer=True)),
        debug=_boolean(env, "PRSM_DASHBOARD_DEBUG", cls.debug),
        interval=cls.interval if interval is None else interval,
        history=history,
        memory_budget_mb=budget,
        demo=demo,
        demo_nodes=int(_number(env, "PRSM_DEMO_NODES", cls.demo_nodes, 2, 200, integer=True)),
        demo_rate=_number(env, "PRSM_DEMO_RATE", cls.demo_rate, 0.0, 10_000.0),
        demo_peers=int(_number(env, "PRSM_DEMO_PEERS", cls.demo_peers, 1, 50, integer=True)),
        demo_names=_names(env, "PRSM_DEMO_NODE_NAMES", env.get("PRSM_DEMO_NODES")),
        thresholds=_thresholds(env),
        api_token=_secret(env, "PRSM_API_TOKEN", token=True),
        health_auth=_boolean(env, "PRSM_HEALTH_AUTH", cls.health_auth),
        cors_origins=_origins(env, "PRSM_CORS_ORIGINS"),
        allowed_hosts=_hosts(env, "PRSM_ALLOWED_HOSTS"),
        dashboard_password=_secret(env, "PRSM_DASHBOARD_PASSWORD"),
        node_urls=node_urls(env, "PRSM_NODE_URLS"),
        notify=notify_settings(env),
        instances=instances(env, "PRSM_INSTANCES"),
        **history_settings(env),
        **operator_settings(env),
        forecast_horizon=_duration(env, "PRSM_FORECAST_HORIZON", cls.forecast_horizon),
        anomaly_learning=_duration(env, "PRSM_ANOMALY_LEARNING", cls.anomaly_learning, 7 * 86400.0),
    )
    if rules and settings.rules_file is not None:  # a bad file stops here, naming its file, line and key
        from .alerts.rules_file import load_rules

        load_rules(settings.rules_file, settings.thresholds, settings.env_set)
    return settings


def _duration(env: Mapping[str, str], name: str, default: float, high: float | None = None) -> float:
    """A duration variable (:func:`parse_duration`), at most ``high`` seconds."""
    raw = env.get(name, "")
    if not raw.strip():
        return default
    seconds = parse_duration(raw, name)
    if high is not None and seconds > high:
        raise ConfigError(name, raw, f"a duration from 1m to {high / 86400:g}d")
    return seconds


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
        ("retention_raw", "PRSM_RETENTION_RAW", 86400.0),
        ("retention_minute", "PRSM_RETENTION_MINUTE", 30 * 86400.0),
        ("retention_hour", "PRSM_RETENTION_HOUR", 365 * 86400.0),
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
        "retention_max_mb": _number(env, "PRSM_RETENTION_MAX_MB", None, 1.0, 1_048_576.0),
        "prometheus_url": url.rstrip("/") or None,
        "prometheus_selector": selector,
        "anonymize": _boolean(env, "PRSM_ANONYMIZE", False),
        "env_set": frozenset(k for k, v in env.items() if k.startswith("PRSM_") and v.strip()),
    }


# -- rules file and operators ------------------------------------------------------------------
_EMAIL = re.compile(r"^[^\s@,]+@[^\s@,]+$")


def rules_file_path(env: Mapping[str, str]) -> str | None:
    """``PRSM_RULES_FILE`` (which must exist), else ``rules.toml`` beside the app when it
    exists; ``PRSM_RULES_FILE=`` (empty): none."""
    from .alerts.rules_file import default_path

    raw = env.get("PRSM_RULES_FILE")
    if raw is None:
        path = default_path()
        return str(path) if path.is_file() else None
    if raw.strip() == "":
        return None
    path = Path(raw.strip()).expanduser()
    if not os.path.isfile(path):  # False for a name too long or with a NUL, too
        raise ConfigError("PRSM_RULES_FILE", raw, "the path of an existing TOML rules file (see rules.example.toml)")
    return str(path)


def operator_settings(env: Mapping[str, str]) -> dict:
    """The fields of :class:`Settings` from ``PRSM_RULES_FILE``, ``PRSM_OPERATORS`` and
    ``PRSM_OPERATOR_PASSWORD``."""
    raw = env.get("PRSM_OPERATORS", "")
    operators = tuple(dict.fromkeys(e.strip().lower() for e in raw.split(",") if e.strip()))
    for email in operators:
        if not _EMAIL.match(email):
            raise ConfigError(
                "PRSM_OPERATORS", email, "comma-separated e-mail addresses of st.login users, like alice@example.com"
            )
    return {
        "rules_file": rules_file_path(env),
        "operators": operators,
        "operator_password": _secret(env, "PRSM_OPERATOR_PASSWORD"),
    }


# -- real PRSM nodes ---------------------------------------------------------------------------
NODE_URLS_MAX = 200


def node_urls(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated base URLs of PRSM nodes' management APIs (``http://node-a:8000``): 1 to
    :data:`NODE_URLS_MAX`, each http:// or https:// with a host, no query; duplicates count once."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return ()
    expected = (
        f"1 to {NODE_URLS_MAX} comma-separated http:// or https:// URLs of PRSM node APIs, like http://node-a:8000"
    )
    urls = [u.strip() for u in raw.split(",")]
    for url in urls:
        if not _URL.match(url):
            raise ConfigError(name, url, expected)
    unique = tuple(dict.fromkeys(u.rstrip("/") for u in urls))
    if len(unique) > NODE_URLS_MAX:
        raise ConfigError(name, raw, expected)
    return unique


# -- other instances: PRSM_INSTANCES ----------------------------------------------------------
INSTANCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
LOCAL_INSTANCE = "local"  # this instance's name in the sidebar and the URL: reserved
MAX_INSTANCES = 100
_PAIR_EXPECTED = "name=URL pairs like lab=https://lab.example:8501, a name of 1 to 32 letters, digits, - or _"


def instances(env: Mapping[str, str], name: str) -> tuple[tuple[str, str], ...]:
    """``PRSM_INSTANCES``: the other prsm-monitor instances this one watches, as ``(name, base
    URL)`` pairs in the order given. An error names the pair at fault."""
    raw = env.get(name, "")
    if raw.strip() == "":
        return ()
    pairs = [p.strip() for p in raw.split(",")]
    if len(pairs) > MAX_INSTANCES:
        raise ConfigError(name, raw, f"at most {MAX_INSTANCES} comma-separated {_PAIR_EXPECTED}")
    result: list[tuple[str, str]] = []
    for pair in pairs:
        label, sep, url = (part.strip() for part in pair.partition("="))
        if not sep or not INSTANCE_NAME.match(label):
            raise ConfigError(name, pair, f"comma-separated {_PAIR_EXPECTED}")
        if label.lower() == LOCAL_INSTANCE:
            raise ConfigError(name, pair, f"a name other than {LOCAL_INSTANCE!r}, which names this instance itself")
        if any(label == seen for seen, _ in result):
            raise ConfigError(name, pair, f"each name once: {label!r} is given twice")
        if not _URL.match(url) or not _has_host_and_port(url):
            expected = "an http:// or https:// URL after the name (a host, a port up to 65535), no query or fragment"
            raise ConfigError(name, pair, expected)
        result.append((label, url.rstrip("/")))
    return tuple(result)


def _has_host_and_port(url: str) -> bool:
    """Whether ``url`` names a host and, if any, a port from 1 to 65535."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return bool(parts.hostname) and (port is None or port > 0)
