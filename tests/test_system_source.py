import socket

import psutil

from prsm_monitor.sources import system
from prsm_monitor.sources.system import SystemSource, count_inet_sockets


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


def test_slow_values_are_reread_only_on_their_cadence(monkeypatch):
    counts = iter(range(100, 200))  # a fresh count on every read: only the cadence decides what is shown
    monkeypatch.setattr(system, "count_inet_sockets", lambda: next(counts))
    now = [1000.0]
    source = SystemSource(slow_seconds=5, clock=lambda: now[0])
    assert source.collect()["system"]["active_connections"] == 100
    now[0] += 4.9
    assert source.collect()["system"]["active_connections"] == 100  # repeated within the period
    now[0] += 0.2
    assert source.collect()["system"]["active_connections"] == 101  # re-read once it has passed


def test_socket_count_includes_this_process_own_sockets():
    # the count is machine-wide, so other processes move it: assert only what this process holds
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(20)]
    try:
        mine = len(psutil.Process().net_connections(kind="inet"))
        assert mine >= 20
        assert count_inet_sockets() >= mine
    finally:
        for s in sockets:
            s.close()


def test_busy_percent_counts_idle_and_iowait_as_not_busy():
    from collections import namedtuple

    from prsm_monitor.sources.system import _busy_percent

    Times = namedtuple("Times", "user system idle iowait guest")
    before = Times(user=10.0, system=5.0, idle=80.0, iowait=5.0, guest=2.0)
    after = Times(user=25.0, system=10.0, idle=100.0, iowait=10.0, guest=4.0)  # 20 busy of 45 s (guest is in user)
    assert _busy_percent(before, after) == round(100 * 20 / 45, 1)
    assert _busy_percent(after, after) == 0.0


def test_quick_readings_are_none_until_a_meaningful_span_has_passed():
    now = [1000.0]
    source = SystemSource(clock=lambda: now[0])
    assert source.collect()["system"]["cpu_percent"] is None  # no time has passed on its clock
    now[0] += 0.09
    assert source.collect()["system"]["cpu_percent"] is None  # under 0.1 s: still None, reference kept
    now[0] += 0.02
    record = source.collect()["system"]
    assert record["cpu_percent"] is not None  # 0.11 s since the reference
    assert 0 <= record["cpu_percent"] <= 100 and all(0 <= c <= 100 for c in record["cpu_per_core"])
