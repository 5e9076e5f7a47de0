"""The PRSM monitoring guide's snippets, run as users copy them: each Python snippet with only
its import line changed (``from prsm_monitor import ...``), in a fresh Python process, top-level
``await`` inside ``asyncio.run``; the lines after ``# check`` are the test's, printing what it
asserts. The curl lines run the real ``curl`` against ``streamlit run streamlit_app.py``."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
import requests
from playwright.sync_api import sync_playwright

from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard
from prsm_monitor.address import added_flags, rerun_command
from prsm_monitor.api import build_app
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.values import ConfigError

from .fixtures.server import ROOT, InProcessServer, StreamlitServer, free_port

ENV = {"PYTHONPATH": str(ROOT), "PRSM_PERSIST": "false", "PRSM_DEMO_NODES": "3", "PRSM_METRICS_INTERVAL": "0.5"}


def run(code: str, timeout: float = 90, **env) -> subprocess.CompletedProcess:
    """``code`` in a new interpreter (dedented); fails with its output unless it exits 0 in time."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **ENV, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_metrics_only_collection_prints_the_cpu():
    out = run("""
        import asyncio
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard

        async def main():
            # Collect metrics without UI
            collector = MetricsCollector()
            await collector.start_collection()
            # Get latest data
            metrics = collector.get_latest_metrics()
            print(f"CPU: {metrics['system']['cpu_percent']:.1f}%")

        asyncio.run(main())
        print("asyncio.run returned")  # check
    """).stdout
    assert re.fullmatch(r"CPU: \d+\.\d%\nasyncio\.run returned\n", out), out


def test_basic_monitoring_starts_this_machine_and_a_demo_network():
    out = run("""
        import asyncio
        from prsm_monitor import PRSMMonitoringDashboard

        async def main():
            # Start monitoring with defaults
            dashboard = PRSMMonitoringDashboard()
            await dashboard.start_monitoring()
            # check
            metrics = dashboard.metrics_collector.get_latest_metrics()
            print(metrics["system"]["cpu_percent"] is not None, metrics["network"]["total_nodes"])
            print(metrics["ai"]["model_distribution"])

        asyncio.run(main())
        import threading; print([t.name for t in threading.enumerate() if t.name.startswith("prsm")])
    """).stdout.splitlines()
    assert out[0] == "True 3"  # PRSM_DEMO_NODES=3
    assert set(ast.literal_eval(out[1])) == {"numpy"}  # by framework, as the guide's {"pytorch": 6, ...}
    assert out[2] == "[]"  # asyncio.run's end stopped the collector and the network it started


def test_with_custom_network_watches_the_network_given():
    out = run("""
        import asyncio
        from prsm_monitor import PRSMMonitoringDashboard
        from prsm_monitor import DemoNetwork as EnhancedP2PNetworkDemo

        async def main():
            # Use existing network
            network = EnhancedP2PNetworkDemo(nodes=4)
            dashboard = PRSMMonitoringDashboard()
            dashboard.network_demo = network
            await dashboard.start_monitoring()
            # check
            nodes = dashboard.metrics_collector.get_latest_metrics()["network"]["nodes"]
            print(sorted(row["name"] for row in nodes) == sorted(network.names), network.running)
            dashboard.stop_monitoring()
            print(network.running)

        asyncio.run(main())
    """).stdout.splitlines()
    assert out == ["True True", "False"]  # the network the dashboard started, it stopped


def test_high_resource_usage_lines_run_without_await_and_without_the_demo():
    out = run(
        """
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard
        collector = MetricsCollector()
        dashboard = PRSMMonitoringDashboard()

        collector.collection_interval = 5.0
        collector = MetricsCollector(max_history=100)
        # Disable network simulation
        dashboard.start_monitoring(with_demo=False)
        # check
        print(collector.collection_interval, collector.store.capacity)
        print(dashboard.metrics_collector.running, [type(s).__name__ for s in dashboard.metrics_collector.sources])
        dashboard.stop_monitoring()
        print(dashboard.metrics_collector.running)
        """,
        PRSM_DEMO="false",
    )
    assert out.stdout.splitlines() == ["0.5 100", "True ['SystemSource']", "False"]
    assert "never awaited" not in out.stderr


def test_scaling_considerations():
    out = run(
        """
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard
        collector = MetricsCollector(max_history=10000)  # More history
        collector.collection_interval = 5.0              # Less frequent
        print(collector.store.capacity, collector.collection_interval)  # check
        collector = MetricsCollector(max_history=500)    # Less history
        collector.collection_interval = 0.5              # More frequent
        print(collector.store.capacity, collector.collection_interval)  # check
        """,
        PRSM_DEMO="false",
    )
    assert out.stdout.splitlines() == ["10000 5.0", "500 0.5"]


def test_custom_thresholds_set_the_warning_levels_of_the_rules():
    out = run(
        """
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard
        baseline_metrics = {
            "cpu_threshold": 75.0,
            "memory_threshold": 80.0,
            "disk_threshold": 90.0,
            "network_latency_threshold": 150.0,
            "inference_time_threshold": 3.0,
            "confidence_threshold": 0.8
        }
        collector = MetricsCollector(baseline_metrics=baseline_metrics)
        # check
        rules = collector.rules
        names = ("cpu", "memory", "disk", "latency", "inference_time", "confidence")
        print({name: rules[name].warning for name in names})
        """,
        PRSM_DEMO="false",
    )
    warnings = json.loads(out.stdout.replace("'", '"'))
    assert warnings == {"cpu": 75, "memory": 80, "disk": 90, "latency": 150, "inference_time": 3, "confidence": 0.8}


def test_an_unknown_or_bad_baseline_key_is_a_clear_error(no_demo):
    with pytest.raises(ConfigError, match=r"baseline_metrics\.cpu_treshold=.*cpu_threshold, memory_threshold"):
        MetricsCollector(settings=no_demo, baseline_metrics={"cpu_treshold": 75})
    with pytest.raises(ConfigError, match=r"baseline_metrics\.cpu_threshold=99"):  # above its critical, 95
        MetricsCollector(settings=no_demo, baseline_metrics={"cpu_threshold": 99})


def test_custom_alert_rule_raises_the_guides_alert():
    out = run(
        """
        import asyncio
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard
        from prsm_monitor.fields import GAUGE, TIMESTAMP, Field

        class LowSuccess:  # check: an ai source whose success rate is 0.8
            components = ("ai",)
            fields = {"ai": (TIMESTAMP, Field("success_rate", "1", GAUGE, "share"))}
            def collect(self):
                return {"ai": {"timestamp": 0.0, "success_rate": 0.8}}

        collector = MetricsCollector(sources=[LowSuccess()])

        async def custom_alert_check(metrics):
            if metrics['ai']['success_rate'] < 0.9:
                await collector._create_alert(
                    "warning", "ai",
                    f"Low AI success rate: {metrics['ai']['success_rate']:.1%}",
                    {"success_rate": metrics['ai']['success_rate']}
                )

        collector.add_alert_rule(custom_alert_check)  # check
        alert = collector.collect_once()["active_alerts"][0]
        print(alert["level"], alert["component"], alert["message"], alert["details"])
        """,
        PRSM_DEMO="false",
    )
    assert out.stdout == "warning ai Low AI success rate: 80.0% {'success_rate': 0.8}\n"


def test_debug_mode_logs_each_tick_and_adds_the_timings():
    out = run(
        """
        import asyncio
        import logging
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard
        collector = MetricsCollector()

        logging.basicConfig(level=logging.DEBUG)
        collector.debug_mode = True

        async def main():  # check
            await collector.start_collection()
            print(sorted(collector.get_latest_metrics()["collector"]["debug"]["source_ms"]))
        asyncio.run(main())
        """,
        PRSM_DEMO="false",
    )
    assert out.stdout == "['SystemSource']\n"
    assert re.search(r"DEBUG:prsm_monitor\.collector:tick \d+: [\d.]+ ms \(SystemSource [\d.]+ ms; checks", out.stderr)


def test_custom_metrics_subclass_is_called_each_tick_and_its_data_kept():
    out = run(
        """
        import asyncio
        from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard

        calls = 0
        async def get_application_metrics():  # check: the application's own figures
            global calls
            calls += 1
            return {"queue_depth": calls, "build": "1.2.3"}

        class CustomMetricsCollector(MetricsCollector):
            async def _collect_custom_metrics(self):
                # Your custom collection logic
                custom_data = await get_application_metrics()
                self.custom_metrics.append(custom_data)

        collector = CustomMetricsCollector()  # check
        for _ in range(3):
            latest = collector.collect_once()
        print(latest["custom"]["queue_depth"], latest["custom"]["build"])
        print(collector.history("custom", None)["queue_depth"].tolist())
        print(collector.get_historical_data("custom")[-1]["queue_depth"])
        """,
        PRSM_DEMO="false",
    )
    assert out.stdout.splitlines() == ["3 1.2.3", "[1.0, 2.0, 3.0]", "3.0"]


def test_a_failing_custom_metrics_method_is_one_alert_not_a_crash(no_demo):
    class Failing(MetricsCollector):
        async def _collect_custom_metrics(self):
            raise RuntimeError("the application is down")

    with Failing(settings=no_demo) as collector:
        for _ in range(3):
            metrics = collector.collect_once()
    errors = [a for a in metrics["active_alerts"] if "custom metrics failed" in a["message"]]
    assert len(errors) == 1 and "the application is down" in errors[0]["message"]
    assert metrics["system"]["timestamp"] is not None  # the tick went on


def test_custom_metrics_are_served_by_the_api(no_demo):
    class Custom(MetricsCollector):
        async def _collect_custom_metrics(self):
            self.custom_metrics.append({"jobs": 7, "queue depth": 3, "nested": {"a": 1}})

    with Custom(settings=no_demo) as collector, InProcessServer(build_app(no_demo, collector)) as server:
        collector.collect_once()
        custom = requests.get(server.url + "/api/metrics", timeout=5).json()["custom"]
        assert custom["jobs"] == 7 and custom["queue depth"] == 3 and custom["nested"] == {"a": 1}
        history = requests.get(server.url + "/api/historical/custom", timeout=5).json()
        assert [row["jobs"] for row in history["data"]] == [7]
        exposition = requests.get(server.url + "/metrics", timeout=5)
        assert exposition.status_code == 200 and "prsm_custom_jobs 7.0" in exposition.text  # "queue depth": JSON only


def test_multi_instance_monitoring_watches_a_real_second_instance():
    remote_settings = Settings(demo=True, demo_nodes=3, interval=0.5)
    with (
        MetricsCollector(settings=remote_settings) as remote,
        InProcessServer(build_app(remote_settings, remote)) as edge,
    ):
        remote.start()
        out = run(
            f"""
            import asyncio
            from types import SimpleNamespace
            from prsm_monitor import MetricsCollector, PRSMMonitoringDashboard

            class MultiInstanceDashboard:
                def __init__(self, instances):
                    self.instances = instances
                    self.collectors = {{}}
                async def start_monitoring_all(self):
                    for instance in self.instances:
                        collector = MetricsCollector()
                        self.collectors[instance.id] = collector
                        await collector.start_collection(instance)

            async def main():  # check
                dashboard = MultiInstanceDashboard([SimpleNamespace(id="edge", url="{edge.url}")])
                await dashboard.start_monitoring_all()
                metrics = dashboard.collectors["edge"].get_latest_metrics()
                print(metrics["network"]["total_nodes"], metrics["system"]["timestamp"] is not None)
            asyncio.run(main())
            """,
            PRSM_DEMO="false",  # this side has no network of its own: the 3 nodes are the edge's
        )
    assert out.stdout == "3 True\n"


@pytest.fixture(scope="module")
def app():
    server = StreamlitServer(ROOT / "streamlit_app.py", env={"PRSM_DEMO": "false"}).wait(60)
    yield server
    server.stop()


def curl(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-f", "-sS", url], capture_output=True, text=True, timeout=30)


def test_curl_api_metrics(app):
    result = curl(f"{app.url}/api/metrics")
    assert result.returncode == 0, result.stderr
    assert {"system", "network", "ai", "alerts"} <= set(json.loads(result.stdout))


def test_curl_api_historical_lists_the_components(app):
    result = curl(f"{app.url}/api/historical/")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert {"system", "network", "ai", "collector"} <= set(listing["components"])
    assert "cpu_percent" in listing["components"]["system"]["fields"]
    assert set(listing["parameters"]) >= {"minutes", "duration", "points", "format", "anonymize"}
    assert curl(f"{app.url}/api/historical/system?minutes=1").returncode == 0


def test_collect_once_prints_the_cpu_as_a_number():
    result = subprocess.run(
        [sys.executable, "-m", "prsm_monitor", "collect", "--once"],
        env={**os.environ, **ENV, "PRSM_DEMO": "false"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert re.match(r"cpu \d+\.\d% mem \d+\.\d% disk \d+\.\d%", result.stdout), result.stdout


def test_streamlit_run_listens_where_prsm_dashboard_host_and_port_say():
    port = free_port()
    env = {"PRSM_DASHBOARD_HOST": "127.0.0.1", "PRSM_DASHBOARD_PORT": str(port), "PRSM_DEMO": "false"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true"]
    server = StreamlitServer(command=command, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert server.process.poll() is None and time.monotonic() < deadline, "".join(server.lines)
                time.sleep(0.1)
        assert health.status_code == 200
        assert any("restarting as streamlit run --server.address 127.0.0.1 --server.port" in x for x in server.lines)
        listening = {c.laddr.port for c in psutil.Process(server.process.pid).net_connections() if c.status == "LISTEN"}
        assert listening == {port}  # the first socket (Streamlit's default) did not outlive the re-execution
    finally:
        server.stop()


def test_streamlits_own_address_and_port_win_over_the_prsm_variables():
    settings = Settings.from_env({"PRSM_DASHBOARD_HOST": "127.0.0.1", "PRSM_DASHBOARD_PORT": "5000"})
    run_args = ["python", "streamlit", "run", "app.py"]
    assert added_flags(run_args, {}, settings, None, 8501) == [
        "--server.address",
        "127.0.0.1",
        "--server.port",
        "5000",
    ]
    assert added_flags([*run_args, "--server.port", "0"], {}, settings, None, 40000) == [
        "--server.address",
        "127.0.0.1",
    ]
    assert added_flags(run_args, {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}, settings, None, 5000) == []
    assert added_flags(run_args, {}, Settings.from_env({}), None, 8501) == []  # unset: Streamlit's defaults
    assert rerun_command(run_args, ["--server.port", "5000"])[1:] == [
        "streamlit",
        "run",
        "--server.port",
        "5000",
        "app.py",
    ]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="needs Chromium (test.sh installs it)")
def test_the_guides_browser_client_runs_from_a_page_of_the_dashboard(app):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(app.url + "/_stcore/health")  # a page of the dashboard's own origin
            page.add_script_tag(url=app.url + "/socket.io/socket.io.js")  # served by the dashboard
            page.evaluate(
                """(url) => {
                window.seen = {metrics: [], alerts: []};
                // Connect to real-time updates
                const socket = io(url);
                socket.on('metrics_update', (data) => { window.seen.metrics.push(data); });
                socket.on('alert', (alert) => { window.seen.alerts.push(alert); });
            }""",
                app.url,
            )
            page.wait_for_function("window.seen.metrics.length >= 1", timeout=20_000)
            assert page.evaluate("typeof window.seen.metrics[0].system.memory_percent") == "number"
        finally:
            browser.close()


def test_stop_then_start_again_in_one_loop_keeps_the_new_run(no_demo):
    collector = MetricsCollector(settings=no_demo)
    dashboard = PRSMMonitoringDashboard(no_demo)

    async def main():
        await collector.start_collection()
        collector.stop_collection()
        await collector.start_collection()  # the first run's guard, cancelled late, must not stop this one
        dashboard.start_monitoring(with_demo=False)
        first = dashboard.metrics_collector
        dashboard.stop_monitoring()
        await dashboard.start_monitoring(with_demo=False)
        for _ in range(5):  # loop iterations: the late cancellations run, then the guards' cleanup
            await asyncio.sleep(0)
        assert collector.running and dashboard.running and dashboard.metrics_collector is not first
        assert not first.running

    asyncio.run(main())
    assert not collector.running and not dashboard.running  # the loop's end stopped both
    collector.close()
