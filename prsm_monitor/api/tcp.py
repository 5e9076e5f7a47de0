"""TCP_NODELAY on the server's sockets (a workaround for Streamlit 1.67's st.App server).

``streamlit run`` binds the listening socket itself (``socket.socket(family=...)``, so its
``proto`` is 0) and hands it to uvicorn. asyncio only turns Nagle's algorithm off on
accepted sockets whose ``proto`` is ``IPPROTO_TCP``, so every connection keeps Nagle on:
a response written as headers then body waits for the client's delayed ACK, about 40 ms
per request (measured here: 44 ms for Streamlit's own ``/_stcore/health``, 3.5 ms with
the same app on a uvicorn-bound socket). Linux copies TCP_NODELAY from a listening
socket to the connections it accepts, so setting it once on the listener fixes every
later connection; the connections already open are fixed too.
"""

from __future__ import annotations

import logging
import signal
import socket

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


def uvicorn_server():
    """The uvicorn Server of this process when it runs in the main thread, else None.

    uvicorn installs a bound method of its Server as the SIGTERM handler while it serves."""
    try:
        handler = signal.getsignal(signal.SIGTERM)
    except ValueError:  # no signals here
        return None
    server = getattr(handler, "__self__", None)
    return server if hasattr(server, "should_exit") and hasattr(server, "servers") else None


def _nodelay(sock) -> bool:
    try:
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return True
    except OSError:
        pass
    return False


def set_nodelay(server) -> int:
    """Turn Nagle off on ``server``'s listening sockets and open connections; returns how many."""
    count = 0
    for listener in getattr(server, "servers", ()) or ():
        for sock in listener.sockets or ():
            count += _nodelay(sock)
    state = getattr(server, "server_state", None)
    for connection in list(getattr(state, "connections", ()) or ()):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            count += _nodelay(transport.get_extra_info("socket"))
    return count


class NoDelay:
    """ASGI middleware: on the first request, :func:`set_nodelay` on the serving uvicorn."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.done = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.done and scope["type"] in ("http", "websocket"):
            self.done = True
            server = uvicorn_server()
            if server is not None:
                log.debug("TCP_NODELAY set on %d sockets", set_nodelay(server))
        await self.app(scope, receive, send)
