"""prsm-monitor: live monitoring of a PRSM network, its AI models and the host it runs on.

The guide's names are here too: ``MetricsCollector``, ``PRSMMonitoringDashboard`` and the
demo network (the guide's ``EnhancedP2PNetworkDemo`` is :class:`DemoNetwork`); see docs/guide.md.

``DemoNetwork`` and ``PRSMMonitoringDashboard`` are imported on first use (PEP 562): a
process that never runs the demo network does not load it.
"""

import importlib

from .alerts import AlertLog, Rule
from .core.collector import MetricsCollector
from .fields import Field
from .settings.model import Settings
from .settings.values import ConfigError
from .store import HistoryStore

_LAZY = {"DemoNetwork": ".demo", "PRSMMonitoringDashboard": ".guide"}

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
