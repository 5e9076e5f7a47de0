"""Older spellings of the collector's API, kept working for code written against them:
the asyncio ``start_collection()`` / ``stop_collection()``, ``await _create_alert(...)`` and
``get_historical_data()`` returning plain records."""

from __future__ import annotations

import asyncio


class CollectorCompat:
    """Mixed into :class:`~prsm_monitor.collector.MetricsCollector`."""

    async def start_collection(self) -> None:
        """Run the collector until :meth:`stop_collection` is called."""
        self.start()
        await asyncio.get_running_loop().run_in_executor(None, self._stop.wait)

    def stop_collection(self) -> None:
        self.stop()

    async def _create_alert(self, level: str, component: str, message: str, details: dict | None = None):
        """``await collector._create_alert(...)``: the same as :meth:`create_alert`."""
        return self.create_alert(level, component, message, details)

    def get_historical_data(self, component: str, duration_minutes: float = 60) -> list[dict]:
        """Records of the last ``duration_minutes``, oldest first, NaN as None."""
        frame = self.history(component, duration_minutes)
        return [{k: (None if v != v else v) for k, v in row.items()} for row in frame.to_dict("records")]
