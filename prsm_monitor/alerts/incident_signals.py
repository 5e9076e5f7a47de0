"""The values an incident is about: which stored fields its alerts judged, where each turned
abnormal first, and their history around the incident (for its charts and its CSV).

A *signal* is one stored field (``series`` is the store's component: ``network``,
``node:node-0``, ``model:mlp-small``) with the test its alert applied: a rule's warning
threshold in the rule's direction, an anomaly's normal band, a node being down (``up`` 0).
The first abnormal value is the first sample of the run of abnormal samples that ends at the
alert's firing (the store's history, read through ``collector.history``): the moment the value
crossed, which precedes the alert by the rule's ``for`` hold and the window it judges.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


LOOKBACK = 300.0  # seconds before an alert searched for the start of its abnormal run
MAX_SIGNALS = 6  # charts on an incident page
CHART_BEFORE = 180.0  # seconds of history charted before an incident starts
CHART_AFTER = 120.0  # ... and after it ends


@dataclass(frozen=True)
class Signal:
    """One stored field an alert of the incident is about; abnormal at ``>= above`` or ``<= below``."""

    series: str
    field: str
    unit: str
    label: str
    alert_id: int
    fired_at: float
    above: float | None = None
    below: float | None = None

    @property
    def testable(self) -> bool:
        return self.above is not None or self.below is not None

    def abnormal(self, value) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return (self.above is not None and value >= self.above) or (self.below is not None and value <= self.below)

    @property
    def key(self) -> tuple[str, str]:
        return (self.series, self.field)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def signal_of(alert: Mapping, rules: Mapping) -> Signal | None:
    """The signal of one incident alert (a member of ``notifier.incidents()``), or None when
    it names no stored field (a source failing, a custom alert)."""
    d, aid, at = alert.get("details") or {}, alert["alert_id"], alert["fired_at"]
    rule = rules.get(d.get("rule")) if d.get("rule") else None
    if rule is not None:
        threshold = rule.warning if rule.warning is not None else rule.critical
        side = {"above": threshold} if rule.direction == "above" else {"below": threshold}
        return Signal(rule.component, rule.field, rule.unit, rule.label, aid, at, **side)
    if d.get("series") and d.get("field"):  # an anomaly (its band) or a forecast (no test)
        low, high = _number(d.get("low")), _number(d.get("high"))
        label = f"{d['series'].partition(':')[2] or d['series']} {d['field']}"
        return Signal(d["series"], d["field"], str(d.get("unit") or ""), label, aid, at, above=high, below=low)
    if d.get("node") and not d.get("model") and "down_since" in d:  # a demo or real node down
        return Signal(f"node:{d['node']}", "up", "1", f"{d['node']} up", aid, at, below=0.0)
    if d.get("model") and d.get("node"):  # a model unavailable on a node: its live hosts
        return Signal(f"model:{d['model']}", "live_hosts", "1", f"{d['model']} live hosts", aid, at)
    return None


def signals(alerts: list[Mapping], rules: Mapping) -> list[Signal]:
    """One signal per stored field, from the first alert about it (testable ones first)."""
    found: dict[tuple[str, str], Signal] = {}
    for alert in sorted(alerts, key=lambda a: a["fired_at"]):
        signal = signal_of(alert, rules)
        if signal is not None and (signal.key not in found or (signal.testable and not found[signal.key].testable)):
            found[signal.key] = signal
    ordered = sorted(found.values(), key=lambda s: (not s.testable, s.fired_at))
    return ordered[:MAX_SIGNALS]


def history(collector, series: str, start: float, end: float) -> pd.DataFrame:
    """The stored rows of ``series`` from ``start`` to ``end`` (empty when none are stored)."""
    import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

    try:
        frame = collector.history(series, minutes=max(end - start, 1.0) / 60.0, end=end)
    except (KeyError, ValueError):
        return pd.DataFrame(columns=["timestamp"])
    return frame[frame["timestamp"] >= start] if len(frame) else frame


def first_abnormal(signal: Signal, frame: pd.DataFrame) -> tuple[float, float] | None:
    """(time, value) of the first sample of the abnormal run that is under way when the alert
    fires (or, when the value was back by then, of the last run before it), else None."""
    if not signal.testable or signal.field not in frame.columns or frame.empty:
        return None
    rows = frame[frame["timestamp"] <= signal.fired_at + 1e-6]
    times, values = rows["timestamp"].to_numpy(), rows[signal.field].to_numpy()
    flags = [signal.abnormal(v) for v in values]
    if not any(flags):
        return None
    last = max(i for i, f in enumerate(flags) if f)
    first = last
    while first > 0 and flags[first - 1]:
        first -= 1
    return float(times[first]), float(values[first])


def first_abnormal_values(collector, found: list[Signal], since: float | None) -> list[dict]:
    """The first abnormal value of each testable signal, searched from ``since`` (the fault,
    when known) or :data:`LOOKBACK` before its alert, oldest first."""
    out = []
    for signal in found:
        if not signal.testable:
            continue
        start = since if since is not None and since < signal.fired_at else signal.fired_at - LOOKBACK
        hit = first_abnormal(signal, history(collector, signal.series, start, signal.fired_at))
        if hit is not None:
            out.append({"signal": signal, "time": hit[0], "value": hit[1]})
    return sorted(out, key=lambda h: h["time"])


def chart_frames(collector, found: list[Signal], start: float, end: float) -> dict[tuple[str, str], pd.DataFrame]:
    """Each signal's ``timestamp`` and value from :data:`CHART_BEFORE` before ``start`` to
    :data:`CHART_AFTER` after ``end``."""
    frames = {}
    for signal in found:
        frame = history(collector, signal.series, start - CHART_BEFORE, end + CHART_AFTER)
        if signal.field in frame.columns:
            frames[signal.key] = frame[["timestamp", signal.field]].reset_index(drop=True)
    return frames


def long_csv(found: list[Signal], frames: Mapping[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """The charts' data as one long table: time (UTC ISO), series, field, unit, value."""
    import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

    parts = []
    for signal in found:
        frame = frames.get(signal.key)
        if frame is None or frame.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "time": pd.to_datetime(frame["timestamp"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "timestamp": frame["timestamp"].astype(float),
                    "series": signal.series,
                    "field": signal.field,
                    "unit": signal.unit,
                    "value": frame[signal.field].astype(float),
                }
            )
        )
    columns = ["time", "timestamp", "series", "field", "unit", "value"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
