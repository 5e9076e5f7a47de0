"""Downloads: each component's history in the chosen range, and the alert history, as CSV or JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit import runtime

from ..anonymize import anonymize_frame
from ..core.collector import COMPONENTS, MetricsCollector

NAMES = {"system": "System", "network": "Network", "ai": "AI", "alerts": "Alerts"}
FORMATS = (("CSV", "csv", "text/csv"), ("JSON", "json", "application/json"))


def history_frame(collector: MetricsCollector, component: str, minutes: float) -> pd.DataFrame:
    """Full-resolution history (not downsampled), with an ISO ``time`` column beside ``timestamp``."""
    frame = collector.history(component, minutes)
    frame.insert(1, "time", pd.to_datetime(frame["timestamp"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return frame


def alerts_frame(collector: MetricsCollector, minutes: float) -> pd.DataFrame:
    events = collector.get_alerts(since=time.time() - minutes * 60)
    columns = ["id", "timestamp", "time", "level", "component", "kind", "message", "details"]
    frame = pd.DataFrame(events, columns=[c for c in columns if c != "time"])
    frame.insert(2, "time", pd.to_datetime(frame["timestamp"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return frame  # ``details`` stay objects: a JSON file holds them as objects, a CSV cell as JSON text


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV; a column of objects (an alert's ``details``) as JSON text, one cell each."""
    nested = {
        name: [json.dumps(v, sort_keys=True, default=str) if isinstance(v, dict | list) else v for v in frame[name]]
        for name in frame.columns
        if frame[name].dtype == object and frame[name].map(lambda v: isinstance(v, dict | list)).any()
    }
    return (frame.assign(**nested) if nested else frame).to_csv(index=False).encode()


def to_json(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", double_precision=6).encode()


ENCODERS = {"csv": to_csv, "json": to_json}


def file_name(name: str, ext: str, at: float) -> str:
    """``prsm-system-20261128-052103.csv``: what and when (UTC, as in the file's ``time`` column)."""
    return f"prsm-{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(at))}.{ext}"


class ClickTimeFile:
    """A download built when clicked, whose file name carries the click time.

    Streamlit takes a deferred download's file name when the button is drawn; this callable
    renames its own pending entry as it runs, before Streamlit reads the name to serve the
    file. It relies on the media file manager of Streamlit 1.67 (pinned); if that ever
    changes, the file keeps the name it was drawn with (the browser test checks the name)."""

    def __init__(self, name: str, ext: str, build: Callable[[], pd.DataFrame]):
        self.name, self.ext, self.build = name, ext, build

    def __call__(self) -> bytes:
        data = ENCODERS[self.ext](self.build())
        self._rename(file_name(self.name, self.ext, time.time()))
        return data

    def _rename(self, new_name: str) -> None:
        if not runtime.exists():
            return
        manager = runtime.get_instance().media_file_mgr
        pending = getattr(manager, "_deferred_callables", {})
        with manager._lock:
            for entry in pending.values():
                if entry.get("callable") is self:
                    entry["filename"] = new_name


def download_buttons(collector: MetricsCollector, minutes: float, components=COMPONENTS, alerts: bool = True) -> None:
    """CSV and JSON buttons; the file is built when clicked, from the data at that moment.
    With "Anonymize" (always on with ``PRSM_ANONYMIZE=true``) host names, addresses and node and
    model names become stable salted hashes (:mod:`prsm_monitor.anonymize`)."""
    forced = collector.settings.anonymize
    hidden = st.checkbox(
        "Anonymize names and addresses",
        value=forced,
        disabled=forced,
        key="export_anonymize",
        help="Host names, IP addresses and node and model names become stable salted hashes"
        + (" (PRSM_ANONYMIZE=true: always on)" if forced else ""),
    )

    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        return anonymize_frame(frame, collector) if hidden else frame

    targets = [(c, lambda c=c: shown(history_frame(collector, c, minutes))) for c in components]
    if alerts:
        targets.append(("alerts", lambda: shown(alerts_frame(collector, minutes))))
    now = time.time()
    for name, build in targets:
        for label, ext, mime in FORMATS:  # one per row: two side by side cut "System CSV" to "Syste…"
            st.download_button(
                f"{NAMES.get(name, name.capitalize())} {label}",
                ClickTimeFile(name, ext, build),
                file_name=file_name(name, ext, now),
                mime=mime,
                icon=":material/download:",
                on_click="ignore",
                key=f"export_{name}_{ext}",
                width="stretch",
            )
