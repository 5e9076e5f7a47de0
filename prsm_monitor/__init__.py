"""prsm-monitor: live monitoring of a PRSM network, its AI models and the host it runs on."""

from .alerts import AlertLog, Rule
from .collector import MetricsCollector
from .config import ConfigError, Settings
from .fields import Field
from .store import HistoryStore

__all__ = ["AlertLog", "ConfigError", "Field", "HistoryStore", "MetricsCollector", "Rule", "Settings"]
__version__ = "0.1.0"
