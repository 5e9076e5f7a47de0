"""The sidebar every page shares: navigation, refresh, time range, thresholds, demo faults."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from ..collector import MetricsCollector
from ..config import SPECS_BY_RULE, ConfigError, check_threshold
from .export import download_buttons
from .faults import fault_controls
from .style import RANGES, REFRESH

PAGES = (
    ("streamlit_app.py", "Overview", ":material/dashboard:"),
    ("pages/1_System.py", "System", ":material/memory:"),
    ("pages/2_Network.py", "Network", ":material/hub:"),
    ("pages/3_AI_Models.py", "AI Models", ":material/psychology:"),
    ("pages/4_Alerts.py", "Alerts", ":material/notifications:"),
)
RULE_GROUPS = {
    "System": ("cpu", "memory", "disk"),
    "Network": ("latency",),
    "AI": ("confidence", "inference_time", "success_rate"),
}
DEFAULT_RANGE = "15 min"
DEFAULT_REFRESH = "2 s"
STEPS = {"%": 1.0, "ms": 10.0, "s": 0.1, "": 0.01}


@dataclass(frozen=True)
class Prefs:
    """What this viewer chose: refresh period in seconds (None: off) and time range in minutes."""

    refresh: float | None
    range_label: str

    @property
    def minutes(self) -> float:
        return RANGES[self.range_label]


def _remembered(widget_key: str, store_key: str):
    st.session_state[store_key] = st.session_state[widget_key]


def sidebar(collector: MetricsCollector) -> Prefs:
    with st.sidebar:
        st.markdown("### PRSM Monitor")
        range_label = st.session_state.get("range", DEFAULT_RANGE)
        for path, label, icon in PAGES:
            st.page_link(
                path,
                label=label,
                icon=icon,
                query_params={"range": range_label} if range_label != DEFAULT_RANGE else None,
            )
        st.divider()
        range_label = (
            st.segmented_control(
                "Time range", list(RANGES), default=DEFAULT_RANGE, key="range", bind="query-params", required=True
            )
            or DEFAULT_RANGE
        )
        st.session_state.setdefault("prefs_refresh", DEFAULT_REFRESH)
        refresh_label = (
            st.segmented_control(
                "Refresh",
                list(REFRESH),
                default=st.session_state["prefs_refresh"],
                key="refresh_widget",
                required=True,
                on_change=_remembered,
                args=("refresh_widget", "prefs_refresh"),
            )
            or DEFAULT_REFRESH
        )
        threshold_controls(collector)
        demo_controls(collector)
        with st.expander("Export", icon=":material/download:"):
            st.caption(f"History of the last {range_label}, at full resolution.")
            download_buttons(collector, RANGES[range_label])
    return Prefs(REFRESH[refresh_label], range_label)


def threshold_controls(collector: MetricsCollector) -> None:
    rules = collector.rules
    defaults = collector.settings.thresholds
    with st.expander("Alert thresholds", icon=":material/tune:"):
        st.caption("Shared: a change applies to every viewer and to the API from the next tick.")
        with st.form("thresholds", border=False):
            values = {}
            for group, names in RULE_GROUPS.items():
                st.markdown(f"**{group}**")
                for name in names:
                    rule, spec = rules[name], SPECS_BY_RULE[name]
                    changed = (rule.warning, rule.critical) != (defaults[name].warning, defaults[name].critical)
                    st.caption(f"{rule.label} ({'alert when ' + rule.direction}){' · changed' if changed else ''}")
                    left, right = st.columns(2)
                    step = STEPS.get(spec.unit, 1.0)
                    high = None if math.isinf(spec.high) else spec.high
                    fmt = "%.2f" if step < 0.1 else "%.1f"
                    # the current shared value is part of the key, so another viewer's change shows here
                    w = left.number_input(
                        f"Warning ({spec.unit or 'ratio'})",
                        spec.low,
                        high,
                        float(rule.warning),
                        step,
                        fmt,
                        key=f"thr_{name}_w_{rule.warning}",
                    )
                    c = right.number_input(
                        f"Critical ({spec.unit or 'ratio'})",
                        spec.low,
                        high,
                        float(rule.critical),
                        step,
                        fmt,
                        key=f"thr_{name}_c_{rule.critical}",
                    )
                    values[name] = (w, c)
            apply = st.form_submit_button("Apply to all viewers", type="primary", width="stretch")
        if apply:
            try:
                for name, (w, c) in values.items():
                    check_threshold(
                        name,
                        w,
                        c,
                        warning_name=f"{rules[name].label} warning",
                        critical_name=f"{rules[name].label} critical",
                    )
                collector.configure(thresholds=values)
            except ConfigError as error:
                st.error(str(error), icon=":material/error:")
            else:
                st.rerun()
        if st.button("Reset to defaults", width="stretch", key="thr_reset"):
            collector.configure(thresholds=dict(defaults))
            st.rerun()


def demo_controls(collector: MetricsCollector) -> None:
    """Fault injection for live demos, shown while a demo network runs."""
    network = collector.demo_network
    if network is None:
        return
    with st.expander("Demo faults", icon=":material/bolt:"):
        fault_controls(collector, network)
