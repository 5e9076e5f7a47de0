"""Alerts page of PRSM Monitor."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import alerts

if __name__ == "__main__":
    collector, prefs = page.setup(__file__)
    page.live(alerts.render, collector, prefs)
