"""Downloads: each component's history in the chosen range, and the alert history, as CSV or JSON."""

from __future__ import annotations

import json
import time

import pandas as pd
import streamlit as st

from ..collector import COMPONENTS, MetricsCollector


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
    frame["details"] = [json.dumps(d, sort_keys=True, default=str) for d in frame["details"]]
    return frame


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def to_json(frame: pd.DataFrame) -> bytes:
    return frame.to_json(orient="records", double_precision=6).encode()


def download_buttons(collector: MetricsCollector, minutes: float, components=COMPONENTS, alerts: bool = True) -> None:
    """CSV and JSON buttons; the file is built when clicked, from the data at that moment."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    targets = [(c, lambda c=c: history_frame(collector, c, minutes)) for c in components]
    if alerts:
        targets.append(("alerts", lambda: alerts_frame(collector, minutes)))
    formats = (("CSV", "csv", "text/csv", to_csv), ("JSON", "json", "application/json", to_json))
    for name, build in targets:
        for column, (label, ext, mime, encode) in zip(st.columns(2), formats, strict=True):
            column.download_button(
                f"{name.capitalize()} {label}",
                lambda build=build, encode=encode: encode(build()),
                file_name=f"prsm-{name}-{stamp}.{ext}",
                mime=mime,
                icon=":material/download:",
                on_click="ignore",
                key=f"export_{name}_{ext}",
                width="stretch",
            )
