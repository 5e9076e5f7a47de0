"""Sidebar controls that inject demo faults into the shared collector's demo network."""

from __future__ import annotations

import streamlit as st

from ..core.collector import MetricsCollector
from ..settings.values import ConfigError
from .roles import reason_caption, role
from .text import escape_markdown as md


def _apply(collector: MetricsCollector, fault: dict) -> None:
    who = role(collector.settings)  # checked again: the button could be a stale one
    if not who.may_change:
        st.session_state["faults_error"] = who.reason
        return
    try:
        collector.configure(fault=fault, actor=who.actor)
    except ConfigError as error:
        st.session_state["faults_error"] = str(error)


def _button(collector: MetricsCollector, label: str, fault: dict, key: str, **kwargs) -> None:
    if not role(collector.settings).may_change:
        kwargs["disabled"] = True
    st.button(label, key=key, on_click=_apply, args=(collector, fault), width="stretch", **kwargs)


def fault_controls(collector: MetricsCollector, network) -> None:
    """One control per fault; every viewer sees the same network, and each action is logged."""
    faults = network.faults()
    st.caption("Break the demo network on purpose; the metrics and alerts show it within a few heartbeats.")
    reason_caption(role(collector.settings))
    error = st.session_state.pop("faults_error", None)
    if error:
        st.error(md(error), icon=":material/error:")
    names = list(network.names)
    stopped = set(faults["stopped"])
    node = st.selectbox("Node", names, key="faults_node")
    if node in stopped:
        _button(collector, f"Start {md(node)}", {"action": "start_node", "name": node}, "faults_start", type="primary")
    else:
        _button(collector, f"Stop {md(node)}", {"action": "stop_node", "name": node}, "faults_stop")
    # a slider showing the network's state is keyed by that state too: when it changes (a
    # viewer's "Clear all faults", another viewer's change) the slider is drawn anew and reads
    # the network's value, not the one this session last moved it to
    current_delay = int(faults["delay_ms"].get(node, 0))
    delay = st.slider("Added link delay (ms)", 0, 1000, current_delay, 50, key=f"faults_delay_{node}_{current_delay}")
    _button(
        collector,
        f"Set delay on {md(node)}",
        {"action": "add_delay", "name": node, "ms": float(delay)},
        "faults_delay_apply",
    )
    leaking = faults.get("leak_mb_per_min", {})
    if node in leaking:
        _button(
            collector, f"Release {md(node)}'s leaked memory", {"action": "clear_leak", "name": node}, "faults_unleak"
        )
    else:
        leak = st.slider("Memory leak (MiB/min)", 1, 32, 4, key="faults_leak_rate")
        _button(
            collector,
            f"Leak memory on {md(node)}",
            {"action": "leak", "name": node, "mb_per_min": float(leak)},
            "faults_leak",
        )
    models = ["every model", *network.models]
    model = st.selectbox("Model", models, key="faults_model")
    amount = st.slider("Input drift", 0.0, 1.0, 0.8, 0.1, key="faults_drift_amount")
    drift = {"action": "drift", "amount": amount}
    if model != "every model":
        drift["model"] = model
    _button(collector, "Apply drift", drift, "faults_drift_apply")
    current_factor = max(1, round(faults["rate"] / max(faults["base_rate"], 1e-9)))
    factor = st.slider("Request rate (× normal)", 1, 50, current_factor, key=f"faults_rate_{current_factor}")
    _button(collector, "Set request rate", {"action": "overload", "factor": float(factor)}, "faults_rate_apply")
    if faults["partition"]:
        _button(collector, "Heal partition", {"action": "heal"}, "faults_heal", type="primary")
    else:
        _button(collector, "Partition in two", {"action": "partition"}, "faults_partition")
    active = _describe(faults)
    st.caption("Injected now: " + (md(", ".join(active)) if active else "nothing"))
    _button(collector, "Clear all faults", {"action": "clear_faults"}, "faults_clear", disabled=not active)


def _describe(faults: dict) -> list[str]:
    parts = [f"{n} stopped" for n in faults["stopped"]]
    parts += [f"{ms:g} ms on {n}" for n, ms in faults["delay_ms"].items()]
    parts += [f"drift {a:g} on {m}" for m, a in faults["drift"].items()]
    parts += [f"leak {r:g} MiB/min on {n}" for n, r in faults.get("leak_mb_per_min", {}).items()]
    if faults["rate"] != faults["base_rate"]:
        parts.append(f"rate {faults['rate']:g}/s")
    if faults["partition"]:
        parts.append("partitioned")
    return parts
