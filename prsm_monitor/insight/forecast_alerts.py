"""Forecast alerts: one event per condition, whatever a trend fitted every few seconds does.

A forecast alert fires once its limit has stayed within the horizon for
:data:`FORECAST_FIRE_HOLD` seconds, and resolves once it has stayed beyond 1.25 horizons (or
without a forecast: a node gone, no data) for :data:`FORECAST_CLEAR_HOLD` seconds. A steady
leak is one fired event and one resolution, not one per wobble of its fitted eta around the
horizon (it fired and resolved 5 times in two minutes before).
"""

from __future__ import annotations

from .watch import alert_labels

FORECAST_FIRE_HOLD = 20.0
FORECAST_CLEAR_HOLD = 60.0


class ForecastAlerts:
    """The forecast alerts' state between two :meth:`update` calls (on the insight's thread)."""

    def __init__(self):
        self.components: dict[str, str] = {}  # key -> the component it fired for
        self.since: dict[str, float] = {}  # key -> since when it calls to fire (not active) or clear (active)

    def update(self, alert_log, forecasts: dict, horizon: float, now: float) -> None:
        """Log what ``forecasts`` (``{(series, field): Forecast}``) call for now, with the holds."""
        calls: dict[str, bool] = {}  # key -> the forecast calls for it to be active now
        for (series, field), forecast in forecasts.items():
            key = f"forecast:{series}:{field}"
            eta = forecast.eta
            details = {
                "series": series,
                "field": field,
                "limit": forecast.limit.value,
                "eta_seconds": eta,
                "per_day": forecast.trend.per_day,
                "window_seconds": forecast.trend.window,
                **alert_labels(series, "forecast", field),
            }
            message = f"Forecast: {forecast.text}"  # not capitalised: it may start with a node's name
            active = alert_log.is_active(key)
            within = eta is not None and 0 < eta <= horizon
            calls[key] = (eta is not None and eta <= 1.25 * horizon) if active else within
            if active and calls[key]:
                alert_log.refresh(key, message, details)
            if not self._held(key, active, calls[key], now):
                continue
            if active:
                alert_log.record(
                    key, "resolved", "info", forecast.limit.component, f"No longer forecast: {forecast.limit.what}",
                    details, now,
                )  # fmt: skip
            else:
                alert_log.record(key, "forecast", "warning", forecast.limit.component, message, details, now)
                self.components[key] = forecast.limit.component
        for key in alert_log.active_keys("forecast:"):
            if key not in calls and self._held(key, True, False, now):  # no forecast any more
                alert_log.record(
                    key, "resolved", "info", self.components.get(key, "system"), "No longer forecast", {}, now
                )
        for key in [k for k in self.since if k not in calls and not alert_log.is_active(k)]:
            del self.since[key]

    def _held(self, key: str, active: bool, calls_active: bool, now: float) -> bool:
        """Has the forecast called for the other state (firing when not active, clear when
        active) for its hold?"""
        if calls_active == active:
            self.since.pop(key, None)
            return False
        since = self.since.setdefault(key, now)
        if now - since < (FORECAST_CLEAR_HOLD if active else FORECAST_FIRE_HOLD):
            return False
        del self.since[key]
        return True
