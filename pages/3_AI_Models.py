"""AI Models page of PRSM Monitor."""

from prsm_monitor.ui import page
from prsm_monitor.ui.views import ai

if __name__ == "__main__":
    collector, prefs = page.setup("AI Models", ":material/psychology:")
    page.live(ai.render, collector, prefs)
