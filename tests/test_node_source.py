"""The node source against fixture PRSM nodes (good, with unknown fields, timing out, 500,
malformed JSON, dripping, redirecting, absurd) and against the demo network's own node APIs.
Real 1.7.0 nodes: tests/test_real_nodes.py."""

import json
import threading

import pytest

from prsm_monitor.collector import MetricsCollector
from prsm_monitor.config import ConfigError, Settings
from prsm_monitor.demo.network import DemoNetwork
from prsm_monitor.sources.nodes import NodeSource
from prsm_monitor.outside import Client
from prsm_monitor.sources.nodes.reading import MAX_TEXT, NodeError, NodeReading, parse_metrics, read_node
from prsm_monitor.sources.nodes.record import address, dht_latency

from .conftest import wait_until
from .fixtures.prsm_nodes import FixtureNode
from .test_app import collector, fresh_app, open_page


@pytest.fixture
def fleet():
    nodes = {
        "a": FixtureNode("a", [("b", True), ("z", True)], p50=12.5, p95=40.0, evictions=3),
        "b": FixtureNode("b", [("a", False)], behaviour="extra", p50=20.0, p95=60.0, evictions=1),
        "t": FixtureNode("t", behaviour="timeout"),
        "e": FixtureNode("e", behaviour="error"),
        "m": FixtureNode("m", behaviour="malformed"),
    }
    yield nodes
    for node in nodes.values():
        node.close()


def rows_by_url(record):
    return {row["address"]: row for row in record["nodes"]}


def test_the_records_map_what_the_nodes_report_and_bad_nodes_are_down(fleet):
    source = NodeSource([n.url for n in fleet.values()], every=0.2, timeout=0.5)
    try:
        records = source.collect()
    finally:
        source.close()
    record, ai = records["network"], records["ai"]
    assert (record["total_nodes"], record["active_nodes"]) == (5, 2)
    assert record["total_connections"] == 2  # a-b (reported by both ends, counted once) and a-z
    assert record["average_latency"] == pytest.approx((12.5 + 20.0) / 2)
    assert record["p95_latency"] == 60.0
    assert (record["inbound_connections"], record["outbound_connections"]) == (1.0, 2.0)
    assert record["peer_evictions"] == 4.0
    assert (record["peers_connected"], record["peers_known"], record["min_peers"]) == (3.0, 7.0, 1.0)
    assert (record["ftns_balance"], record["transactions"], record["ledger_discrepancies"]) == (200.0, 4.0, 2.0)
    assert record["message_rate"] is None and record["total_messages"] is None
    assert {"total_messages", "consensus_proposals", "message_rate", "storage_pledged_gb"} <= set(
        record["not_reported"]
    )
    assert (ai["jobs_submitted"], ai["jobs_completed"], ai["jobs_failed"], ai["jobs_pending"]) == (10, 8, 2, 0)
    assert (ai["jobs_active"], ai["jobs_served"], ai["job_slots"]) == (2, 8, 6)
    assert ai["consensus_started"] is None and "consensus_started" in ai["not_reported"]  # consensus is null
    rows = rows_by_url(record)
    a, b = rows[address(fleet["a"].url)], rows[address(fleet["b"].url)]
    assert (a["name"], a["status"], a["links_up"], a["links_total"], a["uptime_s"]) == ("Node A", "up", 2, 4, 3600.0)
    assert a["roles"] == ["compute", "storage"] and (a["latency_ms"], a["latency_p95_ms"]) == (12.5, 40.0)
    assert "storage (null)" in a["unreported"] and "consensus (null)" in a["unreported"]
    assert b["status"] == "up" and b["problems"] == []  # unknown fields are ignored, not errors
    assert "no whole answer within 0.5 s" in rows[address(fleet["t"].url)]["error"]
    assert rows[address(fleet["e"].url)]["error"].endswith("/status answered HTTP 500")
    assert rows[address(fleet["m"].url)]["error"] == "/status: the answer is not JSON"
    assert record["edges"] == [
        {"source": "Node A", "target": "Node B", "up": True, "latency_ms": None, "last_ms": None}
    ]
    alerts = list(source.conditions({"network": record}))
    expected = sorted(f"Node 127.0.0.1:{fleet[k].server.server_address[1]} is down" for k in ("t", "e", "m"))
    assert sorted(message for _, _, message, _ in alerts) == expected
    assert {level for level, *_ in alerts} == {"error"}


def test_a_node_that_never_answers_holds_only_its_own_poll(fleet):
    source = NodeSource([fleet["t"].url, fleet["a"].url], every=0.05, timeout=60)
    try:
        wait_until(lambda: fleet["a"].requests.count("/status") >= 4)
        assert fleet["t"].requests == ["/status"]  # still waiting on its first answer: not asked again
    finally:
        source.close()


def test_a_collector_with_bad_nodes_keeps_ticking_with_one_alert_per_down_node(fleet):
    source = NodeSource([fleet[k].url for k in ("a", "e", "m")], every=0.2, timeout=0.5)
    c = MetricsCollector(settings=Settings(demo=False), sources=[source])
    try:
        metrics = c.collect_once()
        assert metrics["network"]["active_nodes"] == 1 and not metrics["errors"]
        down = [a for a in c.get_active_alerts() if a["message"].endswith("is down")]
        assert len(down) == 2 and {a["level"] for a in down} == {"error"}
        assert c.history("network", 5)["average_latency"].iloc[-1] == 12.5
    finally:
        c.close()


def test_metrics_are_parsed_with_the_prometheus_parser_and_a_zero_window_is_no_measurement():
    text = '# TYPE p2p_connected_peers gauge\np2p_connected_peers 4\np2p_connected_peers{shard="x"} 9\n'
    assert parse_metrics(text) == {"connected_peers": 4.0}
    with pytest.raises(NodeError, match="metrics do not parse"):
        parse_metrics("p2p_connected_peers four\n")
    reading = read_node(Client("http://127.0.0.1:9", deadline=0.5), 1.0)  # nothing listens on the discard port
    assert not reading.up and reading.error.startswith("/status: http://127.0.0.1:9/status: no answer")
    assert dht_latency(NodeReading("u", 0.0, metrics={"dht_p50_ms": 0.0, "dht_p95_ms": 0.0})) == (None, None)
    assert dht_latency(NodeReading("u", 0.0, metrics={"dht_p50_ms": 0.0, "dht_p95_ms": 3.0})) == (0.0, 3.0)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("http://node-a:8000, https://10.0.0.7:8000/", ("http://node-a:8000", "https://10.0.0.7:8000")),
        ("http://a:1,http://a:1", ("http://a:1",)),
        ("", ()),
    ],
)
def test_node_urls_are_read_from_the_environment(raw, expected):
    assert Settings.from_env({"PRSM_NODE_URLS": raw}).node_urls == expected


@pytest.mark.parametrize("raw", ["node-a:8000", "ftp://node-a", "http://a:1,", "http://a b:1", "http://a:1?x=1"])
def test_a_bad_node_url_names_the_variable_and_what_is_expected(raw):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({"PRSM_NODE_URLS": raw})
    assert error.value.variable == "PRSM_NODE_URLS"
    assert "http:// or https:// URLs of PRSM node APIs" in str(error.value)


def test_the_demo_network_is_read_the_same_way_through_its_nodes_apis():
    network = DemoNetwork(4, 2, 0.0, node_api=True).start()
    source = NodeSource(network.api_urls(), every=0.1, timeout=1.0)
    try:
        record = source.collect()["network"]
        assert (record["total_nodes"], record["active_nodes"]) == (4, 4)
        assert record["total_connections"] == len(network.edges)
        assert sorted((e["source"], e["target"]) for e in record["edges"]) == sorted(network.edges)
        assert record["average_latency"] is None and "average_latency" in record["not_reported"]  # no DHT
        victim = network.names[1]
        network.stop_node(victim)
        record = wait_until(lambda: (r := source.collect()["network"])["active_nodes"] == 3 and r)
        assert [row["name"] for row in record["nodes"] if row["status"] == "down"] == [victim]
        network.start_node(victim)
        wait_until(lambda: source.collect()["network"]["active_nodes"] == 4)
    finally:
        source.close()
        network.stop()


def test_the_network_page_says_what_these_nodes_do_not_report(fleet, monkeypatch):
    urls = ",".join(fleet[k].url for k in ("a", "b", "e"))
    for at in fresh_app(monkeypatch, PRSM_NODE_URLS=urls):
        open_page(at, "streamlit_app.py")
        wait_until(lambda: (collector().get_latest_metrics()["network"] or {}).get("active_nodes") == 2)
        open_page(at, "pages/2_Network.py")
        captions = " ".join(c.value for c in at.caption)
        assert "Not reported by these nodes: Messages delivered, Consensus proposals, Messages/s." in captions
        assert "Consensus rounds are not reported by these nodes." in captions
        assert {"DHT query latency", "Connections"} <= {h.value for h in at.subheader}
        nodes = at.dataframe[0].value
        assert sorted(nodes["status"]) == ["down", "up", "up"]
        assert set(nodes["links"]) == {"2/4", "1/3", "0/–"}
        open_page(at, "pages/3_AI_Models.py")
        assert any("not reported by PRSM nodes' management APIs" in i.value for i in at.info)
