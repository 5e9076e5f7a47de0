"""AI Models page of PRSM Monitor."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import ai

if __name__ == "__main__":
    collector, prefs = page.setup(__file__)
    page.live(ai.render, collector, prefs)
