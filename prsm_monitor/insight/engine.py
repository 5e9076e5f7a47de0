"""Insight: baselines, anomalies and forecasts for a collector, off its tick's critical path.

The collector creates one :class:`Insight` and calls :meth:`Insight.observe` once per tick
with that tick's records. ``observe`` only gathers the watched values into one vector,
appends it to the ring and compares it with the bands (a few NumPy operations for all
columns), and logs anomalies that open or close. Everything that learns runs on the
insight's own thread, which wakes every ``refresh`` seconds and does work in proportion to
what changed: the bands (median and MAD of the ring) once :data:`RELEARN_SHARE` of the ring
is new samples, the trends and forecasts of the fields with a limit (:mod:`.forecasting`,
from the stored history) once a new point of their resolution exists, and the forecast
alerts with them. The hour-of-day profiles are learnt at start (:mod:`.warm`).

A new install watches and learns for ``learn_seconds`` before it judges anything
(:meth:`learning` says how far it is: "learning, 12 min of 30"); a restart with history on
disk learns from that history at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..units import range_text, value_text
from . import forecasting, warm
from .anomaly import Episodes
from .baseline import RobustMethod
from .forecast import Trend
from .forecast_alerts import ForecastAlerts
from .forecasting import Forecast
from .normal import LeftOut
from .watch import Column, Columns, alert_labels

log = logging.getLogger(__name__)

DEFAULT_HOLD = {"system": 30.0}  # seconds outside before an anomaly; the machine is bursty
HOLD = 12.0
CLEAR = 30.0  # seconds back inside before an anomaly closes: a steady fault's noisy value is one anomaly
RELEARN_SHARE = 0.02  # the bands are learnt again once this share of the ring's samples is new

__all__ = ["Episode", "Forecast", "Insight"]


@dataclass
class Episode:
    column: Column
    start: float
    end: float | None = None
    value: float | None = None


class Insight:
    def __init__(
        self,
        collector,
        *,
        horizon: float = 86400.0,
        learn_seconds: float = 1800.0,
        window_seconds: float = 1800.0,
        hold: dict | None = None,
        clear: float = CLEAR,
        refresh: float = 5.0,
        forecast_window: float = 6 * 3600.0,
        warm_start: bool = True,
        threaded: bool = True,
        method=None,
    ):
        self.collector = collector
        self.horizon = horizon
        self.learn_seconds = learn_seconds
        self.window_seconds = window_seconds
        self.holds = {**DEFAULT_HOLD, **(hold or {})}
        self.refresh = refresh
        self.forecast_window = forecast_window
        self.warm_start = warm_start
        self.threaded = threaded
        self.columns = Columns()
        interval = self._interval()
        self.method = method or RobustMethod(
            max(60, int(window_seconds / interval)), learn_samples=learn_seconds / interval
        )
        self.episodes = Episodes(np.zeros(0), clear)
        self.left_out = LeftOut(max(60, int(window_seconds / interval)))  # faults and alerts: not learnt
        self.history: deque[Episode] = deque(maxlen=500)  # anomaly episodes, newest last
        self._open: dict[int, Episode] = {}
        self.forecasts: dict[tuple[str, str], Forecast] = {}
        self.forecast_alerts = ForecastAlerts()
        self.capacity: dict[str, Trend | None] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.revision = 0
        self.started: float | None = None
        self.learnt_seconds = 0.0  # learnt per main column (median), seconds
        self.tick_seconds: deque[float] = deque(maxlen=1000)  # observe()'s own cost, for the bench
        self._latest: dict = {}
        self._learnt_samples = -1  # the ring's samples appended as of the last learnt bands
        self._forecast_at: float | None = None  # when the forecasts were last fitted
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the tick -------------------------------------------------------------------------
    def observe(self, records: dict, now: float) -> None:
        """One tick: gather, remember, judge, log what opened or closed. Cheap by design."""
        started = time.perf_counter()
        self._latest = records
        if self.started is None:
            self.started = now
        self._declare(records)
        values = self.columns.gather(records)
        out = self.left_out.components(records, self.collector.log.active_keys(), lambda: self.collector.rules, now)
        left_out = np.array([c.component in out for c in self.columns.columns], dtype=bool) if out else None
        outside, judged = self.method.judge(values, self.episodes.open_since, now, left_out)
        opened, closed = self.episodes.update(outside, judged, now)
        if opened.size or closed.size:
            self._log(opened, closed, values, now)
        if self._open:
            self._refresh(values)
        if self.threaded:
            self._ensure_thread()
        self.tick_seconds.append(time.perf_counter() - started)

    def _declare(self, records: dict) -> None:
        if all(series in self.columns.plans for series in records if series != "collector"):
            return
        declarable = self.declarable()
        for series in records:
            if series != "collector" and declarable.get(series):
                self.columns.declare(series, declarable[series])
        self.declared()

    def declared(self) -> None:
        """Size the method and the holds to the columns declared so far."""
        columns = self.columns.columns
        self.method.declare([c.floor for c in columns])
        self.episodes.hold = np.array([self.holds.get(c.component, HOLD) for c in columns])

    def _interval(self) -> float:
        return max(0.1, float(getattr(self.collector, "collection_interval", 1.0) or 1.0))

    def _describe(self, i: int, value: float, band) -> tuple[str, dict]:
        """``Unusual average_latency: 43.5 ms, above its normal 0 to 10.4 ms`` and its details
        (every value through :func:`~prsm_monitor.units.value_text`)."""
        column = self.columns.columns[i]
        message = f"Unusual {column.label}: {value_text(value, column.unit)}"
        details = {"series": column.series, "field": column.field, "value": float(value), "unit": column.unit}
        details.update(alert_labels(column.series, "anomaly", column.field))
        if band is not None and i < band.lo.size and np.isfinite(band.lo[i]):
            lo, hi = float(band.lo[i]), float(band.hi[i])
            where = "above" if value > hi else "below" if value < lo else "back inside"
            message += f", {where} its normal {range_text(lo, hi, column.unit)}"
            details.update(low=lo, high=hi)
        return message, details

    def _refresh(self, values: np.ndarray) -> None:
        """Open anomalies say what holds now (as rule alerts are re-rendered each tick)."""
        band = getattr(self.method, "band", None)
        for i, episode in list(self._open.items()):
            if i < values.size and np.isfinite(values[i]):
                message, details = self._describe(i, values[i], band)
                self.collector.log.refresh(f"anomaly:{episode.column.series}:{episode.column.field}", message, details)

    def _log(self, opened, closed, values, now: float) -> None:
        cols = self.columns.columns
        band = getattr(self.method, "band", None)
        for i in opened:
            column = cols[i]
            key = (column.component, column.metric_field)
            self.counts[key] = self.counts.get(key, 0) + 1
            episode = Episode(column, now, value=float(values[i]))
            self._open[int(i)] = episode
            if hasattr(self.method, "forget"):
                self.method.forget(
                    int(i),
                    float(np.atleast_1d(self.episodes.hold)[min(i, np.size(self.episodes.hold) - 1)]),
                    self._interval(),
                )
            self.history.append(episode)
            message, details = self._describe(int(i), values[i], band)
            self.collector.log.record(
                f"anomaly:{column.series}:{column.field}", "anomaly", "warning", column.component, message, details, now
            )
        for i in closed:
            column = cols[i]
            episode = self._open.pop(int(i), None)
            if episode is not None:
                episode.end = now
            self.collector.log.record(
                f"anomaly:{column.series}:{column.field}",
                "resolved",
                "info",
                column.component,
                f"Back to normal: {column.label}",
                {"series": column.series, "field": column.field},
                now,
            )
        self.revision += 1

    # -- reads ----------------------------------------------------------------------------
    def learning(self) -> tuple[float, float] | None:
        """``(seconds learnt, seconds needed)`` while the baselines are still learning, else None."""
        if self.learnt_seconds >= self.learn_seconds:
            return None
        return self.learnt_seconds, self.learn_seconds

    def learning_text(self) -> str | None:
        state = self.learning()
        if state is None:
            return None
        return f"learning, {int(state[0] // 60)} min of {round(state[1] / 60)}"

    def learned_from_text(self) -> str:
        """What the normal bands were learnt from, for the page: ``Normal bands learnt from
        28 min of values; 2 min while a demo fault was injected or an alert fired left out.``"""
        return self.left_out.text(self._interval())

    def band_of(self, series: str, field: str, since: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(times, low, high)`` of a value's band since ``since`` (as it was learnt then)."""
        i = self.columns.find(series, field)
        if i is None:
            return None
        history = getattr(self.method, "band_history", ())
        rows = [(t, lo[i], hi[i]) for t, lo, hi in list(history) if t >= since and i < lo.size]
        if not rows:
            return None
        t, lo, hi = (np.array(x, dtype="float64") for x in zip(*rows, strict=True))
        ok = np.isfinite(lo) & np.isfinite(hi)
        return (t[ok], lo[ok], hi[ok]) if ok.any() else None

    def anomalies_of(self, series: str, fields, since: float) -> list[Episode]:
        fields = set(fields)
        return [
            e
            for e in list(self.history)
            if e.column.series == series and e.column.field in fields and (e.end is None or e.end >= since)
        ]

    def forecast_of(self, series: str, field: str) -> Forecast | None:
        return self.forecasts.get((series, field))

    # -- learning, on the insight's own thread --------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._run, name="prsm-insight", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        if self.warm_start and isinstance(self.method, RobustMethod):
            try:
                warm.warm(self)
            except Exception:  # noqa: BLE001 - no history to learn from: learn live
                log.exception("insight: could not learn from stored history")
        while True:
            try:
                self.learn_what_changed(time.time())
            except Exception:  # noqa: BLE001 - never take the collector down
                log.exception("insight: learning failed")
            if self._stop.wait(self.refresh):
                return

    def learn_what_changed(self, now: float) -> bool:
        """The thread's wake-up: the bands once :data:`RELEARN_SHARE` of the ring's samples
        are new (a median over 1,800 samples moves little with 5 more), the forecasts once a
        new point of their history's resolution exists. True when something was learnt."""
        ring = getattr(self.method, "ring", None)
        bands = ring is None or ring.appended - self._learnt_samples >= max(1.0, RELEARN_SHARE * ring.filled)
        due = self._forecast_at is None or now - self._forecast_at >= forecasting.period(self.forecast_window)
        if bands:
            self.learn_bands(now)
        if due:
            self.update_forecasts(now)
        if bands or due:
            self.revision += 1
        return bands or due

    def learn(self, now: float) -> None:
        """Recompute the bands, forecasts and capacity at once."""
        self.learn_bands(now)
        self.update_forecasts(now)
        self.revision += 1

    def learn_bands(self, now: float) -> None:
        columns = self.columns.columns
        ring = getattr(self.method, "ring", None)
        self._learnt_samples = ring.appended if ring is not None else -1
        self.method.learn(len(columns), now, self._interval())
        learnt = getattr(self.method, "learnt", np.zeros(0))
        main = [i for i, c in enumerate(columns) if c.series == c.component and i < learnt.size]
        self.learnt_seconds = float(np.median(learnt[main]) * self._interval()) if main else 0.0

    def update_forecasts(self, now: float) -> None:
        records = self._latest
        if not records:
            return
        self._forecast_at = now
        history = forecasting.reader(self.collector.history_columns)  # each series read once per refit
        self.forecasts = forecasting.forecasts(self.collector, records, now, self.forecast_window, history)
        self.capacity = forecasting.capacity(self.collector, now, self.forecast_window, self.forecasts, history)
        self.forecast_alerts.update(self.collector.log, self.forecasts, self.horizon, now)

    def declarable(self) -> dict[str, tuple]:
        """The fields of every series the collector's sources declare, drill-downs included."""
        declared = {}
        for source in self.collector.sources:
            declared.update({s: tuple(f) for s, f in getattr(source, "detail_fields", {}).items()})
        declared.update({series: tuple(fields) for series, fields in self.collector.fields.items()})
        return declared

    def preload(self, frames: dict) -> bool:
        """Learn from earlier samples (:func:`.warm.preload`): ``{series: frame}``, rows oldest first."""
        return warm.preload(self, frames)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
