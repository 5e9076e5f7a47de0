"""The guide's ``PRSMMonitoringDashboard``, as a thin layer over the real API.

    dashboard = PRSMMonitoringDashboard()
    await dashboard.start_monitoring()          # this machine and a demo PRSM network
    dashboard.metrics_collector.get_latest_metrics()

``start_monitoring(with_demo=True)`` makes a :class:`~prsm_monitor.core.collector.MetricsCollector`
over this machine and a network: ``network_demo`` when one was set (a
:class:`~prsm_monitor.demo.DemoNetwork`, started here if it is not running yet), else a new
demo network of ``PRSM_DEMO_NODES`` nodes unless ``with_demo=False``. It starts them at
once (the demo network takes about a second) and returns an awaitable: ``await`` it to wait
for the first reading, as the guide does, or not (the guide's ``with_demo=False`` line).
``stop_monitoring()`` stops the collector and whatever ``start_monitoring`` started (a
demo network it started, including one set as ``network_demo``); the same happens when the
event loop it was called in ends (``asyncio.run`` returns).

The pages and the HTTP API are served by ``python -m prsm_monitor serve`` (or
``streamlit run streamlit_app.py``), which run their own collector; this class is for
scripts and notebooks that want the collector with the guide's names.
"""

from __future__ import annotations

import asyncio
import dataclasses

from .core.collector import MetricsCollector
from .demo import DemoNetwork
from .demo.source import DemoSource
from .settings.model import Settings
from .sources.prsm.source import PREFETCH_SECONDS
from .sources.system import SystemSource


class Started:
    """What ``start_monitoring()`` returns: awaiting it waits for the first reading (polling,
    with a deadline); not awaiting it is fine too (the guide's "High Resource Usage" line)."""

    def __init__(self, collector: MetricsCollector, ticks_before: int):
        self.collector = collector
        self.ticks_before = ticks_before

    def __await__(self):
        return self.collector.until_reading(self.ticks_before).__await__()


class PRSMMonitoringDashboard:
    """The guide's entry point (see the module doc). ``settings`` default to the ``PRSM_*``
    environment; ``baseline_metrics`` go to the collector (see ``MetricsCollector``)."""

    def __init__(self, settings: Settings | None = None, *, baseline_metrics: dict | None = None):
        self.settings = settings if settings is not None else Settings.from_env()
        self.baseline_metrics = baseline_metrics
        self.network_demo: DemoNetwork | None = None  # set it to watch a network of your own
        self.metrics_collector: MetricsCollector | None = None
        self._collector: MetricsCollector | None = None  # the one to close
        self._ticks = 0
        self._started_network: DemoNetwork | None = None
        self._guard: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._collector is not None and self._collector.running

    def start_monitoring(self, with_demo: bool = True) -> Started:
        """Start the collector (and the network, see the module doc) now; awaiting the result
        returns once the first reading is in. A call while it runs starts nothing."""
        if not self.running:
            self._release()  # a collector left by an earlier run
            self._collector = self.metrics_collector = self._make_collector(with_demo)
            self._ticks = self.metrics_collector.ticks
            self.metrics_collector.start()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # called outside asyncio: stop_monitoring() (or the process's end) stops it
                loop = None
            if loop is not None:
                self._guard = loop.create_task(self._hold(self._collector), name="prsm-monitoring")
        return Started(self.metrics_collector, self._ticks)

    def _make_collector(self, with_demo: bool) -> MetricsCollector:
        network = self.network_demo
        if network is None and with_demo:
            network = DemoNetwork.from_settings(self.settings)
        if network is not None and not network.running:
            network.start()
            self._started_network = network
        sources: list = [SystemSource()]
        if network is not None:
            sources.append(DemoSource(network, owns_network=False, prefetch=PREFETCH_SECONDS))
        try:
            settings = dataclasses.replace(self.settings, demo=False)  # the network is the one above
            return MetricsCollector(settings=settings, sources=sources, baseline_metrics=self.baseline_metrics)
        except BaseException:
            for source in sources:
                source.close()
            self._stop_network()
            raise

    async def _hold(self, collector: MetricsCollector) -> None:
        try:
            await asyncio.Event().wait()
        finally:  # the loop is ending (asyncio.run cancels what is left) or stop_monitoring ran
            if self._collector is collector:  # not a later run's
                self._release()

    def stop_monitoring(self) -> None:
        """Stop the collector and close what :meth:`start_monitoring` started. Idempotent."""
        guard, self._guard = self._guard, None
        self._release()
        if guard is not None and not guard.done():
            try:
                guard.get_loop().call_soon_threadsafe(guard.cancel)
            except RuntimeError:  # its loop has closed
                pass

    def _release(self) -> None:
        collector, self._collector = self._collector, None
        if collector is not None:
            collector.close()  # its sources; the network is not theirs. Its history stays readable
        self._stop_network()

    def _stop_network(self) -> None:
        network, self._started_network = self._started_network, None
        if network is not None:
            network.stop()
