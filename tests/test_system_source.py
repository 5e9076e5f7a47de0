import socket

import psutil

from prsm_monitor.sources.system import SystemSource, count_inet_sockets

from .conftest import wait_until


def test_record_has_every_declared_field_and_per_core_values():
    source = SystemSource()
    record = source.collect()["system"]
    declared = [f.name for f in source.fields["system"]]
    assert set(declared) <= set(record)
    assert len(record["cpu_per_core"]) == psutil.cpu_count()
    assert record["memory_total_gb"] * 1024**3 == psutil.virtual_memory().total
    assert record["network_sent_bytes_per_s"] is None  # no previous reading: no rate, not 0


def test_rates_come_from_counter_deltas():
    source = SystemSource(slow_seconds=0)
    source.collect()
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    try:
        client.sendall(b"x" * 2_000_000)
        received = 0
        while received < 2_000_000:
            received += len(peer.recv(1 << 20))
        record = source.collect()["system"]
        assert record["network_sent_bytes_per_s"] > 0 and record["network_recv_bytes_per_s"] > 0
        assert record["disk_read_bytes_per_s"] is not None or psutil.disk_io_counters() is None
    finally:
        for s in (client, peer, server):
            s.close()


def test_slow_values_are_reread_only_on_their_cadence():
    source = SystemSource(slow_seconds=3600)
    first = source.collect()["system"]
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(50)]
    try:
        assert source.collect()["system"]["active_connections"] == first["active_connections"]
        fresh = SystemSource(slow_seconds=0)
        assert fresh.collect()["system"]["active_connections"] >= first["active_connections"] + 40
    finally:
        for s in sockets:
            s.close()


def test_socket_count_sees_sockets_open_and_close():
    before = count_inet_sockets()
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(20)]
    assert count_inet_sockets() >= before + 20
    for s in sockets:
        s.close()
    wait_until(lambda: count_inet_sockets() <= before + 2)
