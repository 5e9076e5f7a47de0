"""The one collector of this process, shared by every dashboard session and the API.

Plain Python, lock-guarded, so that code outside a Streamlit script run (the API's
routes) reaches the same object the pages use. Once created, it is never replaced behind
anyone's back: if its thread stopped, every caller still gets the same object (its
history, alerts and tuned thresholds intact) and ``/health`` says that it stopped. Only
:func:`release_collector`, called on purpose, lets a new one be created.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator

from ..settings.model import Settings
from ..settings.values import ConfigError
from .collector import MetricsCollector

log = logging.getLogger(__name__)
_lock = threading.Lock()
_collector: MetricsCollector | None = None


def get_collector(settings: Settings | None = None) -> MetricsCollector:
    """The process-wide collector, created and started on first use.

    ``settings`` only matter for the call that creates it; the default reads the
    ``PRSM_*`` variables (a bad one raises :class:`~prsm_monitor.settings.values.ConfigError`).
    A collector whose thread stopped is returned as it is, never replaced.
    """
    global _collector
    with _lock:
        if _collector is None:
            collector = MetricsCollector(settings=settings if settings is not None else Settings.from_env())
            try:
                collector.collect_once()  # the first page view has data to show
            except Exception:  # noqa: BLE001 - the thread retries, and turns failures into alerts
                log.exception("the first tick failed")
            try:
                collector.start()
            except BaseException:
                collector.close()  # its demo network's threads and sockets
                raise
            _collector = collector
        return _collector


def current_collector() -> MetricsCollector | None:
    """The process-wide collector if one was created (running or not), without creating one."""
    return _collector


def release_collector(collector: MetricsCollector | None = None) -> None:
    """Close and forget the process-wide collector (only if it is ``collector``, when given),
    so that the next :func:`get_collector` creates a new one: for tests and shutdown."""
    global _collector
    with _lock:
        if _collector is None or (collector is not None and collector is not _collector):
            return
        _collector.close()
        _collector = None


def start_in_background() -> threading.Thread:
    """Create and start the process-wide collector now, on a thread: the server does not wait
    for it. A bad setting is logged here; pages show it with ``st.error``."""

    def start() -> None:
        try:
            get_collector()
            gc.freeze()  # the start-up heap (imports, demo models) lives on: out of every later collection
        except ConfigError as error:
            log.error("prsm_monitor: %s", error)
        except Exception:  # noqa: BLE001 - the first page view tries again and shows the error
            log.exception("the collector could not be started")

    thread = threading.Thread(target=start, name="prsm-collector-start", daemon=True)
    thread.start()
    return thread


@contextlib.asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """The server's lifespan (``st.App(..., lifespan=lifespan)``): collection (and history)
    begins when the server starts, not with the first page view or API call, and the collector
    is closed when the server stops, so the last batch of history is committed."""
    start_in_background()
    try:
        yield
    finally:
        await asyncio.to_thread(release_collector)
