"""The demo's memory leak: real, written buffers that grow at the set rate until the node is stopped."""

from __future__ import annotations

import pytest

from prsm_monitor.demo.faults import apply_fault
from prsm_monitor.demo.leak import CHUNK, MIB, Memory
from prsm_monitor.demo.network import DemoNetwork
from prsm_monitor.settings.values import ConfigError
from prsm_monitor.sources.prsm import PrsmSource

from .conftest import wait_until


def test_memory_grows_at_the_rate_with_bytes_really_written():
    memory = Memory(base_bytes=1000, limit_bytes=8 * MIB)
    memory.leak(MIB, now=0.0)  # 1 MiB/s
    memory.grow(2.5)
    assert memory.memory_bytes == 1000 + int(2.5 * MIB)
    assert all(buffer.count(1) == len(buffer) for buffer in memory._held)  # every byte written
    assert max(len(b) for b in memory._held) <= CHUNK
    memory.grow(8.0)
    assert memory.exhausted
    memory.free()
    assert memory.memory_bytes == 1000 and not memory.exhausted


def test_a_leaking_node_reports_its_memory_and_is_stopped_at_its_limit():
    network = DemoNetwork(nodes=3, peers=2, rate=1.0, heartbeat=0.2).start()
    source = PrsmSource(network)
    try:
        apply_fault(network, {"action": "leak", "name": "node-1", "mb_per_min": 1024})  # 64 MiB in ~4 s
        assert network.faults()["leak_mb_per_min"] == {"node-1": 1024.0}

        def node(name):
            return next(n for n in source.collect()["network"]["nodes"] if n["name"] == name)

        wait_until(lambda: (node("node-1").get("memory_percent") or 0) > 20, timeout=10)
        assert node("node-0")["memory_percent"] < 1  # the others hold only their models
        wait_until(lambda: node("node-1")["status"] == "down", timeout=15)  # out of memory
        assert source.collect()["node:node-0"]["memory_percent"] < 1
    finally:
        source.close()


def test_a_bad_leak_rate_names_the_field():
    network = DemoNetwork(nodes=2, peers=1, rate=0.0)
    network.nodes = {}
    with pytest.raises(ConfigError) as info:
        apply_fault(network, {"action": "leak", "name": "node-0", "mb_per_min": -5})
    assert info.value.variable == "fault.mb_per_min"
