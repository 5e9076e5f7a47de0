"""Dashboard access control: call :func:`require_access` first on every page.

- ``[auth]`` in ``.streamlit/secrets.toml``: OpenID Connect login with ``st.login``.
- else ``PRSM_DASHBOARD_PASSWORD`` (or a ``password`` secret): a password form; a viewer
  who got it right is remembered for the session; wrong ones are logged and slow the client
  down (:mod:`.attempts`).
- else the dashboard is open.

A broken configuration closes the page rather than opening it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import os
from collections.abc import Mapping

import streamlit as st

from ..settings.model import Settings
from ..settings.values import ConfigError
from . import attempts

SESSION_KEY = "gate_password_digest"
_PROCESS_KEY = os.urandom(32)  # session marks are valid for this process and this password only


def _secret(name: str):
    try:
        return st.secrets.get(name)
    except Exception:  # noqa: BLE001 - no secrets file: no such secret
        return None


def _digest(text: str) -> bytes:
    return hmac.new(_PROCESS_KEY, text.encode(), hashlib.sha256).digest()


def _closed(message: str) -> None:
    st.error(message, icon=":material/lock:")
    st.stop()


def _password() -> str | None:
    try:
        # the rules file's content is the collector's to judge: a bad edit keeps the rules in force
        password = Settings.from_env(rules=False).dashboard_password
    except ConfigError as error:
        _closed(f"Configuration error: {error}")
    secret = _secret("password")
    return password or (str(secret) if secret not in (None, "") else None)


def authlib_installed() -> bool:
    """st.login needs Authlib (``pip install 'Authlib>=1.3.2'``)."""
    return importlib.util.find_spec("authlib") is not None


def _require_login(auth: Mapping) -> None:
    if st.user.get("is_logged_in"):
        return
    st.title("PRSM Monitor")
    st.info("Log in to view the dashboard.", icon=":material/login:")
    if not authlib_installed():
        _closed("Login is configured ([auth] in secrets) but Authlib is not installed: pip install 'Authlib>=1.3.2'")
    providers = [name for name, value in auth.items() if isinstance(value, Mapping)]
    if "client_id" in auth or not providers:
        st.button("Log in", on_click=st.login, type="primary", key="gate_login")
    else:
        for name in providers:
            st.button(f"Log in with {name}", on_click=st.login, args=(name,), key=f"gate_login_{name}")
    st.stop()


def _require_password(password: str) -> None:
    expected = _digest(password)
    if hmac.compare_digest(st.session_state.get(SESSION_KEY, b""), expected):
        return
    st.title("PRSM Monitor")
    with st.form("gate_password_form"):
        given = st.text_input("Password", type="password", key="gate_password_input")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        who = attempts.client()
        wait = attempts.DASHBOARD.wait(who)
        if wait > 0:  # not even checked: guessing gets slower with each wrong password
            st.error(attempts.refusal(wait), icon=":material/timer:")
            st.stop()
        if hmac.compare_digest(_digest(given), expected):
            attempts.DASHBOARD.succeeded(who)
            st.session_state[SESSION_KEY] = expected
            st.rerun()
        attempts.DASHBOARD.failed(who)
        st.error("Wrong password.", icon=":material/error:")
    st.stop()


def require_access() -> None:
    """Stop the page (after drawing a login) unless the viewer may see it."""
    auth = _secret("auth")
    if isinstance(auth, Mapping) and auth:
        _require_login(auth)
        return
    password = _password()
    if password:
        _require_password(password)


def logout_button() -> None:
    """A "Log out" button where it applies (OIDC session or remembered password)."""
    if st.user.get("is_logged_in"):
        st.button("Log out", on_click=st.logout, key="gate_logout")
    elif SESSION_KEY in st.session_state:
        st.button("Log out", on_click=lambda: st.session_state.pop(SESSION_KEY, None), key="gate_logout")
