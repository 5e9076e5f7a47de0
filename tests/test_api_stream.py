"""The event stream's plumbing: bounded per-client queues, detaching vanished and slow clients."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import requests
from starlette.applications import Starlette

from prsm_monitor.api import Api, FixedCollector, middleware
from prsm_monitor.api.stream import EventHub, EventStream
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.settings.model import Settings

from .conftest import wait_until
from .fixtures.server import InProcessServer


def test_a_full_queue_drops_its_oldest_frames_and_never_blocks_the_collector():
    collector = MetricsCollector(settings=Settings(demo=False))
    collector.collect_once()
    hub = EventHub(lambda: collector, queue_size=8)

    async def scenario():
        client = hub.subscribe()
        assert hub.attached is collector
        thread = threading.Thread(target=lambda: [hub.process({"tick": i}) for i in range(100)])
        thread.start()
        thread.join(5)  # the collector's side returns at once, whatever the client does
        assert not thread.is_alive()
        await asyncio.sleep(0)  # let the loop run the deliveries
        for _ in range(100):
            await asyncio.sleep(0)
        assert client.queue.qsize() == 8 and client.dropped == 92
        newest = client.queue.get_nowait()
        while not client.queue.empty():
            newest = client.queue.get_nowait()
        assert b'"tick":99' in newest  # the newest frames survived
        hub.unsubscribe(client)
        assert hub.attached is None  # the last client gone: no longer a plugin

    asyncio.run(scenario())
    collector.close()


@pytest.fixture
def served():
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.1))
    collector.start()
    api = Api(FixedCollector(collector))
    with InProcessServer(Starlette(routes=api.routes, middleware=middleware(Settings()))) as server:
        yield collector, api.hub, server
    collector.close()


def open_stream(server, read=True) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /api/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    if read:
        assert b"200 OK" in sock.recv(65536)
    return sock


def test_vanished_clients_are_detached(served):
    collector, hub, server = served
    sockets = [open_stream(server) for _ in range(5)]
    wait_until(lambda: hub.clients == 5)
    assert hub.attached is collector
    for sock in sockets:
        sock.close()
    wait_until(lambda: hub.clients == 0)
    assert hub.attached is None


def test_a_client_that_never_reads_does_not_hold_up_the_others(served):
    collector, hub, server = served
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = server.url.removeprefix("http://").split(":")
    stuck.connect((host, int(port)))
    stuck.sendall(f"GET /api/stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())  # and never reads
    try:
        wait_until(lambda: hub.clients == 1)
        ticks = collector.get_latest_metrics()["collector"]["ticks_total"]
        with requests.get(server.url + "/api/stream", stream=True, timeout=5) as response:
            lines = response.iter_lines(decode_unicode=True)
            updates = 0
            for line in lines:
                updates += line == "event: metrics_update"
                if updates >= 20:
                    break
        # a tick is published before its own count is: poll for the count, with a deadline
        wait_until(lambda: collector.get_latest_metrics()["collector"]["ticks_total"] >= ticks + 19)
        assert hub.clients >= 1  # the stuck one is still attached, with a bounded queue
    finally:
        stuck.close()
    wait_until(lambda: hub.clients == 0)


@pytest.mark.parametrize("value", ["1" * 5000, "²", "-1", "1.5", "abc", "1 2", "٣"])
def test_a_bad_last_event_id_is_a_400_and_takes_no_slot(served, value):
    """Issue 9: 256 requests with a 5,000-digit id (or '²', a digit to str.isdigit) each got a
    500 and kept a slot, and then every client got 503 too_many_clients until a restart."""
    _, hub, server = served
    with requests.Session() as http:
        for _ in range(300 if value == "²" else 3):  # more than MAX_CLIENTS (256) once
            response = http.get(server.url + "/api/stream", headers={"Last-Event-ID": value.encode("utf-8")}, timeout=5)
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["parameter"] == "Last-Event-ID" and "digits" in body["expected"]
    assert hub.clients == 0
    with requests.get(server.url + "/api/stream", stream=True, timeout=5, headers={"Last-Event-ID": "0"}) as ok:
        assert ok.status_code == 200
        assert next(ok.iter_lines(decode_unicode=True)).startswith("retry:")


def test_head_is_answered_at_once_without_a_slot(served):
    _, hub, server = served
    for _ in range(3):
        response = requests.head(server.url + "/api/stream", timeout=5)  # it never finished before
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert hub.clients == 0


def run_stream(hub, send, idle_timeout=0.2):
    """An EventStream response driven directly; returns once it ended."""

    async def scenario():
        disconnect = asyncio.Event()

        async def receive():
            await disconnect.wait()
            return {"type": "http.disconnect"}

        stream = EventStream(hub, [b"event: x\ndata: {}\n\n"], idle_timeout=idle_timeout)
        await asyncio.wait_for(stream({"type": "http"}, receive, send), 10)

    asyncio.run(scenario())


def test_a_client_that_stops_reading_is_dropped_after_the_idle_timeout():
    collector = MetricsCollector(settings=Settings(demo=False))
    hub = EventHub(lambda: collector)
    sent = []

    async def stuck(message):  # the peer's window is full: the send never completes
        sent.append(message["type"])
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()

    run_stream(hub, stuck)
    assert sent == ["http.response.start", "http.response.body"] and hub.clients == 0
    collector.close()


def test_the_slot_is_given_back_when_the_response_fails():
    collector = MetricsCollector(settings=Settings(demo=False))
    hub = EventHub(lambda: collector)

    async def broken(message):
        raise RuntimeError("the server failed mid-response")

    with pytest.raises(RuntimeError):
        run_stream(hub, broken)
    assert hub.clients == 0 and hub.attached is None
    collector.close()
