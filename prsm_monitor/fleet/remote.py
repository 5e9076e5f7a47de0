"""A remote instance seen through the collector's read interface, for the pages.

:class:`RemoteCollector` answers what the views ask of the local
:class:`~prsm_monitor.core.collector.MetricsCollector` (``get_latest_metrics``, ``latest``,
``history``, ``get_active_alerts``, ``get_alerts``, ``rules``, ``settings``, ``version``,
``fields``...) from the :class:`~.poller.Fleet`'s cache: the latest figures and active alerts
from the last poll, history and the alert log fetched when a page asks for them, cached per
``version`` (which changes with each new answer), never on the poller's tick. It is
read-only: thresholds, demo faults and acknowledgements belong to each instance itself.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING

import numpy as np

from ..fields import COMPONENTS, GAUGE, Field
from ..settings.rules import Rule, default_rules
from ..settings.thresholds import check_threshold
from ..settings.values import ConfigError
from . import validate
from .client import InstanceClient, InstanceError

if TYPE_CHECKING:
    import pandas as pd

HISTORY_COMPONENTS = (*COMPONENTS, "collector")
HISTORY_TIMEOUT = 3.0  # seconds a page may wait for an instance's history
ALERT_EVENTS = 1000  # events read from an instance's log (its log keeps 1,000)
_EMPTY = {c: None for c in HISTORY_COMPONENTS}


class RemoteStore:
    """The bits of the store the views look at: no drill-down series are served remotely."""

    capacity = 0
    writer = None

    def count(self, component: str) -> int:
        return 0

    def fields(self, component: str) -> tuple:
        return ()


class RemoteCollector:
    """Instance ``instance`` of ``fleet``, read-only; ``hub`` is the local collector (its
    settings decide the time ranges and exports offered)."""

    remote = True
    demo_network = None
    running = True
    store = RemoteStore()

    def __init__(self, fleet, instance, hub):
        self.fleet = fleet
        self.name = instance.name
        self.hub = hub
        self._client = InstanceClient(instance.name, instance.url, instance.token, HISTORY_TIMEOUT)  # pages' own
        self.url = self._client.url  # as it may be shown: password hidden
        self._lock = threading.Lock()
        self._history: dict[tuple, tuple[int, pd.DataFrame]] = {}
        self._alerts: tuple[int, list[dict]] | None = None
        self._fields: dict[str, tuple[Field, ...]] = {}
        self.last_error: str | None = None  # why the last on-demand read failed

    # -- what the poller keeps ----------------------------------------------------------------
    @property
    def state(self):
        return self.fleet.state(self.name)

    @property
    def version(self) -> tuple[str, int]:
        """Changes with every new answer of the instance and every change of its status."""
        return (self.name, self.state.version)

    @property
    def settings(self):
        return self.hub.settings

    @property
    def collection_interval(self) -> float:
        """How often new data can arrive: the fleet's poll interval (pages refresh no faster)."""
        return self.fleet.interval

    @property
    def rules(self) -> dict[str, Rule]:
        """The instance's thresholds (from its ``/api/settings``) where they are valid ones, else the defaults."""
        rules = default_rules()
        thresholds = ((self.state.settings or {}).get("thresholds")) or {}
        if not isinstance(thresholds, dict):
            return rules
        for name, rule in list(rules.items()):
            given = thresholds.get(name)
            if isinstance(given, dict):
                try:
                    checked = check_threshold(name, given.get("warning"), given.get("critical"))
                except ConfigError:
                    continue  # not a pair this monitor would accept: the default is shown
                rules[name] = dataclasses.replace(rule, warning=checked.warning, critical=checked.critical)
        return rules

    @property
    def fields(self) -> dict[str, tuple[Field, ...]]:
        with self._lock:
            return dict(self._fields)

    @property
    def rows(self) -> tuple[tuple, tuple]:
        return (), ()

    def get_latest_metrics(self) -> dict:
        metrics = self.state.metrics
        if metrics is None:
            return {**_EMPTY, "alerts": [], "active_alerts": [], "errors": {}}
        return {**_EMPTY, "alerts": [], "active_alerts": [], "errors": {}, **metrics}

    def latest(self, component: str) -> dict | None:
        return (self.state.metrics or {}).get(component)

    def get_active_alerts(self) -> list[dict]:
        return list((self.state.metrics or {}).get("active_alerts") or [])

    def history_start(self, component: str) -> float | None:
        return None  # the API does not say where an instance's history starts

    # -- read when a page asks ----------------------------------------------------------------
    def _answering(self) -> bool:
        state = self.state
        return state.status == "up"

    def history(self, component: str, minutes: float | None = 60, max_points: int | None = None) -> pd.DataFrame:
        """The instance's ``/api/historical/{component}``, read at most once per version for
        the same arguments; while it does not answer, the last frame read (or an empty one)."""
        import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

        if component not in HISTORY_COMPONENTS:
            if component.partition(":")[1]:  # node:<name>, model:<name>: not served by the API
                return pd.DataFrame(columns=["timestamp"])
            raise ValueError(f"component={component!r} is unknown: expected one of {', '.join(COMPONENTS)}")
        key = (component, minutes, max_points)
        version = self.state.version
        with self._lock:
            cached = self._history.get(key)
        if cached is not None and (cached[0] == version or not self._answering()):
            return cached[1]
        if not self._answering():
            return pd.DataFrame(columns=["timestamp"])
        params = {"minutes": f"{minutes if minutes is not None else 525600:g}"}
        if max_points:
            params["points"] = str(max(2, int(max_points)))
        try:
            answer = self._client.get_json(f"/api/historical/{component}", params)
        except InstanceError as error:
            self.last_error = str(error)
            return cached[1] if cached is not None else pd.DataFrame(columns=["timestamp"])
        self.last_error = None
        data = answer.get("data")
        frame = _frame(data[: validate.MAX_ROWS] if isinstance(data, list) else [])
        fields = answer.get("fields") or {}
        with self._lock:
            self._history[key] = (version, frame)
            if isinstance(fields, dict) and fields:
                self._fields[component] = tuple(
                    Field(validate.text(n), _said(f, "unit"), GAUGE, _said(f, "help"))
                    for n, f in list(fields.items())[: validate.MAX_ITEMS]
                )
        return frame

    def get_alerts(
        self,
        *,
        since_id: int = 0,
        limit: int | None = None,
        level: str | None = None,
        component: str | None = None,
        since: float | None = None,
    ) -> list[dict]:
        """The instance's alert events (``/api/alerts``), oldest first, filtered as
        :meth:`AlertLog.events` does; read at most once per version."""
        version = self.state.version
        with self._lock:
            cached = self._alerts
        if cached is None and not self._answering():
            cached = (-1, [])  # nothing read yet, and it does not answer now: read when it does
        elif cached is None or (cached[0] != version and self._answering()):
            try:
                answer = self._client.get_json("/api/alerts", {"limit": str(ALERT_EVENTS)})
                events = validate.alerts(answer.get("alerts"))
                self.last_error = None
            except InstanceError as error:
                self.last_error = str(error)
                events = cached[1] if cached is not None else []
            cached = (version, events)
            with self._lock:
                self._alerts = cached
        selected = [
            e
            for e in cached[1]
            if e.get("id", 0) > since_id
            and (level is None or e.get("level") == level)
            and (component is None or e.get("component") == component)
            and (since is None or (e.get("timestamp") or 0) >= since)
        ]
        if limit is not None:
            selected = selected[-limit:] if limit > 0 else []
        return selected

    # -- writes belong to the instance itself -------------------------------------------------
    def acknowledge(self, alert_id: int) -> bool:
        return False

    def configure(self, **changes) -> None:
        raise PermissionError(f"instance {self.name} is read-only here: change it on {self.url}")

    def __repr__(self) -> str:
        return f"RemoteCollector({self.name!r}, {self.url!r})"


def _said(field, key: str) -> str:
    """A field's ``unit`` or ``help`` as an instance declared it, checked."""
    return (validate.text(field.get(key)) or "") if isinstance(field, dict) else ""


def _frame(rows: list) -> pd.DataFrame:
    """An API history answer as the collector's frame: float columns, ``timestamp`` first;
    text, non-finite and absurd values (over :data:`validate.LIMIT`) are missing values."""
    import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

    rows = [r for r in rows if isinstance(r, dict)]
    if not rows:
        return pd.DataFrame(columns=["timestamp"])
    frame = pd.DataFrame.from_records(rows)
    named = [c for c in frame.columns if isinstance(c, str) and len(c) <= validate.MAX_TEXT]
    frame = frame[named[: validate.MAX_ITEMS]]
    frame = frame.apply(pd.to_numeric, errors="coerce").astype("float64")
    frame = frame.where(np.isfinite(frame) & (frame.abs() <= validate.LIMIT))
    if "timestamp" not in frame:
        return pd.DataFrame(columns=["timestamp"])
    frame = frame.dropna(subset=["timestamp"])
    columns = ["timestamp", *(c for c in frame.columns if c != "timestamp")]
    return frame[columns].sort_values("timestamp", ignore_index=True)
