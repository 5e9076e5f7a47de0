"""Who may change things from the pages (prsm_monitor.ui.roles), with AppTest: viewers see every
control that changes shared state disabled with a one-line reason when operators are
configured, and everyone may when they are not; every change names who made it. Silences
created from an alert's row mute its toasts. (The API side: tests/test_silences.py.)"""

from __future__ import annotations

import time

import pytest

from .conftest import wait_until
from .test_app import collector, fresh_app, open_page

ALERTS = "pages/4_Alerts.py"
FORM_SILENCE = "FormSubmitter:silence_form_{}-Silence"


@pytest.fixture
def make_app(monkeypatch):
    apps = []

    def make(**env):
        generator = fresh_app(monkeypatch, PRSM_DEMO="false", **env)
        apps.append(generator)
        return next(generator)

    yield make
    for generator in apps:
        next(generator, None)


def with_alert(app):
    """The Alerts page with one active alert (a custom rule keeps asserting it)."""
    open_page(app, ALERTS)
    c = collector()
    c.add_alert_rule(lambda metrics: c.create_alert("critical", "system", "Disk on fire", {}))
    [alert] = wait_until(lambda: c.get_active_alerts())
    app.run()
    return c, alert


def open_silence_form(app, alert_id):
    app.session_state[f"silence_popover_{alert_id}"] = True  # as a click on the row's Silence does
    app.run()


def controls(app, alert_id):
    """Every control that changes shared state on the Alerts page and its sidebar: label -> disabled."""
    open_silence_form(app, alert_id)
    found = {
        "acknowledge": app.button(key=f"ack_{alert_id}").disabled,
        "silence": app.button(key=FORM_SILENCE.format(alert_id)).disabled,
        "apply thresholds": next(b for b in app.sidebar.button if b.label == "Apply to all viewers").disabled,
        "reset thresholds": app.sidebar.button(key="thr_reset").disabled,
    }
    found.update({f"threshold {i}": n.disabled for i, n in enumerate(app.sidebar.number_input)})
    return found


def reasons(app) -> list[str]:
    return [c.value for c in app.caption if "View only" in c.value]


def test_without_operators_everyone_may_change_everything(make_app):
    app = make_app()
    c, alert = with_alert(app)
    assert not any(controls(app, alert["id"]).values()) and not reasons(app)
    app.button(key=f"ack_{alert['id']}").click().run()
    assert c.get_active_alerts()[0]["acknowledged_by"] == "a dashboard viewer (no operators configured)"


def test_with_operators_a_viewer_sees_every_control_disabled_with_the_reason(make_app):
    app = make_app(PRSM_OPERATORS="ops@example.com")
    c, alert = with_alert(app)
    disabled = controls(app, alert["id"])
    assert all(disabled.values()), disabled
    reason = "View only: only operators may change this; login ([auth] in secrets) is not configured."
    assert f":material/lock: {reason}" in reasons(app)
    # a stale page's callback is refused too
    from prsm_monitor.ui.views.alert_rows import _acknowledge

    _acknowledge(c, alert["id"])
    assert not c.get_active_alerts()[0]["acknowledged"]


def test_a_signed_in_operator_may_and_is_named_in_the_log(make_app):
    app = make_app(PRSM_OPERATORS="ops@example.com,lead@example.com")
    app.user = {"is_logged_in": True, "email": "Lead@Example.com"}
    c, alert = with_alert(app)
    assert not any(controls(app, alert["id"]).values()) and not reasons(app)
    app.sidebar.number_input[0].set_value(70.0)
    next(b for b in app.sidebar.button if b.label == "Apply to all viewers").click().run()
    change = next(e for e in c.get_alerts() if e["details"].get("setting") == "thresholds.cpu")
    assert change["details"]["actor"] == "Lead@Example.com" and change["message"].endswith(", by Lead@Example.com")

    other = make_app(PRSM_OPERATORS="ops@example.com")
    other.user = {"is_logged_in": True, "email": "guest@example.com"}
    open_page(other, ALERTS)
    assert any("guest@example.com is not an operator" in r for r in reasons(other))


def test_the_operator_password_unlocks_the_controls_for_the_session(make_app):
    app = make_app(PRSM_OPERATOR_PASSWORD="open sesame")
    c, alert = with_alert(app)
    assert all(controls(app, alert["id"]).values())
    app.sidebar.text_input(key="roles_password").input("wrong")
    next(b for b in app.sidebar.button if b.label == "Unlock controls").click().run()
    assert any("Wrong operator password" in e.value for e in app.sidebar.error)
    app.sidebar.text_input(key="roles_password").input("open sesame")
    next(b for b in app.sidebar.button if b.label == "Unlock controls").click().run()
    assert not any(controls(app, alert["id"]).values())
    app.button(key=f"ack_{alert['id']}").click().run()
    assert c.get_active_alerts()[0]["acknowledged_by"] == "a dashboard session (operator password)"
    app.sidebar.button(key="roles_lock").click().run()
    assert app.sidebar.button(key="thr_reset").disabled


def test_a_silence_from_the_row_mutes_the_alert_and_its_toasts(make_app):
    app = make_app()
    c, alert = with_alert(app)
    open_silence_form(app, alert["id"])
    app.radio(key=f"silence_{alert['id']}_for").set_value("custom")
    app.text_input(key=f"silence_{alert['id']}_custom").input("soon")
    app.button(key=FORM_SILENCE.format(alert["id"])).click().run()
    assert any("custom duration='soon' is invalid" in e.value.replace("\\", "") for e in app.error)
    assert not c.silences.list(time.time())

    app.text_input(key=f"silence_{alert['id']}_custom").input("10m")  # the form stays open after an error
    app.text_input(key=f"silence_{alert['id']}_comment").input("replacing the disk")
    app.button(key=FORM_SILENCE.format(alert["id"])).click().run()
    [silence] = c.silences.list(time.time())
    assert silence["matchers"] == {"component": "system", "level": "critical"}
    assert silence["comment"] == "replacing the disk" and 590 < silence["ends_at"] - silence["starts_at"] <= 600
    assert any("SILENCED" in m.value for m in app.markdown)  # shown, muted
    assert not app.session_state[f"silence_popover_{alert['id']}"]  # the form closed
    assert any("replacing the disk" in c_.value for c_ in app.caption)  # in the silences list

    c.create_alert("critical", "system", "Fan stopped", {})  # matches the silence: no toast
    c.create_alert("critical", "network", "Link cut", {})  # does not: toasted
    app.run()
    toasts = [t.value for t in app.toast]
    assert any("Link cut" in t for t in toasts) and not any("Fan stopped" in t for t in toasts)

    app.button(key=f"silence_expire_{silence['id']}").click().run()
    assert c.silences.list(time.time())[0]["status"] == "expired"
    assert not any("SILENCED" in m.value for m in app.markdown)
