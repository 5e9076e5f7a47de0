"""The notification seams: a channel registered from outside the package gets the rendered
notification through the same stages (plan, group, silence, render, send with retries), against
a real HTTP receiver on loopback; a scheme registered twice is refused; and with nothing
configured, neither Apprise nor the Alertmanager channel is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prsm_monitor.alerts import AlertLog
from prsm_monitor.notify import NotifySettings, Route
from prsm_monitor.notify.channels import CHANNELS, DELIVERED, Registry, Result, register
from prsm_monitor.notify.delivery_log import FAILED, DeliveryLog
from prsm_monitor.notify.notifier import Notifier
from prsm_monitor.notify.sender import NOT_RESENT, Sender
from prsm_monitor.outside.http import OutsideError, fetch

from .conftest import wait_until
from .test_notify import NodeSilence, delivery

SCHEME = "prsm-test-post"


class Receiver:
    """Records each POSTed JSON body; answers 503 to the first ``refuse`` of them."""

    def __init__(self, refuse: int = 0):
        received = self.received = []
        answers = iter([503] * refuse)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status = next(answers, 200)
                received.append((self.path, status, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict]:
        return [body for _, status, body in self.received if status == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PostChannel:
    """A channel of this test's own: ``prsm-test-post://host:port/path`` posts the rendered
    message as JSON to ``http://host:port/path``."""

    def __init__(self, url: str):
        self.target = "http://" + url.partition("://")[2]

    def send(self, message, timeout: float) -> Result:
        body = {"title": message.title, "body": message.body, "level": message.level, "resolved": message.resolved}
        try:
            answer = fetch(self.target, deadline=timeout, method="POST", body=json.dumps(body).encode())
        except OutsideError as error:
            return Result(False, str(error))
        return DELIVERED if 200 <= answer.status < 300 else Result(False, f"answered {answer.status}")


@pytest.fixture(scope="module")
def registered():
    register(SCHEME, PostChannel)
    yield
    CHANNELS.unregister(SCHEME)


def test_a_registered_channel_gets_the_notification_through_every_stage(registered):
    receiver = Receiver(refuse=1)  # the first attempt is refused: the send stage retries it
    route = Route("ops", (f"{SCHEME}://127.0.0.1:{receiver.port}/hook",))
    settings = NotifySettings(routes=(route,), group_wait=0.0, group_interval=0.2, retries=2, backoff=0.05, poll=0.05)
    log = AlertLog()
    notifier = Notifier(log, settings, silences=lambda: NodeSilence("n1"), instance="monitor:8501")
    try:
        now = time.time()
        log.record("custom:a", "fired", "error", "network", "Node n0 is down", {"node": "n0"}, now)
        log.record("custom:b", "fired", "error", "network", "Node n1 is down", {"node": "n1"}, now)  # silenced
        wait_until(lambda: notifier.deliveries.counts()["sent"] == 1, timeout=10)
        (firing,) = receiver.accepted()
        assert firing["title"] == "[FIRING:1] node n0: Node n0 is down" and firing["level"] == "error"
        assert firing["body"].startswith("Incident #1 on monitor:8501: firing since") and not firing["resolved"]
        (sent,) = notifier.deliveries.entries()
        assert sent["target"] == f"http://127.0.0.1:{receiver.port}/hook" and sent["channel"] == "ops"
        assert sent["attempts"] == 2 and sent["errors"] == ["answered 503"]
        log.record("custom:a", "resolved", "info", "network", "Node n0 is back", {"node": "n0"}, time.time())
        wait_until(lambda: notifier.deliveries.counts()["sent"] == 2, timeout=10)
        resolved = receiver.accepted()[-1]
        assert resolved["title"].startswith("[RESOLVED] node n0: Node n0 is down") and resolved["resolved"]
        assert [p for p, _, _ in receiver.received] == ["/hook"] * 3  # nothing about the silenced n1
        assert {i["labels"]["node"]: i["notifications"] for i in notifier.incidents()} == {"n0": 2, "n1": 0}
    finally:
        notifier.close()
        receiver.close()


def test_a_scheme_registered_twice_or_misnamed_is_refused(registered):
    with pytest.raises(ValueError, match="registered for it already"):
        register(SCHEME, PostChannel)
    with pytest.raises(ValueError, match="registered for it already"):
        register("*", PostChannel)  # Apprise takes every other URL
    with pytest.raises(ValueError, match="a URL scheme"):
        Registry().register("Post Hook", PostChannel)
    assert isinstance(CHANNELS.open(f"{SCHEME}://127.0.0.1:9/x"), PostChannel)


def test_an_attempt_that_may_have_arrived_is_not_sent_again():
    log = DeliveryLog()
    sender = Sender(log, timeout=1, retries=3, backoff=0.01)
    calls = []

    def cut(timeout):
        calls.append(timeout)
        return Result(False, "no answer within 1 s", maybe_delivered=True)

    try:
        item = sender.submit(delivery("cut"), cut)
        wait_until(lambda: item.status == FAILED)
    finally:
        sender.close()
    assert calls == [1] and item.errors == ["no answer within 1 s" + NOT_RESENT]


CHECK = """
import sys
from prsm_monitor import MetricsCollector
from prsm_monitor.settings.model import Settings
from prsm_monitor.notify import NotifySettings

HEAVY = ("apprise", "prsm_monitor.notify.apprise_channel", "prsm_monitor.notify.alertmanager")
with MetricsCollector(settings=Settings(demo=False), sources=[]) as collector:
    collector.collect_once()
    collector.notifier.incidents()
    print([m for m in HEAVY if m in sys.modules], collector.notifier.sender)
am = NotifySettings(alertmanager_url="http://127.0.0.1:9")
with MetricsCollector(settings=Settings(demo=False, notify=am), sources=[]) as collector:
    print([m for m in HEAVY if m in sys.modules])
"""


def test_what_is_not_configured_is_not_imported():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRSM_")}
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[] None", "['prsm_monitor.notify.alertmanager']"]
