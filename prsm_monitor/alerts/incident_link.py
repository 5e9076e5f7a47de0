"""Links to an incident's page: ``PRSM_PUBLIC_URL`` (read and checked with the notification
settings, :mod:`prsm_monitor.settings.notify`) plus the page's path.

``https://monitor.example.org`` makes a notification about incident 7 carry
``https://monitor.example.org/Incident?incident=7``. Unset: no link.
"""

from __future__ import annotations

PAGE = "Incident"  # the incident page's URL path (pages/6_Incident.py)


def incident_url(public_url: str | None, incident_id: int) -> str | None:
    """The link to incident ``incident_id``'s page under ``public_url``, or None without one."""
    return None if not public_url else f"{public_url.rstrip('/')}/{PAGE}?incident={int(incident_id)}"
