"""``GET /api/historical/``: what ``/api/historical/{component}`` can be asked for."""

from __future__ import annotations

from ..fields import COMPONENTS

HISTORY_COMPONENTS = (*COMPONENTS, "collector")  # always answered; "custom" and others when the collector has them

HISTORY_PARAMETERS = {
    "minutes": "the window, minutes before now (default 60, at most a year and a day)",
    "duration": "an alias of minutes",
    "points": "downsample to at most this many rows (2 to 100000)",
    "format": "json (default) or csv",
    "anonymize": "true: node, model and host names and addresses as stable salted tokens",
}


def history_index(collector) -> dict:
    """What ``GET /api/historical/`` lists: each component with its fields and URL, and the parameters."""
    fields = collector.fields
    names = [*HISTORY_COMPONENTS, *(c for c in fields if c not in HISTORY_COMPONENTS)]
    components = {
        name: {
            "url": f"/api/historical/{name}",
            "fields": {f.name: {"unit": f.unit, "kind": f.kind, "help": f.help} for f in fields.get(name, ())},
        }
        for name in names
    }
    return {"components": components, "parameters": HISTORY_PARAMETERS}
