"""KPI deltas: the arrow points the way the value moved, the colour says whether that is good."""

import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from prsm_monitor.ui import kpi
from prsm_monitor.ui.kpi import Kpi, delta_of

NODES_UP = Kpi("active_nodes", "Nodes up", kpi.count, rise="good")
LATENCY = Kpi("average_latency", "Latency", kpi.ms, rise="bad")
MESSAGES = Kpi("message_rate", "Messages/s", kpi.rate)


@pytest.mark.parametrize(
    "card, change, text, color",
    [
        (NODES_UP, -1, "-1", "normal"),  # a node went down: "normal" draws a fall red
        (NODES_UP, +2, "+2", "normal"),
        (LATENCY, -0.4, "-0.4 ms", "inverse"),  # latency fell: "inverse" draws a fall green
        (LATENCY, +250, "+250 ms", "inverse"),
        (MESSAGES, -3.5, "-3.5/s", "off"),
    ],
)
def test_a_change_keeps_its_sign_in_ascii_and_its_meaning_in_the_colour(card, change, text, color):
    delta = delta_of(card, change)
    assert (delta.text, delta.color, delta.arrow) == (text, color, "auto")
    assert "\u2212" not in delta.text  # a Unicode minus reads as a rise in st.metric


def test_a_change_that_rounds_to_zero_has_no_arrow_and_no_colour():
    assert delta_of(NODES_UP, 0) == kpi.Delta("0", "off", "off")
    assert delta_of(LATENCY, 0.004) == kpi.Delta("0.0 ms", "off", "off")


class FakeCollector:
    """A history of one minute and a half: ``before`` a minute ago, ``now`` at the end."""

    def __init__(self, before: dict, now: dict):
        self.rows = pd.DataFrame([{"timestamp": 1000.0, **before}, {"timestamp": 1065.0, **now}])

    def history(self, component, minutes=None):
        return self.rows


def _script():
    import streamlit as st

    from prsm_monitor.ui import kpi as k

    cards = (
        k.Kpi("active_nodes", "Nodes up", k.count, rise="good"),
        k.Kpi("success_rate", "Success rate", k.ratio_pct, rise="good"),
        k.Kpi("average_latency", "Latency", k.ms, rise="bad"),
        k.Kpi("missed_ticks_total", "Missed ticks", k.count, rise="bad"),
        k.Kpi("message_rate", "Messages/s", k.rate),
        k.Kpi("p95_latency", "Latency p95", k.ms, rise="bad"),
    )
    collector = st.session_state["collector"]
    k.kpi_row(collector, "network", collector.rows.iloc[-1].to_dict(), cards)


def test_st_metric_draws_a_fall_down_and_a_rise_up_in_the_colour_of_their_meaning():
    at = AppTest.from_function(_script)
    at.session_state["collector"] = FakeCollector(
        before={
            "active_nodes": 5,
            "success_rate": 1.0,
            "average_latency": 0.8,
            "missed_ticks_total": 3,
            "message_rate": 50.0,
            "p95_latency": 5.0,
        },
        now={
            "active_nodes": 4,
            "success_rate": 0.16,
            "average_latency": 300.0,
            "missed_ticks_total": 3,
            "message_rate": 60.0,
            "p95_latency": 1.0,
        },
    )
    at.run()
    assert not at.exception
    shown = {m.label: (m.value, m.proto.delta, m.proto.direction, m.proto.color) for m in at.metric}
    down, up, flat = MetricProto.MetricDirection.DOWN, MetricProto.MetricDirection.UP, MetricProto.MetricDirection.NONE
    red, green, gray = MetricProto.MetricColor.RED, MetricProto.MetricColor.GREEN, MetricProto.MetricColor.GRAY
    assert shown["Nodes up"] == ("4", "-1", down, red)  # was "↑ −1" in green
    assert shown["Success rate"] == ("16.0%", "-84.0%", down, red)
    assert shown["Latency"] == ("300 ms", "+299 ms", up, red)
    assert shown["Missed ticks"] == ("3", "0", flat, gray)  # was "↑ +0" in red
    assert shown["Messages/s"] == ("60.0/s", "+10.0/s", up, gray)
    assert shown["Latency p95"] == ("1.0 ms", "-4.0 ms", down, green)  # latency fell: good


def test_formats_stay_short_so_a_card_is_not_cut():
    assert kpi.ratio_pct(1.0) == "100%"
    assert kpi.pct(99.96) == "100%"
    assert kpi.pct(7.25) == "7.2%"
    assert kpi.rate(1234.5) == "1,234/s"
    assert kpi.seconds(0.162) == "162 ms"


def test_the_value_a_minute_ago_is_the_newest_stamped_at_least_60_s_before_now():
    now = 1_000.0
    times = [now - 90, now - 60, now - 59, now]
    frame = pd.DataFrame({"timestamp": times, "cpu": [1.0, 2.0, 3.0, 4.0], "swap": [5.0, float("nan"), 6.0, 7.0]})
    assert kpi.values_a_minute_ago(frame, ["cpu", "swap", "load"], now) == {"cpu": 2.0}  # exactly 60 s; NaN left out
    assert kpi.values_a_minute_ago(frame, ["cpu"], now - 0.5) == {"cpu": 1.0}
    assert kpi.values_a_minute_ago(frame, ["cpu"], now - 31) == {}  # nothing a minute before
    assert kpi.values_a_minute_ago(frame.iloc[:0], ["cpu"], now) == {}
