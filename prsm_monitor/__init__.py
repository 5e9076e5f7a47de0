"""prsm-monitor: live monitoring of a PRSM network, its AI models and the host it runs on.

The guide's names are here too: ``MetricsCollector``, ``PRSMMonitoringDashboard`` and the
demo network (the guide's ``EnhancedP2PNetworkDemo`` is :class:`DemoNetwork`); see docs/guide.md.
"""

from .alerts import AlertLog, Rule
from .core.collector import MetricsCollector
from .demo import DemoNetwork
from .fields import Field
from .guide import PRSMMonitoringDashboard
from .settings.model import Settings
from .settings.values import ConfigError
from .store import HistoryStore

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
