"""Secrets never leave the process (issue 22, item 2).

The real app is started with a secret in every setting that can hold one: Apprise URLs with a
password, a header and Slack tokens, an instance, Alertmanager, Prometheus and a node with
userinfo, an API token. Then every API route is requested, every page rendered (with and
without ``?instance=``), notifications are let fail at every target (so that their reasons
are in the delivery log), and everything the outside could see (answers, page elements,
the server's output, this process's log records) is searched for each secret: none may appear.
A second test does the same for a process whose settings are bad, where ``/health`` and every
route answer the error.
"""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
import requests
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor.core import shared
from prsm_monitor.notify.alertmanager import AlertmanagerChannel
from prsm_monitor.notify.sender import DeliveryFailed

from .conftest import wait_until
from .fixtures.answering import Answering
from .fixtures.server import StreamlitServer, free_port
from .test_app import PAGES
from .test_cli import run_cli
from .test_fleet import instance_command

pytestmark = pytest.mark.timeout(300)

TOKEN = "APITOKENSECRET0123456789"
SECRETS = (
    "BOBPW",
    "HDRSECRET",
    "T0SECRETA",
    "B0SECRETB",
    "C0SECRETC",
    "INSTPW",
    "GONEPW",
    "AMSECRET",
    "PROMSECRET",
    "NODEPW",
    TOKEN,
)


def instance_metrics() -> dict:
    """An instance's /api/metrics: a few real-looking figures."""
    now = time.time()
    return {
        "system": {"timestamp": now, "cpu_percent": 12.5, "memory_percent": 40.0, "disk_percent": 50.0},
        "network": None,
        "ai": None,
        "collector": {"timestamp": now, "ticks_total": int(now), "tick_duration_ms": 1.0},
        "errors": {},
        "alerts": [],
        "active_alerts": [],
    }


@pytest.fixture
def outside():
    """An instance (answering), a webhook answering 500 (so deliveries fail with a reason)."""
    instance = Answering({"/api/metrics": (200, instance_metrics), "/api/settings": (200, {"thresholds": {}})})
    hook = Answering({"/hook": (500, {"error": "refused"})})
    closed = [free_port() for _ in range(4)]  # nothing listens: unreachable Alertmanager, Prometheus, node, instance
    env = {
        "PRSM_DEMO": "false",
        "PRSM_API_TOKEN": TOKEN,
        "PRSM_NOTIFY_URLS": (
            f"json://bob:BOBPW@127.0.0.1:{hook.port}/hook?%2BAuthorization=Bearer%20HDRSECRET,"
            # tokens in the path, as Slack's webhooks carry them; on loopback: a slack:// URL
            # would make Apprise post to the public Slack host
            f"xml://127.0.0.1:{hook.port}/T0SECRETA/B0SECRETB/C0SECRETC"
        ),
        "PRSM_NOTIFY_GROUP_WAIT": "0s",
        "PRSM_NOTIFY_TIMEOUT": "2s",
        "PRSM_NOTIFY_RETRIES": "0",
        "PRSM_INSTANCES": (
            f"edge=http://inst:INSTPW@127.0.0.1:{instance.port},gone=http://gone:GONEPW@127.0.0.1:{closed[3]}"
        ),
        "PRSM_ALERTMANAGER_URL": f"http://am:AMSECRET@127.0.0.1:{closed[0]}",
        "PRSM_PROMETHEUS_URL": f"http://prom:PROMSECRET@127.0.0.1:{closed[1]}",
        "PRSM_NODE_URLS": f"http://nodeuser:NODEPW@127.0.0.1:{closed[2]}",
    }
    try:
        yield env, instance
    finally:
        instance.close()
        hook.close()


def found(texts: dict[str, str]) -> list[tuple[str, str]]:
    """(where, secret) for every secret found in ``texts``."""
    return [(where, s) for where, text in texts.items() for s in SECRETS if s in text]


def api_texts(base: str) -> dict[str, str]:
    """Every API route's answer (with the token, without it, and a few errors), by request."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    gets = [
        "/api",
        "/api/metrics",
        "/api/alerts",
        "/api/alerts?active=true",
        "/api/settings",
        "/api/notifications",
        "/api/notifications?status=failed",
        "/api/fleet",
        "/api/silences",
        "/health",
        "/health?strict=true",
        "/metrics",
        "/metrics?detail=full",
        "/api/nothing-here",
        *(f"/api/historical/{c}" for c in ("system", "network", "ai", "collector")),
        "/api/historical/system?format=csv&minutes=5",
    ]
    texts = {}
    for path in gets:
        for who, headers in (("token", auth), ("anonymous", {})):
            answer = requests.get(base + path, headers=headers, timeout=10)
            texts[f"GET {path} ({who})"] = f"{answer.status_code} {answer.headers} {answer.text}"
    for method, path, body in (
        ("POST", "/api/settings", {"thresholds": {"cpu": {"warning": "x"}}}),
        ("POST", "/api/silences", {"matchers": {}}),
        ("POST", "/api/alerts/1/ack", {}),
        ("DELETE", "/api/silences/999", None),
    ):
        answer = requests.request(method, base + path, json=body, headers=auth, timeout=10)
        texts[f"{method} {path}"] = f"{answer.status_code} {answer.text}"
    with requests.get(base + "/api/stream", headers=auth, stream=True, timeout=10) as stream:
        lines = []
        for line in stream.iter_lines(decode_unicode=True):
            lines.append(line or "")
            if sum(line.startswith("event: metrics_update") for line in lines) >= 2:
                break
        texts["GET /api/stream"] = "\n".join(lines)
    return texts


def page_texts(at: AppTest) -> str:
    """Everything an AppTest's page shows: every element's protobuf (dataframes included, as
    their Arrow bytes) and each dataframe as text."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


class Records(logging.Handler):
    """Every log record of this process, formatted with its traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


def test_no_configured_secret_is_in_any_answer_page_or_log(outside, monkeypatch, capfd):
    env, instance = outside
    server = StreamlitServer(command=instance_command(free_port()), env=env)
    records = Records()
    logging.getLogger().addHandler(records)
    root_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    texts: dict[str, str] = {}
    try:
        server.wait()
        auth = {"Authorization": f"Bearer {TOKEN}"}

        def tried_every_target():
            answer = requests.get(server.url + "/api/notifications", headers=auth, timeout=10).json()
            done = {d["target"].split(":", 1)[0] for d in answer["deliveries"] if d["status"] != "queued"}
            return {"json", "xml", "http"} <= done and answer

        wait_until(tried_every_target, 60, 0.2)  # each target failed once, with its reason logged

        def gone_alert():
            answer = requests.get(server.url + "/api/alerts?active=true", headers=auth, timeout=10).json()
            return any(a["message"] == "Instance gone is unreachable" for a in answer["active"])

        wait_until(gone_alert, 60, 0.2)
        fleet = requests.get(server.url + "/api/fleet", headers=auth, timeout=10).json()
        assert [i["status"] for i in fleet["instances"]] == ["up", "up", "unreachable"]  # the reads worked
        assert instance.seen and instance.seen[0][1].startswith("Basic ")  # the password is used, not shown
        texts.update(api_texts(server.url))

        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("PRSM_METRICS_INTERVAL", "0.2")
        st.cache_resource.clear()
        shared.release_collector()
        first = AppTest.from_file("../streamlit_app.py", default_timeout=30)
        first.run()
        hub = shared.current_collector()
        wait_until(lambda: any("gone is unreachable" in a["message"] for a in hub.get_active_alerts()), 30)
        for instance_name in (None, "edge", "gone"):
            for path in PAGES:
                at = AppTest.from_file("../streamlit_app.py", default_timeout=30)
                if instance_name:
                    at.query_params["instance"] = instance_name
                if path != "streamlit_app.py":
                    at.switch_page(path)
                at.run()
                assert not at.exception, [e.value for e in at.exception]
                texts[f"page {path} instance={instance_name}"] = page_texts(at)
    finally:
        server.stop()
        logging.getLogger().removeHandler(records)
        logging.getLogger().setLevel(root_level)
        st.cache_resource.clear()
        shared.release_collector()
    texts["server output"] = "".join(server.lines)
    texts["log records"] = "\n".join(records.lines)
    captured = capfd.readouterr()
    texts["this process's output"] = captured.out + captured.err
    assert "Instance gone is unreachable" in texts["GET /api/alerts (token)"]  # the grep sees real content
    assert "json://bob:****@127.0.0.1" in texts["GET /api/notifications (token)"]
    leaks = found(texts)
    assert not leaks, "secrets shown:\n" + "\n".join(f"{secret} in {where}" for where, secret in leaks)


@pytest.mark.parametrize(
    ("variable", "value", "secrets"),
    [
        ("PRSM_NOTIFY_URLS", "slack://T0SECRETA/B0SECRETB", ("T0SECRETA", "B0SECRETB")),
        ("PRSM_INSTANCES", "edge=http://admin:InstSecretPW@127.0.0.1:99999", ("InstSecretPW",)),
        ("PRSM_ALERTMANAGER_URL", "ftp://am:AMSECRET@host", ("AMSECRET",)),
        ("PRSM_PROMETHEUS_URL", "ftp://prom:PROMSECRET@host", ("PROMSECRET",)),
        ("PRSM_NODE_URLS", "ftp://nodeuser:NODEPW@host", ("NODEPW",)),
    ],
)
def test_a_bad_setting_is_named_without_its_secret(variable, value, secrets):
    """/health from anywhere, every route and the CLI name the bad setting and what is
    expected; the secret in the value is masked."""
    server = StreamlitServer(command=instance_command(free_port()), env={variable: value})
    try:
        server.wait()
        texts = {}
        for path in ("/health", "/api/metrics", "/api/fleet", "/api/notifications", "/metrics"):
            answer = requests.get(server.url + path, timeout=10)
            assert answer.status_code == 503
            texts[path] = answer.text
        body = json.loads(texts["/health"])
        assert body["setting"] == variable and "****" in body["value"] and "****" in body["message"]
    finally:
        server.stop()
    texts["server output"] = "".join(server.lines)
    cli = run_cli("collect", "--once", env={variable: value})
    assert cli.returncode == 2 and variable in cli.stderr
    texts["cli"] = cli.stdout + cli.stderr
    assert [(where, s) for where, text in texts.items() for s in secrets if s in text] == []


def test_alertmanager_errors_are_bounded_and_never_show_its_password():
    """A silent Alertmanager is cut at the timeout; one that echoes the credentials in its
    error answer has them masked; neither message holds the password."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        channel = AlertmanagerChannel(f"http://am:AMSECRET@127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(DeliveryFailed) as caught:
            channel.post([], 0.5)
    assert "no whole answer within 0.5 s" in str(caught.value) and "AMSECRET" not in str(caught.value)
    echo = Answering({"/api/v2/alerts": (500, {"error": "bad login am:AMSECRET"})})
    try:
        channel = AlertmanagerChannel(f"http://am:AMSECRET@127.0.0.1:{echo.port}")
        with pytest.raises(DeliveryFailed) as caught:
            channel.post([], 5.0)
        assert str(caught.value) == 'Alertmanager answered 500: {"error": "bad login am:****"}'
        assert channel.target == f"http://127.0.0.1:{echo.port}/api/v2/alerts"
    finally:
        echo.close()
