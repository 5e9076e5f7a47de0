"""Delivery to people (Apprise) and to Alertmanager, off the collector's tick.

:class:`Notifier` reads the alert log on its own thread, groups alerts into incidents
(:mod:`.grouping`) and hands due notifications to one sender thread (:mod:`.sender`) that
records each delivery (:mod:`.delivery_log`). Settings: :mod:`prsm_monitor.settings.notify`.
"""

from ..settings.notify import NotifySettings, Route
from .notifier import Notifier, attach_notifier

__all__ = ["NotifySettings", "Notifier", "Route", "attach_notifier"]
