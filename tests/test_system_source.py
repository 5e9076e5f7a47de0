import socket
from types import SimpleNamespace

import psutil

from prsm_monitor.sources import system
from prsm_monitor.sources.system import MB, SystemSource, count_inet_sockets


def test_record_has_every_declared_field_and_per_core_values():
    source = SystemSource()
    record = source.collect()["system"]
    declared = [f.name for f in source.fields["system"]]
    assert set(declared) <= set(record)
    assert len(record["cpu_per_core"]) == psutil.cpu_count()
    assert record["memory_total_gb"] * 1024**3 == psutil.virtual_memory().total
    assert record["network_sent_bytes_per_s"] is None  # no previous reading: no rate, not 0


def Io(sent: int, received: int) -> SimpleNamespace:
    return SimpleNamespace(bytes_sent=sent, bytes_recv=received)


def test_rates_come_from_counter_deltas_of_the_network_interfaces_not_loopback(monkeypatch):
    counters = {
        "lo": Io(0, 0),
        "eth0": Io(1_000, 5_000),
    }
    flags = {"lo": "up,loopback,running", "eth0": "up,broadcast,running,multicast"}
    monkeypatch.setattr(psutil, "net_io_counters", lambda pernic, nowrap: dict(counters))
    monkeypatch.setattr(psutil, "net_if_stats", lambda: {n: SimpleNamespace(flags=f) for n, f in flags.items()})
    now = [1000.0]
    source = SystemSource(slow_seconds=0, clock=lambda: now[0])
    first = source.collect()["system"]
    assert first["network_sent_mb"] * MB == 1_000 and first["network_recv_mb"] * MB == 5_000
    now[0] += 2.0
    counters["lo"] = Io(9_000_000, 9_000_000)  # a local load test
    counters["eth0"] = Io(3_000, 6_000)
    record = source.collect()["system"]
    assert record["network_sent_bytes_per_s"] == 1_000 and record["network_recv_bytes_per_s"] == 500
    assert record["disk_read_bytes_per_s"] is not None or psutil.disk_io_counters() is None
    counters["wlan0"] = Io(0, 0)  # a new interface is looked up
    flags["wlan0"] = "up,broadcast,running"
    counters["lo0"] = Io(7, 7)  # named as on macOS, flags unread
    flags["lo0"] = ""
    now[0] += 1.0
    assert source.collect()["system"]["network_sent_mb"] * MB == 3_000


def test_the_machine_s_loopback_interface_is_recognised():
    stats = psutil.net_if_stats()
    loopback = [name for name in stats if system._is_loopback(name, stats[name])]
    assert loopback, stats  # every machine the monitor runs on has one (lo, lo0, Loopback Pseudo-Interface)
    assert all(not system._is_loopback(name, stats[name]) for name in stats if name.startswith(("eth", "en")))


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
