"""The HTTP wing, served on the dashboard's own port (see ``streamlit_app.py``): the JSON
routes (:mod:`.routes`, with :mod:`.history_routes`, :mod:`.health_routes`, :mod:`.silences`
and :mod:`.incidents`), the collector they serve (:mod:`.providers`), the app and its
middleware (:mod:`.wiring`), paths, ``Host`` and write access (:mod:`.guard`), token auth and
CORS (:mod:`.auth`), JSON errors and query parsing (:mod:`.http`), the settings body
(:mod:`.settings`), Server-Sent Events (:mod:`.stream`), what starts and stops with the server (:mod:`.lifecycle`)
and the Prometheus exposition (:mod:`.exposition`); Socket.IO at ``/socket.io/`` (:mod:`.socket_io`)."""

import importlib

# Imported on first use (PEP 562): the entry file imports the light front (:mod:`.front`) to open
# the port, and the routes (the collector, NumPy, Socket.IO) load on a thread after it listens.
_LAZY = {
    "Api": ".routes",
    "FixedCollector": ".providers",
    "SharedCollector": ".providers",
    "build_app": ".wiring",
    "health_report": "..health",
    "lifespan": ".lifecycle",
    "middleware": ".wiring",
    "routes": ".wiring",
    "serving": ".lifecycle",
    "socketio_middleware": ".socket_io",
    "stall_seconds": "..health",
    "unavailable": ".wiring",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # All at once, the ``routes`` submodule first: importing a submodule sets the package's
    # attribute of that name, and ``routes`` must stay the function (``api.routes()``).
    importlib.import_module(".routes", __name__)
    for lazy, module in _LAZY.items():
        globals()[lazy] = getattr(importlib.import_module(module, __name__), lazy)
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
