"""Incident page of PRSM Monitor: one incident's timeline, charts and report."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import incident

if __name__ == "__main__":
    collector, prefs = page.setup(__file__)
    page.live(incident.render, collector, prefs)
