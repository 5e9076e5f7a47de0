"""Read history back from Prometheus (or Thanos, Mimir, VictoriaMetrics: the same HTTP API).

The ``prsm_*`` series this app exports at ``/metrics`` (see
:mod:`prsm_monitor.api.exposition`: ``prsm_<component>_<field>`` in base units, counters
ending ``_total``) are read with PromQL range queries (``/api/v1/query_range``): per
bucket of ``step`` seconds the mean, minimum and maximum of each field
(``avg_over_time``, ``min_over_time``, ``max_over_time``), three queries per read whatever
the number of fields. Values come back in the fields' own units (GiB, MiB, ms...), in the
rollup shape of :mod:`prsm_monitor.store.tiered`: ``timestamp`` (bucket start), ``<field>``
(mean), ``<field>_min``, ``<field>_max``.

``selector`` (``PRSM_PROMETHEUS_SELECTOR``, e.g. ``instance="monitor:8501"``) picks this
instance's series when one Prometheus scrapes several; :meth:`PrometheusReader.instances`
lists the instances it has and :meth:`PrometheusReader.history` reads any of them.
"""

from __future__ import annotations

import math
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from .. import redact
from ..fields import COUNTER, Field
from ..metric_names import indexed as _indexed
from ..metric_names import metric_name
from ..outside.http import OutsideError, fetch

if TYPE_CHECKING:
    import pandas as pd

MAX_POINTS = 11_000  # Prometheus refuses more points per series in one range query
MAX_BYTES = 32 * 1024 * 1024  # one answer: three stats of ~30 fields at 11,000 points is ~10 MiB
STATS = (("avg", ""), ("min", "_min"), ("max", "_max"))


class PrometheusError(RuntimeError):
    """The server could not be reached or refused the query (the message says which)."""


def series_of(component: str, field: Field) -> tuple[str, float] | None:
    """``(PromQL selector body, factor from the field's unit to base units)`` of one field,
    as :mod:`.api.exposition` names it; None for the timestamp."""
    if field.name == "timestamp":
        return None
    match = _indexed(field.name)
    if match:  # cpu_core_3_percent -> prsm_system_cpu_core_percent{core="3"}
        stem, label, index, rest = match.groups()
        name, factor, _ = metric_name(component, f"{stem}_{label}{rest}", field.unit)
        return f'{name}{{{label}="{index}"', factor
    name, factor, _ = metric_name(component, field.name, field.unit, field.kind == COUNTER)
    if field.kind == COUNTER:  # as prometheus-client exposes a counter family: one _total
        name = name.removesuffix("_total") + "_total"
    return name + "{", factor


class PrometheusReader:
    """Range reads from the Prometheus server at ``url``. ``catalog`` returns the declared
    fields per component (the collector's ``fields``); set by :func:`prsm_monitor.store.persistence.attach`.

    Each request goes through :mod:`prsm_monitor.outside.http` on a connection of its own (pages
    reading at once do not wait for each other): ``timeout`` is its total deadline, answers
    are capped at :data:`MAX_BYTES`, redirects are not followed. ``url`` is the address as
    it may be shown (a ``user:password@`` in it is sent as basic authentication, never shown)."""

    def __init__(self, url: str, selector: str = "", timeout: float = 10.0):
        self._base = url.rstrip("/")
        self.url = redact.url(self._base)
        self.selector = selector
        self.timeout = timeout
        self.catalog: Callable[[], Mapping[str, tuple[Field, ...]]] | None = None

    # -- the store's interface ------------------------------------------------------------------
    def query(self, component: str, names, start: float, end: float | None, max_points: int | None) -> pd.DataFrame:
        """This instance's history (``selector``); ``LookupError`` for a component whose fields
        are not known (drill-down series are read from the local store)."""
        fields = (self.catalog() if self.catalog else {}).get(component)
        if not fields:
            raise LookupError(component)
        return self.history(component, fields, start, end, max_points, self.selector)

    # -- reads ---------------------------------------------------------------------------------------
    def history(
        self,
        component: str,
        fields: tuple[Field, ...],
        start: float,
        end: float | None = None,
        max_points: int | None = None,
        selector: str | None = None,
    ) -> pd.DataFrame:
        """Mean, minimum and maximum of ``fields`` per bucket over ``[start, end]`` (end None:
        now), at most ``max_points`` buckets; ``selector`` defaults to this instance's."""
        import pandas as pd  # on use, for start-up cost: a monitor at rest never imports pandas (store/columns.py)

        end = time.time() if end is None else end
        points = min(max_points or MAX_POINTS, MAX_POINTS)
        step = max(1, math.ceil((end - start) / points))
        selector = self.selector if selector is None else selector
        mapped = [(f, series_of(component, f)) for f in fields]
        mapped = [(f, s) for f, s in mapped if s is not None]
        grid = np.arange(start + step, end + step / 2, step, dtype=float)  # evaluation times: bucket ends
        columns: dict[str, np.ndarray] = {"timestamp": grid - step}
        for stat, suffix in STATS:
            parts = []
            for field, (body, _) in mapped:
                matchers = body + (selector if body.endswith("{") else (f",{selector}" if selector else "")) + "}"
                inner = f"{stat}_over_time({matchers}[{step}s])"
                parts.append(f'label_replace({stat}({inner}), "field", "{field.name}", "", "")')
            found = self._range(" or ".join(parts), grid[0], grid[-1], step) if parts and len(grid) else {}
            for field, (_, factor) in mapped:
                values = np.full(len(grid), np.nan)
                for ts, value in found.get(field.name, ()):
                    i = int(round((ts - grid[0]) / step))
                    if 0 <= i < len(grid):
                        values[i] = value / factor
                columns[field.name + suffix] = values
        names = [f.name for f, _ in mapped]
        order = ["timestamp", *names, *(f"{n}{s}" for n in names for s in ("_min", "_max"))]
        frame = pd.DataFrame(columns, columns=order)
        frame = frame[frame[names].notna().any(axis=1)].reset_index(drop=True) if names else frame
        frame.attrs.update(tier="prometheus", step=float(step))
        return frame

    def instances(self) -> list[str]:
        """The ``instance`` labels of every prsm-monitor this server scrapes."""
        query = urllib.parse.urlencode({"match[]": "prsm_collector_ticks_total"})
        data = self._get(f"/api/v1/label/instance/values?{query}")
        return sorted(v for v in data if isinstance(v, str)) if isinstance(data, list) else []

    # -- HTTP --------------------------------------------------------------------------------------------
    def _range(self, promql: str, start: float, end: float, step: int) -> dict[str, list[tuple[float, float]]]:
        body = urllib.parse.urlencode({"query": promql, "start": start, "end": end, "step": step}).encode()
        data = self._get("/api/v1/query_range", body)
        out: dict[str, list[tuple[float, float]]] = {}
        try:
            for series in data.get("result", ()):
                name = series.get("metric", {}).get("field")
                if name:
                    points = ((float(t), float(v)) for t, v in series.get("values", ()))
                    out.setdefault(name, []).extend((t, v) for t, v in points if math.isfinite(v))
        except (AttributeError, TypeError, ValueError):
            raise PrometheusError(f"{self.url} answered a range query with a malformed result") from None
        return out

    def _get(self, path: str, body: bytes | None = None):
        """The ``data`` of a successful answer to ``path`` (a POST of the form ``body``, else a GET)."""
        try:
            answer = fetch(
                self._base + path,
                deadline=self.timeout,
                max_bytes=MAX_BYTES,
                method="GET" if body is None else "POST",
                body=body,
                headers=None if body is None else {"Content-Type": "application/x-www-form-urlencoded"},
            )
        except OutsideError as error:
            raise PrometheusError(f"{self.url} could not be read: {error}") from None
        try:
            payload = answer.json()
        except OutsideError:
            payload = None
        detail = payload.get("error", "") if isinstance(payload, dict) else ""
        if answer.status != 200:
            raise PrometheusError(redact.text(f"{self.url} answered {answer.status} {str(detail)[:300]}".strip()))
        if (
            not isinstance(payload, dict)
            or payload.get("status") != "success"
            or not isinstance(payload.get("data"), (dict, list))
        ):
            raise PrometheusError(redact.text(f"{self.url}: {str(detail or 'query failed')[:300]}"))
        return payload["data"]
