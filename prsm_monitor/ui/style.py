"""Colours and labels used the same way on every page."""

from __future__ import annotations

# Level colours: info green, warning yellow, error orange, critical red.
LEVEL_COLORS = {"info": "#2e9e4f", "warning": "#e6b400", "error": "#f07c00", "critical": "#d62728"}
LEVEL_ORDER = ["critical", "error", "warning", "info"]
# Streamlit's markdown colour names for the same levels (badges on the health cards).
LEVEL_BADGES = {None: "green", "info": "green", "warning": "yellow", "error": "orange", "critical": "red"}

# One colour per series, wherever it is drawn.
SERIES_COLORS = {
    "CPU": "#1f77b4",
    "Memory": "#9467bd",
    "Swap": "#c5b0d5",
    "Disk": "#8c564b",
    "Sent": "#17becf",
    "Received": "#ff7f0e",
    "Read": "#2ca02c",
    "Written": "#d62728",
    "Connections": "#7f7f7f",
    "Load 1m": "#1f77b4",
    "Load 5m": "#aec7e8",
    "Load 15m": "#c7c7c7",
    "Latency": "#e377c2",
    "Latency p95": "#f7b6d2",
    "Messages/s": "#17becf",
    "Active nodes": "#2ca02c",
    "Inferences/s": "#ff7f0e",
    "Inference time": "#393b79",
    "p95": "#9c9ede",
    "Confidence": "#9467bd",
    "Success rate": "#2ca02c",
    "Tick time": "#7f7f7f",
    "Time to commit": "#1f77b4",
    "Mean abs. error": "#8c564b",
}
# Per-core lines under the total CPU: one faded colour for all of them.
PARTS_COLOR = "#9fb7d4"
# Link latency bands (the warning and critical bands take the level colours above).
CALM_COLOR = "#52b788"
UNMEASURED_COLOR = "#d0d4dc"
DOWN_COLOR = "#9aa0aa"
FALLBACK_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def series_color(label: str, index: int = 0) -> str:
    return SERIES_COLORS.get(label, FALLBACK_COLORS[index % len(FALLBACK_COLORS)])


RANGES = {"5 min": 5, "15 min": 15, "1 h": 60, "6 h": 360, "24 h": 1440, "7 d": 10080, "30 d": 43200, "1 y": 525600}
SHORT_RANGES = ("5 min", "15 min", "1 h", "6 h", "24 h")  # what an in-memory history can hold
REFRESH = {"Off": None, "1 s": 1, "2 s": 2, "5 s": 5, "10 s": 10}
# Points per chart series after downsampling (min and max of MAX_POINTS / 2 buckets): enough for
# a chart's width, and it keeps a page's refresh tick under 40 KB on the wire.
MAX_POINTS = 150
