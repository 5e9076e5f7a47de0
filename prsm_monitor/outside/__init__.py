"""Reads from outside the process (PRSM nodes, other instances, Prometheus, Alertmanager):
one HTTP client with a total deadline, a size cap, no redirects and redacted messages."""

from .http import Answer, Client, OutsideError, fetch

__all__ = ["Answer", "Client", "OutsideError", "fetch"]
