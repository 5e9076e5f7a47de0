"""The dashboard's access gate (prsm_monitor.ui.gate) with AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

SECRET_TEXT = "PRSM SECRET DASHBOARD CONTENT"


def page():
    import streamlit as st

    from prsm_monitor.ui.gate import logout_button, require_access

    require_access()
    st.write("PRSM SECRET DASHBOARD CONTENT")
    logout_button()


def shown(at: AppTest) -> str:
    return " ".join(str(m.value) for m in at.markdown)


@pytest.fixture(autouse=True)
def no_env_password(monkeypatch):
    monkeypatch.delenv("PRSM_DASHBOARD_PASSWORD", raising=False)


def test_open_without_auth_or_password():
    at = AppTest.from_function(page).run()
    assert not at.exception
    assert SECRET_TEXT in shown(at)
    assert not at.text_input and not at.button


def password_app(**secrets) -> AppTest:
    at = AppTest.from_function(page)
    for key, value in secrets.items():
        at.secrets[key] = value
    return at.run()


def test_password_secret_gates_the_page():
    at = password_app(password="correct horse")
    assert SECRET_TEXT not in shown(at)
    assert at.text_input(key="gate_password_input").label == "Password"

    at.text_input(key="gate_password_input").input("wrong")
    at.button[0].click().run()
    assert SECRET_TEXT not in shown(at)
    assert "Wrong password" in at.error[0].value

    at.text_input(key="gate_password_input").input("correct horse")
    at.button[0].click().run()
    assert not at.exception
    assert SECRET_TEXT in shown(at)
    assert not at.text_input  # the form is gone

    at.run()  # remembered for the session
    assert SECRET_TEXT in shown(at)

    at.button(key="gate_logout").click().run()  # log out: gated again
    assert SECRET_TEXT not in shown(at)


def test_environment_password_wins_over_the_secret(monkeypatch):
    monkeypatch.setenv("PRSM_DASHBOARD_PASSWORD", "from-env")
    at = password_app(password="from-secret")
    at.text_input(key="gate_password_input").input("from-secret")
    at.button[0].click().run()
    assert SECRET_TEXT not in shown(at)
    at.text_input(key="gate_password_input").input("from-env")
    at.button[0].click().run()
    assert SECRET_TEXT in shown(at)


def test_a_bad_setting_closes_the_gate(monkeypatch):
    monkeypatch.setenv("PRSM_METRICS_INTERVAL", "-1")
    at = AppTest.from_function(page).run()
    assert SECRET_TEXT not in shown(at)
    assert "PRSM_METRICS_INTERVAL" in at.error[0].value


AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "prsm-monitor",
    "client_secret": "not-a-real-secret-either",
    "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
}


@pytest.fixture
def authlib(monkeypatch):
    """Pretend Authlib is installed (the login button only calls st.login when clicked)."""
    from prsm_monitor.ui import gate

    monkeypatch.setattr(gate, "authlib_installed", lambda: True)


def test_oidc_login_is_required_when_auth_is_configured(authlib):
    at = AppTest.from_function(page)
    at.secrets["auth"] = AUTH
    at.secrets["password"] = "ignored when [auth] is configured"
    at.run()
    assert SECRET_TEXT not in shown(at)
    assert not at.text_input  # no password form
    assert [b.label for b in at.button] == ["Log in"]


def test_oidc_without_authlib_stays_closed_and_says_why(monkeypatch):
    from prsm_monitor.ui import gate

    monkeypatch.setattr(gate, "authlib_installed", lambda: False)
    at = AppTest.from_function(page)
    at.secrets["auth"] = AUTH
    at.run()
    assert SECRET_TEXT not in shown(at)
    assert "Authlib" in at.error[0].value and not at.button


def test_oidc_logged_in_user_sees_the_page():
    at = AppTest.from_function(page)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "ops@example.com", "name": "Ops"}
    at.run()
    assert not at.exception
    assert SECRET_TEXT in shown(at)
    assert at.button(key="gate_logout").label == "Log out"


def test_one_button_per_named_provider(authlib):
    at = AppTest.from_function(page)
    at.secrets["auth"] = {
        "redirect_uri": AUTH["redirect_uri"],
        "cookie_secret": AUTH["cookie_secret"],
        "google": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")},
        "okta": {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")},
    }
    at.run()
    assert SECRET_TEXT not in shown(at)
    assert [b.label for b in at.button] == ["Log in with google", "Log in with okta"]
