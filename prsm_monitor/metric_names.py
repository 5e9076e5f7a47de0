"""Prometheus names of the declared fields, in one place: the exposition (``/metrics``) writes
them and the Prometheus reader queries them back, so both must agree.

``prsm_<component>_<field>`` in base units (``_bytes``, ``_seconds``, ``_percent``); a
counter gets one ``_total`` (added by prometheus-client's counter family), so a counter field
named ``total_<x>`` is exposed as ``prsm_<component>_<x>_total``, never ``..._total_<x>_total``.
"""

from __future__ import annotations

import re
from functools import lru_cache

PREFIX = "prsm"
GIB = 1024.0**3
MIB = 1024.0**2

# unit -> (suffixes of the field name to drop, suffix to add, factor to base units, help note)
UNITS: dict[str, tuple[tuple[str, ...], str, float, str]] = {
    "%": (("_percent",), "_percent", 1.0, "percent, 0 to 100"),
    "GB": (("_gb",), "_bytes", GIB, "bytes; the JSON API gives GiB"),
    "MB": (("_mb",), "_bytes", MIB, "bytes; the JSON API gives MiB"),
    "B": (("_bytes",), "_bytes", 1.0, "bytes"),
    "B/s": (("_bytes_per_s", "_per_s", "_rate"), "_bytes_per_second", 1.0, "bytes per second"),
    "ms": (("_ms",), "_seconds", 0.001, "seconds; the JSON API gives milliseconds"),
    "s": (("_seconds", "_s"), "_seconds", 1.0, "seconds"),
}

# numbered fields that become one metric with a label: cpu_core_3_percent -> cpu_core_percent{core="3"}
_INDEXED = re.compile(r"^(cpu)_(core)_(\d+)(_percent)$")


@lru_cache(maxsize=4096)
def indexed(name: str):
    """The match of a numbered field (``cpu_core_3_percent``), else None."""
    return _INDEXED.match(name)


@lru_cache(maxsize=4096)
def metric_name(component: str, field: str, unit: str, counter: bool = False) -> tuple[str, float, str]:
    """``(name, factor, unit note)`` of a field: the Prometheus name in base units and the
    factor from the stored value to it. Counters get their ``_total`` from the family; a
    counter's leading ``total_`` is dropped so that it has only that one."""
    drop, suffix, factor, note = UNITS.get(unit, ((), "", 1.0, ""))
    base = field
    if counter and base.startswith("total_"):
        base = base[len("total_") :]
    for ending in drop:
        if base.endswith(ending):
            base = base[: -len(ending)]
            break
    if suffix == "_bytes_per_second" and (base == "bytes" or base.endswith("_bytes")):
        base = base[: -len("bytes")].rstrip("_")
    name = f"{PREFIX}_{component}" + (f"_{base}" if base else "") + suffix
    return name, factor, note
