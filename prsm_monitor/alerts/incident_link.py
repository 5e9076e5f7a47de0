"""``PRSM_PUBLIC_URL``: where viewers reach the dashboard, for links to an incident's page.

``https://monitor.example.org`` makes a notification about incident 7 carry
``https://monitor.example.org/Incident?incident=7``. Unset: no link. A value that is not an
http(s) URL without a query or fragment gives no link and one warning in the log naming the
variable, the value and what is expected.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from .. import redact

VARIABLE = "PRSM_PUBLIC_URL"
PAGE = "Incident"  # the incident page's URL path (pages/6_Incident.py)
_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
log = logging.getLogger(__name__)
_warned: set[str] = set()


def public_url(env: Mapping[str, str] = os.environ) -> str | None:
    """The dashboard's public base URL without its trailing ``/`` (None: unset or invalid)."""
    value = (env.get(VARIABLE) or "").strip()
    if not value:
        return None
    if not _URL.fullmatch(value):
        if value not in _warned:
            _warned.add(value)
            log.warning(
                "%s=%r is invalid: expected the dashboard's http(s) URL, without query or fragment "
                "(https://monitor.example.org); notifications carry no incident link",
                VARIABLE,
                redact.url(value),
            )
        return None
    return value.rstrip("/")


def incident_url(incident_id: int, env: Mapping[str, str] = os.environ) -> str | None:
    """The link to incident ``incident_id``'s page, or None without a public URL."""
    base = public_url(env)
    return None if base is None else f"{base}/{PAGE}?incident={int(incident_id)}"
