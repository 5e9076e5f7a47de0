"""What ``GET /api/notifications`` answers, and what the Alerts page shows of notifications.

Every URL in it (a route's targets, a delivery's target and why it failed) goes through
:mod:`prsm_monitor.redact`: whoever may read the page or the API does not read the secrets
of a webhook or a mail account."""

from __future__ import annotations

from .. import redact


def _route(route: dict) -> dict:
    return {**route, "targets": [redact.url(t) for t in route.get("targets", ())]}


def _delivery(entry: dict) -> dict:
    return {k: redact.text(v) if isinstance(v, str) else v for k, v in entry.items()}


def notifications_view(
    notifier, status: str | None = None, limit: int | None = None, deliveries: int | None = None
) -> dict:
    """Incidents (open first; ``limit`` of them), the delivery log (newest first, filtered by
    ``status``; ``deliveries`` of them, default ``limit``), its counts by status, the routes,
    and whether anything is configured to send."""
    return {
        "enabled": notifier.settings.enabled,
        "routes": [_route(r) for r in notifier.routes_view()],
        "timers": {
            "group_wait_s": notifier.settings.group_wait,
            "group_interval_s": notifier.settings.group_interval,
            "repeat_interval_s": notifier.settings.repeat_interval,
            "group_window_s": notifier.settings.group_window,
            "escalate_after_s": notifier.settings.escalate_after,
        },
        "incident_counts": notifier.incident_counts(),
        "incidents": notifier.incidents(limit),
        "deliveries": [_delivery(d) for d in notifier.deliveries.entries(deliveries or limit, status)],
        "counts": notifier.deliveries.counts(),
    }
