"""Baselines, anomalies and forecasts: what is unusual now, and what is coming.

:class:`Insight` (one per collector) learns a robust band per watched value
(:mod:`.baseline`), opens an ``anomaly`` alert when a value stays outside it
(:mod:`.anomaly`), and fits trends to the fields with a limit (:mod:`.forecast`,
:mod:`.limits`), with a ``forecast`` alert when a limit is forecast within the horizon.
"""

from .engine import Forecast, Insight

__all__ = ["Forecast", "Insight"]
