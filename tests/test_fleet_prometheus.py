"""Instances read from a real Prometheus (PRSM_PROMETHEUS_URL): every prsm-monitor it scrapes
gets a Fleet row from a few PromQL queries for all of them; one that stops is 'down'."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from prsm_monitor import MetricsCollector
from prsm_monitor.api import build_app
from prsm_monitor.core import shared
from prsm_monitor.fleet import PrometheusFleet
from prsm_monitor.settings.model import Settings
from prsm_monitor.sources.system import SystemSource
from prsm_monitor.store.prometheus_reader import PrometheusReader
from prsm_monitor.ui.views.fleet import scraped_row

from .conftest import wait_until
from .fixtures.server import InProcessServer, free_port

PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def scraped(tmp_path):
    """Two monitors (in-process API apps, demo off) and a real Prometheus scraping both each second."""
    if PROMETHEUS is None:
        pytest.skip("Debian's prometheus is not installed (test.sh installs it: apt-get install prometheus)")
    collectors = [MetricsCollector(settings=Settings(demo=False, interval=0.2), sources=[SystemSource()]) for _ in "ab"]
    servers = [InProcessServer(build_app(Settings(demo=False), collector=c)) for c in collectors]
    for collector, server in zip(collectors, servers, strict=True):
        collector.start()
        server.__enter__()
    targets = [s.url.removeprefix("http://") for s in servers]
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: prsm\n    static_configs: [{{targets: {targets!r}}}]\n"
    )
    log = open(tmp_path / "prometheus.log", "w")  # noqa: SIM115 - closed below
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
    try:
        yield f"http://127.0.0.1:{port}", targets, servers
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        for collector, server in zip(collectors, servers, strict=True):
            if server.thread.is_alive():
                server.__exit__(None, None, None)
            collector.close()


def test_every_scraped_instance_gets_a_row_and_one_that_stops_is_down(scraped, monkeypatch):
    url, targets, servers = scraped
    fleet = PrometheusFleet(PrometheusReader(url, timeout=5), interval=0.5)
    fleet.start()
    try:

        def rows():
            return {r.instance: r for r in fleet.snapshot()[0]}

        wait_until(lambda: set(rows()) == set(targets) and all(r.figures.get("memory") for r in rows().values()), 30)
        first = rows()[targets[0]]
        assert 0 < first.figures["memory"] <= 100 and first.up is True
        assert first.alerts == {"critical": 0, "error": 0, "warning": 0, "info": 0}  # exported at 0 per level
        assert "active_nodes" not in first.figures  # no network source: not reported, not made up
        row = scraped_row(first, fleet.is_stale(first), first.last_sample + 2)
        assert (row["status"], row["last_seen"], row["nodes"]) == ("up", "2 s ago", None)

        servers[1].__exit__(None, None, None)  # the second monitor stops answering
        wait_until(lambda: rows()[targets[1]].up is False, 30)
        down = rows()[targets[1]]
        assert scraped_row(down, fleet.is_stale(down), down.last_sample + 5)["status"] == "down"
        assert down.figures["memory"] > 0  # its last samples stay, in grey on the page
    finally:
        fleet.close()

    monkeypatch.setenv("PRSM_DEMO", "false")
    monkeypatch.setenv("PRSM_PROMETHEUS_URL", url)
    st.cache_resource.clear()
    shared.release_collector()
    try:
        app = AppTest.from_file("../streamlit_app.py", default_timeout=30)
        app.switch_page("pages/5_Fleet.py")
        app.run()
        hub_fleet = next(s for s in shared.current_collector().sources if isinstance(s, PrometheusFleet))
        wait_until(lambda: len(hub_fleet.snapshot()[0]) == 2, 30)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        assert [s.value for s in app.subheader] == ["Scraped by Prometheus"]
        table = app.dataframe[3].value  # after this instance's table and its expander's two
        assert sorted(table["instance"]) == sorted(targets)
        assert dict(zip(table["instance"], table["status"], strict=True))[targets[1]] == "down"
    finally:
        st.cache_resource.clear()
        shared.release_collector()
