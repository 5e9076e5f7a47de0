"""Issue 10 item 4 on the Alerts page: alerts that one thing caused are one row that expands."""

from __future__ import annotations

import pytest

from .test_app import collector, fresh_app, open_page


@pytest.fixture
def app(monkeypatch):
    yield from fresh_app(monkeypatch, PRSM_DEMO="false", PRSM_METRICS_INTERVAL="3600")


def test_a_node_down_and_the_model_it_hosted_are_one_row_that_expands(app):
    open_page(app, "pages/4_Alerts.py")
    c = collector()

    def raise_them(metrics=None):
        c.create_alert("error", "network", "Node node-9 is down", {"node": "node-9"})
        c.create_alert("warning", "ai", "Model m-1 is unavailable on node-9", {"node": "node-9", "model": "m-1"})
        c.create_alert("warning", "system", "Disk filling", {})  # its own cause: its own row

    c.add_alert_rule(raise_them)  # held by every tick: a tick resolves custom alerts it does not raise
    raise_them()
    open_page(app, "pages/4_Alerts.py")
    # this machine's own rules may fire too (a loaded CI runner's CPU): count what is active
    assert app.subheader[0].value == f"Active ({len(c.get_active_alerts())})"
    rows = [t.value for t in app.main.text]
    assert rows.count("Node node-9 is down") == 1 and rows.count("Disk filling") == 1
    incident = next(e for e in app.expander if e.label == "1 more alert of this incident")
    assert [t.value for t in incident.text] == ["Model m-1 is unavailable on node-9"]
    assert not any(e.label.endswith("of this incident") and e is not incident for e in app.expander)
