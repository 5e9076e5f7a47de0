"""What starts and stops with the server: ``st.App(..., lifespan=lifespan)``.

Streamlit's ``st.App`` runs this lifespan in its server (uvicorn, in the main thread) after it
has bound and opened the listening socket and before it serves; its end runs once the
server has closed every connection. At start:

- **TCP_NODELAY on the listening socket.** ``streamlit run`` binds that socket itself
  (``socket.socket(family=...)``, so its ``proto`` is 0) and asyncio only turns Nagle's
  algorithm off on accepted sockets whose ``proto`` is ``IPPROTO_TCP``, so every connection
  kept Nagle on: a response written as headers then body waits for the client's delayed
  ACK, about 40 ms per request (44 ms measured for Streamlit's own ``/_stcore/health``,
  3.5 ms with it off). Linux copies TCP_NODELAY from a listening socket to the connections
  it accepts, so it is set once, on this process's listener on Streamlit's port.
- **:data:`STOPPING`**, set when the process is asked to stop (SIGINT, SIGTERM), before the
  server waits for open connections to end: an event stream (:mod:`.stream`) ends on it, or
  it would hold the graceful shutdown (Ctrl-C) forever. The handlers installed here set it,
  then call the server's own.
- **the process-wide collector** (:func:`prsm_monitor.core.shared.lifespan`): started with the
  server, closed after it (the last batch of history committed).

``streamlit_app.py`` runs :meth:`.front.Front.lifespan`, which does the server's part here and
loads the API and the collector on a thread once the port listens; :func:`lifespan` is the same
without the deferred load (``st.App(routes=api.routes(), lifespan=api.lifespan)``). This
module imports neither the collector nor NumPy: the front imports it before the port opens.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator

import psutil
from streamlit import config

log = logging.getLogger(__name__)

STOPPING = threading.Event()  # the process was asked to stop: open event streams end


def set_nodelay(port: int) -> int:
    """Turn Nagle off on this process's TCP listeners on ``port``; returns how many."""
    count = 0
    for connection in psutil.Process().net_connections(kind="tcp"):
        if connection.status != psutil.CONN_LISTEN or connection.laddr.port != port or connection.fd < 0:
            continue
        try:
            with socket.fromfd(connection.fd, connection.family, socket.SOCK_STREAM) as sock:  # a duplicate
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            count += 1
        except OSError as error:
            log.warning("TCP_NODELAY could not be set on port %d: %s", port, error)
    return count


def watch_stop_signals() -> bool:
    """Set :data:`STOPPING` on SIGINT and SIGTERM, then run the handler that was there (the
    server's). False where signals cannot be handled (not the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    for number in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(number)

        def handler(signum, frame, previous=previous):
            STOPPING.set()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                signal.default_int_handler(signum, frame)

        signal.signal(number, handler)
    return True


@contextlib.asynccontextmanager
async def serving(app) -> AsyncIterator[None]:
    """The server's part alone (a process whose settings are bad runs no collector)."""
    STOPPING.clear()
    port = config.get_option("server.port")
    log.debug("TCP_NODELAY set on %d listening sockets", set_nodelay(port))
    watch_stop_signals()
    yield


@contextlib.asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """The server's part, then the collector's: see the module doc."""
    from ..core import shared  # on use, for start-up cost: the front imports this module before the port opens

    async with serving(app), shared.lifespan(app):
        yield
