"""``PRSM_*`` variables that name places and services: the history on disk and its retention,
Prometheus, the rules file and the operators, real PRSM nodes, other prsm-monitor instances.

Part of reading the environment (:mod:`.environment`); errors name the variable, the value
and what is expected.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from .durations import parse_duration
from .env_text import boolean, number, secret
from .rules_file import default_path
from .values import ConfigError

# -- history: on-disk store, retention, Prometheus, anonymization ------------------------------
DATA_DIR_NAME = ".prsm-monitor"
DURATION_MIN = 60.0  # a minute: one raw chunk
DURATION_MAX = 3650 * 86400.0  # ten years
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
_MATCHER = r'\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*'
_SELECTOR = re.compile(rf"^(?:{_MATCHER}(?:,{_MATCHER})*)?$")


def default_data_dir() -> Path:
    """``.prsm-monitor/`` beside ``streamlit_app.py`` (the working directory when the package
    is installed elsewhere)."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "streamlit_app.py").is_file() else Path.cwd()) / DATA_DIR_NAME


def history_settings(env: Mapping[str, str]) -> dict:
    """The history fields of :class:`Settings` from ``PRSM_DATA_DIR``, ``PRSM_PERSIST``,
    ``PRSM_RETENTION_*``, ``PRSM_PROMETHEUS_*`` and ``PRSM_ANONYMIZE``."""
    persist = boolean(env, "PRSM_PERSIST", True)
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
        retention[key] = parse_duration(raw, name, DURATION_MIN, DURATION_MAX) if raw.strip() else default
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
        "retention_max_mb": number(env, "PRSM_RETENTION_MAX_MB", None, 1.0, 1_048_576.0),
        "prometheus_url": url.rstrip("/") or None,
        "prometheus_selector": selector,
        "anonymize": boolean(env, "PRSM_ANONYMIZE", False),
        "env_set": frozenset(k for k, v in env.items() if k.startswith("PRSM_") and v.strip()),
    }


# -- rules file and operators ------------------------------------------------------------------
_EMAIL = re.compile(r"^[^\s@,]+@[^\s@,]+$")


def rules_file_path(env: Mapping[str, str]) -> str | None:
    """``PRSM_RULES_FILE`` (which must exist), else ``rules.toml`` beside the app when it
    exists; ``PRSM_RULES_FILE=`` (empty): none."""
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
        "operator_password": secret(env, "PRSM_OPERATOR_PASSWORD"),
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
