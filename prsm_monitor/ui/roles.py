"""Who may change things from the pages: operators, and viewers who only read.

- Neither ``PRSM_OPERATORS`` nor ``PRSM_OPERATOR_PASSWORD`` set (a developer's own machine):
  everyone may change everything, as before.
- ``PRSM_OPERATORS``: the ``st.login`` users with those e-mails may.
- ``PRSM_OPERATOR_PASSWORD``: whoever enters it in the sidebar may, for that session;
  wrong ones are logged and slow the client down (:mod:`.attempts`).

Everyone else is a viewer: the controls that change shared state (thresholds, demo faults,
silences, acknowledgements, history settings) are drawn disabled, with :attr:`Role.reason`
under them. Callbacks check :func:`role` again before they change anything, and pass
:attr:`Role.actor` to the collector, whose log names who made each change.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from ..settings.model import Settings
from . import attempts

SESSION_KEY = "roles_operator_digest"
_PROCESS_KEY = os.urandom(32)  # an unlocked session is valid for this process and this password only


@dataclass(frozen=True)
class Role:
    may_change: bool
    actor: str  # who changes things, as the log names them
    reason: str = ""  # why not, in one line (empty when ``may_change``)


def _digest(password: str) -> bytes:
    return hmac.new(_PROCESS_KEY, password.encode(), hashlib.sha256).digest()


def _email() -> str | None:
    try:
        if st.user.get("is_logged_in"):
            email = st.user.get("email")
            return str(email) if email else None
    except Exception:  # noqa: BLE001 - no login configured: nobody is signed in
        return None
    return None


def _login_configured() -> bool:
    """Is ``st.login`` set up (``[auth]`` in the secrets), so that an operator can sign in?"""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets file: no login
        return False
    return isinstance(auth, Mapping) and bool(auth)


def unlocked(settings: Settings) -> bool:
    """Did this session enter the operator password?"""
    if not settings.operator_password:
        return False
    return hmac.compare_digest(st.session_state.get(SESSION_KEY, b""), _digest(settings.operator_password))


def role(settings: Settings) -> Role:
    """What this session may do."""
    email = _email()
    if not settings.operators_configured:
        return Role(True, email or "a dashboard viewer (no operators configured)")
    if email and email.lower() in settings.operators:
        return Role(True, email)
    if unlocked(settings):
        return Role(True, f"{email or 'a dashboard session'} (operator password)")
    login = "log in as an operator" if _login_configured() else "login ([auth] in secrets) is not configured"
    if settings.operators and settings.operator_password:
        how = f"{login}, or unlock with the operator password in the sidebar"
    elif settings.operator_password:
        how = "unlock with the operator password in the sidebar"
    else:
        how = login
    who = f"{email} is not an operator" if email else "only operators may change this"
    return Role(False, email or "a viewer", f"View only: {who}; {how}.")


def reason_caption(who: Role) -> None:
    """The one line under disabled controls."""
    if not who.may_change:
        st.caption(f":material/lock: {who.reason}")


def operator_unlock(settings: Settings) -> None:
    """The sidebar's password form (``PRSM_OPERATOR_PASSWORD``), or a button to lock again."""
    if not settings.operator_password:
        return
    if unlocked(settings):
        if st.button("Lock controls", icon=":material/lock:", key="roles_lock", width="stretch"):
            st.session_state.pop(SESSION_KEY, None)
            st.rerun()
        return
    email = _email()
    if email and email.lower() in settings.operators:
        return
    with st.expander("Operator", icon=":material/lock_open:"):
        with st.form("roles_unlock", border=False):
            given = st.text_input("Operator password", type="password", key="roles_password")
            submitted = st.form_submit_button("Unlock controls", width="stretch")
        if submitted:
            who = attempts.client()
            wait = attempts.OPERATOR.wait(who)
            if wait > 0:  # not even checked: guessing gets slower with each wrong password
                st.error(attempts.refusal(wait), icon=":material/timer:")
                return
            if hmac.compare_digest(_digest(given), _digest(settings.operator_password)):
                attempts.OPERATOR.succeeded(who)
                st.session_state[SESSION_KEY] = _digest(settings.operator_password)
                st.rerun()
            attempts.OPERATOR.failed(who)
            st.error("Wrong operator password.", icon=":material/error:")
