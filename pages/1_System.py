"""System page of PRSM Monitor."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import system

if __name__ == "__main__":
    collector, prefs = page.setup(__file__)
    page.live(system.render, collector, prefs)
