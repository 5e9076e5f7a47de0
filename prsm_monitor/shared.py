"""The one collector of this process, shared by every dashboard session and the API.

Plain Python, lock-guarded, so that code outside a Streamlit script run (the API's
routes) reaches the same object that ``st.cache_resource`` hands to pages.
"""

from __future__ import annotations

import atexit
import logging
import threading

from .collector import MetricsCollector
from .config import ConfigError, Settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_collector: MetricsCollector | None = None


def get_collector(settings: Settings | None = None) -> MetricsCollector:
    """The running process-wide collector, created and started on first use.

    ``settings`` only matter for the call that creates it; the default reads the
    ``PRSM_*`` variables (a bad one raises :class:`~prsm_monitor.config.ConfigError`).
    A collector that was stopped is replaced by a new one.
    """
    global _collector
    with _lock:
        if _collector is None or not _collector.running:
            if _collector is not None:
                _collector.close()
            _collector = MetricsCollector(settings=settings if settings is not None else Settings.from_env())
            _collector.collect_once()  # the first page view has data to show
            _collector.start()
        return _collector


def current_collector() -> MetricsCollector | None:
    """The process-wide collector if one was created (running or not), without creating one."""
    return _collector


def release_collector(collector: MetricsCollector | None = None) -> None:
    """Stop and forget the process-wide collector (only if it is ``collector``, when given)."""
    global _collector
    with _lock:
        if _collector is None or (collector is not None and collector is not _collector):
            return
        _collector.close()
        _collector = None


def start_in_background() -> threading.Thread:
    """Create and start the process-wide collector now, on a thread: collection (and history)
    begins with the process, not with the first page view or API call, and the server does
    not wait for it. A bad setting is logged here; pages show it with ``st.error``."""

    def start() -> None:
        try:
            get_collector()
        except ConfigError as error:
            log.error("prsm_monitor: %s", error)
        except Exception:  # noqa: BLE001 - the first page view tries again and shows the error
            log.exception("the collector could not be started")

    thread = threading.Thread(target=start, name="prsm-collector-start", daemon=True)
    thread.start()
    atexit.register(release_collector)  # a clean exit commits the last batch of history too
    return thread
