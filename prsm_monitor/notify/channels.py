"""The ``Channel`` protocol and the registry of channels: where a rendered notification goes.

A channel is one object per target (one Apprise URL, one Alertmanager) with a ``target``
(where to, secrets hidden, for the delivery log) and one method, ``send(message, timeout)``,
that makes one attempt within ``timeout`` seconds and returns a :class:`Result`: delivered,
or failed with the reason in words. ``maybe_delivered`` marks a failure that came only after
the whole notification went out (the answer timed out): the sender never sends it again.

The registry maps a route URL's scheme to the channel that takes it; Apprise takes every URL
no other channel claims; the Alertmanager channel is opened for ``PRSM_ALERTMANAGER_URL``. A
channel is registered by its module path, so its module (and what it imports: Apprise is a
heavy import) is loaded only when a configured URL needs it. Registering a scheme twice is
refused. A new channel is one module plus one :func:`register` line below.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .message import Message


@dataclass(frozen=True)
class Result:
    """What one attempt came to."""

    delivered: bool
    reason: str = ""  # why it failed, in words for the delivery log
    maybe_delivered: bool = False  # failed only after the whole notification went out


DELIVERED = Result(True)


class DeliveryFailed(Exception):
    """A channel could not deliver; ``str()`` says why, in words for the delivery log.
    ``maybe_delivered``: the notification went out and only the answer is missing."""

    def __init__(self, reason: str, maybe_delivered: bool = False):
        super().__init__(reason)
        self.maybe_delivered = maybe_delivered


class Channel(Protocol):
    target: str  # where to, passwords and tokens hidden

    def send(self, message: Message, timeout: float) -> Result:
        """One attempt to deliver ``message`` within ``timeout`` seconds."""


Factory = Callable[[str], Channel]  # the URL -> a channel for it; raises ValueError for a URL it cannot take
ANY = "*"  # the scheme of the channel that takes every URL no other channel claims
ALERTMANAGER = "alertmanager"
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.\-]*|\*)$")


class Registry:
    """Channels by URL scheme; a factory given as ``"package.module:Class"`` is imported on
    first use."""

    def __init__(self) -> None:
        self._factories: dict[str, Factory | str] = {}

    def register(self, scheme: str, factory: Factory | str) -> None:
        if not isinstance(scheme, str) or not _SCHEME.match(scheme):
            raise ValueError(f"channel scheme {scheme!r}: expected a URL scheme such as 'webhook' (lower case)")
        if scheme in self._factories:
            raise ValueError(f"channel scheme {scheme!r}: a channel is registered for it already")
        self._factories[scheme] = factory

    def unregister(self, scheme: str) -> None:
        self._factories.pop(scheme, None)

    def schemes(self) -> list[str]:
        return sorted(self._factories)

    def open(self, url: str, scheme: str | None = None) -> Channel:
        """A channel for ``url``: the one registered for ``scheme`` (default: the URL's own),
        else the one registered for every other URL."""
        scheme = scheme or url.partition("://")[0].lower()
        factory = self._factories.get(scheme) or self._factories[ANY]
        if isinstance(factory, str):
            module, _, name = factory.partition(":")
            factory = getattr(importlib.import_module(module), name)
        return factory(url)


CHANNELS = Registry()
register = CHANNELS.register

# The channels; one line each (the module is imported only when a configured URL needs it).
register(ANY, "prsm_monitor.notify.apprise_channel:AppriseChannel")  # Apprise: mailto://, json://, slack://, ...
register(ALERTMANAGER, "prsm_monitor.notify.alertmanager:AlertmanagerChannel")  # PRSM_ALERTMANAGER_URL
