"""The event stream's plumbing: bounded per-client queues, detaching vanished and slow clients."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import requests
from starlette.applications import Starlette

from prsm_monitor.api import Api, FixedCollector, middleware
from prsm_monitor.api.stream import EventHub
from prsm_monitor.collector import MetricsCollector
from prsm_monitor.config import Settings

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
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.05))
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
        assert collector.get_latest_metrics()["collector"]["ticks_total"] >= ticks + 19
        assert hub.clients >= 1  # the stuck one is still attached, with a bounded queue
    finally:
        stuck.close()
    wait_until(lambda: hub.clients == 0)
