"""What a page reads: the one collector and the viewer's choices."""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from ..core import shared
from ..core.collector import MetricsCollector
from ..health import health_report
from ..settings.values import ConfigError
from .style import RANGES
from .text import escape_markdown


@dataclass(frozen=True)
class Prefs:
    """What this viewer chose: refresh period in seconds (None: off), time range in minutes,
    instance, and the moment shown (None: live)."""

    refresh: float | None
    range_label: str
    instance: str = "local"  # which instance the pages show (see ui/instances.py)
    at: float | None = None  # the moment the pages show (``?at=``, see ui/moment.py); None: live

    @property
    def minutes(self) -> float:
        return RANGES[self.range_label]


@st.cache_resource(show_spinner=False, validate=lambda c: c is shared.current_collector())
def _cached_collector() -> MetricsCollector:
    # Hands out the process-wide object of prsm_monitor.core.shared, the one the API reads. No
    # on_release: a cache clear, or an edited factory (a new cache key), only fetches that
    # same object again; nothing here stops or replaces it. Only a deliberate
    # shared.release_collector() (tests, shutdown) makes the cached one invalid.
    return shared.get_collector()


def collector() -> MetricsCollector:
    """The process-wide collector (:mod:`prsm_monitor.core.shared`), through ``st.cache_resource``;
    a bad setting shows one ``st.error`` and stops the page.

    A cache clear never releases it: history, alerts and tuned thresholds stay. A collector
    whose thread stopped stays the one shown, with an error that says so.
    """
    try:
        current = _cached_collector()
    except ConfigError as error:
        st.error(f"Configuration error: {error}", icon=":material/error:")
        st.stop()
        raise  # unreachable: st.stop() ends the script run
    if not current.running:
        _, report = health_report(current, time.time())
        problems = escape_markdown("; ".join(report["problems"]))  # may quote an exception's text
        st.error(f"Monitoring has stopped: {problems}. Figures are the last collected.", icon=":material/error:")
    return current
