"""prsm-monitor: live monitoring of a PRSM network, its AI models and the host it runs on.

The guide's names are here too: ``MetricsCollector``, ``PRSMMonitoringDashboard`` and the
demo network (the guide's ``EnhancedP2PNetworkDemo`` is :class:`DemoNetwork`); see docs/guide.md.

Every name here is imported on first use (PEP 562): ``import prsm_monitor`` (which any
``prsm_monitor.x`` import runs first) loads nothing else, so a light module such as
:mod:`.address` or :mod:`.api.front` does not pay for the collector, NumPy or the demo network.
"""

import importlib

_LAZY = {
    "AlertLog": ".alerts",
    "ConfigError": ".settings.values",
    "DemoNetwork": ".demo",
    "Field": ".fields",
    "HistoryStore": ".store",
    "MetricsCollector": ".core.collector",
    "PRSMMonitoringDashboard": ".guide",
    "Rule": ".alerts",
    "Settings": ".settings.model",
}

__all__ = [
    "AlertLog",
    "ConfigError",
    "DemoNetwork",
    "Field",
    "HistoryStore",
    "MetricsCollector",
    "PRSMMonitoringDashboard",
    "Rule",
    "Settings",
]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
