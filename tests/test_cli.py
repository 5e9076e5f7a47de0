import json
import os
import signal
import subprocess
import sys

import pytest

from prsm_monitor.__main__ import console_line

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, env=None, **kwargs):
    full_env = {**os.environ, "PRSM_DEMO": "false", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "prsm_monitor", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


@pytest.mark.parametrize(
    "variable, value",
    [
        ("PRSM_METRICS_INTERVAL", "-1"),
        ("PRSM_DEMO", "maybe"),
        ("PRSM_METRICS_INTERVAL", "1e-320"),  # issue 9: a traceback, then a hang
        ("PRSM_METRICS_INTERVAL", "0.0001"),  # issue 8: 1,600 ticks/s
        ("PRSM_METRICS_HISTORY", "10000000"),  # issue 9: collect --once used 5.5 GB
        ("PRSM_CPU_CRITICAL", "0"),  # issue 9: blamed PRSM_CPU_THRESHOLD
    ],
)
def test_bad_environment_prints_one_line_and_exits_2(variable, value):
    result = run_cli("collect", "--once", env={variable: value})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and repr(value) in lines[0]


@pytest.mark.parametrize("interval", ["0", "0.01", "inf", "nan"])
def test_bad_interval_option_exits_2(interval):
    result = run_cli("collect", "--interval", interval)
    assert result.returncode == 2 and "--interval" in result.stderr and "Traceback" not in result.stderr


def test_collect_once_json_prints_the_reference_shape():
    result = run_cli("collect", "--once", "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"system", "network", "ai", "alerts"} <= set(metrics)
    assert metrics["network"] is None
    assert metrics["system"]["memory_total_gb"] > 0
    assert "health" not in metrics  # one tick, no thread: nothing to judge


def ctrl_c_as_in_a_terminal() -> None:
    """In the child: Ctrl-C's default action. A suite started in the background (``cmd &``,
    nohup) runs with SIGINT ignored, which children inherit, and Python then keeps ignoring it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_collect_prints_each_tick_and_exits_cleanly_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "prsm_monitor", "collect", "--interval", "0.1"],
        cwd=ROOT,
        env={**os.environ, "PRSM_DEMO": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert all(line.startswith("cpu ") for line in lines), lines
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)  # a deadline for a hang, roomy for a loaded runner
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"collect did not stop within 60 s of Ctrl-C; its stderr: {process.stderr.read()[-3000:]}")
        assert code == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        process.kill()
        process.stdout.close()
        process.stderr.close()


def test_collect_json_lines_carry_the_monitors_own_health():
    process = subprocess.Popen(
        [sys.executable, "-m", "prsm_monitor", "collect", "--json", "--interval", "0.1"],
        cwd=ROOT,
        env={**os.environ, "PRSM_DEMO": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [json.loads(process.stdout.readline()) for _ in range(3)]
        health = lines[-1]["health"]
        assert health["problems"] == [] and health["status"] in ("healthy", "degraded")  # degraded: a critical alert
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_console_line_shows_what_is_there_and_dashes_for_none():
    line = console_line(
        {
            "system": {"cpu_percent": 12.345, "memory_percent": 50.0, "disk_percent": None, "active_connections": 7},
            "network": None,
            "ai": None,
            "active_alerts": [{"level": "critical"}],
        }
    )
    assert line == "cpu 12.3% mem 50.0% disk -% conn 7 | alerts 1 (worst critical)"


@pytest.mark.parametrize("option, value", [("--nodes", "1"), ("--rate", "-3")])
def test_bad_demo_options_exit_2_with_one_line(option, value):
    result = run_cli("demo", option, value)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and option in result.stderr
