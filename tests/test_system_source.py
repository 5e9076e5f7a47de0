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


def test_busy_percent_counts_idle_and_iowait_as_not_busy():
    from collections import namedtuple

    from prsm_monitor.sources.system import _busy_percent

    Times = namedtuple("Times", "user system idle iowait guest")
    before = Times(user=10.0, system=5.0, idle=80.0, iowait=5.0, guest=2.0)
    after = Times(user=25.0, system=10.0, idle=100.0, iowait=10.0, guest=4.0)  # 20 busy of 45 s (guest is in user)
    assert _busy_percent(before, after) == round(100 * 20 / 45, 1)
    assert _busy_percent(after, after) == 0.0


def test_quick_readings_are_none_until_a_meaningful_span_has_passed():
    source = SystemSource()
    assert source.collect()["system"]["cpu_percent"] is None
    record = wait_until(lambda: (r := source.collect()["system"])["cpu_percent"] is not None and r)
    assert 0 <= record["cpu_percent"] <= 100 and all(0 <= c <= 100 for c in record["cpu_per_core"])
