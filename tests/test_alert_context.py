"""What an alert's row says besides its message (prsm_monitor.alerts.context)."""

from prsm_monitor.alerts.context import context, facts, since

NETWORK = {
    "nodes": [
        {"name": "n0", "address": "127.0.0.1:9000", "status": "down", "links_up": 0, "links_total": 2,
         "models": ["fraud-mlp"]},
        {"name": "n1", "address": "127.0.0.1:9001", "status": "up", "links_up": 1, "links_total": 2, "models": []},
        {"name": "n2", "address": "127.0.0.1:9002", "status": "up", "links_up": 1, "links_total": 2, "models": []},
    ],
    "edges": [
        {"source": "n0", "target": "n1", "up": False, "latency_ms": None},
        {"source": "n2", "target": "n0", "up": False, "latency_ms": None},
        {"source": "n1", "target": "n2", "up": True, "latency_ms": 312.4},
    ],
}  # fmt: skip
AI = {
    "models": [
        {"node": "n1", "model": "fraud-mlp", "mean_confidence": 0.91, "p95_time_s": 0.2, "success_rate": 1.0},
        {"node": "n2", "model": "topic-softmax", "mean_confidence": 0.61, "p95_time_s": 4.5, "success_rate": 0.5},
        {"node": "n2", "model": "demand-linear", "mean_confidence": None, "p95_time_s": 0.1, "success_rate": 0.9},
    ]
}
LATEST = {"network": NETWORK, "ai": AI}


def test_facts_say_the_value_now_the_threshold_and_for_how_long():
    alert = {"started": 100.0, "details": {"value": 92.3456, "threshold": 80.0, "unit": "%"}}
    assert facts(alert, 100.0 + 754) == "now 92.3% · threshold 80% · for 12 min"
    assert facts({"started": 0.0, "details": {}}, 3 * 3600 + 300) == "for 3 h 5 min"
    assert (since(5), since(86400 * 2 + 3600)) == ("5 s", "2 d 1 h")


def test_a_node_that_is_down_comes_with_its_links_and_models():
    alert = {"component": "network", "details": {"node": "n0"}}
    assert context(alert, LATEST) == [
        "Node n0 at 127.0.0.1:9000: down, links 0/2 up",
        "Links: n1 (down), n2 (down)",
        "Hosts: fraud-mlp",
    ]


def test_latency_names_the_slowest_links_and_the_nodes_down():
    alert = {"component": "network", "details": {"rule": "latency", "field": "average_latency"}}
    lines = context(alert, LATEST)
    assert lines[0].startswith("Slowest links: n0 ↔ n1 down, n2 ↔ n0 down, n1 ↔ n2 312 ms")
    assert lines[1] == "Nodes down: n0"


def test_ai_rules_name_the_worst_models_and_their_hosts():
    confidence = {"component": "ai", "details": {"field": "average_confidence"}}
    assert context(confidence, LATEST) == [
        "Worst models: topic-softmax on n2 confidence 0.61, fraud-mlp on n1 confidence 0.91"
    ]
    slow = {"component": "ai", "details": {"field": "average_inference_time"}}
    assert context(slow, LATEST)[0].startswith("Worst models: topic-softmax on n2 p95 time 4.50 s")


def test_cpu_and_memory_name_the_top_processes():
    processes = [
        {"pid": 1, "name": "idle", "cpu_percent": 0.5, "memory_mb": 900.0},
        {"pid": 2, "name": "build", "cpu_percent": 180.0, "memory_mb": 50.0},
    ]
    cpu = {"component": "system", "details": {"field": "cpu_percent"}}
    assert context(cpu, LATEST, processes) == ["Top CPU: build (pid 2) 180%, idle (pid 1) 0%"]
    memory = {"component": "system", "details": {"field": "memory_percent"}}
    assert context(memory, LATEST, processes)[0].startswith("Top memory: idle (pid 1) 900 MB")
    assert context({"component": "system", "details": {}}, {}) == []


def test_a_nodes_memory_alert_comes_with_the_node_not_the_hosts_processes():
    """Issue 21: node-0's memory anomaly listed the host's top processes ("chromium 510 MB")."""
    processes = [{"pid": 1, "name": "chromium", "cpu_percent": 90.0, "memory_mb": 510.0}]
    for field in ("memory_percent", "cpu_percent"):
        alert = {"component": "network", "details": {"series": "node:n1", "field": field, "node": "n1"}}
        lines = context(alert, LATEST, processes)
        assert lines[0].startswith("Node n1 at 127.0.0.1:9001") and not any("chromium" in line for line in lines)
