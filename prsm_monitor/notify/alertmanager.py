"""The Alertmanager channel: firing and resolved alerts to ``POST /api/v2/alerts``, as Prometheus does.

Each alert becomes one Alertmanager alert with labels ``alertname``, ``severity``,
``component``, ``instance`` and, when its details name them, ``node`` and ``model``;
annotations ``summary`` (the message), ``description`` and ``runbook_url``. A firing alert
is sent when it fires and re-sent every ``resend`` seconds with ``endsAt`` four re-sends
ahead (Prometheus's rule), so Alertmanager resolves it by itself should this monitor die; a
resolved one is sent once with ``endsAt`` at its end (when to send what: :mod:`.plan`).
Loaded only when ``PRSM_ALERTMANAGER_URL`` is set (:mod:`.channels`).
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from .. import redact
from ..outside.http import OutsideError, fetch
from ..settings.durations import duration
from ..units import value_text
from .channels import DELIVERED, DeliveryFailed, Result
from .message import Message

_WORD = re.compile(r"[A-Za-z0-9]+")


def rfc3339(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"


def alertname(alert: dict) -> str:
    """``rule:latency`` -> ``latency``; a custom alert: its message in CamelCase without the
    node's and model's names (``Node node-0 is down`` -> ``NodeIsDown``); others: the key's kind
    (``source``, ``collector``, ``plugin``)."""
    details = alert.get("details") or {}
    if details.get("alertname"):
        return str(details["alertname"])
    if details.get("rule"):
        return str(details["rule"])
    key = alert.get("key") or ""
    if key.startswith("custom:") or not key:
        text = alert.get("message", "")
        for name in (details.get("node"), details.get("model")):
            if name:
                text = text.replace(str(name), " ")
        words = _WORD.findall(text)[:8]
        return "".join(w[:1].upper() + w[1:] for w in words) or "Alert"
    return key.split(":", 1)[0]


def labels(alert: dict, instance: str) -> dict[str, str]:
    details = alert.get("details") or {}
    result = {
        "alertname": alertname(alert),
        "severity": alert["level"],
        "component": alert["component"],
        "instance": instance,
    }
    for name in ("node", "model"):
        if details.get(name) not in (None, ""):
            result[name] = str(details[name])
    return result


def annotations(alert: dict, now: float) -> dict[str, str]:
    """``summary`` (the message), ``description`` (the rule's, else the value now, the
    threshold and for how long), ``runbook_url`` when the alert has one."""
    details = alert.get("details") or {}
    facts = []
    for name, words in (("value", "value now"), ("threshold", "threshold")):
        value = details.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            facts.append(f"{words} {value_text(float(value), str(details.get('unit') or ''))}")
    facts.append(f"firing for {duration(now - alert['started'])}")
    result = {"summary": alert["message"], "description": str(details.get("description") or ", ".join(facts))}
    if details.get("runbook_url"):
        result["runbook_url"] = str(details["runbook_url"])
    return result


def payload(alert: dict, instance: str, now: float, ends_at: float) -> dict:
    """One Alertmanager alert from an active alert dict (``key``, ``level``, ``component``,
    ``message``, ``details``, ``started``)."""
    return {
        "labels": labels(alert, instance),
        "annotations": annotations(alert, now),
        "startsAt": rfc3339(alert["started"]),
        "endsAt": rfc3339(ends_at),
    }


MAX_ANSWER = 64 * 1024  # bytes of Alertmanager's answer read (it says "success" or why not)


class AlertmanagerChannel:
    """Posts lists of alerts to one Alertmanager through :mod:`prsm_monitor.outside.http`
    (the timeout is the whole request's deadline, no redirect is followed). A
    ``user:password@`` in the URL is sent as HTTP basic authentication and never shown:
    ``target`` is the URL without it (and with any token in it hidden)."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        self._url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path + "/api/v2/alerts", "", ""))
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
        self.target = redact.url(urllib.parse.urlunsplit((parts.scheme, netloc, parts.path + "/api/v2/alerts", "", "")))
        self._secrets = tuple(s for s in (parts.username, parts.password) if s)

    def send(self, message: Message, timeout: float) -> Result:
        """Post the alerts ``message`` carries, as they stood when it was rendered."""
        body = [payload(s.alert, message.source, message.at, s.ends_at) for s in message.alerts]
        try:
            self.post(body, timeout)
        except DeliveryFailed as failed:
            return Result(False, str(failed))
        return DELIVERED

    def post(self, alerts: list[dict], timeout: float) -> None:
        """Post Alertmanager alerts (:func:`payload`); raise :class:`DeliveryFailed` saying why not."""
        body = json.dumps(alerts).encode()
        try:
            answer = fetch(
                self._url,
                deadline=timeout,
                max_bytes=MAX_ANSWER,
                method="POST",
                body=body,
                headers={"Content-Type": "application/json"},
            )
        except OutsideError as error:
            raise DeliveryFailed(self._said(f"could not reach Alertmanager: {error}")) from None
        if not 200 <= answer.status < 300:
            text = answer.body[:300].decode(errors="replace").strip()
            raise DeliveryFailed(self._said(f"Alertmanager answered {answer.status}: {text}"))

    def _said(self, message: str) -> str:
        return redact.text(message, self._secrets)
