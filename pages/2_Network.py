"""Network page of PRSM Monitor."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import network

if __name__ == "__main__":
    collector, prefs = page.setup("Network", ":material/hub:")
    page.live(network.render, collector, prefs)
