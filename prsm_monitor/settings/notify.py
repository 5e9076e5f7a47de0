"""Notification settings: routes (Apprise URLs with filters), Alertmanager, grouping timers.

Two spellings, one validation (:func:`check_notifications`):

- the environment: ``PRSM_NOTIFY_URLS`` (one route, ``default``) with
  ``PRSM_NOTIFY_MIN_LEVEL``, ``PRSM_NOTIFY_COMPONENTS``, ``PRSM_NOTIFY_SEND_RESOLVED``;
  ``PRSM_ESCALATE_URLS`` (the ``escalation`` route); ``PRSM_ALERTMANAGER_URL``; the timers
  ``PRSM_NOTIFY_GROUP_WAIT`` / ``_GROUP_INTERVAL`` / ``_REPEAT_INTERVAL``, ``PRSM_ESCALATE_AFTER``,
  ``PRSM_NOTIFY_TIMEOUT``, ``PRSM_NOTIFY_RETRIES``;
- ``[notifications]`` in ``.streamlit/secrets.toml``, with the same keys in lower case without
  the prefix and any number of ``[[notifications.routes]]`` tables (``name``, ``urls``,
  ``min_level``, ``components``, ``send_resolved``, ``escalation``). The environment wins
  key by key; routes come from the environment when ``PRSM_NOTIFY_URLS`` or
  ``PRSM_ESCALATE_URLS`` is set, else from the secrets.

A bad value raises :class:`~.values.ConfigError` naming the variable (or
``notifications.routes[1].min_level``), the value and what is expected. The notifier
(:mod:`prsm_monitor.notify`) reads the result; nothing here sends anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import redact
from ..fields import COMPONENTS, LEVELS
from . import apprise_log
from .durations import parse_duration
from .values import ConfigError, finite, parse_boolean

ALERT_LEVELS = ("warning", "error", "critical")  # levels an alert fires with (info is resolution)
_URL_START = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.\-]*://)")
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
_OPAQUE = re.compile(r"[A-Za-z0-9_\-]*\d[A-Za-z0-9_\-]*")  # a run with a digit in it: perhaps a token
SECRETS_TABLE = "notifications"


@dataclass(frozen=True)
class Route:
    """Where notifications go: Apprise URLs and which alerts they want.

    ``min_level``: the least severe firing level sent; ``components``: which components;
    ``send_resolved``: also say when an incident is over; ``escalation``: this route gets
    only escalations (critical alerts nobody acknowledged in time)."""

    name: str
    urls: tuple[str, ...] = field(repr=False)  # may carry passwords: never in a repr or log line
    min_level: str = "warning"
    components: tuple[str, ...] = COMPONENTS
    send_resolved: bool = True
    escalation: bool = False

    def wants(self, level: str, component: str) -> bool:
        return component in self.components and LEVELS.index(level) >= LEVELS.index(self.min_level)


@dataclass(frozen=True)
class NotifySettings:
    """Every notification setting, seconds for durations. The defaults are Alertmanager's
    (group_wait 30 s, group_interval 5 min, repeat_interval 4 h) and the issue's (escalate
    after 15 min); ``group_window`` is how long after an incident starts an alert without a
    node or model label still joins it."""

    routes: tuple[Route, ...] = ()
    alertmanager_url: str | None = field(default=None, repr=False)  # may carry user:password@
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    group_window: float = 60.0
    escalate_after: float = 900.0
    timeout: float = 10.0  # seconds one delivery attempt may take
    retries: int = 3  # attempts after the first
    backoff: float = 2.0  # seconds before the first retry; doubles for each next one
    resend: float = 60.0  # seconds between re-sends of firing alerts to Alertmanager
    queue_size: int = 256  # deliveries waiting for the sender thread, at most
    poll: float = 0.2  # seconds between looks at the alert log
    instance: str = field(default="", compare=False)  # the ``instance`` label; empty: host:port
    public_url: str | None = None  # PRSM_PUBLIC_URL: where viewers reach the dashboard (incident links)

    @property
    def enabled(self) -> bool:
        return bool(self.routes or self.alertmanager_url)


# (setting, variable, low, high) for the durations; values in seconds
_DURATIONS = (
    ("group_wait", "PRSM_NOTIFY_GROUP_WAIT", 0.0, 86400.0),
    ("group_interval", "PRSM_NOTIFY_GROUP_INTERVAL", 0.1, 86400.0),
    ("repeat_interval", "PRSM_NOTIFY_REPEAT_INTERVAL", 1.0, 30 * 86400.0),
    ("group_window", "PRSM_NOTIFY_GROUP_WINDOW", 0.0, 86400.0),
    ("escalate_after", "PRSM_ESCALATE_AFTER", 1.0, 30 * 86400.0),
    ("timeout", "PRSM_NOTIFY_TIMEOUT", 0.1, 300.0),
    ("backoff", "PRSM_NOTIFY_BACKOFF", 0.0, 3600.0),
    ("resend", "PRSM_ALERTMANAGER_RESEND", 1.0, 3600.0),
)
VARIABLES = (
    "PRSM_NOTIFY_URLS",
    "PRSM_NOTIFY_MIN_LEVEL",
    "PRSM_NOTIFY_COMPONENTS",
    "PRSM_NOTIFY_SEND_RESOLVED",
    "PRSM_ESCALATE_URLS",
    "PRSM_ALERTMANAGER_URL",
    *(var for _, var, _, _ in _DURATIONS),
    "PRSM_NOTIFY_RETRIES",
    "PRSM_PUBLIC_URL",
)


def split_urls(value, name: str) -> tuple[str, ...]:
    """Apprise URLs from a list, or from a text where commas or spaces separate them (a comma
    inside one URL, as in ``mailto://...?to=a@x,b@y``, stays: only one before ``scheme://`` splits)."""
    if isinstance(value, str):
        urls = [u.strip(" ,") for u in _URL_START.split(value.strip())]
    elif isinstance(value, (list, tuple)) and all(isinstance(u, str) for u in value):
        urls = [u.strip() for u in value]
    else:
        raise ConfigError(name, value, "Apprise URLs such as json://host/path or mailto://user:pass@host")
    urls = [u for u in urls if u]
    for url in urls:
        if "://" not in url:  # perhaps a bare webhook token: its opaque parts are not repeated
            raise ConfigError(
                name, _OPAQUE.sub(redact.MASK, url), "Apprise URLs such as json://host/path or mailto://user:pass@host"
            )
    return tuple(urls)


def check_apprise_urls(urls: tuple[str, ...], name: str) -> None:
    """Each URL must be one Apprise can load (a known scheme, well-formed); its text is not
    repeated in the error when it may carry a password."""
    if not urls:
        return
    import apprise  # here: only configurations that name URLs pay its import

    for url in urls:
        apprise_log.remember(url)  # before Apprise logs it
        if apprise.Apprise.instantiate(url) is None:
            shown = url.split("://", 1)[0] + "://…" if "@" in url else url
            raise ConfigError(
                name, shown, "an Apprise URL it can load, such as json://host/path or mailto://user:pass@host"
            )


def _level(value, name: str) -> str:
    if value not in ALERT_LEVELS:
        raise ConfigError(name, value, f"one of {', '.join(ALERT_LEVELS)}")
    return value


def _components(value, name: str) -> tuple[str, ...]:
    items = [c.strip() for c in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or any(c not in COMPONENTS for c in items):
        raise ConfigError(name, value, f"comma-separated components, some of {', '.join(COMPONENTS)}")
    return tuple(dict.fromkeys(items))


def _flag(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    parsed = parse_boolean(value) if isinstance(value, str) else None
    if parsed is None:
        raise ConfigError(name, value, "one of true/false, yes/no, on/off, 1/0")
    return parsed


def check_route(table, where: str) -> Route:
    """A route from a ``[[notifications.routes]]`` table; errors name ``<where>.<key>``."""
    if not isinstance(table, Mapping):
        raise ConfigError(where, table, "a table with name, urls and optionally min_level, components, send_resolved")
    known = {"name", "urls", "min_level", "components", "send_resolved", "escalation"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", table[unknown[0]], f"one of the keys {', '.join(sorted(known))}")
    name = table.get("name", where)
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise ConfigError(f"{where}.name", name, "a printable name")
    urls = split_urls(table.get("urls", ()), f"{where}.urls")
    if not urls:
        raise ConfigError(f"{where}.urls", table.get("urls"), "at least one Apprise URL")
    check_apprise_urls(urls, f"{where}.urls")
    return Route(
        name=name.strip(),
        urls=urls,
        min_level=_level(table.get("min_level", "warning"), f"{where}.min_level"),
        components=_components(table.get("components", list(COMPONENTS)), f"{where}.components"),
        send_resolved=_flag(table.get("send_resolved", True), f"{where}.send_resolved"),
        escalation=_flag(table.get("escalation", False), f"{where}.escalation"),
    )


def _given(env: Mapping[str, str], var: str, secrets: Mapping, key: str):
    """The variable's text when set, else the secret's value; (value, name for errors)."""
    raw = env.get(var)
    if raw is not None and raw.strip():
        return raw.strip(), var
    if key in secrets:
        return secrets[key], f"{SECRETS_TABLE}.{key}"
    return None, var


def _env_routes(env: Mapping[str, str]) -> list[Route]:
    """The ``default`` route (``PRSM_NOTIFY_*``) and the ``escalation`` route; the filters are
    checked even while no URL is set, so a typo shows before it matters."""
    routes = []
    level = _level(env.get("PRSM_NOTIFY_MIN_LEVEL", "").strip() or "warning", "PRSM_NOTIFY_MIN_LEVEL")
    components = env.get("PRSM_NOTIFY_COMPONENTS", "").strip() or ",".join(COMPONENTS)
    components = _components(components, "PRSM_NOTIFY_COMPONENTS")
    resolved = _flag(env.get("PRSM_NOTIFY_SEND_RESOLVED", "").strip() or "true", "PRSM_NOTIFY_SEND_RESOLVED")
    urls = split_urls(env.get("PRSM_NOTIFY_URLS", ""), "PRSM_NOTIFY_URLS")
    if urls:
        check_apprise_urls(urls, "PRSM_NOTIFY_URLS")
        routes.append(Route("default", urls, level, components, resolved))
    escalate = split_urls(env.get("PRSM_ESCALATE_URLS", ""), "PRSM_ESCALATE_URLS")
    if escalate:
        check_apprise_urls(escalate, "PRSM_ESCALATE_URLS")
        routes.append(Route("escalation", escalate, "critical", COMPONENTS, False, escalation=True))
    return routes


def check_notifications(env: Mapping[str, str], secrets: Mapping | None = None) -> NotifySettings:
    """:class:`NotifySettings` from the variables in ``env`` and the ``[notifications]`` table
    ``secrets`` (either may be empty); the first bad value raises ConfigError."""
    secrets = secrets or {}
    if not isinstance(secrets, Mapping):
        raise ConfigError(SECRETS_TABLE, secrets, "a table of notification settings")
    values: dict = {}
    for key, var, low, high in _DURATIONS:
        value, name = _given(env, var, secrets, key)
        if value is not None:
            values[key] = parse_duration(value, name, low, high)
    retries, name = _given(env, "PRSM_NOTIFY_RETRIES", secrets, "retries")
    if retries is not None:
        if isinstance(retries, str):
            retries = int(retries) if re.fullmatch(r"[0-9]{1,2}", retries) else retries
        number = finite(retries)
        if number is None or not number.is_integer() or not 0 <= number <= 20:
            raise ConfigError(
                name, _given(env, "PRSM_NOTIFY_RETRIES", secrets, "retries")[0], "a whole number from 0 to 20"
            )
        values["retries"] = int(number)
    url, name = _given(env, "PRSM_ALERTMANAGER_URL", secrets, "alertmanager_url")
    if url is not None:
        if not isinstance(url, str) or not _HTTP_URL.match(url.strip()):
            raise ConfigError(name, url, "an http:// or https:// URL like http://alertmanager:9093")
        values["alertmanager_url"] = url.strip().rstrip("/")
    public, name = _given(env, "PRSM_PUBLIC_URL", secrets, "public_url")
    if public is not None and str(public).strip():
        if not isinstance(public, str) or not _HTTP_URL.match(public.strip()):
            raise ConfigError(
                name, public, "the dashboard's http(s) URL without query or fragment, like https://monitor.example.org"
            )
        values["public_url"] = public.strip().rstrip("/")
    routes = _env_routes(env)
    if not routes:
        tables = secrets.get("routes", [])
        if not isinstance(tables, (list, tuple)):
            raise ConfigError(f"{SECRETS_TABLE}.routes", tables, "[[notifications.routes]] tables")
        routes = [check_route(t, f"{SECRETS_TABLE}.routes[{i}]") for i, t in enumerate(tables)]
    names = [r.name for r in routes]
    if len(set(names)) != len(names):
        raise ConfigError(f"{SECRETS_TABLE}.routes", names, "routes with different names")
    return NotifySettings(routes=tuple(routes), **values)


def secrets_table() -> Mapping:
    """``[notifications]`` from ``.streamlit/secrets.toml`` when there is one, else empty."""
    try:
        from streamlit.runtime.secrets import secrets_singleton

        if not secrets_singleton.load_if_toml_exists():
            return {}
        table = secrets_singleton.get(SECRETS_TABLE)
    except Exception:  # noqa: BLE001 - no secrets file, or no Streamlit: nothing configured there
        return {}
    return _plain(table) if table is not None else {}


def _plain(value):
    """Streamlit's AttrDicts as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def notify_settings(env: Mapping[str, str]) -> NotifySettings:
    """From the variables, and from ``[notifications]`` in the secrets when ``env`` is the
    process's environment (not a mapping a test or caller passed)."""
    return check_notifications(env, secrets_table() if env is os.environ else None)
