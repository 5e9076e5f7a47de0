"""Reading the text of ``PRSM_*`` variables into the fields of :class:`~.model.Settings`.

Each value is parsed here and judged by the checks the API, the sidebar and the library use
(:mod:`.limits`, :mod:`.thresholds`), under the variable's own name; an error repeats the
text as it was given. Places and services (history on disk, Prometheus, the rules file,
operators, real nodes, other instances) are read by :mod:`.env_services`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .durations import parse_duration
from .env_services import DURATION_MAX, DURATION_MIN, history_settings, instances, node_urls, operator_settings
from .env_text import boolean, checked, number, raw, secret
from .limits import MEMORY_BUDGET_MB, MEMORY_BUDGET_RANGE, check_interval, check_points
from .notify import VARIABLES as NOTIFY_VARIABLES
from .notify import notify_settings
from .rules_file import load_rules
from .thresholds import THRESHOLD_SPECS, Threshold, check_threshold
from .values import ConfigError

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


def _thresholds(env: Mapping[str, str]) -> dict[str, Threshold]:
    thresholds = {}
    for spec in THRESHOLD_SPECS:
        warning = number(env, spec.warning_var, spec.warning, spec.low, spec.high)
        critical = number(env, spec.critical_var, spec.critical, spec.low, spec.high)
        given_critical_only = raw(env, spec.critical_var) is not None and raw(env, spec.warning_var) is None
        try:
            thresholds[spec.rule] = check_threshold(
                spec.rule, warning, critical, blame="critical" if given_critical_only else "warning"
            )
        except ConfigError as error:  # repeat the text as given
            raise ConfigError(error.variable, env.get(error.variable, error.value), error.expected) from None
    return thresholds


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


def settings_from_env(env: Mapping[str, str], *, rules: bool = True) -> dict:
    """The fields of :class:`~.model.Settings` the variables in ``env`` set (an unset one is
    left out: its default stands); the first bad one raises ConfigError. With ``rules``, the
    rules file is read and judged too (a bad one raises RulesFileError)."""
    host = env.get("PRSM_DASHBOARD_HOST", "").strip() or None
    if host is not None and (any(c.isspace() for c in host) or not host.isprintable()):
        raise ConfigError("PRSM_DASHBOARD_HOST", host, "a host name or address without spaces")
    low, high = MEMORY_BUDGET_RANGE
    port = number(env, "PRSM_DASHBOARD_PORT", None, 1, 65535, integer=True)
    nodes = number(env, "PRSM_DEMO_NODES", None, 2, 200, integer=True)
    peers = number(env, "PRSM_DEMO_PEERS", None, 1, 50, integer=True)
    values = dict(
        host=host,
        port=None if port is None else int(port),
        debug=boolean(env, "PRSM_DASHBOARD_DEBUG", None),
        interval=checked(env, "PRSM_METRICS_INTERVAL", check_interval),
        history=checked(env, "PRSM_METRICS_HISTORY", check_points, integer=True),
        memory_budget_mb=number(env, "PRSM_MEMORY_BUDGET_MB", MEMORY_BUDGET_MB, low, high),
        demo=boolean(env, "PRSM_DEMO", None),
        demo_nodes=None if nodes is None else int(nodes),
        demo_rate=number(env, "PRSM_DEMO_RATE", None, 0.0, 10_000.0),
        demo_peers=None if peers is None else int(peers),
        demo_names=_names(env, "PRSM_DEMO_NODE_NAMES", env.get("PRSM_DEMO_NODES")),
        thresholds=_thresholds(env),
        api_token=secret(env, "PRSM_API_TOKEN", token=True),
        health_auth=boolean(env, "PRSM_HEALTH_AUTH", None),
        cors_origins=_origins(env, "PRSM_CORS_ORIGINS"),
        allowed_hosts=_hosts(env, "PRSM_ALLOWED_HOSTS"),
        dashboard_password=secret(env, "PRSM_DASHBOARD_PASSWORD"),
        node_urls=node_urls(env, "PRSM_NODE_URLS"),
        notify=notify_settings(env),
        instances=instances(env, "PRSM_INSTANCES"),
        **history_settings(env),
        **operator_settings(env),
        forecast_horizon=_duration(env, "PRSM_FORECAST_HORIZON"),
        anomaly_learning=_duration(env, "PRSM_ANOMALY_LEARNING", 7 * 86400.0),
    )
    if rules and values["rules_file"] is not None:  # a bad file stops here, naming its file, line and key
        load_rules(values["rules_file"], values["thresholds"], values["env_set"])
    return {key: value for key, value in values.items() if value is not None}


def _duration(env: Mapping[str, str], name: str, high: float = DURATION_MAX) -> float | None:
    """A duration variable (:func:`~.durations.parse_duration`), from a minute to ``high``
    seconds; None when unset."""
    text = raw(env, name)
    return None if text is None else parse_duration(text, name, DURATION_MIN, high)
