"""PRSM Monitor: the entry file and the Overview page.

`streamlit run streamlit_app.py` imports this file to find `app` (the HTTP API on the same
port: /api/..., /health, /metrics; Socket.IO at /socket.io/) and runs it as a script
(`__main__`) for every page view of the Overview; the API is built once, on a thread started
when the port listens (`prsm_monitor/api/front.py`).
"""

import streamlit as st

if __name__ == "__main__":
    from prsm_monitor.ui import page
    from prsm_monitor.ui.views import overview

    collector, prefs = page.setup(__file__)
    page.live(overview.render, collector, prefs)
else:
    from prsm_monitor.address import honour_dashboard_address

    honour_dashboard_address()  # PRSM_DASHBOARD_HOST/PORT under a plain `streamlit run` too (may re-execute)

    from prsm_monitor.api.front import Front
    from prsm_monitor.api.wiring import unavailable
    from prsm_monitor.settings.values import ConfigError

    try:
        # The port answers /health ("starting") at once; the API's routes, Socket.IO and the
        # collector load on a thread once it listens, and other requests wait for them.
        front = Front()
        app = st.App(__file__, routes=front.routes(), middleware=front.middleware(), lifespan=front.lifespan)
    except ConfigError as error:
        # A bad PRSM_* setting: no API (never one without its access control), but every API
        # path answers a JSON 503 naming the setting, so /health fails; every page shows the
        # error with st.error until the setting is fixed.
        from prsm_monitor.api.lifecycle import serving

        closed_routes, closed_middleware = unavailable(error)
        app = st.App(__file__, routes=closed_routes, middleware=closed_middleware, lifespan=serving)
