"""Fleet page of PRSM Monitor: this instance and those of PRSM_INSTANCES."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import fleet

if __name__ == "__main__":
    collector, prefs = page.setup(__file__)
    fleet.links(collector)  # outside the live part: a page switch from a fragment loses the sidebar's state
    page.live(fleet.render, collector, prefs)
