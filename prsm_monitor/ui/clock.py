"""One time zone on every page: the viewer's.

Vega-Lite draws chart axes in the browser's local time; tables, captions and alert times
are converted here to the same zone (``st.context.timezone``, the browser's IANA name), and
the page names it once. Without a browser (tests, scripts) the zone is UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

UTC = ZoneInfo("UTC")


def viewer_zone() -> ZoneInfo:
    """The browser's time zone, or UTC when it did not say (or said something unknown)."""
    try:
        name = st.context.timezone
    except Exception:  # noqa: BLE001 - outside a session there is no context: UTC
        name = None
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def offset_label(zone: ZoneInfo, at: float) -> str:
    """``UTC+01:00`` for ``zone`` at epoch ``at`` (daylight saving included)."""
    offset = dt.datetime.fromtimestamp(at, zone).utcoffset() or dt.timedelta(0)
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_note(zone: ZoneInfo, at: float) -> str:
    """``Times in Europe/Berlin (UTC+01:00)``: said once per page."""
    return f"Times in {zone.key} ({offset_label(zone, at)})"


def clock(timestamp: float, zone: ZoneInfo, seconds: bool = True) -> str:
    """``05:21:03`` (or ``05:21``) in ``zone``."""
    return dt.datetime.fromtimestamp(timestamp, zone).strftime("%H:%M:%S" if seconds else "%H:%M")


def local_times(timestamps, zone: ZoneInfo) -> pd.Series:
    """Epoch seconds as timezone-aware datetimes in ``zone`` (for st.dataframe's DatetimeColumn)."""
    return pd.to_datetime(pd.Series(timestamps, dtype="float64"), unit="s", utc=True).dt.tz_convert(zone.key)
