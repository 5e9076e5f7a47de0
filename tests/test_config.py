import math

import pytest

from prsm_monitor.settings.durations import duration, parse_duration
from prsm_monitor.settings.limits import (
    HISTORY_SECONDS,
    MEMORY_BUDGET_MB,
    check_history,
    check_interval,
    default_history,
    history_ceiling,
)
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.thresholds import THRESHOLD_SPECS, check_thresholds, default_thresholds
from prsm_monitor.settings.values import ConfigError


def test_defaults_without_any_variable():
    s = Settings.from_env({})
    assert (s.host, s.port, s.debug, s.interval, s.history, s.demo) == ("localhost", 8501, False, 1.0, None, True)
    assert s.memory_budget_mb == MEMORY_BUDGET_MB and s.allowed_hosts == ()
    t = s.thresholds
    assert (t["cpu"].warning, t["cpu"].critical) == (80, 95)
    assert (t["memory"].warning, t["memory"].critical) == (85, 95)
    assert (t["disk"].warning, t["disk"].critical) == (90, 98)
    assert (t["latency"].warning, t["latency"].critical) == (100, 500)
    assert (t["confidence"].warning, t["confidence"].critical, t["confidence"].direction) == (0.7, 0.5, "below")
    assert (t["inference_time"].warning, t["inference_time"].critical) == (3.0, 5.0)
    assert (t["success_rate"].warning, t["success_rate"].critical) == (0.9, 0.75)


def test_each_variable_is_parsed():
    env = {
        "PRSM_DASHBOARD_HOST": "0.0.0.0",
        "PRSM_DASHBOARD_PORT": "8080",
        "PRSM_DASHBOARD_DEBUG": "yes",
        "PRSM_METRICS_INTERVAL": "0.5",
        "PRSM_METRICS_HISTORY": "86400",
        "PRSM_DEMO": "off",
        "PRSM_DEMO_NODES": "25",
        "PRSM_DEMO_RATE": "12.5",
        "PRSM_DEMO_PEERS": "4",
    }
    for spec in THRESHOLD_SPECS:
        mid = (spec.warning + spec.critical) / 2
        env[spec.warning_var] = str(mid if spec.direction == "above" else spec.warning)
        env[spec.critical_var] = str(spec.critical if spec.direction == "above" else mid)
    s = Settings.from_env(env)
    assert (s.host, s.port, s.debug, s.interval, s.history, s.demo) == ("0.0.0.0", 8080, True, 0.5, 86400, False)
    assert (s.demo_nodes, s.demo_rate, s.demo_peers) == (25, 12.5, 4)
    for spec in THRESHOLD_SPECS:
        t = s.thresholds[spec.rule]
        assert (t.warning, t.critical) == (float(env[spec.warning_var]), float(env[spec.critical_var]))


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("PRSM_CPU_THRESHOLD", "abc", "a number"),
        ("PRSM_METRICS_INTERVAL", "-1", "from 0.1 to 3600"),
        ("PRSM_METRICS_INTERVAL", "0", "from 0.1 to 3600"),
        ("PRSM_METRICS_INTERVAL", "nan", "a number"),
        ("PRSM_METRICS_INTERVAL", "0.0001", "from 0.1 to 3600"),  # issue 8: 1,600 ticks/s
        ("PRSM_METRICS_INTERVAL", "1e-320", "from 0.1 to 3600"),  # issue 9: OverflowError in the loop
        ("PRSM_METRICS_INTERVAL", "inf", "from 0.1 to 3600"),
        ("PRSM_METRICS_INTERVAL", "3601", "from 0.1 to 3600"),
        ("PRSM_METRICS_HISTORY", "5", "from 10"),
        ("PRSM_METRICS_HISTORY", "10.5", "a whole number"),
        ("PRSM_METRICS_HISTORY", "1" + "0" * 5000, "a whole number"),
        ("PRSM_MEMORY_BUDGET_MB", "nan", "a number at least 16"),
        ("PRSM_MEMORY_BUDGET_MB", "1", "a number at least 16"),
        ("PRSM_LATENCY_CRITICAL", "inf", "at most 60000"),  # issue 9: every page broke
        ("PRSM_INFERENCE_TIME_CRITICAL", "1e400", "at most 3600"),
        ("PRSM_LATENCY_THRESHOLD", "1e-320", "a number"),
        ("PRSM_CPU_THRESHOLD", "1" + "0" * 400, "at most 100"),
        ("PRSM_DEMO_RATE", "1e-320", "a number"),
        ("PRSM_ALLOWED_HOSTS", "two words", "host names"),
        ("PRSM_ALLOWED_HOSTS", "http://x.example", "host names"),
        ("PRSM_DASHBOARD_PORT", "70000", "at most 65535"),
        ("PRSM_DEMO", "maybe", "true/false"),
        ("PRSM_DASHBOARD_DEBUG", "2", "true/false"),
        ("PRSM_MEMORY_THRESHOLD", "120", "at most 100"),
        ("PRSM_CPU_THRESHOLD", "96", "at or below the critical level 95"),
        ("PRSM_CONFIDENCE_THRESHOLD", "0.4", "at or above the critical level 0.5"),
        ("PRSM_SUCCESS_RATE_CRITICAL", "0.95", "a critical level at or below the warning level 0.9"),
        ("PRSM_CPU_CRITICAL", "0", "a critical level at or above the warning level 80"),  # issue 9
    ],
)
def test_bad_values_name_the_variable_value_and_expectation(variable, value, expected):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({variable: value})
    message = str(info.value)
    assert "\n" not in message and len(message) < 400
    assert expected in message
    assert info.value.variable == variable  # the variable that was set, never its partner
    assert message.startswith(f"{variable}={value[:100]!r}"[:100])


def test_a_pair_set_in_the_wrong_order_names_the_warning():
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"PRSM_CPU_THRESHOLD": "90", "PRSM_CPU_CRITICAL": "50"})
    assert info.value.variable == "PRSM_CPU_THRESHOLD" and "critical level 50" in str(info.value)


def test_empty_values_mean_default():
    assert Settings.from_env({"PRSM_DASHBOARD_PORT": "", "PRSM_DEMO": " "}).port == 8501


def test_demo_node_names_set_the_node_count_and_are_checked():
    s = Settings.from_env({"PRSM_DEMO_NODE_NAMES": "eu-west, us-east ,<script>x</script>"})
    assert s.demo_names == ("eu-west", "us-east", "<script>x</script>")
    assert Settings.from_env({"PRSM_DEMO_NODE_NAMES": "a,b", "PRSM_DEMO_NODES": "2"}).demo_names == ("a", "b")
    for bad in ("a,a", "only-one", "a,,b"):
        with pytest.raises(ConfigError, match="PRSM_DEMO_NODE_NAMES"):
            Settings.from_env({"PRSM_DEMO_NODE_NAMES": bad})
    with pytest.raises(ConfigError, match="as many names as PRSM_DEMO_NODES=5"):
        Settings.from_env({"PRSM_DEMO_NODE_NAMES": "a,b", "PRSM_DEMO_NODES": "5"})


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e-320, 1e-310, 0.0, 0.05, 3601, 10**400, True, "1"])
def test_the_interval_check_refuses_what_would_break_the_loop(value):
    with pytest.raises(ConfigError, match="collection_interval") as info:
        check_interval(value)
    assert info.value.expected == "seconds, a number from 0.1 to 3600"


POINT = 8 * 60  # bytes per point of 60 declared fields, about what this machine and the demo declare


def test_history_ceiling_comes_from_the_budget_and_the_declared_fields():
    ceiling = history_ceiling(POINT, MEMORY_BUDGET_MB)
    assert ceiling * POINT * 2 <= MEMORY_BUDGET_MB * 2**20 < (ceiling + 1) * POINT * 2
    assert ceiling >= HISTORY_SECONDS  # the default budget keeps 24 h at 1 Hz
    assert check_history(ceiling, point_bytes=POINT) == ceiling
    with pytest.raises(ConfigError, match=f"from 10 to {ceiling}"):
        check_history(ceiling + 1, point_bytes=POINT)
    with pytest.raises(ConfigError, match="max_history"):
        check_history(1_000_000, point_bytes=POINT)  # issue 9: RSS from 149 to 690 MB on one request


def test_the_default_history_covers_24_hours_as_far_as_the_budget_allows():
    assert default_history(1.0, POINT, MEMORY_BUDGET_MB) == 86_400  # the longest range the pages offer
    assert default_history(2.0, POINT, MEMORY_BUDGET_MB) == 43_200
    assert default_history(1.0, POINT, 16) == history_ceiling(POINT, 16) < 86_400
    fast = default_history(0.1, POINT, MEMORY_BUDGET_MB)  # 864,000 points would not fit 256 MB
    assert fast == history_ceiling(POINT, MEMORY_BUDGET_MB)


@pytest.mark.parametrize(
    "field, value",
    [("interval", 0.0001), ("interval", math.inf), ("history", 5), ("history", 10.5), ("memory_budget_mb", math.nan)],
)
def test_settings_built_in_code_are_checked_too(field, value):
    with pytest.raises(ConfigError, match=f"Settings.{field}"):
        Settings(**{field: value})


@pytest.mark.parametrize(
    "change, name",
    [
        ({"latency": {"critical": math.inf}}, "thresholds.latency.critical"),  # issue 9: StreamlitJSNumberBoundsError
        ({"latency": {"critical": 10**400}}, "thresholds.latency.critical"),  # issue 9: OverflowError, a 500
        ({"cpu": {"warning": math.nan}}, "thresholds.cpu.warning"),
        ({"cpu": {"critical": 1e-320}}, "thresholds.cpu.critical"),
        ({"cpu": {"critical": 50}}, "thresholds.cpu.critical"),  # only the critical one changed: it is named
        ({"cpu": [90, 50]}, "thresholds.cpu.warning"),
        ({"cpu": {"warning": 80, "critical": 50}}, "thresholds.cpu.critical"),  # the warning one unchanged
    ],
)
def test_threshold_changes_name_the_level_at_fault(change, name):
    with pytest.raises(ConfigError) as info:
        check_thresholds(change, default_thresholds())
    assert info.value.variable == name


class Recorder:
    """Stands for the demo network: records the faults that reach it."""

    def __init__(self):
        self.calls = []

    def clear_faults(self):
        pass

    def __getattr__(self, action):
        return lambda **args: self.calls.append((action, args))


@pytest.mark.parametrize(
    "fault, name",
    [
        ({"action": "add_delay", "name": "node-0", "ms": math.inf}, "fault.ms"),
        ({"action": "add_delay", "name": "node-0", "ms": 1e-320}, "fault.ms"),
        ({"action": "overload", "factor": 10**400}, "fault.factor"),  # was an OverflowError
        ({"action": "overload", "factor": 1e-320}, "fault.factor"),  # was accepted
        ({"action": "drift", "amount": True}, "fault.amount"),
    ],
)
def test_fault_numbers_get_the_same_finiteness_check(fault, name):
    from prsm_monitor.demo.faults import apply_fault

    network = Recorder()
    with pytest.raises(ConfigError) as info:
        apply_fault(network, fault)
    assert info.value.variable == name and network.calls == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.25, "250 ms"),
        (45, "45 s"),
        (110, "1 min"),  # whole minutes, as a clock counts
        (720, "12 min"),
        (5 * 3600 + 720, "5 h 12 min"),
        (86400, "24 h"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
    ],
)
def test_every_duration_is_written_one_way(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "seconds"), [("500ms", 0.5), ("90s", 90), (" 15m ", 900), ("4h", 14400), ("1.5d", 129600), (30, 30)]
)
def test_every_duration_is_read_one_way(value, seconds):
    assert parse_duration(value, "PRSM_X", 0.0, 30 * 86400) == seconds


@pytest.mark.parametrize("value", ["24", "30 days", "h", "-5s", "1e3s", True, math.nan, "31d", -1])
def test_a_bad_duration_names_the_setting_the_value_and_the_range(value):
    with pytest.raises(ConfigError) as info:
        parse_duration(value, "PRSM_X", 0.0, 30 * 86400)
    assert info.value.variable == "PRSM_X" and info.value.expected.endswith("from 0 s to 30 d")
