"""Silences on the Alerts page: the form on an active alert's row, and the list of silences."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import streamlit as st

from ...alerts.silences import MATCHERS, check_duration, describe, labels
from ...core.collector import MetricsCollector
from ...settings.values import ConfigError
from ..clock import clock, viewer_zone
from ..roles import Role, reason_caption, role
from ..text import escape_markdown as md

DURATIONS = ("1 h", "4 h", "until tomorrow 09:00", "custom")
HOURS = {"1 h": 3600.0, "4 h": 4 * 3600.0}
MORNING = 9  # "until tomorrow" ends at this hour of the viewer's next day
ERROR_KEY = "silences_error"


def until_tomorrow(now: float, zone: ZoneInfo, hour: int = MORNING) -> float:
    """Epoch seconds of ``hour``:00 tomorrow in ``zone``."""
    today = dt.datetime.fromtimestamp(now, zone).date()
    morning = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hour), tzinfo=zone)
    return morning.timestamp()


def ends_at(choice: str, custom: str, now: float, zone: ZoneInfo) -> float:
    """When a silence chosen in the form ends; a bad custom duration raises ConfigError."""
    if choice in HOURS:
        return now + HOURS[choice]
    if choice == DURATIONS[2]:
        return until_tomorrow(now, zone)
    return now + check_duration(custom.strip(), "custom duration")


def _default_matchers(have: dict[str, str]) -> set[str]:
    """What a new silence matches by default: its component and what names the alert most
    narrowly (its rule, node or model; its level when it has none of those)."""
    narrow = {name for name in ("rule", "node", "model") if name in have}
    return {"component"} | (narrow or {"level"})


def popover_key(key: str) -> str:
    return f"silence_popover_{key}"


def silence_form(collector: MetricsCollector, alert: dict, who: Role, key: str) -> None:
    """A "Silence" popover on an alert's row: matchers from its labels, how long, a comment."""
    have = labels(alert)
    off = not who.may_change
    popover = st.popover(
        "Silence",
        icon=":material/notifications_off:",
        disabled=off,
        width="stretch",
        key=popover_key(key),
        on_change="rerun",  # tracks open/closed, so that a created silence closes it
    )
    if not popover.open:
        return
    with popover, st.form(f"silence_form_{key}", border=False):
        st.caption("Match alerts whose labels are")
        defaults = _default_matchers(have)
        for name in MATCHERS:
            if name in have:
                st.checkbox(f"{name} = {md(have[name])}", value=name in defaults, key=f"silence_{key}_{name}")
        st.radio("For", DURATIONS, horizontal=True, key=f"silence_{key}_for")
        st.text_input("Custom duration", placeholder="90s, 30m, 2h, 3d", key=f"silence_{key}_custom")
        st.text_input("Comment", placeholder="why: maintenance, ...", key=f"silence_{key}_comment")
        st.form_submit_button(
            "Silence",
            type="primary",
            width="stretch",
            disabled=off,
            on_click=_create,
            args=(collector, have, key),
        )


def _create(collector: MetricsCollector, have: dict[str, str], key: str) -> None:
    """The form's callback: create the silence, or keep its error for :func:`silence_errors`."""
    state = st.session_state
    matchers = {name: value for name, value in have.items() if state.get(f"silence_{key}_{name}")}
    who = role(collector.settings)  # checked again: the form could be a stale one
    now = time.time()
    try:
        if not who.may_change:
            raise PermissionError(who.reason)
        end = ends_at(
            state.get(f"silence_{key}_for") or DURATIONS[0],
            state.get(f"silence_{key}_custom") or "",
            now,
            viewer_zone(),
        )
        comment = state.get(f"silence_{key}_comment") or None
        collector.silences.create(matchers, end, comment=comment, created_by=who.actor, now=now)
    except (ConfigError, PermissionError) as error:
        state[ERROR_KEY] = str(error)
    else:
        state.pop(ERROR_KEY, None)
        state[popover_key(key)] = False  # done: close the popover


def _expire(collector: MetricsCollector, silence_id: str) -> None:
    who = role(collector.settings)
    if who.may_change:
        collector.silences.expire(silence_id, by=who.actor, now=time.time())


def silence_errors() -> None:
    """The last silence form's error, once."""
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(md(error), icon=":material/error:")


def _when(timestamp: float, now: float, zone: ZoneInfo) -> str:
    """A time of day, with the day when it is not today."""
    moment = dt.datetime.fromtimestamp(timestamp, zone)
    if moment.date() == dt.datetime.fromtimestamp(now, zone).date():
        return clock(timestamp, zone)
    return moment.strftime("%a %d %b %H:%M")


def silences_list(collector: MetricsCollector) -> None:
    """Every silence kept: live ones (with Expire now) first, then expired ones."""
    now = time.time()
    silences = collector.silences.list(now)
    live = [s for s in silences if s["status"] != "expired"]
    st.subheader(f"Silences ({len(live)} active or pending)")
    if not silences:
        st.caption("No silences. Silence an active alert from its row above.")
        return
    who = role(collector.settings)
    zone = viewer_zone()
    reason_caption(who)
    for silence in silences[:50]:
        with st.container(border=True):
            what, when, action = st.columns([4, 4, 1.6], vertical_alignment="center")
            what.markdown(
                f":{'gray' if silence['status'] == 'expired' else 'violet'}-badge[{silence['status'].upper()}]"
            )
            what.caption(md(describe(silence["matchers"])))
            span = f"{_when(silence['starts_at'], now, zone)} to {_when(silence['ends_at'], now, zone)}"
            when.caption(md(f"{span} · by {silence['created_by']}"))
            if silence["comment"]:
                when.caption(md(silence["comment"]))
            if silence["expired_by"]:
                when.caption(md(f"expired early by {silence['expired_by']}"))
            if silence["status"] != "expired":
                action.button(
                    "Expire now",
                    key=f"silence_expire_{silence['id']}",
                    on_click=_expire,
                    args=(collector, silence["id"]),
                    disabled=not who.may_change,
                    width="stretch",
                )
