"""What a page reads: the one collector (handed out by st.cache_resource) and the viewer's choices."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from .. import shared
from ..collector import MetricsCollector
from ..config import ConfigError
from .style import RANGES


@dataclass(frozen=True)
class Prefs:
    """What this viewer chose: refresh period in seconds (None: off) and time range in minutes."""

    refresh: float | None
    range_label: str

    @property
    def minutes(self) -> float:
        return RANGES[self.range_label]


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
