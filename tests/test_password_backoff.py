"""Passwords cannot be guessed at the speed of a websocket (issue 22, item 6): after 5 wrong
ones in a row a client waits 1 s, then 2, 4, ... up to 15 min before its next try is even
checked; each wrong one is logged, never with what was typed. Through the real pages (AppTest):
the operator password in the sidebar and the dashboard's password gate."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from prsm_monitor.ui import attempts
from prsm_monitor.ui.attempts import CAP, FORGET, Attempts, delay

from .test_gate import SECRET_TEXT, page, shown
from .test_roles import controls, make_app, with_alert  # noqa: F401 - make_app is a fixture

GUESS = "guess-0000"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """Both passwords' attempts on a clock the test moves."""
    fake = Clock()
    monkeypatch.setattr(attempts, "OPERATOR", Attempts("operator password", clock=fake))
    monkeypatch.setattr(attempts, "DASHBOARD", Attempts("dashboard password", clock=fake))
    return fake


def test_the_wait_doubles_from_the_fifth_wrong_password_up_to_the_cap():
    clock = Clock()
    tries = Attempts("test password", clock=clock)
    waits = [tries.failed("203.0.113.7") for _ in range(17)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:10] == [1, 2, 4, 8, 16, 32]
    assert waits[14:] == [CAP, CAP, CAP]
    assert tries.wait("203.0.113.7") == CAP and tries.wait("198.51.100.2") == 0  # per client
    clock.now += CAP
    assert tries.wait("203.0.113.7") == 0
    tries.succeeded("203.0.113.7")
    assert tries.failed("203.0.113.7") == 0  # a right password starts the count again
    for _ in range(6):
        tries.failed("198.51.100.2")
    clock.now += FORGET
    assert tries.failed("198.51.100.2") == 0  # an hour without a wrong one: afresh
    print("\nwait after each wrong password (s):", [delay(n) for n in range(1, 17)])


def unlock(app, password):
    app.sidebar.text_input(key="roles_password").input(password)
    next(b for b in app.sidebar.button if b.label == "Unlock controls").click().run()


def test_the_operator_password_backs_off_and_logs_without_the_guess(make_app, clock, caplog):  # noqa: F811
    app = make_app(PRSM_OPERATOR_PASSWORD="open sesame")
    c, alert = with_alert(app)
    caplog.set_level(logging.WARNING, logger="prsm_monitor.ui.attempts")
    for i in range(5):
        unlock(app, f"{GUESS}{i}")
        assert any("Wrong operator password" in e.value for e in app.sidebar.error)
    unlock(app, "open sesame")  # right, but too soon: not even checked
    assert any("try again in 1 s" in e.value for e in app.sidebar.error)
    assert all(controls(app, alert["id"]).values())  # still locked
    logged = [r.getMessage() for r in caplog.records if r.name == "prsm_monitor.ui.attempts"]
    assert len(logged) == 5 and "wrong operator password from this machine (5 in a row)" in logged[-1]
    assert "1 s" in logged[-1] and not any(GUESS in m or "open sesame" in m for m in logged)
    clock.now += 1.0
    unlock(app, "open sesame")
    assert not any(controls(app, alert["id"]).values())  # unlocked after the wait


def test_the_dashboard_password_backs_off(clock, monkeypatch):
    monkeypatch.delenv("PRSM_DASHBOARD_PASSWORD", raising=False)
    at = AppTest.from_function(page)
    at.secrets["password"] = "correct horse"
    at.run()
    for i in range(5):
        at.text_input(key="gate_password_input").input(f"{GUESS}{i}")
        at.button[0].click().run()
        assert "Wrong password" in at.error[0].value
    at.text_input(key="gate_password_input").input("correct horse")
    at.button[0].click().run()
    assert SECRET_TEXT not in shown(at) and "try again in 1 s" in at.error[0].value
    clock.now += 0.5
    at.text_input(key="gate_password_input").input("correct horse")
    at.button[0].click().run()
    assert SECRET_TEXT not in shown(at)  # still too soon
    clock.now += 0.5
    at.text_input(key="gate_password_input").input("correct horse")
    at.button[0].click().run()
    assert SECRET_TEXT in shown(at)
