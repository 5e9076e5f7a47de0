"""The collector as the dashboard sees it: one per process, handed out by st.cache_resource."""

from __future__ import annotations

import streamlit as st

from .. import shared
from ..collector import MetricsCollector
from ..config import ConfigError


def _release(collector: MetricsCollector) -> None:
    shared.release_collector(collector)


@st.cache_resource(show_spinner=False, on_release=_release, validate=lambda c: c.running)
def _cached_collector() -> MetricsCollector:
    # The same object the API reaches through prsm_monitor.shared: after a cache clear or
    # a source edit this returns the live collector again instead of starting a second one.
    return shared.get_collector()


def collector() -> MetricsCollector:
    """The shared collector; a bad setting shows one ``st.error`` and stops the page."""
    try:
        return _cached_collector()
    except ConfigError as error:
        st.error(f"Configuration error: {error}", icon=":material/error:")
        st.stop()
        raise  # unreachable: st.stop() ends the script run
