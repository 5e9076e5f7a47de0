"""The HTTP wing, served on the dashboard's own port (see ``streamlit_app.py``): the JSON
routes (:mod:`.routes`, with :mod:`.history_routes`, :mod:`.health_routes`, :mod:`.silences`
and :mod:`.incidents`), the collector they serve (:mod:`.providers`), the app and its
middleware (:mod:`.wiring`), paths, ``Host`` and write access (:mod:`.guard`), token auth and
CORS (:mod:`.auth`), JSON errors and query parsing (:mod:`.http`), the settings body
(:mod:`.settings`), Server-Sent Events (:mod:`.stream`), what starts and stops with the server (:mod:`.lifecycle`)
and the Prometheus exposition (:mod:`.exposition`); Socket.IO at ``/socket.io/`` (:mod:`.socket_io`)."""

from ..health import health_report, stall_seconds
from .lifecycle import lifespan, serving
from .providers import FixedCollector, SharedCollector
from .routes import Api
from .socket_io import socketio_middleware
from .wiring import build_app, middleware, routes, unavailable

__all__ = [
    "Api",
    "FixedCollector",
    "SharedCollector",
    "build_app",
    "health_report",
    "lifespan",
    "middleware",
    "routes",
    "serving",
    "socketio_middleware",
    "stall_seconds",
    "unavailable",
]
