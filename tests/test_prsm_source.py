"""PrsmSource: fields, windowed averages, counter resets and node-down conditions, from
hand-made reports (no sockets), plus its wiring into the collector and the demo CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from prsm_monitor.__main__ import metrics_line
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.core.sourceset import default_sources
from prsm_monitor.demo.source import DemoSource
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.prsm import PrsmSource
from prsm_monitor.sources.prsm.report import (
    RTT_BUCKETS_MS,
    TIME_BUCKETS_S,
    ConsensusRecord,
    GatewayModelStats,
    GatewayStats,
    Histogram,
    LinkStats,
    ModelStats,
    NetworkReport,
    NodeInfo,
    NodeStats,
)
from prsm_monitor.sources.system import SystemSource

from .conftest import wait_until
from .test_cli import ctrl_c_as_in_a_terminal

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

REFERENCE = {
    "network": {
        "timestamp": "s",
        "total_nodes": "1",
        "active_nodes": "1",
        "total_connections": "1",
        "total_messages": "1",
        "consensus_proposals": "1",
        "average_latency": "ms",
        "message_rate": "messages/s",
    },
    "ai": {
        "timestamp": "s",
        "total_models": "1",
        "active_models": "1",
        "total_inferences": "1",
        "successful_inferences": "1",
        "average_inference_time": "s",
        "average_confidence": "1",
        "success_rate": "1",
    },
}


def histogram(bounds, values) -> Histogram:
    h = Histogram(bounds)
    for v in values:
        h.observe(v)
    return h


def node_stats(
    name,
    t,
    *,
    incarnation=1,
    frames=0,
    rtts=(),
    ok=0,
    failed=0,
    times=(),
    confidences=(),
    peers=(),
    commits=1,
    rejected=0,
    energy=0.0,
):
    """A report of one node with the given cumulative counters (``energy``: the served inputs'
    summed input energy, whose spread per input on the training set is 0.2)."""
    gw_time = histogram(TIME_BUCKETS_S, times)
    model = ModelStats(
        "m", "numpy", "mlp", "classifier", 10, 0.05, ok + failed, ok, failed, 0, 0, gw_time.snapshot(), 0.0, 0,
        energy, 0.2,
    )  # fmt: skip
    gateway = GatewayStats(
        submitted=ok + failed,
        pending=0,
        completed=ok + failed,
        succeeded=ok,
        failed={"timeout": failed},
        time_s=gw_time.snapshot(),
        confidence_sum=sum(confidences),
        confidence_count=len(confidences),
        models=(GatewayModelStats("m", ok + failed, ok, sum(times), sum(confidences), len(confidences), 0, 0.0, 0),),
    )
    rtt = histogram(RTT_BUCKETS_MS, rtts)
    links = tuple(LinkStats(p, True, name < p, rtts[-1] if rtts else None, sum(rtts), len(rtts), 0, 0) for p in peers)
    return NodeStats(
        name=name,
        address="127.0.0.1:1",
        incarnation=incarnation,
        started=100.0 * incarnation,
        timestamp=t,
        frames_in=frames,
        frames_out=frames,
        bytes_in=10 * frames,
        bytes_out=10 * frames,
        frames_in_by_type={"ping": frames},
        bad_frames=0,
        oversized_frames=0,
        dropped_frames=0,
        connections_accepted=1,
        connect_failures=0,
        delay_ms=0.0,
        blocked_peers=(),
        links=links,
        rtt_ms=rtt.snapshot(),
        floods_originated=0,
        floods_received=0,
        flood_duplicates=0,
        recent_floods=(),
        proposals=commits + rejected,
        votes_cast=0,
        commits=commits,
        rejections=rejected,
        commit_time_ms_sum=5.0,
        commits_applied=1,
        consensus=(ConsensusRecord(f"{name}/p1", name, 1.0, 2, 2, 2, "committed", 5.0),),
        queue_length=0,
        queue_limit=10,
        routes={"m": 0},
        models=(model,),
        gateway=gateway,
    )


DIRECTORY = {
    "a": NodeInfo("a", "127.0.0.1:1", ("b",), ("m",)),
    "b": NodeInfo("b", "127.0.0.1:2", ("a",), ("m",)),
}


class FakeNetwork:
    """Serves the reports a test sets, like DemoNetwork.report()."""

    def __init__(self):
        self.current = None
        self.stopped = False

    def report(self):
        return self.current

    def stop(self):
        self.stopped = True


class ListenedNetwork(FakeNetwork):
    """A FakeNetwork that tells its listeners of each report, as DemoNetwork does; counts the
    prefetch thread's reads."""

    def __init__(self):
        super().__init__()
        self.listeners = ()
        self.prefetch_reads = 0

    def add_report_listener(self, listener):
        self.listeners += (listener,)

    def remove_report_listener(self, listener):
        self.listeners = tuple(f for f in self.listeners if f != listener)

    def report(self):
        if threading.current_thread().name == "prsm-prefetch":
            self.prefetch_reads += 1
        return self.current

    def publish(self, t):
        self.current = NetworkReport(t, DIRECTORY, {"a": node_stats("a", t, frames=int(t))}, {"drift": {}})
        for listener in self.listeners:
            listener()


def test_the_prefetch_thread_reads_a_report_when_told_of_one_not_on_a_timer():
    net = ListenedNetwork()
    net.publish(1000.0)
    others = {t for t in threading.enumerate() if t.name == "prsm-prefetch"}  # other tests' sources on this worker
    source = PrsmSource(net, prefetch=0.01)
    try:
        wait_until(lambda: net.prefetch_reads == 1)  # the report already published
        net.publish(1001.0)
        wait_until(lambda: net.prefetch_reads == 2)
        threading.Event().wait(0.2)  # nothing published: the thread sleeps (polling at 0.01 s: ~20 reads)
        assert net.prefetch_reads == 2 and len(net.listeners) == 1
        assert source.collect()["network"]["total_messages"] == 1001
    finally:
        source.close()
    assert net.listeners == () and net.stopped
    assert not [t for t in threading.enumerate() if t.name == "prsm-prefetch" and t not in others]  # its thread ended


def test_fields_declare_every_reference_field_with_its_unit():
    for component, reference in REFERENCE.items():
        declared = {f.name: f.unit for f in PrsmSource.fields[component]}
        for name, unit in reference.items():
            assert declared.get(name) == unit, (component, name)
        assert len(declared) == len(PrsmSource.fields[component])  # no name declared twice


def test_windowed_averages_counter_resets_and_conditions():
    net = FakeNetwork()
    source = PrsmSource(net, window=10.0)
    with pytest.raises(RuntimeError):
        source.collect()  # no report yet: the collector turns this into a source alert

    def report(t, stats):
        net.current = NetworkReport(t, DIRECTORY, {s.name: s for s in stats}, {"drift": {}})
        return source.collect()

    first = report(
        1000.0,
        [
            node_stats("a", 1000.0, frames=100, rtts=[1.0] * 10, ok=10, times=[0.1] * 10, peers=("b",)),
            node_stats("b", 1000.0, frames=50, rtts=[1.0] * 10, peers=("a",)),
        ],
    )
    assert first["network"]["total_messages"] == 150
    assert first["network"]["average_latency"] is None  # the first report is the baseline
    assert first["network"]["message_rate"] is None and first["ai"]["window_seconds"] == 0.0
    assert first["ai"]["total_inferences"] == 10
    assert first["network"]["total_connections"] == 1

    second = report(
        1002.0,
        [
            node_stats("a", 1002.0, frames=120, rtts=[1.0] * 10 + [300.0] * 2, ok=19, failed=1,
                       times=[0.1] * 10 + [3.5] * 9, confidences=[0.5] * 9, peers=("b",)),
            node_stats("b", 1002.0, frames=60, rtts=[1.0] * 10 + [100.0] * 2, peers=("a",)),
        ],
    )  # fmt: skip
    n, a = second["network"], second["ai"]
    assert n["average_latency"] == pytest.approx(200.0)  # (2 * 300 + 2 * 100) / 4, only the window's samples
    assert n["message_rate"] == pytest.approx(30 / 2.0)
    assert n["total_messages"] == 180
    assert a["success_rate"] == pytest.approx(9 / 10)
    assert a["average_inference_time"] == pytest.approx(3.5)
    assert a["average_confidence"] == pytest.approx(0.5)
    assert a["timeouts"] == 1 and a["failed_inferences"] == 1
    assert n["edges"][0]["latency_ms"] == pytest.approx(200.0)
    assert a["models_by_name"] == {"m": 2} and a["model_distribution"] == {"numpy": 2}
    assert a["distribution_by_framework"] == {"numpy": 2} and a["distribution_by_type"] == {"classifier": 2}
    for component, record in second.items():
        for f in PrsmSource.fields[component]:
            value = record[f.name]
            assert value is None or isinstance(value, (int, float)), f.name
    assert list(source.conditions(second)) == []

    # b restarts (a new incarnation counting from zero) and a goes down
    third = report(1003.0, [node_stats("b", 1003.0, incarnation=2, frames=5, rtts=[2.0], peers=("a",))])
    assert third["network"]["total_messages"] == 185  # never goes back
    assert third["network"]["active_nodes"] == 1 and third["network"]["total_nodes"] == 2
    assert third["network"]["total_connections"] == 0
    assert third["ai"]["active_models"] == 1 and third["ai"]["total_models"] == 2
    assert [row["status"] for row in third["network"]["nodes"]] == ["down", "up"]
    down_row, up_row = third["network"]["nodes"]
    assert down_row.keys() == up_row.keys() and down_row["message_rate"] is None  # same columns either way
    down_model, up_model = third["ai"]["models"]
    assert down_model.keys() == up_model.keys() and down_model["type"] == "classifier"
    alerts = list(source.conditions(third))
    assert [(level, comp, msg) for level, comp, msg, _ in alerts] == [
        ("error", "network", "Node a is down"),
        ("warning", "ai", "Model m is unavailable on a"),  # the model it hosted
    ]
    assert alerts[1][3] == {"node": "a", "model": "m"}  # labels that group it with the node's alert

    # after the window passes, old samples no longer count
    later = report(1020.0, [node_stats("b", 1020.0, incarnation=2, frames=25, rtts=[2.0, 4.0], peers=("a",))])
    assert later["network"]["average_latency"] == pytest.approx(4.0)
    assert later["network"]["message_rate"] == pytest.approx(20 / 17.0)
    source.close()
    assert net.stopped


def test_rejection_rate_is_the_rejected_share_of_the_proposals_decided_in_the_window():
    net = FakeNetwork()
    source = PrsmSource(net, window=10.0)

    def rate(t, a, b):
        """``a`` and ``b``: (commits, rejections) so far of nodes a and b."""
        stats = [node_stats(n, t, commits=c, rejected=r) for n, (c, r) in (("a", a), ("b", b))]
        net.current = NetworkReport(t, DIRECTORY, {s.name: s for s in stats})
        network = source.collect()["network"]
        return network["consensus_rejection_rate"], network["consensus_rejections"]

    assert rate(1000.0, (1, 0), (1, 0)) == (None, 0)  # the baseline: nothing decided in a window yet
    assert rate(1002.0, (2, 0), (1, 1)) == (0.5, 1)  # one commit, one rejection
    assert rate(1004.0, (2, 1), (1, 2)) == (0.75, 3)  # one commit, three rejections in the window
    assert rate(1015.0, (2, 2), (1, 2)) == (1.0, 4)  # the window holds only the last rejection: quorum lost
    assert rate(1030.0, (2, 2), (1, 2)) == (None, 4)  # nothing decided in the window: no value, not 0


def test_default_sources_start_the_demo_only_when_asked():
    without = default_sources(Settings(demo=False))
    assert [type(s) for s in without] == [SystemSource]
    with MetricsCollector(settings=Settings(demo=True, demo_nodes=3, demo_peers=2, demo_rate=2.0)) as collector:
        assert [type(s) for s in collector.sources] == [SystemSource, DemoSource]
        metrics = collector.collect_once()
        assert metrics["network"]["total_nodes"] == 3 and metrics["ai"]["total_models"] >= 3
        network = collector.sources[1].network
        assert network.running
    assert not network.running


def test_the_demo_command_prints_metrics_and_stops_cleanly_on_ctrl_c():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-W", "error::ResourceWarning", "-m", "prsm_monitor", "demo", "--nodes", "3"]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=ctrl_c_as_in_a_terminal,
    ) as proc:
        lines = [proc.stdout.readline() for _ in range(4)]  # starting, ready, two metrics lines
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)  # a deadline for a hang, roomy for a loaded runner
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"demo did not stop within 60 s of Ctrl-C; its stderr: {err[-3000:]}")
    assert proc.returncode == 0, err
    assert lines[1].startswith("Ready in")
    assert "nodes 3/3" in lines[3] and "msg/s" in lines[3]
    assert "Traceback" not in err


def test_metrics_line_shows_the_faults():
    network = {
        "active_nodes": 4,
        "total_nodes": 5,
        "total_connections": 6,
        "configured_links": 8,
        "average_latency": 12.5,
        "p95_latency": None,
        "message_rate": 50.0,
        "gossip_propagation_ms": 1.0,
        "consensus_commits": 3,
        "consensus_rejections": 1,
        "faults": {"stopped": ["node-2"], "delay_ms": {"node-1": 300.0}, "drift": {}, "rate": 5.0, "base_rate": 5.0},
    }
    ai = {
        "inference_rate": 5.0,
        "success_rate": 0.5,
        "average_inference_time": 0.04,
        "average_confidence": None,
        "queue_length": 0,
    }
    line = metrics_line({"network": network, "ai": ai})
    assert "nodes 4/5" in line and "ok 50.0%" in line and "down node-2" in line and "delay node-1 300ms" in line
    assert time.strftime("%H:") in line


def test_input_drift_is_how_many_standard_errors_the_inputs_are_from_training():
    """Issue 12: a drift of 0.3 moves the confidence less than its noise; the inputs themselves
    move clearly. 9 requests of input energy 0.53 (spread 0.2 per input on the training set):
    input scale sqrt(0.53), and (1 - 0.53) / (0.2 / 3) = 7.05 standard errors."""
    net = FakeNetwork()
    source = PrsmSource(net, window=10.0)

    def report(t, ok, energy):
        stats = [node_stats("a", t, ok=ok, energy=energy, peers=("b",)), node_stats("b", t, peers=("a",))]
        net.current = NetworkReport(t, DIRECTORY, {s.name: s for s in stats}, {"drift": {}})
        return source.collect()

    assert report(1000.0, 10, 10.0)["ai"]["input_drift"] is None  # nothing in the window yet
    ai = report(1002.0, 19, 10.0 + 9 * 0.53)["ai"]
    assert ai["input_drift"] == pytest.approx(0.47 / (0.2 / 3))
    row = next(r for r in ai["models"] if r["node"] == "a")
    assert row["input_scale"] == pytest.approx(0.53**0.5)
    assert ai["model_summary"][0]["input_scale"] == pytest.approx(0.53**0.5)
    later = report(1004.0, 28, 10.0 + 9 * 0.53 + 9 * 1.0)["ai"]  # 9 more as trained: mean 0.765 over 18
    assert later["input_drift"] == pytest.approx(0.235 / (0.2 / 18**0.5))


def test_a_model_input_energy_is_one_as_trained_and_moves_with_drift():
    from prsm_monitor.demo.models import CATALOG, Task, train

    rng = np.random.default_rng(7)
    for i, spec in enumerate(CATALOG):
        task = Task(spec, i)
        model = train(spec, task, 500 + i)
        healthy = np.mean([model.input_energy(x) for x in task.sample(rng, 2000)[0]])
        drifted = np.mean([model.input_energy(x) for x in task.sample(rng, 2000, drift=0.3)[0]])
        assert healthy == pytest.approx(1.0, abs=0.1), spec.name
        if spec.classes:  # a sensor losing gain: (1 - 0.9 * 0.3)^2 of the energy
            assert drifted == pytest.approx(0.73**2, abs=0.08), spec.name
        else:  # inputs moved away from where it was trained
            assert drifted > 1.1, spec.name
