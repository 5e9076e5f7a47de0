"""One redaction for every secret the monitor may hold in a URL or a setting.

Used wherever a URL or a configured value is shown, logged, exported, notified or put in an
error message. It hides the password of ``user:password@`` (and the user name too, since
Apprise URLs such as ``slack://T0/B0/C0`` or ``json://user:pass@host`` carry secrets in either),
every query value whose name suggests a secret, and long opaque path segments (webhook tokens).
A leaf module: it imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

import re
import urllib.parse

MASK = "****"
SECRET_NAMES = re.compile(r"(pass|secret|token|key|auth|sig|cred|session|bearer|pw)", re.IGNORECASE)
# a path segment that looks like a credential: 8+ characters of letters, digits, - and _ with a digit in it
OPAQUE = re.compile(r"^(?=[^/]*\d)[A-Za-z0-9_\-]{8,}$")
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s'\"<>,]+")
# Schemes whose path carries the secret (Apprise: slack://TokenA/TokenB/TokenC, discord://id/token, ...)
# rather than a resource: every path segment of theirs is hidden.
HTTP_SCHEMES = {"http", "https", "ws", "wss"}


def url(text: str) -> str:
    """``text`` (one URL) with its secrets replaced by ``****``; what is not a URL comes back as it was."""
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return MASK
    if not parts.scheme or not parts.netloc:
        return text
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if colon else f"{MASK}@{hostport}"
    if parts.scheme.lower() in HTTP_SCHEMES:
        segments = [MASK if OPAQUE.match(s) else s for s in parts.path.split("/")]
    else:
        netloc = _hide_host_token(netloc)
        segments = [s if not s else MASK for s in parts.path.split("/")]
    path = "/".join(segments)
    query = urllib.parse.urlencode(
        [
            (k, MASK if SECRET_NAMES.search(k) or _header_param(k) else v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, ""))


def _header_param(name: str) -> bool:
    """Apprise's ``+Header=value`` and ``-param`` query keys carry headers: hide their values."""
    return name.startswith(("+", "-"))


def _hide_host_token(netloc: str) -> str:
    """In a non-HTTP scheme (``slack://T0SECRET/...``) the "host" is often a token itself."""
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    if OPAQUE.match(host) and "." not in host:
        host = MASK
    return f"{userinfo}{at}{host}{colon}{port}"


def text(message: str, secrets: tuple[str, ...] = ()) -> str:
    """``message`` with every URL in it redacted and every literal secret of ``secrets`` masked."""
    redacted = URL.sub(lambda m: url(m.group(0)), message)
    for secret in secrets:
        if secret and len(secret) >= 4:
            redacted = redacted.replace(secret, MASK)
    return redacted
