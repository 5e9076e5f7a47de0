"""Learning from stored history: at a restart, or from a baseline recorded before.

:func:`preload` fills the recent ring of an :class:`~.engine.Insight` with earlier samples;
:func:`warm` does it from the collector's stored history of the last window, then learns the
hour-of-day profiles from the minute tier once a week of it exists (:func:`seasonal`).
"""

from __future__ import annotations

import time

import numpy as np

SEASONAL_LOOKBACK_MINUTES = 28 * 1440  # four weeks of minute rollups
SEASON_SPAN = 7 * 86400 * 0.98  # a week of history (a little less: the newest minute is still open)
SERIES = ("system", "network", "ai")


def preload(insight, frames: dict) -> bool:
    """Learn from earlier samples: ``{series: frame}`` (rows oldest first, one column per
    field). The series' latest rows are taken as simultaneous. False when there was nothing
    to learn."""
    declarable = insight.declarable()
    blocks = [(s, f) for s, f in frames.items() if s in declarable and not f.empty]
    if not blocks:
        return False
    for series, _ in blocks:
        insight.columns.declare(series, declarable[series])
    insight.declared()
    rows = max(len(f) for _, f in blocks)
    block = np.full((rows, len(insight.columns.columns)), np.nan)
    for series, frame in blocks:
        for name, i in insight.columns.plans[series]:
            if name in frame.columns:
                column = np.asarray(frame[name], dtype="float64")
                block[rows - column.size :, i] = column
    insight.method.ring.load(block)
    insight.left_out.preloaded(rows)
    return True


def warm(insight) -> None:
    """Learn from the stored history of the last window, so a restart does not relearn."""
    collector = insight.collector
    minutes = insight.window_seconds / 60
    frames = {}
    for series in SERIES:
        if collector.fields.get(series):
            frames[series] = collector.history_columns(series, minutes, max_points=insight.method.ring.rows)
    if preload(insight, frames):
        seasonal(insight)


def seasonal(insight) -> None:
    """Hour-of-day profiles from the minute tier of the last four weeks (when there is one)."""
    collector = insight.collector
    if getattr(collector.store, "writer", None) is None:
        return
    now = time.time()
    blocks, stamps = [], None
    for series in SERIES:
        frame = collector.history_columns(series, SEASONAL_LOOKBACK_MINUTES, max_points=SEASONAL_LOOKBACK_MINUTES)
        if frame.empty or frame.attrs.get("tier") == "raw":
            return
        if stamps is None:
            stamps = np.asarray(frame["timestamp"], dtype="float64")
        blocks.append((series, frame))
    if stamps is None or now - stamps[0] < SEASON_SPAN:
        return
    block = np.full((stamps.size, len(insight.columns.columns)), np.nan)
    for series, frame in blocks:
        for name, i in insight.columns.plans.get(series, []):
            if name in frame.columns and len(frame) == stamps.size:
                block[:, i] = np.asarray(frame[name], dtype="float64")
    insight.method.seasonal.learn(stamps, block, insight.method.k)
