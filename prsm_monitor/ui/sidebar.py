"""The sidebar every page shares: navigation, refresh, time range, thresholds, demo faults."""

from __future__ import annotations

import math

import streamlit as st

from ..alerts.rules_file import default_thresholds_of
from ..core.collector import MetricsCollector
from ..settings.thresholds import SPECS_BY_RULE
from ..settings.values import ConfigError
from . import insight_layers, moment, shared_views
from .export import download_buttons
from .faults import fault_controls
from .gate import logout_button
from .instances import chosen, hub_of, is_remote, selector, view_of
from .pages import PAGES
from .roles import operator_unlock, reason_caption, role
from .state import Prefs
from .style import RANGES, REFRESH, SHORT_RANGES

RULE_GROUPS = {
    "System": ("cpu", "memory", "disk"),
    "Network": ("latency", "consensus_rejections"),
    "AI": ("confidence", "inference_time", "success_rate"),
}
NODE_RULES = ("peers", "job_failures", "consensus_disagreements", "ledger_discrepancies", "storage_full")
NODE_RULES += ("balance_falling",)  # shown when real PRSM nodes are watched (PRSM_NODE_URLS)
DEFAULT_RANGE = "15 min"
DEFAULT_REFRESH = "2 s"
STEPS = {"%": 1.0, "ms": 10.0, "s": 0.1, "": 0.01}
LEARNED_EVERY = 30.0  # s: the learning note changes by the minute


def _remembered(widget_key: str, store_key: str):
    st.session_state[store_key] = st.session_state[widget_key]


def sidebar(collector: MetricsCollector) -> Prefs:
    """The shared sidebar; ``collector`` is the local one, or the view of the chosen instance."""
    at = moment.chosen()  # ?at=: a bad one is said on the page itself
    with st.sidebar:
        st.markdown("### PRSM Monitor")
        range_label = st.session_state.get("range", DEFAULT_RANGE)
        params = {"range": range_label} if range_label != DEFAULT_RANGE else {}
        if chosen() != "local":
            params["instance"] = chosen()  # the links keep the instance, as they keep the range
        if at is not None:
            params[moment.KEY] = st.query_params[moment.KEY]  # and the moment shown
        for page in PAGES:
            st.page_link(page.path, label=page.title, icon=page.icon, query_params=params or None)
        st.divider()
        instance = selector(hub_of(collector))
        collector = view_of(hub_of(collector), instance)
        range_label = (
            st.segmented_control(
                "Time range",
                ranges(collector),
                default=DEFAULT_RANGE,
                key="range",
                bind="query-params",
                required=True,
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
        operator_unlock(collector.settings)
        if is_remote(collector):
            st.caption(
                ":material/lock: Thresholds and demo faults are changed on each instance itself: "
                "pick *This instance* to change this one's."
            )
        else:
            threshold_controls(collector)
            insight_layers.band_toggle()
            learned_note(collector, live=at is None)
            demo_controls(collector)
        moment.picker(at)
        with st.expander("Export", icon=":material/download:"):
            st.caption(f"History of the last {range_label}, at full resolution.")
            download_buttons(collector, RANGES[range_label])
        logout_button()
    return Prefs(REFRESH[refresh_label], range_label, instance, at)


def learned_note(collector: MetricsCollector, live: bool) -> None:
    """What the normal bands were learnt from, under the band toggle. Live, it is re-read every
    :data:`LEARNED_EVERY` seconds on its own: the sidebar is drawn once per page run, and a page
    left open kept the note of its first second ("learnt from 8 s of values" after 30 minutes)."""

    def note() -> None:
        learned = shared_views.learned_from(collector)
        if learned and insight_layers.show_band():
            st.caption(learned)

    if live:
        st.fragment(run_every=LEARNED_EVERY)(note)()
    else:
        note()


def threshold_controls(collector: MetricsCollector) -> None:
    rules = collector.rules
    defaults = default_thresholds_of(collector)  # with a rules file: its thresholds
    who = role(collector.settings)
    with st.expander("Alert thresholds", icon=":material/tune:"):
        st.caption("Shared: a change applies to every viewer and to the API from the next tick.")
        reason_caption(who)
        with st.form("thresholds", border=False):
            values = {}
            groups = RULE_GROUPS | ({"Real PRSM nodes": NODE_RULES} if collector.settings.node_urls else {})
            for group, names in groups.items():
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
                        disabled=not who.may_change,
                    )
                    c = right.number_input(
                        f"Critical ({spec.unit or 'ratio'})",
                        spec.low,
                        high,
                        float(rule.critical),
                        step,
                        fmt,
                        key=f"thr_{name}_c_{rule.critical}",
                        disabled=not who.may_change,
                    )
                    values[name] = (w, c)
            apply = st.form_submit_button(
                "Apply to all viewers", type="primary", width="stretch", disabled=not who.may_change
            )
        if apply and role(collector.settings).may_change:
            try:
                collector.configure(thresholds=values, actor=who.actor)
            except ConfigError as error:
                st.error(labelled(error, rules), icon=":material/error:")
            else:
                st.rerun()
        if st.button("Reset to defaults", width="stretch", key="thr_reset", disabled=not who.may_change):
            collector.configure(thresholds=dict(defaults), actor=who.actor)
            st.rerun()


def ranges(collector: MetricsCollector) -> list[str]:
    """The time ranges offered: up to 24 h, and 7 d, 30 d and 1 y where history lasts (on disk,
    or in Prometheus); a range longer than what is stored says where history starts."""
    lasting = collector.settings.data_dir is not None or collector.settings.prometheus_url is not None
    return list(RANGES) if lasting else list(SHORT_RANGES)


def labelled(error: ConfigError, rules) -> str:
    """The error in the form's words: ``thresholds.cpu.warning`` reads "CPU usage warning"."""
    parts = str(error.variable).split(".")
    if len(parts) == 3 and parts[1] in rules:
        return str(ConfigError(f"{rules[parts[1]].label} {parts[2]}", error.value, error.expected))
    return str(error)


def demo_controls(collector: MetricsCollector) -> None:
    """Fault injection for live demos, shown while a demo network runs."""
    network = collector.demo_network
    if network is None:
        return
    with st.expander("Demo faults", icon=":material/bolt:"):
        fault_controls(collector, network)
