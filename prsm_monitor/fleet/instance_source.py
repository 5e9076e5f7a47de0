"""InstanceSource: another prsm-monitor instance's ``system``, ``network`` and ``ai``, as a source.

``collector.start_collection(instance)`` (the guide's multi-instance example) makes a
collector watch one instance: its sources become one :class:`InstanceSource`, which reads the
instance's ``GET /api/metrics`` through a one-instance :class:`~prsm_monitor.fleet.poller.Fleet`
(the same polling, timeouts and back-off as ``PRSM_INSTANCES``), so the collector's records,
history and alerts are the instance's figures. A reading older than the fleet calls stale is
never shown as current: that tick the source fails, which is one alert while it lasts.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Mapping

from ..fleet import Fleet, Instance
from ..fleet.poller import WAITING
from ..settings.env_services import instances as parse_instances
from ..sources.base import Source
from ..sources.prsm.fields import AI_FIELDS, DISTRIBUTIONS, NETWORK_FIELDS, ROWS
from ..sources.system import SYSTEM_FIELDS


def as_instance(instance) -> Instance:
    """An :class:`~prsm_monitor.fleet.Instance` from a base URL (``"http://host:8501"``) or an
    object with ``url`` (and ``id`` or ``name``, optionally ``token``). A bad URL or name is a
    :class:`~prsm_monitor.settings.values.ConfigError` that names it."""
    if isinstance(instance, Instance):
        return instance
    if isinstance(instance, str):
        url, name, token = instance, None, None
    else:
        url = getattr(instance, "url", None)
        name = getattr(instance, "id", None) or getattr(instance, "name", None)
        token = getattr(instance, "token", None)
    if name is None:
        parts = urllib.parse.urlsplit(str(url))
        name = f"{parts.hostname or 'instance'}-{parts.port or 'default'}".replace(".", "-")
    label = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(name))[:32] or "instance"
    ((label, base),) = parse_instances({"instance": f"{label}={url}"}, "instance")
    return Instance(label, base, token)


class InstanceSource(Source):
    """The records of one other instance (see the module doc). ``wait`` seconds at most are
    spent in the constructor for its first answer, so the first tick has the figures."""

    components = ("system", "network", "ai")
    fields = {"system": SYSTEM_FIELDS, "network": NETWORK_FIELDS, "ai": AI_FIELDS}
    rows = ROWS
    distributions = DISTRIBUTIONS

    def __init__(self, instance: Instance, *, interval: float = 1.0, timeout: float = 2.0, wait: float | None = None):
        self.instance = instance
        self.fleet = Fleet([instance], interval=interval, timeout=timeout)
        self.fleet.start()
        deadline = time.monotonic() + (timeout + 1.0 if wait is None else wait)
        while self.fleet.state(instance.name).status == WAITING and time.monotonic() < deadline:
            time.sleep(0.02)  # the first poll runs on the fleet's thread: wait for it, with a deadline

    def collect(self) -> dict[str, dict]:
        state = self.fleet.state(self.instance.name)
        if state.metrics is None or self.fleet.is_stale(state):
            reason = state.error or ("no answer yet" if state.metrics is None else "its last answer is stale")
            raise RuntimeError(f"instance {self.instance.name} ({self.instance.url}): {reason}")
        return {c: dict(r) for c in self.components if isinstance(r := state.metrics.get(c), Mapping)}

    def conditions(self, records: Mapping):
        return self.fleet.conditions(records)

    def close(self) -> None:
        self.fleet.close()

    def __repr__(self) -> str:
        return f"InstanceSource({self.instance.name}={self.instance.url})"
