"""Other prsm-monitor instances watched through their own API (``PRSM_INSTANCES``)."""

from .client import InstanceClient, InstanceError
from .poller import Fleet, Instance, InstanceState
from .remote import RemoteCollector


def fleet_of(collector) -> Fleet | None:
    """The :class:`Fleet` among ``collector``'s sources (None: no instances configured)."""
    return next((s for s in getattr(collector, "sources", ()) if isinstance(s, Fleet)), None)


__all__ = ["Fleet", "Instance", "InstanceClient", "InstanceError", "InstanceState", "RemoteCollector", "fleet_of"]
