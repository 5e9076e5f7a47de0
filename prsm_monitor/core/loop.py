"""The collection thread: a drift-free tick on one daemon thread that nothing of ours can end.

:class:`TickLoop` is a collaborator of :class:`~prsm_monitor.core.collector.MetricsCollector`:
it owns the thread, the stop and wake events and the tick lock, and knows the collector only
through the callables it is given. Every step of the loop is inside the error handling: a
tick that fails is one ``error`` alert while it keeps failing (and an ``info`` when it
recovers), an overrun skips the slots it missed instead of bunching ticks up, and should the
thread end anyway, :attr:`TickLoop.stopped_by` says why, for ``/health``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..alerts.log import AlertLog
from ..settings.limits import INTERVAL_MIN

log = logging.getLogger("prsm_monitor.collector")


class TickLoop:
    """Runs ``tick()`` every ``interval()`` seconds on the ``prsm-collector`` thread.

    ``guard(key, what, fn)`` runs one tick with its failures isolated (an alert while it
    keeps failing); a failure the guard could not take is one ``error`` alert in ``log``
    (stamped by ``clock``); ``missed(n)`` counts slots skipped by an overrun."""

    def __init__(
        self,
        tick: Callable[[], None],
        interval: Callable[[], float],
        guard: Callable[[str, str, Callable[[], None]], None],
        log: AlertLog,
        clock: Callable[[], float],
        missed: Callable[[int], None],
    ):
        self._tick = tick
        self._interval = interval
        self._guard = guard
        self._log = log
        self._clock = clock
        self._missed = missed
        self.stopped_by: str | None = None  # why the thread ended by itself, if it did
        self.last_tick_at: float | None = None  # monotonic start of the latest tick, by the thread or run_once
        self._lock = threading.Lock()  # start and stop
        self._tick_lock = threading.Lock()  # one tick at a time
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the thread (no-op when it already runs)."""
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self.stopped_by = None
            self._thread = threading.Thread(target=self._run, name="prsm-collector", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (no-op when it is not running)."""
        with self._lock:
            thread = self._thread
            self._stop.set()
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def wake(self) -> None:
        """Re-plan the next slot now (the interval changed)."""
        self._wake.set()

    def run_once(self) -> None:
        """One tick in the calling thread, never at the same time as another."""
        with self._tick_lock:
            self.last_tick_at = time.monotonic()
            self._tick()

    def _run(self) -> None:
        """The thread: tick, then wait for the next slot, until :meth:`stop`."""
        try:
            next_at = time.monotonic()
            last = self.last_tick_at
            if last is not None and next_at - last < self._interval():  # a tick just ran (the first page
                next_at = self._wait_for(last + self._interval(), last)  # view's): the next is on its schedule
            while not self._stop.is_set():
                try:
                    next_at = self._cycle(next_at)
                except Exception as exc:  # noqa: BLE001 - planning the next slot failed: pause, go on
                    log.exception("collector loop failed")
                    self._report_failure("collector:loop", "collector loop", exc)
                    self._stop.wait(INTERVAL_MIN)
                    next_at = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - the thread ends here: say why, for /health
            self.stopped_by = f"{type(exc).__name__}: {exc}"
            log.critical("collector thread stopped: %s", self.stopped_by, exc_info=True)

    def _cycle(self, next_at: float) -> float:
        """One tick, then wait for the next slot; returns it. A tick that fails (even with
        ``SystemExit`` from a plugin) is one ``error`` alert while it keeps failing."""
        tick_start = time.monotonic()
        try:
            self._guard("collector:tick", "collector tick", self._logged_tick)
        except BaseException as exc:  # noqa: BLE001 - not even SystemExit may end the thread
            self._report_failure("collector:tick", "collector tick", exc)
        interval = self._interval()
        next_at += interval
        now = time.monotonic()
        if now > next_at:  # overran: skip the slots we missed, never bunch up
            missed = int((now - next_at) // interval) + 1
            self._missed(missed)
            next_at += missed * interval
        return self._wait_for(next_at, tick_start)

    def _wait_for(self, next_at: float, tick_start: float) -> float:
        """Wait until ``next_at`` (monotonic) or :meth:`stop`; an interval change re-plans from
        the last tick's start. Returns the slot the next tick runs at."""
        while not self._stop.is_set():
            self._wake.clear()
            if not self._wake.wait(max(0.0, next_at - time.monotonic())):
                break  # the time has come
            # woken by stop() or an interval change: re-plan from the last tick's start
            next_at = max(tick_start + self._interval(), time.monotonic())
        return next_at

    def _logged_tick(self) -> None:
        try:
            self.run_once()
        except Exception:
            log.exception("collector tick failed")
            raise

    def _report_failure(self, key: str, what: str, exc: BaseException) -> None:
        """One ``error`` alert while ``key`` stays failing; never raises."""
        try:
            if not self._log.is_active(key):
                message = f"{what} failed: {type(exc).__name__}: {exc}"
                self._log.record(key, "error", "error", "system", message, {"source": what}, self._clock())
        except Exception:  # noqa: BLE001 - even the alert log failing must not end the loop
            log.exception("could not record the failure of the %s", what)
