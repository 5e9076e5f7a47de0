"""The frame every page shares: page config, access gate, collector, sidebar and the live fragment."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ..core.collector import MetricsCollector
from . import moment, state
from .clock import viewer_zone, zone_note
from .gate import require_access
from .instances import hub_of, remote_note, view_of
from .notify import toast_new_alerts
from .pages import page_of
from .rules_notice import rules_file_error
from .sidebar import sidebar
from .state import Prefs
from .timechart import LIVE_CSS

View = Callable[[MetricsCollector, Prefs], None]
# One icon for the browser tab, inlined as a data URL: a Material icon would be fetched from
# Google's font server, which a monitor on a closed network cannot reach.
FAVICON = Path(__file__).with_name("favicon.svg")


def setup(script: str) -> tuple[MetricsCollector, Prefs]:
    """Configure the page of ``script`` (its ``__file__``) and draw the shared sidebar; returns
    the collector of the instance the viewer chose (the local one, or a read-only view of
    another, see :mod:`.instances`) and the viewer's choices."""
    page = page_of(script)
    st.set_page_config(page_title=f"{page.title} · PRSM Monitor", page_icon=str(FAVICON), layout="wide")
    st.html(LIVE_CSS)  # a chart's tail over its body (our own style, no untrusted text)
    require_access()
    collector = state.collector()
    rules_file_error(collector)
    prefs = sidebar(collector)
    st.title(page.title if prefs.instance == "local" else f"{page.title} · {prefs.instance}")
    st.caption(f":material/schedule: {zone_note(viewer_zone(), time.time())}")
    shown = moment.view(view_of(collector, prefs.instance), prefs.at)  # ?at=: the past, from the store
    moment.banner(shown)
    return shown, prefs


def live(view: View, collector: MetricsCollector, prefs: Prefs) -> None:
    """Run ``view`` in a fragment that re-reads the collector every ``prefs.refresh`` seconds,
    or every collection interval when that is longer: a rerun between two ticks would only
    send again what the viewer already has. A page in the past (``?at=``) runs once, not live."""
    if getattr(collector, "past", False):
        view(collector, prefs)
        return

    @st.fragment(run_every=refresh_period(prefs.refresh, collector))
    def live_view():
        toast_new_alerts(hub_of(collector))  # this instance's alerts, those about the others included
        remote_note(collector)
        view(collector, prefs)

    live_view()


def refresh_period(refresh: float | None, collector: MetricsCollector) -> float | None:
    """Seconds between a viewer's reruns: its choice, but never shorter than the collection interval."""
    return None if refresh is None else max(float(refresh), collector.collection_interval)
