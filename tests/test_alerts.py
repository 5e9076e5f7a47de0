from prsm_monitor.alerts import INACTIVE, AlertLog, Rule, default_rules, evaluate, firing, step
from prsm_monitor.core.collector import MetricsCollector
from prsm_monitor.fields import GAUGE, TIMESTAMP, Field
from prsm_monitor.settings.model import Settings
from prsm_monitor.settings.thresholds import Threshold

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
    assert more.kind == "resolved" and more.level == "info" and state.phase == "inactive"


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
    assert new_states["cpu"].phase == "pending"  # the default CPU rule waits its "for" duration
    new_states, transitions = evaluate(rules, sample, new_states, 100.0 + rules["cpu"].for_seconds)
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


def test_a_de_escalated_alert_says_what_it_is_now():
    state, transitions = run(CPU, [97, 78])  # 78 < 95 - 5: down to warning, but within 5 points of 80
    assert [(t.kind, t.level) for t in transitions] == [("fired", "critical"), ("de-escalated", "warning")]
    message = transitions[-1].message
    assert message.startswith("CPU usage 78% is back under the warning threshold 80%")
    assert "until below 75%" in message and "above" not in message
    [status] = firing({"cpu": CPU}, {"cpu": state})
    assert (status.level, status.message) == ("warning", message)
    _, more = run(CPU, [97, 88])
    assert more[-1].message == "CPU usage 88% is above the warning threshold 80%"


def test_below_rules_say_over_and_above_the_other_way_round():
    state, _ = run(CONF, [0.45, 0.54])  # critical, then back over 0.5 but within the 0.05 margin
    [status] = firing({"confidence": CONF}, {"confidence": state})
    assert status.message == (
        "Average confidence 0.54 is back over the critical threshold 0.5, not yet clear: critical until above 0.55"
    )
    state, _ = step(CONF, 0.6, state, 9.0)
    assert firing({"confidence": CONF}, {"confidence": state})[0].message == (
        "Average confidence 0.6 is below the warning threshold 0.7"
    )


def test_firing_rules_report_the_value_of_the_latest_sample():
    state, _ = run(CPU, [85, 90, 99, 92])
    [status] = firing({"cpu": CPU, "conf": CONF}, {"cpu": state, "conf": INACTIVE})
    assert (status.level, status.value, status.details["value"]) == ("critical", 92, 92)
    assert (
        status.message
        == "CPU usage 92% is back under the critical threshold 95%, not yet clear: critical until below 90%"
    )
    assert firing({"cpu": CPU}, {"cpu": run(CPU, [85, 60])[0]}) == []  # resolved: nothing to say


class Memory:
    """A source of one field, ``system.memory_percent``, set by the test (default rule: 85/95 %,
    no "for" duration, a 2-point clear margin)."""

    components = ("system",)
    fields = {"system": (TIMESTAMP, Field("memory_percent", "%", GAUGE, "test value"))}
    value = 50.0

    def collect(self):
        return {"system": {"timestamp": 0.0, "memory_percent": self.value}}


def test_an_active_alert_is_re_rendered_every_tick_with_one_event_per_transition():
    source = Memory()
    collector = MetricsCollector(settings=Settings(demo=False), sources=[source])
    seen = []
    for value in (90, 92, 97, 96, 90, 84, 80):
        source.value = value
        collector.collect_once()
        seen.append([(a["level"], a["message"], a["details"]["value"]) for a in collector.get_active_alerts()])
    assert seen == [
        [("warning", "Memory usage 90% is above the warning threshold 85%", 90)],
        [("warning", "Memory usage 92% is above the warning threshold 85%", 92)],
        [("critical", "Memory usage 97% is above the critical threshold 95%", 97)],
        [("critical", "Memory usage 96% is above the critical threshold 95%", 96)],
        [("warning", "Memory usage 90% is above the warning threshold 85%", 90)],
        [
            (
                "warning",
                "Memory usage 84% is back under the warning threshold 85%, not yet clear: warning until below 83%",
                84,
            )
        ],
        [],
    ]
    events = collector.get_alerts()
    assert [(e["kind"], e["details"]["value"]) for e in events] == [
        ("fired", 90),
        ("escalated", 97),
        ("de-escalated", 90),
        ("resolved", 80),
    ]
    assert events[0]["message"] == "Memory usage 90% is above the warning threshold 85%"  # history keeps its words


def test_refresh_changes_an_active_alert_in_place_without_an_event():
    log = AlertLog()
    assert not log.refresh("rule:cpu", "CPU 90", {"value": 90})  # nothing active
    fired = log.record("rule:cpu", "fired", "warning", "system", "CPU 85", {"value": 85, "transition": "fired"}, 1.0)
    log.acknowledge(fired["id"], 2.0)
    revision = log.revision
    assert log.refresh("rule:cpu", "CPU 90", {"value": 90}, merge=True)
    [active] = log.active()
    assert (active["message"], active["details"]) == ("CPU 90", {"value": 90, "transition": "fired"})
    assert active["acknowledged"] and active["started"] == 1.0  # the same alert, still seen
    assert log.revision == revision + 1 and len(log.events()) == 1  # readers see a change, the history none
    log.refresh("rule:cpu", "CPU 90", {"value": 90}, merge=True)
    assert log.revision == revision + 1  # nothing changed: no new revision
    log.refresh("rule:cpu", "CPU 90", {"value": 90})
    assert log.active()[0]["details"] == {"value": 90}  # without merge the details are replaced


def test_a_custom_alert_keeps_its_details_current():
    collector = MetricsCollector(settings=Settings(demo=False), sources=[])
    assert collector.create_alert("warning", "ai", "Low success rate", {"rate": 0.62}) is not None
    assert collector.create_alert("warning", "ai", "Low success rate", {"rate": 0.34}) is None  # no second event
    [active] = collector.get_active_alerts()
    assert active["details"] == {"rate": 0.34} and len(collector.get_alerts()) == 1
