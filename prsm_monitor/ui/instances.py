"""Which instance the pages show: this one (``local``) or one of ``PRSM_INSTANCES``.

The sidebar's selector is kept in the URL (``?instance=edge``), like the time range; every
page then reads the chosen instance through the same interface as the local collector
(:class:`~prsm_monitor.fleet.RemoteCollector`), and a remote instance's figures say how old
they are when it stopped answering."""

from __future__ import annotations

import time

import streamlit as st

from ..core.collector import MetricsCollector
from ..fleet import RemoteCollector, fleet_of
from ..settings.durations import duration
from ..settings.env_services import LOCAL_INSTANCE
from .clock import clock, viewer_zone
from .text import escape_markdown

KEY = "instance"  # the selector's key and the URL's query parameter
LOCAL_LABEL = "This instance"


def is_remote(view) -> bool:
    return isinstance(view, RemoteCollector)


def hub_of(view) -> MetricsCollector:
    """The local collector behind ``view`` (itself when it is local)."""
    return view.hub if is_remote(view) else view


def chosen() -> str:
    """The instance this session shows, before the selector is drawn (for the navigation links)."""
    return st.session_state.get(KEY) or LOCAL_INSTANCE


def selector(collector: MetricsCollector) -> str:
    """The instance selector (only when ``PRSM_INSTANCES`` names some); the chosen name."""
    fleet = fleet_of(collector)
    if fleet is None:
        return LOCAL_INSTANCE
    return (
        st.selectbox(
            "Instance",
            [LOCAL_INSTANCE, *fleet.names],
            format_func=lambda name: LOCAL_LABEL if name == LOCAL_INSTANCE else name,
            key=KEY,
            bind="query-params",
            help="Which prsm-monitor the pages show: this one, or one of PRSM_INSTANCES (read through its API)",
        )
        or LOCAL_INSTANCE
    )


def view_of(collector: MetricsCollector, name: str):
    """The collector, or the read-only view of instance ``name`` (the local one if unknown)."""
    fleet = fleet_of(collector)
    if fleet is None or name not in fleet.names:
        return collector
    return fleet.view(name, collector)


def remote_note(view) -> None:
    """Above a remote instance's page: where it is, and how old its figures are when it is not answering."""
    if not is_remote(view):
        return
    state = view.state
    now = time.time()
    age = state.age(now)
    if state.status == "waiting":
        st.info(f"Waiting for the first answer of instance {view.name}.", icon=":material/hourglass_empty:")
    elif view.fleet.is_stale(state, now):
        seen = (
            "it never answered"
            if age is None
            else f"last answer {duration(age)} ago, at {clock(state.received_at, viewer_zone())}"
        )
        why = escape_markdown(state.error or f"Instance {view.name} answers slowly")  # may quote the remote
        st.warning(f"Stale: {why} ({seen}). The figures are from then.", icon=":material/history:")
    else:
        st.caption(f":material/lan: Instance **{view.name}**, read from its API every {view.fleet.interval:g} s.")
        if view.last_error:  # it answers its metrics, but a page's read (history, alert log) failed
            st.caption(f":material/error: {escape_markdown(view.last_error)}")
