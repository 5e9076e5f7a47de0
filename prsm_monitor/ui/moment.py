"""Time travel: the moment a page shows (``?at=<ISO time>``), its picker and its banner.

``?at=`` in the URL makes every page show the past (a link shares it): the sidebar's links
keep it, the picker (date and time in the viewer's zone) sets it, and the banner at the top
of every page says "Showing <moment>, not live" with one click back to now (it clears
``?at=``). The page then reads a :class:`~prsm_monitor.history.PastCollector` (the store at
that moment, never the live state) and runs once, without the live fragment.
"""

from __future__ import annotations

import datetime as dt
import time

import streamlit as st

from ..history import PastCollector, past_view
from ..settings.durations import duration
from .clock import offset_label, viewer_zone
from .instances import is_remote
from .text import escape_markdown

KEY = "at"  # the URL's query parameter
EXPECTED = "an ISO 8601 time in the past, e.g. 2026-12-06T16:05:00+00:00 (no offset: the viewer's zone)"


def parse(text: str, zone: dt.tzinfo, now: float) -> float:
    """Epoch seconds of ``text`` (ISO 8601; without an offset, in ``zone``); ``ValueError``
    naming the field, the value and what is expected when it is not a time up to ``now``."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T"))
    except (ValueError, AttributeError):
        raise ValueError(f"at={text!r} is not a time: expected {EXPECTED}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    at = moment.timestamp()
    if at > now:
        raise ValueError(f"at={text!r} is in the future: expected {EXPECTED}")
    return at


def iso(at: float, zone: dt.tzinfo) -> str:
    """``2026-12-06T17:05:00+01:00``: the moment as ``?at=`` carries it (to the second)."""
    return dt.datetime.fromtimestamp(round(at), zone).isoformat()


def label(at: float, zone: dt.tzinfo) -> str:
    """``Sun 6 Dec 2026, 17:05:00 (UTC+01:00)``: the moment as the banner names it."""
    when = dt.datetime.fromtimestamp(at, zone)
    return f"{when:%a} {when.day} {when:%b %Y, %H:%M:%S} ({offset_label(zone, at)})"


def chosen() -> float | None:
    """The moment of ``?at=`` (None: live). A bad value shows one error naming it and the page stays live."""
    text = st.query_params.get(KEY)
    if not text:
        return None
    try:
        return parse(text, viewer_zone(), time.time())
    except ValueError as error:
        st.error(f"{escape_markdown(str(error))}. Showing live figures.", icon=":material/error:")
        return None


def _go(at: float | None) -> None:
    if at is None:
        st.query_params.pop(KEY, None)
    else:
        st.query_params[KEY] = iso(at, viewer_zone())


def picker(at: float | None) -> None:
    """The sidebar's moment picker: a date and a time in the viewer's zone, and Back to live."""
    zone = viewer_zone()
    shown = dt.datetime.fromtimestamp(time.time() if at is None else at, zone)
    with st.expander("Look back", icon=":material/history:", expanded=at is not None):
        st.caption(f"Every page as it was at a moment, in {zone.key}. The URL keeps it: share the link.")
        day = st.date_input("Date", shown.date(), key="moment_date", max_value=dt.datetime.now(zone).date())
        clock_time = st.time_input("Time", shown.time().replace(microsecond=0), key="moment_time", step=60)
        wanted = dt.datetime.combine(day, clock_time, zone).timestamp()
        left, right = st.columns(2)
        if left.button("Show", key="moment_show", width="stretch", disabled=wanted > time.time()):
            _go(wanted)
            st.rerun()
        if right.button("Live", key="moment_live", width="stretch", disabled=at is None):
            _go(None)
            st.rerun()


def view(collector, at: float | None):
    """What the page reads: ``collector`` live, or as it was at ``at`` (this instance only)."""
    if at is None:
        return collector
    if is_remote(collector):
        st.warning(
            "Looking back shows this instance's own history: another instance's past is on its own dashboard. "
            "Showing it live.",
            icon=":material/history:",
        )
        return collector
    return past_view(collector, at)


def banner(collector) -> None:
    """Above a page in the past: the moment, one click back to now, and how exact the page can be."""
    if not isinstance(collector, PastCollector):
        return
    zone = viewer_zone()
    with st.container(border=True, key="moment_banner"):
        text, action = st.columns([5, 1], vertical_alignment="center")
        text.markdown(f":material/history: **Showing {label(collector.at, zone)}, not live.**")
        if action.button("Back to live", key="moment_back", icon=":material/update:", type="primary", width="stretch"):
            _go(None)
            st.rerun()
        for note in notes(collector):
            st.caption(note)


def notes(collector: PastCollector) -> list[str]:
    """What the store can and cannot say about the moment (a coarse tier, old snapshots, none)."""
    out = []
    tier = collector.series_tier
    if tier in ("minute", "hour"):
        out.append(
            f"Raw points of this moment are no longer kept: figures are the {tier}'s mean "
            f"(PRSM_RETENTION_RAW keeps raw points for {duration(collector.settings.retention_raw)})."
        )
    elif tier is None:
        out.append("No history was stored at this moment: the monitor was not collecting then.")
    snapshot = collector.snapshot
    if snapshot is None:
        need = "" if getattr(collector.store, "writer", None) is not None else " (they need PRSM_DATA_DIR)"
        out.append(f"No snapshot of the node, link and model tables is stored for this moment{need}.")
    elif collector.at - snapshot.ts > 60:
        out.append(
            f"Node, link and model tables are from {label(snapshot.ts, viewer_zone())}, "
            f"{duration(collector.at - snapshot.ts)} earlier: the {snapshot.tier_name} tier keeps one snapshot "
            f"{'each 5 min' if snapshot.tier == 1 else 'each hour' if snapshot.tier == 2 else 'each 15 s'}."
        )
    else:
        out.append(
            f"Node, link and model rows from the snapshot stored {duration(max(0.0, collector.at - snapshot.ts))} "
            "before, each node's status and figures at the moment."
        )
    return out
