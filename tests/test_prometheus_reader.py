"""Reading history back from a real Prometheus server that scraped this app's /metrics."""

import dataclasses
import shutil
import socket
import subprocess
import time

import pytest
import requests

from prsm_monitor import MetricsCollector
from prsm_monitor.api import build_app
from prsm_monitor.fields import COLLECTOR_FIELDS
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.system import SystemSource
from prsm_monitor.store.prometheus_reader import PrometheusError, PrometheusReader

from .conftest import wait_until
from .fixtures.answering import Answering
from .fixtures.server import InProcessServer, free_port

PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def prometheus(tmp_path):
    """A function starting Prometheus on loopback, scraping ``target`` every second."""
    if PROMETHEUS is None:
        pytest.skip("Debian's prometheus is not installed (test.sh installs it: apt-get install prometheus)")
    started = []

    def start(target: str, port: int) -> str:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: prsm\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return f"http://127.0.0.1:{port}"

    yield start
    for process, log in started:
        process.terminate()
        process.wait(10)
        log.close()


def samples(url: str, query: str) -> float:
    try:
        result = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()["data"]["result"]
    except (requests.RequestException, KeyError, ValueError):
        return 0.0
    return float(result[0]["value"][1]) if result else 0.0


def test_history_read_back_from_a_real_prometheus(prometheus):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # memory only, with Prometheus for anything older than 60 s
    settings = Settings(demo=False, interval=0.2, prometheus_url=url, retention_raw=60.0)
    collector = MetricsCollector(settings=settings, sources=[SystemSource()])
    collector.start()
    try:
        with InProcessServer(build_app(settings, collector=collector)) as app:
            target = app.url.removeprefix("http://")
            prometheus(target, port)
            wait_until(lambda: samples(url, "count_over_time(prsm_collector_ticks_total[1m])") >= 6, timeout=30)
            reader = PrometheusReader(url)
            assert target in reader.instances()

            end = time.time()
            start = end - 60
            frame = reader.history("collector", COLLECTOR_FIELDS, start, end, max_points=30)
            assert frame.attrs == {"tier": "prometheus", "step": 2.0}
            assert len(frame) >= 3
            # the interval is exported as 0.2 s: every bucket's mean, minimum and maximum
            assert set(frame["interval_seconds"].dropna()) == {0.2}
            assert set(frame["interval_seconds_min"].dropna()) == {0.2}
            ticks = frame["ticks_total"].dropna()
            assert ticks.is_monotonic_increasing and ticks.iloc[-1] > ticks.iloc[0]
            assert (frame["ticks_total_min"] <= frame["ticks_total_max"]).all()

            system = reader.history("system", collector.fields["system"], start, end, max_points=30)
            total_gb = collector.get_latest_metrics()["system"]["memory_total_gb"]
            assert system["memory_total_gb"].dropna().iloc[-1] == pytest.approx(total_gb, rel=1e-9)  # GiB again

            routed = collector.history("collector", minutes=5, max_points=100)  # older than 60 s: Prometheus
            assert routed.attrs["tier"] == "prometheus" and "ticks_total_max" in routed
            recent = collector.history("collector", minutes=0.5)  # the last 30 s: the local ring
            assert recent.attrs["tier"] == "raw"
    finally:
        collector.close()


def test_an_unreachable_server_falls_back_to_the_local_history():
    reader = PrometheusReader(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(PrometheusError, match="could not be read"):
        reader.instances()
    settings = dataclasses.replace(Settings(demo=False), prometheus_url=reader.url, retention_raw=60.0)
    with MetricsCollector(settings=settings, sources=[SystemSource()]) as collector:
        collector.collect_once()
        frame = collector.history("system", minutes=10)
        assert len(frame) == 1 and frame.attrs["tier"] == "raw"
        assert "could not be read" in frame.attrs["error"]


# -- bounded reads (issue 22): the shared outside client ------------------------------------------
def test_a_redirect_is_not_followed_and_the_password_is_sent_but_never_shown():
    target = Answering({"/api/v1/label/instance/values": (200, {"status": "success", "data": ["probe"]})})
    prometheus = Answering(
        {
            "/api/v1/label/instance/values": (
                302,
                {},
                {"Location": f"http://127.0.0.1:{target.port}/api/v1/label/instance/values"},
            ),
            "/api/v1/query_range": (200, {"status": "success", "data": {"result": [{"metric": {"field": "x"}}]}}),
        }
    )
    try:
        reader = PrometheusReader(f"http://prom:PROMSECRET@127.0.0.1:{prometheus.port}", timeout=2.0)
        assert reader.url == f"http://prom:****@127.0.0.1:{prometheus.port}"
        with pytest.raises(PrometheusError) as caught:
            reader.instances()
        assert "redirected (HTTP 302)" in str(caught.value) and "not followed" in str(caught.value)
        assert "PROMSECRET" not in str(caught.value) and target.seen == []  # the probe was never fetched
        assert prometheus.seen[0][1] == "Basic cHJvbTpQUk9NU0VDUkVU"  # prom:PROMSECRET
        assert reader._range("up", 0, 10, 1) == {"x": []}
    finally:
        target.close()
        prometheus.close()


def test_a_silent_prometheus_is_cut_at_the_deadline_and_a_malformed_answer_is_an_error():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        reader = PrometheusReader(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        with pytest.raises(PrometheusError, match="no whole answer within 0.5 s"):
            reader.instances()
    odd = Answering({"/api/v1/query_range": (200, {"status": "success", "data": {"result": [{"values": "no"}]}})})
    try:
        reader = PrometheusReader(f"http://127.0.0.1:{odd.port}")
        odd.routes["/api/v1/query_range"] = (
            200,
            {"status": "success", "data": {"result": [{"metric": {"field": "x"}, "values": [[1, "abc"]]}]}},
        )
        with pytest.raises(PrometheusError, match="malformed"):
            reader._range("up", 0, 10, 1)
        odd.routes["/api/v1/query_range"] = (
            200,
            {"status": "success", "data": {"result": [{"metric": {"field": "x"}, "values": [[1, "+Inf"], [2, "3"]]}]}},
        )
        assert reader._range("up", 0, 10, 1) == {"x": [(2.0, 3.0)]}  # a non-finite sample is not a value
    finally:
        odd.close()
