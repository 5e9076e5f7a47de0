"""Password attempts per client, with back-off: the dashboard and operator passwords cannot
be guessed at the speed of a websocket.

A client (its address as Streamlit sees it; every loopback session, a reverse proxy's
included, is the one client "this machine") may get a password wrong :data:`FREE` times in a
row; from then on each wrong one makes it wait twice as long before the next try is even
checked: 1 s after the 5th, 2 s after the 6th, ... up to :data:`CAP` (15 min) after the 15th.
A right password resets the count; so does :data:`FORGET` (an hour) without a wrong one.
Each wrong password is logged with the client and the count, never with what was typed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import streamlit as st

log = logging.getLogger(__name__)

FREE = 5  # wrong passwords in a row before the first wait
BASE = 1.0  # seconds of the first wait; doubles with each further wrong password
CAP = 900.0  # the longest wait, seconds
FORGET = 3600.0  # seconds without a wrong password after which a client starts afresh
CLIENTS = 10_000  # clients remembered at most (the oldest forgotten first)
LOCAL = "this machine"


class Attempts:
    """Wrong attempts at one password (``what``, for the log), per client."""

    def __init__(self, what: str, clock: Callable[[], float] = time.monotonic):
        self.what = what
        self._clock = clock
        self._clients: OrderedDict[str, tuple[int, float]] = OrderedDict()  # client -> (failures, last)
        self._lock = threading.Lock()

    def _entry(self, client: str, now: float) -> tuple[int, float]:
        failures, last = self._clients.get(client, (0, now))
        return (0, now) if now - last >= FORGET else (failures, last)

    def wait(self, client: str) -> float:
        """Seconds before ``client`` may try again (0: now)."""
        now = self._clock()
        with self._lock:
            failures, last = self._entry(client, now)
        return max(0.0, last + delay(failures) - now)

    def failed(self, client: str) -> float:
        """Count a wrong password; returns the wait it imposes (seconds)."""
        now = self._clock()
        with self._lock:
            failures = self._entry(client, now)[0] + 1
            self._clients[client] = (failures, now)
            self._clients.move_to_end(client)
            while len(self._clients) > CLIENTS:
                self._clients.popitem(last=False)
        wait = delay(failures)
        log.warning(
            "wrong %s from %s (%d in a row)%s",
            self.what,
            client,
            failures,
            f"; its next try is checked after {wait:g} s" if wait else "",
        )
        return wait

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


def delay(failures: int) -> float:
    """Seconds to wait after ``failures`` wrong passwords in a row."""
    return 0.0 if failures < FREE else min(CAP, BASE * 2 ** (failures - FREE))


def client() -> str:
    """This session's client: its address, or :data:`LOCAL` for a loopback one."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - outside a session (AppTest without a connection): this machine
        address = None
    return address if isinstance(address, str) and address else LOCAL  # AppTest gives a stand-in object


def refusal(wait: float) -> str:
    return f"Too many wrong passwords from this address: try again in {math.ceil(wait)} s."


DASHBOARD = Attempts("dashboard password")
OPERATOR = Attempts("operator password")
