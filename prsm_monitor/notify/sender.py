"""The send stage: one thread that delivers notifications, off the collector's tick.

:meth:`Sender.submit` never blocks: it puts the delivery on a bounded queue (a full queue
drops it, logged as ``dropped``). The thread attempts each delivery with a time limit;
a failed attempt is retried after ``backoff`` seconds, doubling each time, up to
``retries`` times, then logged as ``failed`` with each attempt's reason. A delivery
waiting for its retry does not hold up the others.

Only an attempt the receiver certainly did not get is retried (refused, unreachable, a
connection that timed out, an error answer). One that sent the whole notification and then
timed out waiting for the answer (:attr:`~.channels.Result.maybe_delivered`) is logged as
``failed`` and never sent again: the receiver may have it, and a retry would repeat it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

from .channels import DELIVERED, DeliveryFailed, Result
from .delivery_log import DROPPED, FAILED, RETRYING, SENT, Delivery, DeliveryLog

__all__ = ["DeliveryFailed", "Send", "Sender"]

log = logging.getLogger(__name__)

NOT_RESENT = "; not sent again: it was sent in full and the receiver may have it"


# send(timeout): one attempt; a Result (None: delivered), or an exception (DeliveryFailed: its reason)
Send = Callable[[float], "Result | None"]


class Sender:
    def __init__(
        self,
        deliveries: DeliveryLog,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 2.0,
        queue_size: int = 256,
        clock: Callable[[], float] = time.time,
    ):
        self.deliveries = deliveries
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._clock = clock
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._waiting: list[tuple[float, int, Delivery, Send]] = []  # retries, by due time
        self._order = itertools.count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prsm-notify-sender", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery, send: Send) -> Delivery:
        """Log ``delivery`` and queue it; never blocks (a full queue drops it)."""
        self.deliveries.add(delivery)
        try:
            self._queue.put_nowait((delivery, send))
        except queue.Full:
            self.deliveries.update(delivery, status=DROPPED, error="the send queue is full")
        return delivery

    @property
    def pending(self) -> int:
        return self._queue.qsize() + len(self._waiting)

    def close(self, wait: float = 1.0) -> None:
        self._stop.set()
        try:
            self._queue.put_nowait((None, None))  # wake the thread
        except queue.Full:
            pass  # it is busy and sees the stop after this delivery
        self._thread.join(wait)

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # noqa: BLE001 - the sender must outlive any one delivery
                log.exception("notification sender failed")

    def _step(self) -> None:
        """Attempt the next queued delivery, or a retry that is due; wait for either."""
        wait = max(0.0, self._waiting[0][0] - time.monotonic()) if self._waiting else None
        try:
            delivery, send = self._queue.get(timeout=wait)
        except queue.Empty:
            delivery = None
        if delivery is not None:
            self._attempt(delivery, send)
        elif self._waiting and self._waiting[0][0] <= time.monotonic():
            _, _, delivery, send = heapq.heappop(self._waiting)
            self._attempt(delivery, send)

    def _attempt(self, delivery: Delivery, send: Send) -> None:
        attempts = delivery.attempts + 1
        result = _attempted(send, self.timeout)
        if not result.delivered:
            if result.maybe_delivered:
                self.deliveries.update(delivery, attempts=attempts, status=FAILED, error=result.reason + NOT_RESENT)
                return
            if attempts > self.retries:
                self.deliveries.update(delivery, attempts=attempts, status=FAILED, error=result.reason)
                return
            self.deliveries.update(delivery, attempts=attempts, status=RETRYING, error=result.reason)
            due = time.monotonic() + self.backoff * 2 ** (attempts - 1)
            heapq.heappush(self._waiting, (due, next(self._order), delivery, send))
            return
        now = self._clock()
        self.deliveries.update(
            delivery, attempts=attempts, status=SENT, sent_at=now, latency_s=max(0.0, now - delivery.alert_time)
        )


def _attempted(send: Send, timeout: float) -> Result:
    try:
        return send(timeout) or DELIVERED
    except DeliveryFailed as failed:
        return Result(False, str(failed), failed.maybe_delivered)
    except Exception as exc:  # noqa: BLE001 - any failure is a reason in the log
        return Result(False, f"{type(exc).__name__}: {exc}")
