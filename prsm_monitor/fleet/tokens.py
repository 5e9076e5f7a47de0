"""Tokens for other instances: ``[instances.<name>] token = "..."`` in ``.streamlit/secrets.toml``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..settings.values import HIDDEN, ConfigError


def _secrets_instances() -> Mapping | None:
    """The ``[instances]`` table of Streamlit's secrets (None: no secrets file, or no table)."""
    try:
        from streamlit.runtime.secrets import secrets_singleton

        if not secrets_singleton.load_if_toml_exists():
            return None
        table = secrets_singleton.get("instances")
    except Exception:  # noqa: BLE001 - no Streamlit or an unreadable file: no tokens
        return None
    return table


def instance_tokens(names: Iterable[str], table: Mapping | None = None) -> dict[str, str | None]:
    """``{name: token or None}`` for the instances of ``PRSM_INSTANCES``, from ``table`` (default:
    the secrets' ``[instances]``). A table entry naming no instance, or a token that is not
    text, is a :class:`ConfigError` (the token itself is never shown)."""
    names = list(names)
    table = _secrets_instances() if table is None else table
    tokens: dict[str, str | None] = dict.fromkeys(names)
    if table is None:
        return tokens
    if not isinstance(table, Mapping):
        raise ConfigError("secrets [instances]", HIDDEN, "a table of [instances.<name>] tables with a token each")
    for name, entry in table.items():
        where = f"secrets [instances.{name}]"
        if name not in tokens:
            raise ConfigError(
                where, name, f"the name of an instance in PRSM_INSTANCES: {', '.join(names) or 'none set'}"
            )
        token = entry.get("token") if isinstance(entry, Mapping) else None
        if not isinstance(token, str) or not token.strip() or any(not 33 <= ord(c) <= 126 for c in token):
            raise ConfigError(f"{where} token", HIDDEN, "the instance's API token: visible ASCII characters, no spaces")
        tokens[name] = token
    return tokens
