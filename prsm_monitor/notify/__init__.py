"""Delivery to people (Apprise) and to Alertmanager, off the collector's tick.

:class:`Notifier` composes the stages: plan (:mod:`.plan`), group (:mod:`.grouping`),
silence (:mod:`.silence`), render (:mod:`.message`) and send (:mod:`.sender`, recording each
delivery in :mod:`.delivery_log`). Where a notification goes is a channel (:mod:`.channels`:
the ``Channel`` protocol and its registry; Apprise and Alertmanager are loaded only when
configured). Settings: :mod:`prsm_monitor.settings.notify`.
"""

from ..settings.notify import NotifySettings, Route
from .notifier import Notifier, attach_notifier

__all__ = ["NotifySettings", "Notifier", "Route", "attach_notifier"]
