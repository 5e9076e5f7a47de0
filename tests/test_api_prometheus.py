"""The Prometheus exposition: names with units, help, per-node / per-model labels, no global state."""

from __future__ import annotations

import time

import prometheus_client
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from prsm_monitor.api.exposition import make_registry, metric_name
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import COUNTER, GAUGE, TIMESTAMP, Field
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.prsm.fields import DISTRIBUTIONS, ROWS


class FakePrsm:
    """Network and AI records of the demo source's shape, with two nodes and two model instances."""

    components = ("network", "ai")
    rows = ROWS  # the rows and distributions the PRSM source declares
    distributions = DISTRIBUTIONS
    fields = {
        "network": (
            TIMESTAMP,
            Field("active_nodes", "1", GAUGE, "Nodes up"),
            Field("total_messages", "1", COUNTER, "Frames delivered"),
            Field("average_latency", "ms", GAUGE, "Mean round trip"),
            Field("bytes_rate", "B/s", GAUGE, "Bytes per second"),
        ),
        "ai": (TIMESTAMP, Field("success_rate", "1", GAUGE, "Successful share (0..1)")),
    }

    def collect(self):
        now = time.time()
        nodes = [
            {"name": "node-0", "status": "up", "latency_ms": 2.0, "messages_in": 10, "uptime_s": 5.0},
            {"name": "node-1", "status": "down", "down_since": now},
        ]
        models = [
            {"node": "node-0", "model": "intent-mlp", "status": "up", "inferences": 7, "p95_time_s": 0.2},
            {"node": "node-1", "model": "intent-mlp", "status": "down"},
        ]
        return {
            "network": {
                "timestamp": now,
                "active_nodes": 1,
                "total_messages": 42,
                "average_latency": 2.0,
                "bytes_rate": 1000.0,
                "nodes": nodes,
                "edges": [{"source": "node-0", "target": "node-1", "up": False, "latency_ms": None}],
            },
            "ai": {
                "timestamp": now,
                "success_rate": 0.5,
                "models": models,
                "model_summary": [{"model": "intent-mlp", "hosts": 2, "live_hosts": 1, "success_rate": 0.5}],
                "models_by_name": {"intent-mlp": 2},
                "model_distribution": {"numpy": 2},
            },
        }


def collector_with(source):
    collector = MetricsCollector(settings=Settings(demo=False), sources=[source])
    collector.collect_once()
    return collector


def scrape(full: bool) -> dict:
    collector = MetricsCollector(settings=Settings(demo=False), sources=[FakePrsm()])
    collector.collect_once()
    text = generate_latest(make_registry(lambda: collector, full=full)).decode()
    collector.close()
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.fixture
def families():
    return scrape(full=True)


def test_basic_detail_keeps_per_node_and_per_model_but_not_the_high_cardinality_series():
    basic = scrape(full=False)
    assert {"prsm_network_node_up", "prsm_network_node_latency_seconds", "prsm_ai_model_success_rate"} <= set(basic)
    assert "prsm_ai_model_instances" in basic
    assert not {"prsm_network_link_up", "prsm_ai_model_instance_up", "prsm_network_node_messages_in"} & set(basic)


def samples(family):
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples}


@pytest.mark.parametrize(
    "component, field, unit, name, factor",
    [
        ("system", "memory_used_gb", "GB", "prsm_system_memory_used_bytes", 1024**3),
        ("system", "network_sent_mb", "MB", "prsm_system_network_sent_bytes", 1024**2),
        ("system", "cpu_percent", "%", "prsm_system_cpu_percent", 1),
        ("system", "disk_read_bytes_per_s", "B/s", "prsm_system_disk_read_bytes_per_second", 1),
        ("network", "bytes_rate", "B/s", "prsm_network_bytes_per_second", 1),
        ("network", "average_latency", "ms", "prsm_network_average_latency_seconds", 0.001),
        ("collector", "tick_duration_ms", "ms", "prsm_collector_tick_duration_seconds", 0.001),
        ("ai", "average_inference_time", "s", "prsm_ai_average_inference_time_seconds", 1),
        ("network_node", "uptime_s", "s", "prsm_network_node_uptime_seconds", 1),
        ("ai", "success_rate", "1", "prsm_ai_success_rate", 1),
    ],
)
def test_names_carry_base_units(component, field, unit, name, factor):
    assert metric_name(component, field, unit)[:2] == (name, factor)


def test_component_fields_become_gauges_and_counters(families):
    assert families["prsm_network_active_nodes"].type == "gauge"
    messages = families["prsm_network_messages"]  # one _total: not prsm_network_total_messages_total
    assert messages.type == "counter" and messages.samples[0].name == "prsm_network_messages_total"
    assert families["prsm_network_average_latency_seconds"].samples[0].value == pytest.approx(0.002)
    assert families["prsm_network_bytes_per_second"].samples[0].value == 1000
    assert all(f.documentation for f in families.values())


def test_per_node_and_per_model_detail_has_labels(families):
    assert samples(families["prsm_network_node_up"]) == {(("node", "node-0"),): 1.0, (("node", "node-1"),): 0.0}
    assert samples(families["prsm_network_node_latency_seconds"]) == {(("node", "node-0"),): pytest.approx(0.002)}
    assert families["prsm_network_node_messages_in"].type == "counter"
    assert samples(families["prsm_network_link_up"]) == {(("source", "node-0"), ("target", "node-1")): 0.0}
    assert "prsm_network_link_latency_seconds" not in families  # no value: no sample, not an invented 0
    up = samples(families["prsm_ai_model_instance_up"])
    instance = ("model", "intent-mlp")
    assert up == {(instance, ("node", "node-0")): 1.0, (instance, ("node", "node-1")): 0.0}
    assert families["prsm_ai_model_instance_inferences"].type == "counter"
    assert samples(families["prsm_ai_model_success_rate"]) == {(("model", "intent-mlp"),): 0.5}
    assert samples(families["prsm_ai_model_instances"]) == {(("model", "intent-mlp"),): 2.0}
    assert samples(families["prsm_ai_framework_instances"]) == {(("framework", "numpy"),): 2.0}


def test_a_counter_named_total_x_has_one_total():
    assert metric_name("ai", "total_inferences", "1", counter=True)[0] == "prsm_ai_inferences"
    assert metric_name("ai", "total_models", "1")[0] == "prsm_ai_total_models"  # a gauge keeps its name
    with collector_with(FakePrsm()) as collector:
        text = generate_latest(make_registry(lambda: collector)).decode()
    assert "prsm_network_messages_total 42.0" in text and "_total_" not in text.replace("memory_total_bytes", "")


def test_active_alerts_by_level_and_component(families):
    alerts = samples(families["prsm_active_alerts"])
    assert len(alerts) == 4 * 3 and set(alerts.values()) <= {0.0, 1.0}
    assert (("component", "network"), ("level", "error")) in alerts


def test_nothing_is_registered_globally():
    import prsm_monitor.api  # noqa: F401 - importing must not register anything

    prsm_monitor.api.routes()  # nor building the routes
    names = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("prsm_") for name in names)
