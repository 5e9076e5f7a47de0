"""The Apprise channel: one URL per channel, so the delivery log names each target.

Loaded only when a route names a URL (:mod:`.channels`): Apprise is a heavy import.
"""

from __future__ import annotations

import logging

import apprise

from .channels import DELIVERED, Result
from .message import Message

_TYPES = {"critical": "failure", "error": "failure", "warning": "warning", "info": "info", "resolved": "success"}


CALL_GRACE = 0.5  # seconds past the read limit before Apprise gives up on the whole call
CONNECT_SHARE = 0.5  # of the timeout, for making the connection: an attempt that fails sooner never sent


class AppriseChannel:
    """Sends :class:`~.message.Message` objects to one Apprise URL."""

    def __init__(self, url: str):
        self.url = url
        self._service = apprise.Apprise.instantiate(url)
        if self._service is None:
            raise ValueError("Apprise cannot load this URL")
        self.target = _shown(self._service.url(privacy=True))  # passwords hidden, for the delivery log

    def send(self, message: Message, timeout: float) -> Result:
        """Deliver within ``timeout`` seconds (``PRSM_NOTIFY_TIMEOUT``; Apprise's own 4 s
        defaults do not apply): the connection within half of it, the answer within all of it
        after that. Otherwise failed, with Apprise's own reason, marked
        ``maybe_delivered`` when the attempt failed only after the full time: the connection
        was made and the notification sent, and only the answer is missing (Apprise reports
        both cases with the same words, so the time tells them apart)."""
        # a fresh plugin each time: Apprise throttles a reused one (5 s between e-mails), which
        # would hold up the one sender thread; the incident timers already pace notifications
        asset = apprise.AppriseAsset(service_timeout=timeout + CALL_GRACE)  # its default: 60 s
        service = apprise.Apprise.instantiate(self.url, asset=asset)
        service.socket_connect_timeout = timeout * CONNECT_SHARE
        service.socket_read_timeout = timeout
        notifier = apprise.Apprise(asset=asset)
        notifier.add(service)
        kind = "resolved" if message.resolved else message.level
        result = notifier.notify(
            body=message.body,
            title=message.title,
            notify_type=_TYPES.get(kind, "info"),
            body_format="text",
            timeout=timeout + CALL_GRACE,
            log_level=logging.WARNING,
        )
        if result.status == 0:
            return DELIVERED
        reason, elapsed = _reason(result)
        timed_out = getattr(result.status, "name", "") == "TIMEOUT"
        return Result(False, reason, maybe_delivered=timed_out or elapsed >= timeout)


def _reason(result) -> tuple[str, float]:
    """The warnings and errors Apprise logged for the attempt (or its status), with how long
    it took (a refused connection fails at once, a silent one at the time limit), and that time."""
    messages, elapsed = [], 0.0
    for service_result in result:
        for attempt in service_result.attempts:
            messages.extend(str(entry.message).strip() for entry in attempt.logs)
            elapsed += attempt.elapsed
    status = getattr(result.status, "name", str(result.status)).lower()
    reason = "; ".join(dict.fromkeys(m for m in messages if m)) or f"Apprise reported {status}"
    return f"{reason} (after {elapsed:.2f} s)", elapsed


_NOISE = {"overflow", "retry", "wait", "optional", "method", "cto", "rto"}  # Apprise's defaults, in every URL


def _shown(url: str) -> str:
    """The URL without the options Apprise adds to every one."""
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in _NOISE]
    return base + ("?" + "&".join(kept) if kept else "")
