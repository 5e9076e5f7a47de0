"""PRSM Monitor: the entry file and the Overview page.

`streamlit run streamlit_app.py` serves the dashboard (this file plus pages/) and, through
`app` below, the HTTP API on the same port: /api/..., /health and /metrics.
"""

import streamlit as st

from prsm_monitor import api
from prsm_monitor.config import ConfigError

try:
    app = st.App(__file__, routes=api.routes(), middleware=api.middleware())
except ConfigError:
    # A bad PRSM_* setting: serve no API (never one without its access control); every
    # page shows the error with st.error until the setting is fixed.
    app = st.App(__file__)

if __name__ == "__main__":
    from prsm_monitor.ui import page
    from prsm_monitor.ui.views import overview

    collector, prefs = page.setup("Overview", ":material/dashboard:")
    page.live(overview.render, collector, prefs)
