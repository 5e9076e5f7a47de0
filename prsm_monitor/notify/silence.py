"""The silence stage: keeps silenced alerts out of every notification, escalation and push.

``silences`` returns the collector's silences at the time of the check (None: there are
none); their contract is ``silenced(alert, now)``, truthy for an alert (in the alert log's
shape) a silence covers. A silence check that fails counts as not silenced: a broken silence
must not stop notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .grouping import Member

log = logging.getLogger(__name__)


class Silence:
    def __init__(self, silences: Callable[[], object]):
        self._silences = silences

    def covers(self, alert: dict, now: float) -> bool:
        silences = self._silences()
        if silences is None:
            return False
        try:
            return bool(silences.silenced(alert, now))
        except Exception:  # noqa: BLE001 - a broken silence must not stop notifications
            log.exception("silence check failed")
            return False

    def alerts(self, alerts: list[dict], now: float) -> list[dict]:
        """The alerts no silence covers."""
        return [a for a in alerts if not self.covers(a, now)]

    def members(self, members: list[Member], now: float) -> list[Member]:
        """The incident members no silence covers."""
        return [m for m in members if not self.covers(m.alert(), now)]
