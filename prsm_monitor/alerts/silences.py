"""Silences: planned quiet for alerts that match, from a start to an end, as in Alertmanager.

A silence has matchers (exact values of an alert's labels ``component``, ``rule``, ``level``,
``node`` and ``model``), a start and an end, a comment and who made it. While it is active,
an alert whose labels equal every matcher is *silenced*: it is still logged and shown
(muted), but neither toasted nor notified. Expiring a silence early sets its end to now;
expired silences stay listed (the newest :data:`KEPT` of them).

Creating and expiring are logged in the alert log as ``changed`` events naming who did it.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Mapping

from ..fields import COMPONENTS, LEVELS
from ..settings.durations import parse_duration
from ..settings.values import ConfigError, finite
from .log import CLOSING, AlertLog

MATCHERS = ("component", "rule", "level", "node", "model")
MAX_SECONDS = 366 * 86400.0  # a silence lasts at most a year
MAX_TEXT = 1000  # characters of a comment
MAX_NAME = 200  # characters of a matcher value or of who made it
KEPT = 200  # silences kept, newest first: active and pending ones always, then expired ones
MAX_LIVE = 1000  # active and pending silences at most: a client in a loop cannot fill the memory


def labels(alert: Mapping) -> dict[str, str]:
    """The labels a silence matches on, from an active alert or an alert event (``level``,
    ``component``, ``key`` when there is one, ``details``). A rule's alerts have ``rule``; a
    node's or a model's alerts name them in their details."""
    details = alert.get("details") or {}
    out = {"component": alert.get("component"), "level": alert.get("level")}
    key = alert.get("key") or ""
    rule = details.get("rule") or (key[len("rule:") :] if key.startswith("rule:") else None)
    if alert.get("kind") in CLOSING:  # a resolution is info: it carries the level it ends, if it says
        out["level"] = details.get("was")
    out.update(rule=rule, node=details.get("node"), model=details.get("model"))
    return {k: str(v) for k, v in out.items() if v is not None}


def matches(matchers: Mapping[str, str], alert: Mapping, have: Mapping[str, str] | None = None) -> bool:
    """Does every matcher equal the alert's label (``have``: its :func:`labels`, if known)? A
    resolution that does not say its level is matched without the ``level`` matcher (so a
    silenced alert's resolution is silent too)."""
    have = labels(alert) if have is None else have
    for name, value in matchers.items():
        if name == "level" and name not in have and alert.get("kind") in CLOSING:
            continue
        if have.get(name) != value:
            return False
    return True


def status(silence: Mapping, now: float) -> str:
    if now >= silence["ends_at"]:
        return "expired"
    return "active" if now >= silence["starts_at"] else "pending"


def _text(value, name: str, *, limit: int, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit or not value.isprintable():
        need = "" if not required else "non-empty "
        raise ConfigError(name, value, f"{need}text of at most {limit} printable characters on one line")
    return value.strip()


def check_matchers(matchers) -> dict[str, str]:
    """Validated matchers: a non-empty mapping of label names (:data:`MATCHERS`) to values."""
    if not isinstance(matchers, Mapping) or not matchers:
        raise ConfigError("matchers", matchers, f"a non-empty object of labels, any of {', '.join(MATCHERS)}")
    out = {}
    for name, value in matchers.items():
        if name not in MATCHERS:
            raise ConfigError("matchers", name, f"a label, one of {', '.join(MATCHERS)}")
        value = _text(value, f"matchers.{name}", limit=MAX_NAME, required=True)
        if name == "level" and value not in LEVELS:
            raise ConfigError("matchers.level", value, f"one of {', '.join(LEVELS)}")
        if name == "component" and value not in COMPONENTS:
            raise ConfigError("matchers.component", value, f"one of {', '.join(COMPONENTS)}")
        out[name] = value
    return out


def check_times(starts_at, ends_at, now: float) -> tuple[float, float]:
    """Start (default now) and end, epoch seconds: the end after the start and after now, at
    most :data:`MAX_SECONDS` after the start."""
    start = now if starts_at is None else finite(starts_at)
    if start is None or start < 0:
        raise ConfigError("starts_at", starts_at, "a time in epoch seconds")
    end = finite(ends_at)
    if end is None or end <= max(start, now) or end - start > MAX_SECONDS:
        raise ConfigError(
            "ends_at", ends_at, "a time in epoch seconds after the start and after now, at most a year after the start"
        )
    return start, end


def check_duration(value, name: str = "duration") -> float:
    """Seconds a silence lasts: a number of seconds, or a number and a unit (``90s``, ``15m``,
    ``4h``, ``2d``), from 1 s to a year (:func:`~prsm_monitor.settings.durations.parse_duration`)."""
    return parse_duration(value, name, 1.0, MAX_SECONDS)


def describe(matchers: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in matchers.items())


class Silences:
    """The silences of one collector. Thread-safe; reads return copies. ``revision`` grows
    with every change (persistence and pages cache per revision)."""

    def __init__(self, log: AlertLog | None = None, clock: Callable[[], float] | None = None):
        self._log = log
        self._clock = clock
        self._items: dict[str, dict] = {}
        self._lock = threading.Lock()
        self.revision = 0

    def create(
        self,
        matchers,
        ends_at,
        *,
        starts_at=None,
        comment=None,
        created_by,
        now: float,
    ) -> dict:
        """Add a silence; a :class:`~prsm_monitor.settings.values.ConfigError` names a bad field."""
        matchers = check_matchers(matchers)
        start, end = check_times(starts_at, ends_at, now)
        comment = _text(comment, "comment", limit=MAX_TEXT, required=False)
        who = _text(created_by, "created_by", limit=MAX_NAME, required=True)
        silence = {
            "id": uuid.uuid4().hex[:16],
            "matchers": matchers,
            "starts_at": start,
            "ends_at": end,
            "comment": comment,
            "created_by": who,
            "created_at": now,
            "expired_by": None,
        }
        with self._lock:
            live = sum(status(s, now) != "expired" for s in self._items.values())
            if live >= MAX_LIVE:
                raise ConfigError("silences", live, f"at most {MAX_LIVE} active or pending silences: expire some first")
            self._items[silence["id"]] = silence
            self._prune(now)
            self.revision += 1
        self._record(silence, f"Silence created for {describe(matchers)} by {who}", who, now)
        return self._view(silence, now)

    def expire(self, silence_id: str, *, by: str, now: float) -> dict | None:
        """End a silence now (None: no such silence). Expiring an expired silence changes nothing."""
        with self._lock:
            silence = self._items.get(silence_id)
            if silence is None:
                return None
            if status(silence, now) == "expired":
                return self._view(silence, now)
            silence.update(ends_at=max(now, silence["starts_at"]), expired_by=by)
            if silence["starts_at"] > now:  # a pending one never starts
                silence["starts_at"] = now
            self.revision += 1
        self._record(silence, f"Silence for {describe(silence['matchers'])} expired early by {by}", by, now)
        return self._view(silence, now)

    def get(self, silence_id: str, now: float) -> dict | None:
        with self._lock:
            silence = self._items.get(silence_id)
            return None if silence is None else self._view(silence, now)

    def list(self, now: float) -> list[dict]:
        """Every silence kept: active and pending first (soonest end first), then expired (newest first)."""
        with self._lock:
            views = [self._view(s, now) for s in self._items.values()]
        live = sorted((v for v in views if v["status"] != "expired"), key=lambda v: v["ends_at"])
        gone = sorted((v for v in views if v["status"] == "expired"), key=lambda v: -v["ends_at"])
        return live + gone

    def silenced(self, alert: Mapping, now: float) -> dict | None:
        """The active silence that matches ``alert`` (an active alert or an event), or None.
        When several do, the one that lasts longest."""
        have = labels(alert)
        with self._lock:
            found = [
                s
                for s in self._items.values()
                if s["starts_at"] <= now < s["ends_at"] and matches(s["matchers"], alert, have)
            ]
            if not found:
                return None
            return self._view(max(found, key=lambda s: s["ends_at"]), now)

    # -- persistence -----------------------------------------------------------------------------
    def dump(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(list(self._items.values()))

    def restore(self, saved, now: float) -> None:
        """Take over silences an earlier run saved; ones that do not validate are skipped."""
        items = {}
        for s in saved if isinstance(saved, list) else ():
            try:
                matchers = check_matchers(s["matchers"])
                start, end = float(s["starts_at"]), float(s["ends_at"])
                items[str(s["id"])] = {**s, "matchers": matchers, "starts_at": start, "ends_at": end}
            except (ConfigError, KeyError, TypeError, ValueError):
                continue
        with self._lock:
            self._items.update(items)
            self._prune(now)
            self.revision += 1

    # -- inside ----------------------------------------------------------------------------------
    def _prune(self, now: float) -> None:
        expired = sorted((s for s in self._items.values() if status(s, now) == "expired"), key=lambda s: s["ends_at"])
        for silence in expired[: max(0, len(self._items) - KEPT)]:
            del self._items[silence["id"]]

    @staticmethod
    def _view(silence: dict, now: float) -> dict:
        return {**copy.deepcopy(silence), "status": status(silence, now)}

    def _record(self, silence: dict, message: str, actor: str, now: float) -> None:
        if self._log is None:
            return
        details = {
            "setting": "silence",
            "silence_id": silence["id"],
            "matchers": dict(silence["matchers"]),
            "starts_at": silence["starts_at"],
            "ends_at": silence["ends_at"],
            "comment": silence["comment"],
            "actor": actor,
        }
        component = silence["matchers"].get("component", "system")
        self._log.record(f"setting:silence:{silence['id']}", "changed", "info", component, message, details, now)
