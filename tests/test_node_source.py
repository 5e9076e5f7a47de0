"""The node source against fixture PRSM nodes (good, with unknown fields, timing out, 500,
malformed JSON, dripping, redirecting, absurd) and against the demo network's own node APIs.
Real 1.7.0 nodes: tests/test_real_nodes.py."""

import json
import threading

import pytest

from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.demo.network import DemoNetwork
from prsm_monitor.outside import Client
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.rules_file import load_rules
from prsm_monitor.settings.rules_reader import RulesFileError
from prsm_monitor.settings.thresholds import default_thresholds
from prsm_monitor.settings.values import ConfigError
from prsm_monitor.sources.nodes import NodeSource
from prsm_monitor.sources.nodes.reading import MAX_TEXT, NodeError, NodeReading, parse_metrics, read_node
from prsm_monitor.sources.nodes.record import address, dht_latency
from prsm_monitor.sources.registry import REGISTRY
from prsm_monitor.ui.text import escape_markdown

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
    assert not reading.up and reading.error.startswith("/status: no answer")
    assert dht_latency(NodeReading("u", 0.0, metrics={"dht_p50_ms": 0.0, "dht_p95_ms": 0.0})) == (None, None)
    assert dht_latency(NodeReading("u", 0.0, metrics={"dht_p50_ms": 0.0, "dht_p95_ms": 3.0})) == (0.0, 3.0)


def test_a_dripping_node_is_cut_at_its_deadline_and_never_holds_the_tick():
    """Issue 22 (1): /status sends its headers, then a byte every 0.1 s (each read comes well
    within the 0.5 s timeout, the whole answer would take minutes). The poll ends at its total
    deadline (the node is down with a timeout), the tick reads the other node at once, and a
    node that answered and then started to drip goes down with an alert."""
    good = FixtureNode("good", [("drip", True)])
    drip = FixtureNode("drip", behaviour="drip", drip_every=0.1, drip_after=2)  # two good answers, then drips
    source = NodeSource([good.url, drip.url], every=0.1, timeout=0.5, budget=1.0)
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.1), sources=[source])
    try:
        rows = rows_by_url(source.collect()["network"])
        assert rows[address(drip.url)]["status"] == "up"  # its first answers were whole
        record = wait_until(
            lambda: (r := collector.collect_once()["network"])["nodes"][1]["status"] == "down" and r, timeout=5
        )
        assert "no whole answer within 0.5 s" in record["nodes"][1]["error"]
        assert record["nodes"][0]["status"] == "up" and record["active_nodes"] == 1
        ticks = threading.Event()
        threading.Thread(target=lambda: (collector.collect_once(), ticks.set()), daemon=True).start()
        assert ticks.wait(2.0)  # while the node drips (its answer would take minutes), a tick is immediate
        assert [a["message"] for a in collector.get_active_alerts()] == [
            f"Node Node DRIP ({address(drip.url)}) is down"
        ]
        assert "drip" not in str(collector.get_latest_metrics()["network"]["nodes"][0].get("error"))
    finally:
        collector.close()
        good.close()
        drip.close()


def test_redirects_from_a_node_are_not_followed():
    """Issue 22 (8): a node answering 302 to another URL is down, and that URL is never asked."""
    probe = FixtureNode("probe")
    redirecting = FixtureNode("r", behaviour="redirect", redirect_to=probe.url + "/ssrf-probe")
    source = NodeSource([redirecting.url], every=0.05, timeout=0.5)
    try:
        wait_until(lambda: redirecting.requests.count("/status") >= 3)
        row = source.collect()["network"]["nodes"][0]
        assert row["status"] == "down" and "redirected (HTTP 302)" in row["error"] and "not followed" in row["error"]
        assert probe.requests == []
    finally:
        source.close()
        probe.close()
        redirecting.close()


def test_absurd_values_and_a_huge_name_are_refused_before_they_reach_a_page():
    """Issue 22 (11): a display name of 1,000,000 characters, NaN and 1e300: the name is cut,
    the numbers are None with the refusal noted, and the record stays small."""
    node = FixtureNode("x", behaviour="absurd")
    source = NodeSource([node.url], every=0.1, timeout=2.0)
    try:
        records = source.collect()
    finally:
        source.close()
        node.close()
    row = records["network"]["nodes"][0]
    assert len(row["name"]) == MAX_TEXT and row["name"].endswith("…")
    assert row["ftns_balance"] is None and row["uptime_s"] is None
    assert any(p.startswith("ftns_balance: 1e+300 refused") for p in row["problems"])
    assert len(json.dumps(records, default=str)) < 20_000


def test_down_nodes_on_one_host_port_are_separate_alerts_and_passwords_never_show():
    """Issue 22 (11, 2): two node URLs on one host:port with different paths are two alerts;
    a node URL's user name and password appear in no alert, row or error."""
    node = FixtureNode("x", behaviour="error")
    port = node.server.server_address[1]
    urls = [f"http://nodeuser:NODEPW@127.0.0.1:{port}/a", f"http://nodeuser:NODEPW@127.0.0.1:{port}/b"]
    source = NodeSource(urls, every=0.1, timeout=0.5)
    try:
        records = source.collect()
        alerts = list(source.conditions(records))
    finally:
        source.close()
        node.close()
    assert sorted(m for _, _, m, _ in alerts) == [
        f"Node 127.0.0.1:{port}/a is down",
        f"Node 127.0.0.1:{port}/b is down",
    ]
    shown = json.dumps([records, alerts], default=str)
    assert "NODEPW" not in shown and "nodeuser" not in shown
    assert node.requests and all(r.startswith(("/a/", "/b/")) for r in node.requests)


def test_a_route_the_node_does_not_serve_is_asked_once_and_reported_as_not_reported():
    node = FixtureNode("n", behaviour="no_metrics", uptime=100.0)
    source = NodeSource([node.url], every=0.05, timeout=0.5)
    try:
        wait_until(lambda: node.requests.count("/status") >= 5)
        row = source.collect()["network"]["nodes"][0]
        assert node.requests.count("/metrics") == 1
        assert row["status"] == "up" and "/metrics (not served)" in row["unreported"] and row["problems"] == []
        node.uptime = 1.0  # restarted: it may serve what it did not
        wait_until(lambda: node.requests.count("/metrics") == 2)
        polls = node.requests.count("/status")
        wait_until(lambda: node.requests.count("/status") >= polls + 5)
        assert node.requests.count("/metrics") == 2  # asked once after the restart, then left again
    finally:
        source.close()
        node.close()


def test_a_node_whose_answers_stop_coming_is_stale_with_its_age_and_one_alert():
    node = FixtureNode("n")
    source = NodeSource([node.url], every=0.05, timeout=0.2, budget=0.2)
    try:
        wait_until(lambda: source.collect()["network"]["nodes"][0]["status"] == "up")
    finally:
        source.close()  # no poll from now on: the node's last answer only ages
        node.close()
    record = wait_until(lambda: (r := source.collect()["network"])["stale_nodes"] == 1 and r, timeout=5)
    row = record["nodes"][0]
    assert row["status"] == "down" and row["stale"] and row["age_s"] > source.stale_after
    assert "(stale)" in row["error"] and record["active_nodes"] == 0
    assert [m for _, _, m, _ in source.conditions({"network": record})] == [
        f"Node Node N ({address(node.url)}) is stale: no answer for over 3 polls"
    ]


def test_the_default_rules_for_real_nodes_fire_on_what_a_troubled_node_reports():
    node = FixtureNode("x", behaviour="troubled")
    source = NodeSource([node.url], every=0.05, timeout=0.5)
    now = [1_000_000.0]
    c = MetricsCollector(settings=Settings(demo=False), sources=[source], clock=lambda: now[0])
    try:
        wait_until(lambda: node.requests.count("/status") >= 4)
        for _ in range(2):  # the peers rule waits 10 s (on the collector's clock)
            c.collect_once()
            now[0] += 11
        firing = {a["details"]["rule"]: a["level"] for a in c.get_active_alerts() if "rule" in a["details"]}
    finally:
        c.close()
        node.close()
    assert set(firing) == {
        "peers",
        "job_failures",
        "consensus_disagreements",
        "ledger_discrepancies",
        "storage_full",
        "balance_falling",
    }
    # the levels of values that do not grow with each poll: 0 peers, 97 % of pledged storage,
    # every job finished in the window failed
    assert (firing["peers"], firing["storage_full"], firing["job_failures"]) == ("critical",) * 3


def test_a_rules_file_rule_may_watch_a_field_of_real_nodes(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[rules.few_slots]\ncomponent = "ai"\nfield = "job_slots"\ncomparison = "below"\nwarning = 2\n\n'
        '[rules.escrow]\ncomponent = "network"\nfield = "escrow_locked_ftns"\ncomparison = "above"\nwarning = 50\n'
    )
    nodes = REGISTRY.known_fields(Settings(node_urls=("http://node-a:8000",)))
    rules, _ = load_rules(path, default_thresholds(), fields=nodes)
    assert (rules["few_slots"].field, rules["few_slots"].unit) == ("job_slots", "")
    assert (rules["escrow"].component, rules["escrow"].unit) == ("network", "FTNS")


def test_a_rules_file_rule_is_checked_against_the_fields_of_the_sources_configured(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[rules.evictions]\ncomponent = "network"\nfield = "peer_evictions"\ncomparison = "above"\nwarning = 5\n'
    )
    nodes = REGISTRY.known_fields(Settings(node_urls=("http://node-a:8000",)))
    assert load_rules(path, default_thresholds(), fields=nodes)[0]["evictions"].field == "peer_evictions"
    with pytest.raises(RulesFileError) as error:  # the demo declares no such field: the rule could never fire
        load_rules(path, default_thresholds(), fields=REGISTRY.known_fields(Settings(demo=True)))
    assert error.value.key == "rules.evictions.field" and error.value.value == "peer_evictions"


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


def test_the_pages_say_which_nodes_they_watch_and_what_these_nodes_do_not_report(fleet, monkeypatch):
    urls = ",".join(fleet[k].url for k in ("a", "b", "e"))
    for at in fresh_app(monkeypatch, PRSM_NODE_URLS=urls):
        open_page(at, "streamlit_app.py")
        wait_until(lambda: (collector().get_latest_metrics()["network"] or {}).get("active_nodes") == 2)
        open_page(at, "pages/2_Network.py")
        captions = " ".join(c.value for c in at.caption)
        where = ", ".join(escape_markdown(address(fleet[k].url)) for k in ("a", "b", "e"))
        assert f"Watching 3 PRSM nodes through their management APIs (`PRSM_NODE_URLS`: {where})" in captions
        assert "every figure here is what the nodes report; the monitor simulates nothing." in captions
        assert "Not reported by these nodes: total messages, consensus proposals, message rate" in captions
        headings = {"Nodes", "Economy and storage", "Peer links", "Peers", "FTNS", "Storage", "Ledger"}
        assert headings <= {h.value for h in at.subheader}
        nodes, economy = at.dataframe[0].value, at.dataframe[1].value
        assert sorted(nodes["status"]) == ["down", "up", "up"] and list(nodes["bootstrap"]).count("–") == 3
        assert any("answered HTTP 500" in note for note in nodes["note"])
        assert sorted(economy["ftns_balance"].dropna()) == [100.0, 100.0]
        assert sorted(economy["transactions"].dropna()) == [2, 2] and list(economy["storage"]).count("–/–") == 3
        assert any(m.value == "**Real PRSM nodes**" for m in at.sidebar.markdown)  # their rules are tunable
        fleet["a"].uptime = 7.0  # the next version's tables show the nodes' new answers, not the first ones'
        wait_until(lambda: 7.0 in [n["uptime_s"] for n in collector().get_latest_metrics()["network"]["nodes"]])
        open_page(at, "pages/2_Network.py")
        assert "7 s" in list(at.dataframe[0].value["uptime"])
        open_page(at, "pages/3_AI_Models.py")
        assert "Compute jobs by node" in {h.value for h in at.subheader}
        jobs = at.dataframe[0].value
        assert sorted(jobs["jobs_completed"].dropna()) == [4, 4] and sorted(jobs["jobs_failed"].dropna()) == [1, 1]
        assert not at.exception
