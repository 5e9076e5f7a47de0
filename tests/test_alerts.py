from prsm_monitor.alerts import INACTIVE, AlertLog, Rule, default_rules, evaluate, step
from prsm_monitor.config import Threshold

CPU = Rule("cpu", "system", "cpu_percent", "CPU usage", "%", "above", 80.0, 95.0, for_seconds=0.0, clear_margin=5.0)
CONF = Rule("confidence", "ai", "average_confidence", "Average confidence", "", "below", 0.7, 0.5, 0.0, 0.05)


def run(rule, values, start_state=INACTIVE, dt=1.0):
    """Feed values one tick apart; return every transition."""
    state, out = start_state, []
    for i, value in enumerate(values):
        state, transition = step(rule, value, state, float(i) * dt)
        if transition:
            out.append(transition)
    return state, out


def test_sustained_breach_over_20_ticks_fires_exactly_once():
    state, transitions = run(CPU, [85.0] * 20)
    assert [(t.kind, t.level) for t in transitions] == [("fired", "warning")]
    assert state.level == "warning" and state.phase == "firing"
    assert "above the warning threshold 80%" in transitions[0].message


def test_escalation_to_critical_and_back():
    _, transitions = run(CPU, [85, 97, 97, 92, 91, 85, 60])
    assert [(t.kind, t.level) for t in transitions] == [
        ("fired", "warning"),
        ("escalated", "critical"),
        ("de-escalated", "warning"),  # 85 < 95 - 5
        ("resolved", "info"),
    ]


def test_resolution_waits_for_the_clear_margin():
    state, transitions = run(CPU, [85, 79, 76, 75.5])
    assert [t.kind for t in transitions] == ["fired"]  # 79, 76, 75.5 are within the 5-point margin
    state, more = step(CPU, 74.9, state, 10.0)
    assert more.kind == "resolved" and more.level == "info" and state == INACTIVE


def test_below_rules_mirror_above_rules():
    _, transitions = run(CONF, [0.9, 0.65, 0.45, 0.52, 0.56, 0.72, 0.8])
    assert [(t.kind, t.level) for t in transitions] == [
        ("fired", "warning"),
        ("escalated", "critical"),
        ("de-escalated", "warning"),  # 0.56 > 0.5 + 0.05
        ("resolved", "info"),  # 0.8 > 0.7 + 0.05
    ]


def test_for_duration_delays_firing_and_a_dip_restarts_it():
    rule = Rule("cpu", "system", "cpu_percent", "CPU", "%", "above", 80.0, 95.0, for_seconds=3.0)
    state, transitions = run(rule, [85, 85, 85])  # t = 0, 1, 2: breach lasted 2 s
    assert transitions == [] and state.phase == "pending"
    state, t = step(rule, 85, state, 3.0)
    assert t.kind == "fired" and t.timestamp == 3.0
    _, transitions = run(rule, [85, 85, 50, 85, 85, 85])  # the dip at t=2 restarts the clock
    assert transitions == []


def test_a_value_flapping_around_the_threshold_does_not_flood():
    values = [79.0, 81.0] * 50
    _, transitions = run(CPU, values)
    assert [t.kind for t in transitions] == ["fired"]


def test_missing_values_change_nothing():
    state, _ = run(CPU, [90])
    assert step(CPU, None, state, 5.0) == (state, None)
    assert step(CPU, float("nan"), state, 5.0) == (state, None)


def test_evaluate_is_pure_and_skips_absent_components():
    rules = default_rules()
    sample = {"system": {"cpu_percent": 99.0, "memory_percent": 10.0, "disk_percent": 10.0}}
    states = {}
    new_states, transitions = evaluate(rules, sample, states, 100.0)
    assert states == {} and set(new_states) == set(rules)
    assert new_states["cpu"].phase == "pending"  # the default CPU rule waits 5 s
    new_states, transitions = evaluate(rules, sample, new_states, 105.0)
    assert [(t.rule.name, t.kind, t.level) for t in transitions] == [("cpu", "fired", "critical")]
    assert new_states["latency"] == INACTIVE  # no network sample: untouched


def test_threshold_change_applies_on_next_evaluation():
    rules = {"cpu": CPU}
    sample = {"system": {"cpu_percent": 50.0}}
    states, transitions = evaluate(rules, sample, {}, 0.0)
    assert transitions == []
    lowered = {"cpu": CPU.with_threshold(Threshold(40.0, 90.0, "above"))}
    states, transitions = evaluate(lowered, sample, states, 1.0)
    assert [(t.kind, t.level, t.threshold) for t in transitions] == [("fired", "warning", 40.0)]


def test_log_keeps_active_alerts_history_and_acknowledgement():
    log = AlertLog(history=3)
    fired = log.record("rule:cpu", "fired", "warning", "system", "CPU high", {}, 1.0)
    log.record("rule:cpu", "escalated", "critical", "system", "CPU very high", {}, 2.0)
    [active] = log.active()
    assert active["id"] == fired["id"] and active["level"] == "critical" and not active["acknowledged"]
    assert log.acknowledge(active["id"], 3.0) and log.active()[0]["acknowledged"]
    log.record("rule:cpu", "de-escalated", "warning", "system", "CPU high", {}, 4.0)
    assert not log.active()[0]["acknowledged"]  # a changed level needs a fresh look
    assert not log.acknowledge(999, 5.0)
    resolved = log.record("rule:cpu", "resolved", "info", "system", "CPU normal", {}, 5.0)
    assert log.active() == [] and resolved["alert_id"] == fired["id"]
    assert [e["timestamp"] for e in log.events()] == [2.0, 4.0, 5.0]  # bounded history
    assert [e["kind"] for e in log.events(since_id=resolved["id"] - 1)] == ["resolved"]
    assert [e["level"] for e in log.events(level="info")] == ["info"]
