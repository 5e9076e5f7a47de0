"""Three real PRSM 1.7.0 nodes (``prsm-network`` from PyPI, in the virtual environment
``test.sh`` installs) on loopback, real compute jobs between them, and the dashboard's figures
checked against each node's own ``/status``; a node stopped raises its alert, restarted
resolves it."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest
import requests

from prsm_monitor.api import build_app
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.outside import Client, OutsideError
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.nodes import NodeSource
from prsm_monitor.sources.nodes.fields import VALUES

from .conftest import wait_until
from .fixtures.prsm_nodes import RealNetwork, real_venv_or_skip
from .fixtures.server import ROOT, InProcessServer

JOBS = 3


@pytest.fixture(scope="module")
def network():
    venv = real_venv_or_skip()
    with RealNetwork(3, venv=venv) as network:
        network.wait_connected()
        requester = network.nodes[1]
        jobs = [requester.submit("benchmark", {"iterations": 2000}, 1.0)["job_id"] for _ in range(JOBS)]
        wait_until(lambda: all(requester.job(j)["status"] in ("completed", "failed") for j in jobs), timeout=60)
        yield network


@pytest.fixture(scope="module")
def watched(network):
    source = NodeSource(network.urls, every=0.2, timeout=2.0)
    collector = MetricsCollector(settings=Settings(demo=False, interval=0.2), sources=[source])
    yield collector
    collector.close()


def pick(status: dict, value) -> float | None:
    """A value of VALUES out of a node's /status, as the source reads it."""
    node = status
    for key in value.path:
        if not isinstance(node, dict):
            return None
        if key not in node:
            return 0.0 if value.absent_is_zero and isinstance(node, dict) else None
        node = node[key]
    return None if node is None else float(node)


STEADY = [v for v in VALUES if v.route == "/status" and v.key != "uptime_s"]  # uptime moves every poll


def settled(network, collector):
    """Every node's /status and the dashboard's latest records for the same moment: the
    node's figures read before and after the tick, equal (nothing moved in between)."""
    before = [n.status() for n in network.nodes]
    wait_until(lambda: collector.collect_once()["network"]["active_nodes"] == 3)
    metrics = collector.get_latest_metrics()
    after = [n.status() for n in network.nodes]
    same = all(pick(b, v) == pick(a, v) for b, a in zip(before, after, strict=True) for v in STEADY)
    return same and (after, metrics)


def test_the_dashboard_shows_what_each_real_node_reports(network, watched):
    statuses, metrics = wait_until(lambda: settled(network, watched), timeout=30)
    rows = {row["name"]: row for row in metrics["network"]["nodes"]}
    assert sorted(rows) == ["real-1", "real-2", "real-3"]
    for node, status in zip(network.nodes, statuses, strict=True):
        row = rows[status["display_name"]]
        assert (row["status"], row["node_id"], row["address"]) == ("up", status["node_id"], node.url[7:])
        for value in STEADY:
            assert row[value.key] == pick(status, value), (node.name, value.key)
        assert row["uptime_s"] == pytest.approx(status["uptime_seconds"], abs=5)
        assert "/metrics (not served)" in row["unreported"]  # 1.7.0 has no /metrics: reported once, not an error
    network_record, ai = metrics["network"], metrics["ai"]
    for value in STEADY:  # the network's figures: the nodes' own, combined
        numbers = [pick(s, value) for s in statuses]
        if value.total == "sum":
            record = network_record if value.component == "network" else ai
            assert record[value.field or value.key] == pytest.approx(sum(numbers)), value.key
    requester = statuses[1]
    assert requester["compute_requester"]["total_submitted"] == JOBS == ai["jobs_submitted"]
    assert requester["compute_requester"]["by_status"]["completed"] == JOBS == ai["jobs_completed"]
    assert ai["jobs_served"] == JOBS  # run by the other nodes, as each provider's completed_jobs says
    assert requester["ftns_balance"] == 100.0 - JOBS  # paid 1 FTNS a job from its welcome grant
    assert network_record["ftns_balance"] == pytest.approx(sum(s["ftns_balance"] for s in statuses))
    assert network_record["min_peers"] == min(s["peers"]["connected"] for s in statuses) >= 1
    assert network_record["total_connections"] >= 2 and len(network_record["edges"]) >= 2
    assert "jobs_completed" in watched.history("ai", 5).columns
    assert watched.history("network", 5)["ftns_balance"].iloc[-1] == network_record["ftns_balance"]


def test_the_api_and_prometheus_serve_the_real_nodes_figures(network, watched):
    watched.collect_once()
    with InProcessServer(build_app(Settings(), watched)) as server:
        served = requests.get(server.url + "/api/metrics", timeout=10).json()
        text = requests.get(server.url + "/metrics", timeout=10).text
    statuses = {s["display_name"]: s for s in (n.status() for n in network.nodes)}
    rows = {row["name"]: row for row in served["network"]["nodes"]}
    for name, status in statuses.items():
        assert rows[name]["ftns_balance"] == status["ftns_balance"]
        assert rows[name]["storage_pledged_gb"] == status["storage"]["pledged_gb"]
    assert served["ai"]["jobs_completed"] == JOBS
    assert f"prsm_ai_jobs_completed {JOBS:.1f}" in text or f"prsm_ai_jobs_completed_total {JOBS:.1f}" in text
    assert 'prsm_node_ftns_balance{node="real-2"} 97.0' in text


def test_a_stopped_node_raises_its_alert_and_a_restarted_one_resolves_it(network, watched):
    victim = network.nodes[2]
    watched.start()
    try:
        network.stop_node(victim)
        down = wait_until(
            lambda: [a for a in watched.get_active_alerts() if "real-3" in a["message"] and "down" in a["message"]],
            timeout=10,
        )
        assert down[0]["level"] == "error" and down[0]["details"]["address"] == victim.url[7:]
        network.start_node(victim)
        network.wait_up(victim)
        wait_until(lambda: not [a for a in watched.get_active_alerts() if "real-3" in a["message"]], timeout=15)
        resolved = [e for e in watched.log.events() if e["message"] == f"Resolved: {down[0]['message']}"]
        assert resolved
    finally:
        watched.stop()


def test_real_demo_starts_real_nodes_and_stops_them_on_ctrl_c(tmp_path):
    """``python -m prsm_monitor real-demo --no-dashboard``: real nodes whose APIs answer, jobs
    submitted between them, and nothing left running after Ctrl-C."""
    real_venv_or_skip()
    process = subprocess.Popen(
        [sys.executable, "-m", "prsm_monitor", "real-demo", "--nodes", "2", "--job-every", "1", "--no-dashboard"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    try:
        urls = wait_until(
            lambda: next((ln.split("=", 1)[1].strip() for ln in lines if ln.startswith("PRSM_NODE_URLS=")), None),
            timeout=90,
        ).split(",")
        assert len(urls) == 2
        wait_until(lambda: sum("submitted job" in ln for ln in lines) >= 2, timeout=30)
        statuses = [Client(url).get_json("/status") for url in urls]
        assert sum(s["compute_requester"]["total_submitted"] for s in statuses) >= 1
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(30) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("real-demo did not stop 30 s after Ctrl-C:\n" + "".join(lines[-20:])) from None
    for url in urls:  # the nodes were stopped with the command
        with pytest.raises(OutsideError):
            Client(url, deadline=1.0).get_json("/health")
