"""Other prsm-monitor instances watched through their own API (``PRSM_INSTANCES``)."""

from .client import InstanceClient, InstanceError
from .poller import Fleet, Instance, InstanceState
from .prometheus import PrometheusFleet, ScrapedInstance
from .remote import RemoteCollector


def fleet_of(collector) -> Fleet | None:
    """The :class:`Fleet` among ``collector``'s sources (None: no instances configured)."""
    return next((s for s in getattr(collector, "sources", ()) if isinstance(s, Fleet)), None)


def prometheus_fleet_of(collector) -> PrometheusFleet | None:
    """The :class:`PrometheusFleet` among ``collector``'s sources (None: no PRSM_PROMETHEUS_URL)."""
    return next((s for s in getattr(collector, "sources", ()) if isinstance(s, PrometheusFleet)), None)


__all__ = [
    "Fleet",
    "Instance",
    "InstanceClient",
    "InstanceError",
    "InstanceState",
    "PrometheusFleet",
    "RemoteCollector",
    "ScrapedInstance",
    "fleet_of",
    "prometheus_fleet_of",
]
