"""What ``GET /api/notifications`` answers, and what the Alerts page shows of notifications."""

from __future__ import annotations


def notifications_view(
    notifier, status: str | None = None, limit: int | None = None, deliveries: int | None = None
) -> dict:
    """Incidents (open first; ``limit`` of them), the delivery log (newest first, filtered by
    ``status``; ``deliveries`` of them, default ``limit``), its counts by status, the routes,
    and whether anything is configured to send."""
    return {
        "enabled": notifier.settings.enabled,
        "routes": notifier.routes_view(),
        "timers": {
            "group_wait_s": notifier.settings.group_wait,
            "group_interval_s": notifier.settings.group_interval,
            "repeat_interval_s": notifier.settings.repeat_interval,
            "group_window_s": notifier.settings.group_window,
            "escalate_after_s": notifier.settings.escalate_after,
        },
        "incident_counts": notifier.incident_counts(),
        "incidents": notifier.incidents(limit),
        "deliveries": notifier.deliveries.entries(deliveries or limit, status),
        "counts": notifier.deliveries.counts(),
    }
