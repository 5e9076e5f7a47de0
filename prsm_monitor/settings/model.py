"""Settings: everything configurable, with its defaults, validated when constructed.

The fields that shape the collector's run (interval, history, memory budget, thresholds,
forecast horizon, anomaly learning) are checked with the same checks as the environment, the
API and the sidebar (:mod:`.limits`, :mod:`.thresholds`); :meth:`Settings.from_env` reads
``PRSM_*`` variables (:mod:`.environment`) and names the variable of a bad value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .environment import settings_from_env
from .limits import MEMORY_BUDGET_MB, check_budget, check_history, check_interval, check_points, default_history
from .notify import NotifySettings
from .thresholds import Threshold, check_thresholds, default_thresholds
from .values import ConfigError, finite


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
    notify: NotifySettings | None = None  # notifications and Alertmanager (prsm_monitor.settings.notify)
    instances: tuple[tuple[str, str], ...] = ()  # other prsm-monitor instances to watch: (name, base URL)
    env_set: frozenset[str] = field(default=frozenset(), repr=False)  # PRSM_* variables that were set
    rules_file: str | None = None  # TOML threshold rules (prsm_monitor.settings.rules_file); None: built-in only
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
        check_budget(self.memory_budget_mb, "Settings.memory_budget_mb")
        if self.history is not None:  # the budget is judged by the collector, which knows its sources
            check_points(self.history, "Settings.history")
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, rules: bool = True) -> Settings:
        """Read and validate every ``PRSM_*`` variable; raise :class:`ConfigError` on the first bad one.
        ``rules=False`` skips judging the rules file's content (its path is still checked)."""
        return cls(**settings_from_env(os.environ if env is None else env, rules=rules))


def history_points(settings: Settings, max_history: int | None, point_bytes: int) -> int:
    """Points kept per component by a collector whose sources take ``point_bytes`` per point:
    ``max_history``, the settings' ``history`` (named by its variable when the environment set
    it) or 24 h at the interval, within the memory budget."""
    budget = settings.memory_budget_mb
    if max_history is not None:
        return check_history(max_history, "max_history", point_bytes=point_bytes, budget_mb=budget)
    if settings.history is None:
        return default_history(settings.interval, point_bytes, budget)
    try:
        return check_history(settings.history, "history", point_bytes=point_bytes, budget_mb=budget)
    except ConfigError as error:
        if "PRSM_METRICS_HISTORY" not in settings.env_set:
            raise
        raise ConfigError("PRSM_METRICS_HISTORY", str(settings.history), error.expected) from None
