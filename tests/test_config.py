import pytest

from prsm_monitor.config import THRESHOLD_SPECS, ConfigError, Settings


def test_defaults_without_any_variable():
    s = Settings.from_env({})
    assert (s.host, s.port, s.debug, s.interval, s.history, s.demo) == ("localhost", 8501, False, 1.0, 1000, True)
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
        ("PRSM_METRICS_INTERVAL", "-1", "greater than 0"),
        ("PRSM_METRICS_INTERVAL", "0", "greater than 0"),
        ("PRSM_METRICS_INTERVAL", "nan", "a number"),
        ("PRSM_METRICS_HISTORY", "5", "at least 10"),
        ("PRSM_METRICS_HISTORY", "10.5", "a whole number"),
        ("PRSM_DASHBOARD_PORT", "70000", "at most 65535"),
        ("PRSM_DEMO", "maybe", "true/false"),
        ("PRSM_DASHBOARD_DEBUG", "2", "true/false"),
        ("PRSM_MEMORY_THRESHOLD", "120", "at most 100"),
        ("PRSM_CPU_THRESHOLD", "96", "at or below the critical level 95"),
        ("PRSM_CONFIDENCE_THRESHOLD", "0.4", "at or above the critical level 0.5"),
        ("PRSM_SUCCESS_RATE_CRITICAL", "0.95", "at or above the critical level 0.95"),
    ],
)
def test_bad_values_name_the_variable_value_and_expectation(variable, value, expected):
    with pytest.raises(ConfigError) as info:
        Settings.from_env({variable: value})
    message = str(info.value)
    assert "\n" not in message
    assert expected in message
    assert info.value.variable in message
    assert value in message
    # the variable itself is named; when warning and critical disagree, the warning one is
    assert info.value.variable.startswith(variable.rsplit("_", 1)[0])


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
